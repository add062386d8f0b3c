"""Dialogues declared as data: one engine for every multi-step conversation.

A dialogue is a sequence of steps and a typed draft (a dataclass). Each step says what it
asks (a prompt and a keyboard) and how it reads an answer (a parser from the service layer).
The engine does the rest, the same way for every dialogue:

- the place (step, path, draft) is written at every step, so a restart resumes it;
- Back returns to the previous step, Cancel ends and keeps nothing, and a summary can send
  the person to one field and straight back;
- input that does not fit the step says what is expected and asks again;
- a dialogue idle past its timeout is over (bot/services/dialogues.py);
- in an interruptible dialogue, a command or a button of another message ends it and is
  then handled as usual; otherwise the current step is asked again;
- a button of an earlier question is answered "expired", and the current one is asked
  again (a button of a dialogue that is over is answered by handlers.fallback).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum
from typing import Any, Generic, TypeVar

from pydantic import TypeAdapter, ValidationError
from telegram import Document, MessageEntity, Update
from telegram.ext import ApplicationHandlerStop, BaseHandler

from bot.actions import DialogueChoice, DialogueNav, InvalidAction, unpack
from bot.domain import DialogueState, NavOp
from bot.errors import DomainError
from bot.i18n import Texts
from bot.services import Services
from bot.text_search import typed_choice
from handlers.context import BotContext
from handlers.errors import report_failure
from handlers.fallback import send_help
from handlers.ui import (
    Button,
    Markup,
    answer,
    is_label,
    menu_command,
    refuse,
    resting_keyboard,
    say,
    show,
)

D = TypeVar("D")
HISTORY_MAX = 30
#: In a dialogue, /start (the first item of the menu, what a lost person taps) resumes it.
RESUME_COMMAND = "start"
#: Commands answered without ending an open dialogue (the language can change mid-way).
KEEPS_DIALOGUE = frozenset({"language"})


# --- what a step answers ----------------------------------------------------------------------


class Flow(Enum):
    """Where the dialogue goes after an answer."""

    NEXT = "next"  # the following step (or back to the summary that sent the person here)
    STAY = "stay"  # the step has answered; wait for the next input
    REASK = "reask"  # ask the current step again
    REMIND = "remind"  # ask the current step again, in short
    RETRY = "retry"  # say what the step expects, then ask again
    FINISH = "finish"  # the dialogue's purpose: its `finish` runs, then it ends
    END = "end"  # over; the step has said why


@dataclass(frozen=True, slots=True)
class Goto:
    """Jump to another step (a branch, such as "not on the roster: declare a profile").

    With `back_here` False, Back from there skips the step left, whose answer was undone.
    """

    step: str
    back_here: bool = True


Move = Flow | Goto


# --- one update inside a dialogue -------------------------------------------------------------


class Turn(Generic[D]):
    """What a step works with while it handles one update: the draft, texts, buttons."""

    def __init__(
        self,
        update: Update,
        ctx: BotContext,
        dialogue: Dialogue[D],
        state: DialogueState,
        draft: D,
    ) -> None:
        self.update = update
        self.ctx = ctx
        self.dialogue = dialogue
        self.state = state
        self.draft = draft

    @property
    def services(self) -> Services:
        return self.ctx.services

    @property
    def step(self) -> Step[D]:
        return self.dialogue.step(self.state.step)

    @property
    def telegram_id(self) -> int:
        return self.state.telegram_id

    @property
    def texts(self) -> Texts:
        return self.ctx.texts

    def t(self, key: str, /, **params: Any) -> str:
        return self.ctx.t(key, **params)

    async def say(self, text: str, markup: Markup = None) -> None:
        await say(self.update, self.ctx, text, markup)

    async def show(self, text: str, markup: Markup = None) -> None:
        await show(self.update, self.ctx, text, markup)

    async def resting_keyboard(self) -> Markup:
        return await resting_keyboard(self.update, self.ctx)

    def choice(self, value: str | int) -> DialogueChoice:
        """The data of a button answering the current question with `value`."""
        return DialogueChoice(self.dialogue.name, self.state.token, str(value))

    def nav(self, op: NavOp, target: str = "") -> DialogueNav:
        return DialogueNav(self.dialogue.name, self.state.token, op, target)

    def nav_row(self) -> list[Button]:
        """Back and Cancel, as inline buttons under the current step."""
        return [
            (self.t("button.back"), self.nav(NavOp.BACK)),
            (self.t("button.cancel"), self.nav(NavOp.CANCEL)),
        ]

    def step_label(self) -> str:
        """The "Step 2/6." prefix, where the dialogue numbers its steps."""
        numbered = self.dialogue.numbered
        if self.state.step not in numbered:
            return ""
        position = numbered.index(self.state.step) + 1
        return self.t("dialogue.step_of", step=position, total=len(numbered)) + " "


# --- steps ------------------------------------------------------------------------------------


class Step(Generic[D]):
    """One question of a dialogue. Subclasses override what they read; by default, any
    other input is answered with what the step expects."""

    #: Whether the question puts a keyboard of its own under the text box.
    reply_keyboard = False
    #: What is said when input does not fit, if not the dialogue's general retry text.
    retry_text: str | None = None

    def __init__(self, name: str, field: str | None = None) -> None:
        self.name = name
        #: The draft attribute this step fills, if any (checked when the dialogue is built).
        self.field = field

    async def ask(self, turn: Turn[D]) -> None:
        raise NotImplementedError

    async def remind(self, turn: Turn[D]) -> None:
        """The question again after input that did not fit; by default, asked in full."""
        await self.ask(turn)

    def edit_targets(self, turn: Turn[D]) -> Collection[str]:
        """The steps whose answer this one (a summary) offers to change."""
        return ()

    async def on_back(self, turn: Turn[D]) -> bool:
        """Back within the step: undoes a question of its own (typing a position after
        "Other", keeping a name without diacritics) and returns True, so that the step is
        asked again instead of the one before."""
        return False

    async def typed_labels(self, turn: Turn[D]) -> Sequence[tuple[str, str]]:
        """(label, value) of the buttons the question offers: typing a label answers like
        tapping it (people on phones type "nữ" or "bỏ qua" as often as they tap)."""
        return ()

    async def on_text(self, turn: Turn[D], text: str) -> Move:
        return Flow.RETRY

    async def on_choice(self, turn: Turn[D], value: str) -> Move:
        return Flow.RETRY

    async def on_contact(self, turn: Turn[D], phone: str, user_id: int | None) -> Move:
        """A phone number shared where none is asked: the dialogue's own use for it, if it
        has one; else say it is not needed here, and ask the question again."""
        if turn.dialogue.contact is not None:
            return await turn.dialogue.contact(turn, phone, user_id)
        await turn.say(turn.t("dialogue.contact_not_now"), self.retry_markup(turn))
        return Flow.REMIND

    async def on_document(self, turn: Turn[D], document: Document) -> Move:
        """A file sent: only a step that asks for one reads it."""
        return Flow.RETRY

    def retry_markup(self, turn: Turn[D]) -> Markup:
        """The keyboard that comes with "that is not what this step expects"."""
        return None

    def store(self, turn: Turn[D], value: Any) -> None:
        assert self.field is not None
        setattr(turn.draft, self.field, value)


@dataclass(frozen=True, eq=False)
class Dialogue(Generic[D]):
    """A conversation declared as data: its steps, its draft and what it does at the end."""

    #: Stored in the database and in buttons: never rename one in use.
    name: str
    draft: type[D]
    steps: Sequence[Step[D]]
    #: Runs when a step answers FINISH: the dialogue's purpose (save, send, register).
    finish: Callable[[Turn[D]], Awaitable[None]]
    #: Said when the person cancels.
    cancelled: str
    #: Said when a command or another message's button ends the dialogue.
    interrupted: str
    timeout: timedelta = timedelta(minutes=15)
    #: Said when input does not fit the current step, before the step is asked again.
    retry: str = "dialogue.retry"
    #: The command that opens the dialogue: sent again (like /start), it asks the current
    #: question again instead of starting over.
    entry_command: str | None = None
    #: Steps shown as "Step n/N", in this order.
    numbered: tuple[str, ...] = ()
    #: Opened at one step to change one answer: finishes as soon as that step is answered.
    single_answer: bool = False
    #: Reads what came after /start (a deep link) when the dialogue resumes.
    resumed: Callable[[Turn[D], str], Awaitable[None]] | None = None
    #: Takes a contact shared at a step that does not ask for one.
    contact: Callable[[Turn[D], str, int | None], Awaitable[Move]] | None = None
    #: The command that opens the dialogue from its first question: sent again in the middle,
    #: its handler starts the dialogue over (a menu of choices people come back to).
    restart_command: str | None = None
    _adapter: TypeAdapter[D] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        names = [step.name for step in self.steps]
        if len(set(names)) != len(names) or not names:
            raise ValueError(f"dialogue {self.name}: step names must be unique")
        fields = {f.name for f in dataclasses.fields(self.draft)}  # type: ignore[arg-type]  # D is a dataclass
        for step in self.steps:
            if step.field is not None and step.field not in fields:
                raise ValueError(f"dialogue {self.name}: no draft field {step.field!r}")
        if not set(self.numbered) <= set(names):
            raise ValueError(f"dialogue {self.name}: numbered steps must exist")
        object.__setattr__(self, "_adapter", TypeAdapter(self.draft))

    def step(self, name: str) -> Step[D]:
        return next(step for step in self.steps if step.name == name)

    def has_step(self, name: str) -> bool:
        return any(step.name == name for step in self.steps)

    def after(self, name: str) -> str | None:
        names = [step.name for step in self.steps]
        index = names.index(name) + 1
        return names[index] if index < len(names) else None

    def dump(self, draft: D) -> dict[str, Any]:
        """The draft as JSON, for the database (pydantic knows dates, enums, dataclasses)."""
        dumped: dict[str, Any] = self._adapter.dump_python(draft, mode="json")
        return dumped

    def load(self, data: dict[str, Any]) -> D:
        """The typed draft; ValidationError if it was written by an incompatible version."""
        return self._adapter.validate_python(data)


_DIALOGUES: dict[str, Dialogue[Any]] = {}


def register(dialogue: Dialogue[D]) -> Dialogue[D]:
    """Makes a dialogue resumable: after a restart its rows are matched by name."""
    if _DIALOGUES.setdefault(dialogue.name, dialogue) is not dialogue:
        raise ValueError(f"two dialogues are named {dialogue.name!r}")
    return dialogue


# --- the engine -------------------------------------------------------------------------------


async def begin(
    update: Update, ctx: BotContext, dialogue: Dialogue[D], draft: D, at: str | None = None
) -> None:
    """Starts `dialogue` (afresh, if one was open) at its first step, or at `at`."""
    assert update.effective_user is not None
    now = ctx.services.clock.now()
    state = DialogueState(
        telegram_id=update.effective_user.id, dialogue=dialogue.name,
        step=at or dialogue.steps[0].name, history=(), draft={}, updated_at=now,
        expires_at=now, run=secrets.token_urlsafe(4),
    )  # fmt: skip
    await _ask(Turn(update, ctx, dialogue, state, draft), state)


async def ask_again(update: Update, ctx: BotContext) -> bool:
    """Asks the open dialogue's question again, e.g. in the language just chosen, with its
    keyboard in that language too; False if no dialogue is open."""
    assert update.effective_user is not None
    state = ctx.services.dialogues.current(update.effective_user.id)
    if state is None:
        return False
    dialogue = _DIALOGUES.get(state.dialogue)
    draft = _load(dialogue, state)
    if dialogue is None or draft is None or not dialogue.has_step(state.step):
        return False
    await _ask(Turn(update, ctx, dialogue, state, draft), state, again=True)
    return True


class DialogueHandler(BaseHandler[Update, BotContext, None]):
    """Takes every message and button press of a person with a dialogue in progress."""

    def __init__(self, services: Services) -> None:
        super().__init__(self._handle)
        self.services = services

    def check_update(self, update: object) -> bool:
        if not isinstance(update, Update) or update.effective_user is None:
            return False
        if update.message is None and update.callback_query is None:
            return False
        return self.services.dialogues.current(update.effective_user.id) is not None

    async def _handle(self, update: Update, ctx: BotContext) -> None:
        assert update.effective_user is not None
        store = self.services.dialogues
        before = store.current(update.effective_user.id)
        if before is None:
            return
        dialogue = _DIALOGUES.get(before.dialogue)
        draft = _load(dialogue, before)
        if dialogue is None or draft is None or not dialogue.has_step(before.step):
            # Left by a version of the bot that had another dialogue or draft.
            await say(update, ctx, ctx.t("dialogue.expired"), await resting_keyboard(update, ctx))
            await store.end(before.telegram_id)
            return
        turn = Turn(update, ctx, dialogue, before, draft)
        try:
            passes = await _dispatch(turn)
        except Exception as exc:
            # A question that cannot be asked (a bug, a record gone) must not trap the person
            # in it: they stay where they were, and are told.
            await store.restore(before)
            if isinstance(exc, DomainError):
                await refuse(update, ctx, exc)
            else:
                await report_failure(update, ctx, exc)
            raise ApplicationHandlerStop from exc
        if passes:
            return  # the update goes on to the handler it was meant for, which answers it
        await answer(update, ctx)
        raise ApplicationHandlerStop


def _load(dialogue: Dialogue[Any] | None, state: DialogueState) -> Any:
    if dialogue is None:
        return None
    try:
        return dialogue.load(state.draft)
    except ValidationError:
        return None


async def _dispatch(turn: Turn[Any]) -> bool:
    """Handles one update; True when it should go on to the bot's other handlers."""
    update = turn.update
    if update.callback_query is not None:
        return await _on_button(turn, update.callback_query.data)
    message = update.effective_message
    if message is None:
        return False
    command = _command(update)
    if command is not None:
        return await _on_command(turn, *command)
    text = message.text
    if is_label(text, "button.back"):
        await _back(turn)
        return False
    if is_label(text, "button.cancel"):
        await _cancel(turn)
        return False
    step = turn.step
    try:
        if message.contact is not None:
            contact = message.contact
            move = await step.on_contact(turn, contact.phone_number, contact.user_id)
        elif message.document is not None:
            move = await step.on_document(turn, message.document)
        elif text is not None:
            chosen = typed_choice(text, await step.typed_labels(turn))
            if chosen is not None:  # a button's label typed: as if it had been tapped
                move = await step.on_choice(turn, chosen)
            else:
                move = await step.on_text(turn, text)
        else:
            move = Flow.RETRY
    except DomainError as exc:  # what was typed is not an answer: say why, ask nothing more
        await refuse(update, turn.ctx, exc, step.retry_markup(turn))
        move = Flow.STAY
    await _apply(turn, move)
    return False


def _command(update: Update) -> tuple[str, str] | None:
    """The command of a message and what follows it, if it starts with one (a tap on the
    main keyboard is its command too)."""
    message = update.effective_message
    if message is None or not message.text:
        return None
    if (pressed := menu_command(message.text)) is not None:
        return pressed, ""
    if not message.entities:
        return None
    first = message.entities[0]
    if first.type != MessageEntity.BOT_COMMAND or first.offset != 0:
        return None
    name = message.text[1 : first.length].split("@", 1)[0].lower()
    return name, message.text[first.length :].strip()


async def _on_command(turn: Turn[Any], command: str, argument: str) -> bool:
    """/start (or the dialogue's own command) resumes, /help helps and resumes, /cancel
    cancels, /language is answered with the dialogue left open; any other command ends
    the dialogue and then runs; the dialogue's restart command starts it over."""
    if command == turn.dialogue.restart_command:
        return True  # its handler begins the dialogue afresh, replacing this one
    if command in (RESUME_COMMAND, turn.dialogue.entry_command):
        if turn.dialogue.resumed is not None:
            await turn.dialogue.resumed(turn, argument)
        await _ask(turn, turn.state, again=True)
    elif command == "help":
        await send_help(turn.update, turn.ctx)
        await _ask(turn, turn.state, again=True, remind=True)
    elif command == "cancel":
        await _cancel(turn)
    elif command in KEEPS_DIALOGUE:
        return True  # answered by its handler; the dialogue waits where it was
    else:
        await _interrupt(turn)
        return True
    return False


async def _on_button(turn: Turn[Any], data: object) -> bool:
    try:
        tapped = unpack(data) if isinstance(data, str) else None
    except InvalidAction:
        tapped = None
    if isinstance(tapped, DialogueChoice | DialogueNav):
        if tapped.dialogue != turn.dialogue.name or tapped.token != turn.state.token:
            await _stale(turn)  # an earlier question, or another dialogue: nothing changes
        elif isinstance(tapped, DialogueNav):
            await _navigate(turn, tapped)
        else:
            await _choose(turn, tapped.value)
        return False
    if tapped is not None:  # a button of another message: it goes where it belongs
        if not tapped.keeps_dialogue:
            await _interrupt(turn)
        return True
    await _stale(turn)
    return False


async def _choose(turn: Turn[Any], value: str) -> None:
    try:
        move = await turn.step.on_choice(turn, value)
    except DomainError as exc:  # a forged or outdated choice: the alert says why
        await refuse(turn.update, turn.ctx, exc)
        move = Flow.STAY
    await _apply(turn, move)


async def _navigate(turn: Turn[Any], nav: DialogueNav) -> None:
    if nav.op is NavOp.BACK:
        await _back(turn)
    elif nav.op is NavOp.CANCEL:
        await _cancel(turn)
    elif nav.op is NavOp.EDIT and nav.target in turn.step.edit_targets(turn):
        state = turn.state
        await _ask(turn, replace(state, step=nav.target, return_to=state.step))
    else:
        await _stale(turn)


async def _apply(turn: Turn[Any], move: Move) -> None:
    dialogue, state = turn.dialogue, turn.state
    if move is Flow.NEXT and state.return_to is not None:  # back to the summary that sent us
        await _ask(turn, replace(state, step=state.return_to, return_to=None))
        return
    if move is Flow.NEXT:
        following = None if dialogue.single_answer else dialogue.after(state.step)
        move = Goto(following) if following else Flow.FINISH
    if isinstance(move, Goto):
        history = (*state.history, state.step) if move.back_here else state.history
        await _ask(turn, replace(state, step=move.step, history=history[-HISTORY_MAX:]))
    elif move is Flow.FINISH:
        await _finish(turn)
    elif move is Flow.END:
        await turn.services.dialogues.end(turn.telegram_id)
    elif move is Flow.STAY:
        await _save(turn, state)
    else:
        if move is Flow.RETRY:
            retry = turn.step.retry_text or dialogue.retry
            await turn.say(turn.t(retry), turn.step.retry_markup(turn))
        await _ask(turn, state, again=True, remind=move in (Flow.RETRY, Flow.REMIND))


async def _finish(turn: Turn[Any]) -> None:
    """The dialogue's purpose; a refusal then (the record was taken meanwhile, a right
    revoked) ends it too, as there is nothing left to answer."""
    try:
        await turn.dialogue.finish(turn)
    except DomainError as exc:
        await refuse(turn.update, turn.ctx, exc)
    await turn.services.dialogues.end(turn.telegram_id)


async def _back(turn: Turn[Any]) -> None:
    state = turn.state
    if await turn.step.on_back(turn):
        await _ask(turn, state, again=True)
    elif state.return_to is not None:  # changing one answer: Back returns to the summary
        await _ask(turn, replace(state, step=state.return_to, return_to=None))
    elif state.history and not turn.dialogue.single_answer:
        previous = turn.dialogue.step(state.history[-1])
        if turn.step.reply_keyboard and not previous.reply_keyboard:
            # The keyboard of the step left (a phone button) must not linger under the
            # previous question, which answers with buttons of its own.
            await turn.say(turn.t("dialogue.went_back"), await turn.resting_keyboard())
        await _ask(turn, replace(state, step=previous.name, history=state.history[:-1]))
    else:
        await _cancel(turn)


async def _cancel(turn: Turn[Any]) -> None:
    text = turn.t(turn.dialogue.cancelled)
    if turn.update.callback_query is not None:
        await turn.show(text)  # the question and its buttons give way to the answer
    else:
        await turn.say(text, await turn.resting_keyboard())
    await turn.services.dialogues.end(turn.telegram_id)


async def _interrupt(turn: Turn[Any]) -> None:
    await turn.say(turn.t(turn.dialogue.interrupted), await turn.resting_keyboard())
    await turn.services.dialogues.end(turn.telegram_id)


async def _stale(turn: Turn[Any]) -> None:
    """A button of an earlier question: say so, then ask the current one again below."""
    await answer(turn.update, turn.ctx, turn.t("dialogue.stale"), alert=True)
    turn.ctx.replaced = True  # the old message stays as it is
    await _ask(turn, turn.state, again=True, remind=True)


async def _ask(
    turn: Turn[Any], state: DialogueState, *, again: bool = False, remind: bool = False
) -> None:
    """Saves `state`, then asks its step: in full, or as the short reminder when the person
    strayed. Arriving at a step gives its buttons a new token, so the buttons of any
    earlier visit (a preview since changed, a dialogue cancelled) are refused; asking the
    same step `again` keeps it, so a tap on the question just above still counts."""
    await _save(turn, state if again else replace(state, asked=state.asked + 1))
    step = turn.step
    await (step.remind(turn) if remind else step.ask(turn))
    if turn.dialogue.dump(turn.draft) != turn.state.draft:  # asking reset part of the draft
        await _save(turn, turn.state)


async def _save(turn: Turn[Any], state: DialogueState) -> None:
    state = replace(state, draft=turn.dialogue.dump(turn.draft))
    turn.state = await turn.services.dialogues.save(state, turn.dialogue.timeout)

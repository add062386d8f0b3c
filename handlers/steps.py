"""The kinds of step most dialogues are made of: a typed answer, and a choice of buttons."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from handlers.dialogue import D, Flow, Move, Step, Turn
from handlers.ui import Markup, back_cancel_keyboard, inline

SKIP = "-"  # the value of a step's "none of these" button
SEARCH_SHOWN = 8  # buttons a typed search offers; a step's search returns one more if any


@dataclass(frozen=True, slots=True)
class Option:
    """A button of a choice step: the value stored in the draft and the label shown."""

    value: str
    label: str


Parse = Callable[[Turn[Any], str], Awaitable[Any]]
Options = Callable[[Turn[Any]], Awaitable[Sequence[Option]]]
Search = Callable[[Turn[Any], str], Awaitable[Sequence[Option]]]


class TextStep(Step[D]):
    """A typed answer, read by a parser from the service layer, which says what is wrong."""

    reply_keyboard = True  # Back and Cancel under the text box

    def __init__(
        self,
        name: str,
        field: str,
        *,
        prompt: str,
        parse: Parse,
        saved: str | None = None,
        params: Callable[[Turn[Any]], dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(name, field)
        self.prompt = prompt
        self.parse = parse
        #: Said once the answer is taken (it also takes the Back/Cancel keyboard away).
        self.saved = saved
        #: Values the prompt shows, from the draft.
        self.params = params

    async def ask(self, turn: Turn[D]) -> None:
        prompt = turn.t(self.prompt, **(self.params(turn) if self.params else {}))
        await turn.say(turn.step_label() + prompt, back_cancel_keyboard(turn.ctx))

    async def on_text(self, turn: Turn[D], text: str) -> Move:
        value = await self.parse(turn, text)
        self.store(turn, value)
        if self.saved and not turn.dialogue.single_answer:  # there, saving it says so
            await turn.say(turn.t(self.saved, value=str(value)), await turn.resting_keyboard())
        return Flow.NEXT

    def retry_markup(self, turn: Turn[D]) -> Markup:
        return back_cancel_keyboard(turn.ctx)


class ChoiceStep(Step[D]):
    """Buttons to choose from; with `search`, typing a few letters offers more of them."""

    def __init__(
        self,
        name: str,
        field: str,
        *,
        prompt: str,
        options: Options | None = None,
        resolve: Callable[[Turn[Any], str], Awaitable[Any]],
        search: Search | None = None,
        found: str | None = None,
        none_found: str | None = None,
        skip: str | None = None,
        echo: str | None = None,
        columns: int = 1,
        keep_keyboard: bool = False,
    ) -> None:
        super().__init__(name, field)
        if search is not None and (found is None or none_found is None):
            raise ValueError(f"step {name}: a search needs its found and none-found texts")
        self.prompt = prompt
        self.options = options
        #: The value of a tapped button, checked by the service layer (buttons can be forged).
        self.resolve = resolve
        self.search = search
        self.found = found
        self.none_found = none_found
        #: Label of a "none of these" button, which stores None.
        self.skip = skip
        #: Said in place of the question once answered, with the choice as {choice}.
        self.echo = echo
        self.columns = columns
        #: With nothing to offer yet, the person types first: Back and Cancel go below the
        #: text box, unless the step keeps the keyboard there (staff tools that end with a
        #: list of buttons keep the main keyboard; Back and Cancel are then inline).
        self.reply_keyboard = options is None and skip is None and not keep_keyboard

    async def ask(self, turn: Turn[D]) -> None:
        text = turn.step_label() + turn.t(self.prompt)
        offered = list(await self.options(turn)) if self.options else []
        if self.reply_keyboard:  # the person types first, then picks
            await turn.say(text, back_cancel_keyboard(turn.ctx))
            return
        await turn.show(text, self._keyboard(turn, offered))

    def _typing_nav(self, turn: Turn[D]) -> Markup:
        """Back and Cancel while the person types a search."""
        return back_cancel_keyboard(turn.ctx) if self.reply_keyboard else inline([turn.nav_row()])

    def _keyboard(self, turn: Turn[D], offered: Sequence[Option]) -> Markup:
        rows = [
            [(o.label, turn.choice(o.value)) for o in offered[i : i + self.columns]]
            for i in range(0, len(offered), self.columns)
        ]
        if self.skip is not None:
            rows.append([(turn.t(self.skip), turn.choice(SKIP))])
        return inline([*rows, turn.nav_row()])

    async def on_choice(self, turn: Turn[D], value: str) -> Move:
        if value == SKIP and self.skip is not None:
            self.store(turn, None)
            chosen = turn.t(self.skip)
        else:
            resolved = await self.resolve(turn, value)
            self.store(turn, resolved)
            chosen = await self.label(turn, resolved)
        if self.echo:
            await turn.show(turn.t(self.echo, choice=chosen))
        return Flow.NEXT

    async def label(self, turn: Turn[D], value: Any) -> str:
        """How a stored value reads, for the echo; by default the matching option's label."""
        offered = await self.options(turn) if self.options else []
        return next((o.label for o in offered if o.value == str(value)), str(value))

    async def typed_labels(self, turn: Turn[D]) -> Sequence[tuple[str, str]]:
        offered = [(o.label, o.value) for o in await self.options(turn)] if self.options else []
        if self.skip is not None:
            offered.append((turn.t(self.skip), SKIP))
        return offered

    async def on_text(self, turn: Turn[D], text: str) -> Move:
        if self.search is None or self.found is None or self.none_found is None:
            return Flow.RETRY
        query = text.strip()[:100]
        found = list(await self.search(turn, query))
        more = len(found) > SEARCH_SHOWN  # searches return one more than shown, to know
        found = found[:SEARCH_SHOWN]
        if not found:  # the buttons offered at first stay at hand, else Back and Cancel
            offered = list(await self.options(turn)) if self.options else []
            markup = self._keyboard(turn, offered) if offered else self._typing_nav(turn)
            await turn.say(turn.t(self.none_found, query=query), markup)
            return Flow.STAY
        text = turn.t(self.found, query=query)
        if more:
            text += "\n" + turn.t("dialogue.search_more", shown=SEARCH_SHOWN)
        await turn.say(text, self._keyboard(turn, found))
        return Flow.STAY

    def retry_markup(self, turn: Turn[D]) -> Markup:
        return self._typing_nav(turn) if self.search else None

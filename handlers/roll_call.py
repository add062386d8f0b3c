"""A session's roll call for its lecturer (or an administrator): the class list as buttons,
a page at a time, pre-filled from the learners' own check-ins. Each tap on a name moves its
mark on (có mặt → đi muộn → vắng có phép → vắng không phép → có mặt); "all present" marks
everyone still unmarked, so only the exceptions need a tap. The marks not yet saved are the
dialogue's draft, kept in the database at every tap: a restart loses none of them. Saving a
change to a mark someone already had asks why first; ending the session makes the unmarked
unexcused absences (bot/services/roll_call.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from telegram import Update

from bot.actions import RollCall
from bot.attendance import Mark
from bot.domain import NavOp
from bot.errors import InvalidInput
from bot.services.roll_call import RollCounts, RollSheet, SavedRoll, clean_reason
from handlers.admin_steps import Typed
from handlers.class_labels import moment
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Goto, Move, Step, Turn, ask_again, begin, register
from handlers.routing import Handler, button
from handlers.ui import Button, answer, inline

PER_PAGE = 10
#: A tap moves a learner's mark on to the next; a learner without one becomes present.
NEXT_MARK = {
    None: Mark.PRESENT,
    Mark.PRESENT: Mark.LATE,
    Mark.LATE: Mark.EXCUSED,
    Mark.EXCUSED: Mark.ABSENT,
    Mark.ABSENT: Mark.PRESENT,
}
MARK, PAGE, ALL, SAVE, CLOSE, CONFIRM = "m", "p", "all", "save", "close", "yes"
CLOSE_STEP, REASON_STEP = "close", "reason"


@dataclass
class RollDraft:
    session_id: int = 0
    page: int = 0
    #: The marks tapped and not yet saved (only those that differ from the stored ones)...
    marks: dict[int, Mark] = field(default_factory=dict)
    #: ...and the stored mark each was tapped over: one stored since (a learner checking in
    #: after "all present") wins over the tap, instead of being overridden unseen.
    over: dict[int, Mark | None] = field(default_factory=dict)
    #: Saving ends the session too ("🔒 Kết thúc buổi" confirmed).
    closing: bool = False
    reason: str | None = None


# --- the card -----------------------------------------------------------------------------------


async def _sheet(turn: Turn[RollDraft]) -> RollSheet:
    """The roll as stored (checked again on every tap), with the draft kept to the marks
    that still change a stored one, as it was when tapped."""
    draft = turn.draft
    sheet = await turn.services.roll_call.sheet(await turn.ctx.actor(turn.update),
                                                draft.session_id)  # fmt: skip
    stored = {e.person_id: e.mark for e in sheet.entries}
    draft.marks = {
        p: m for p, m in draft.marks.items()
        if p in stored and stored[p] is not m and draft.over.get(p) is stored[p]
    }  # fmt: skip
    draft.over = {p: stored[p] for p in draft.marks}
    return sheet


def _tap(draft: RollDraft, person_id: int, mark: Mark, stored: Mark | None) -> None:
    """A mark tapped over the stored one (none left in the draft if it is the same)."""
    draft.marks.pop(person_id, None)
    draft.over.pop(person_id, None)
    if mark is not stored:
        draft.marks[person_id], draft.over[person_id] = mark, stored


def _marked(sheet: RollSheet, draft: RollDraft) -> list[tuple[int, str, Mark | None]]:
    """(person, name, mark) of everyone on the roll, the draft's marks over the stored ones."""
    return [(e.person_id, e.name, draft.marks.get(e.person_id, e.mark)) for e in sheet.entries]


def _card(turn: Turn[RollDraft], sheet: RollSheet) -> tuple[str, list[list[Button]]]:
    draft = turn.draft
    marked = _marked(sheet, draft)
    pages = max(1, -(-len(marked) // PER_PAGE))
    draft.page = min(max(draft.page, 0), pages - 1)
    counts = RollCounts.of([mark for _, _, mark in marked])
    c, session = sheet.training_class, sheet.session
    lines = [
        turn.t("roll.title", class_name=c.name, code=c.code,
               when=moment(turn.texts, session.starts_at), end=session.ends_at),
        turn.t("roll.counts", **counts.as_dict()),
    ]  # fmt: skip
    if sheet.closed_at is not None:
        lines.append(turn.t("roll.closed_at", at=sheet.closed_at))
    elif sheet.saved_at is not None:
        lines.append(turn.t("roll.saved_at", at=sheet.saved_at))
    if draft.marks:
        lines.append(turn.t("roll.unsaved", count=len(draft.marks)))
    if not marked:
        lines.append(turn.t("roll.empty"))
    else:
        lines.append(turn.t("roll.how", page=draft.page + 1, pages=pages))
    shown = marked[draft.page * PER_PAGE : (draft.page + 1) * PER_PAGE]
    rows: list[list[Button]] = [
        [(turn.t(f"roll.entry.{mark.value if mark else 'unmarked'}", name=name),
          turn.choice(f"{MARK}.{person_id}"))]
        for person_id, name, mark in shown
    ]  # fmt: skip
    rows.append([(turn.t("roll.all_present"), turn.choice(ALL))])
    paging: list[Button] = []
    if draft.page > 0:
        paging.append((turn.t("roll.previous"), turn.choice(f"{PAGE}.{draft.page - 1}")))
    if draft.page + 1 < pages:
        paging.append((turn.t("roll.next"), turn.choice(f"{PAGE}.{draft.page + 1}")))
    if paging:
        rows.append(paging)
    finish: list[Button] = [(turn.t("roll.save"), turn.choice(SAVE))]
    if sheet.closed_at is None:
        finish.append((turn.t("roll.close"), turn.choice(CLOSE)))
    rows += [finish, [(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))]]
    return "\n".join(lines), rows


class RollCard(Step[RollDraft]):
    """The roll call itself: every tap edits the card in place (a tap that changes nothing
    edits nothing, see handlers.ui.show)."""

    retry_text = "roll.retry"

    def __init__(self) -> None:
        super().__init__("card")

    async def ask(self, turn: Turn[RollDraft]) -> None:
        text, rows = _card(turn, await _sheet(turn))
        await turn.show(text, inline(rows))

    async def on_choice(self, turn: Turn[RollDraft], value: str) -> Move:
        draft = turn.draft
        kind, _, number = value.partition(".")
        if kind == MARK and number.isdigit():
            sheet = await _sheet(turn)
            stored = {e.person_id: e.mark for e in sheet.entries}
            person_id = int(number)
            if person_id not in stored:  # left the class meanwhile, or a forged tap
                raise InvalidInput("roll.not_on_roll")
            mark = NEXT_MARK[draft.marks.get(person_id, stored[person_id])]
            _tap(draft, person_id, mark, stored[person_id])
            return Flow.REASK
        if kind == PAGE and number.isdigit():
            draft.page = int(number)
            return Flow.REASK
        if value == ALL:
            sheet = await _sheet(turn)
            unmarked = [p for p, _, mark in _marked(sheet, draft) if mark is None]
            if not unmarked:
                await answer(turn.update, turn.ctx, turn.t("roll.none_unmarked"))
            for person_id in unmarked:
                _tap(draft, person_id, Mark.PRESENT, None)
            return Flow.REASK
        if value == SAVE:
            draft.closing = False
            return await _ready(turn)
        if value == CLOSE:
            return Goto(CLOSE_STEP)
        return Flow.RETRY


async def _ready(turn: Turn[RollDraft]) -> Move:
    """Save now, or first ask why if the draft changes marks already given."""
    draft = turn.draft
    actor = await turn.ctx.actor(turn.update)
    if await turn.services.roll_call.needs_reason(actor, draft.session_id, draft.marks):
        return Goto(REASON_STEP)
    return Flow.FINISH


class CloseConfirm(Step[RollDraft]):
    """Ending the session: the unmarked become unexcused absences; asked once more."""

    def __init__(self) -> None:
        super().__init__(CLOSE_STEP)

    async def ask(self, turn: Turn[RollDraft]) -> None:
        sheet = await _sheet(turn)
        counts = RollCounts.of([mark for _, _, mark in _marked(sheet, turn.draft)])
        text = turn.t("roll.confirm_close", when=moment(turn.texts, sheet.session.starts_at),
                      unmarked=counts.unmarked, unsaved=len(turn.draft.marks))  # fmt: skip
        rows: list[list[Button]] = [
            [(turn.t("roll.close"), turn.choice(CONFIRM))],
            [(turn.t("button.back"), turn.nav(NavOp.BACK))],
        ]
        await turn.show(text, inline(rows))

    async def on_choice(self, turn: Turn[RollDraft], value: str) -> Move:
        if value != CONFIRM:
            return Flow.RETRY
        turn.draft.closing = True
        return await _ready(turn)


async def _reason(turn: Turn[RollDraft], raw: str) -> str:
    return clean_reason(raw)


def _counts_text(turn: Turn[RollDraft], saved: SavedRoll) -> str:
    return turn.t("roll.counts", **saved.counts.as_dict())


async def _save(turn: Turn[RollDraft]) -> None:
    draft = turn.draft
    actor = await turn.ctx.actor(turn.update)
    roll_call = turn.services.roll_call
    if draft.closing:
        saved = await roll_call.close(actor, draft.session_id, draft.marks, draft.reason)
        done = turn.t("roll.closed", absent=saved.absent)
    else:
        saved = await roll_call.save(actor, draft.session_id, draft.marks, draft.reason)
        done = turn.t("roll.saved", marked=saved.marked, corrected=saved.corrected)
    reopen = [[(turn.t("roll.reopen"), RollCall(draft.session_id, draft.page))]]
    await turn.show(done + "\n" + _counts_text(turn, saved), inline(reopen))


ROLL_CALL = register(
    Dialogue(
        name="roll_call", draft=RollDraft,
        steps=[RollCard(), CloseConfirm(),
               Typed(REASON_STEP, "reason", prompt="roll.ask_reason", parse=_reason)],
        finish=_save, cancelled="roll.cancelled", interrupted="roll.interrupted",
        timeout=timedelta(hours=2),
        # /attendance during a roll call brings the card back, its unsaved taps kept.
        entry_command="attendance",
    )
)  # fmt: skip


async def roll_call(update: Update, ctx: BotContext, tapped: RollCall) -> None:
    """The roll call card, in place of the card it was opened from; refused (nothing
    started) to anyone who does not teach the session."""
    await ctx.services.roll_call.sheet(await ctx.actor(update), tapped.session_id)
    await answer(update, ctx)
    assert update.effective_user is not None
    open_now = ctx.services.dialogues.current(update.effective_user.id)
    if (open_now is not None and open_now.dialogue == ROLL_CALL.name
            and open_now.draft.get("session_id") == tapped.session_id):  # fmt: skip
        await ask_again(update, ctx)  # the same roll call, opened again: its taps are kept
        return
    await begin(update, ctx, ROLL_CALL, RollDraft(tapped.session_id, tapped.page))


def handlers() -> list[Handler]:
    return [button(RollCall, roll_call)]

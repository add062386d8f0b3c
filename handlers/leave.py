"""/leave (and the timetable's "Ask leave" button): a learner asks leave for a session, with a
reason, confirmed before it is sent; and a decider's Approve / Reject buttons."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.actions import AskLeave, DecideLeave, PendingLeave
from bot.errors import InvalidInput
from bot.i18n import Texts
from bot.leave import REASON_MAX, REASON_MIN, clean_reason
from bot.services.leave import decision_key
from handlers.admin_steps import Confirm, Typed
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.routing import Handler, button, command
from handlers.ui import Button, Markup, answer, inline, say, show
from storage.repositories.leave import LeaveOption, LeaveRequest

PAGE = 8  # sessions offered per page
PAGE_PREFIX = "p"  # a choice of this step that turns the page rather than picks a session


@dataclass
class LeaveDraft:
    session_id: int = 0
    class_code: str = ""
    class_name: str = ""
    starts_at: datetime | None = None
    reason: str = ""
    page: int = 0


class SessionPick(Step[LeaveDraft]):
    """The sessions the learner may ask leave for, as buttons, a page at a time."""

    async def _options(self, turn: Turn[LeaveDraft]) -> list[LeaveOption]:
        actor = await turn.ctx.actor(turn.update)
        return await turn.services.leave.options(actor)

    async def ask(self, turn: Turn[LeaveDraft]) -> None:
        offered = await self._options(turn)
        actor = await turn.ctx.actor(turn.update)
        sent = mine_lines(turn.texts, await turn.services.leave.mine(actor))
        if not offered:
            await turn.show(turn.t("leave.none") + sent, inline([turn.nav_row()]))
            return
        pages = -(-len(offered) // PAGE)
        page = min(max(turn.draft.page, 0), pages - 1)
        rows: list[list[Button]] = [
            [(turn.t("leave.option", at=o.starts_at, code=o.class_code),
              turn.choice(o.session_id))]
            for o in offered[page * PAGE : (page + 1) * PAGE]
        ]  # fmt: skip
        turning: list[Button] = []
        if page > 0:
            turning.append((turn.t("leave.previous"), turn.choice(f"{PAGE_PREFIX}{page - 1}")))
        if page < pages - 1:
            turning.append((turn.t("leave.next"), turn.choice(f"{PAGE_PREFIX}{page + 1}")))
        rows += [turning] if turning else []
        text = turn.t("leave.pick", page=page + 1, pages=pages) + sent
        await turn.show(text, inline([*rows, turn.nav_row()]))

    async def on_choice(self, turn: Turn[LeaveDraft], value: str) -> Move:
        if value.startswith(PAGE_PREFIX) and value[1:].isdigit():
            turn.draft.page = int(value[1:])
            return Flow.REASK
        if not value.isdigit():
            raise InvalidInput("leave.unknown")
        actor = await turn.ctx.actor(turn.update)
        picked = await turn.services.leave.option(actor, int(value))  # a forged one is refused
        draft = turn.draft
        draft.session_id, draft.class_code, draft.class_name, draft.starts_at = (
            picked.session_id, picked.class_code, picked.class_name, picked.starts_at,
        )  # fmt: skip
        return Flow.NEXT


def _session_params(turn: Turn[Any]) -> dict[str, Any]:
    draft = turn.draft
    return {"at": draft.starts_at, "class_name": draft.class_name, "code": draft.class_code,
            "min": REASON_MIN, "max": REASON_MAX}  # fmt: skip


async def _reason(turn: Turn[LeaveDraft], raw: str) -> str:
    return clean_reason(raw)


async def _summary(turn: Turn[LeaveDraft]) -> str:
    draft = turn.draft
    return turn.t("leave.confirm", class_name=draft.class_name, code=draft.class_code,
                  at=draft.starts_at, reason=draft.reason)  # fmt: skip


async def _send(turn: Turn[LeaveDraft]) -> None:
    actor = await turn.ctx.actor(turn.update)
    asked = await turn.services.leave.ask(actor, turn.draft.session_id, turn.draft.reason)
    if asked.lecturers:
        text = turn.t("leave.sent_lecturers", names=", ".join(asked.lecturers))
    elif asked.asked:
        text = turn.t("leave.sent_office")
    else:
        text = turn.t("leave.sent_nobody")
    await turn.show(text)


ASK_LEAVE = register(
    Dialogue(
        name="leave", draft=LeaveDraft,
        steps=[SessionPick("session"),
               Typed("reason", "reason", prompt="leave.ask_reason", parse=_reason,
                     params=_session_params),
               Confirm("confirm", render=_summary, button="leave.send")],
        finish=_send, cancelled="leave.dropped", interrupted="leave.dropped",
        entry_command="leave", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


def mine_lines(texts: Texts, requests: Sequence[LeaveRequest]) -> str:
    """The learner's requests and where each stands, under the sessions to pick from."""
    if not requests:
        return ""
    lines = [texts("leave.mine")]
    lines += [
        texts("leave.mine_line", at=r.starts_at, code=r.class_code,
              status=texts(f"leave.mine_{r.status.value}"))
        for r in requests
    ]  # fmt: skip
    return "\n\n" + "\n".join(lines)


async def start(update: Update, ctx: BotContext) -> None:
    """/leave, or the timetable's button: the sessions to choose from, if there are any, and
    the requests already sent."""
    actor = await ctx.actor(update)
    if not await ctx.services.leave.options(actor):
        sent = mine_lines(ctx.texts, await ctx.services.leave.mine(actor))
        await show(update, ctx, ctx.t("leave.none") + sent)
        return
    await answer(update, ctx)
    await begin(update, ctx, ASK_LEAVE, LeaveDraft())


async def start_from_button(update: Update, ctx: BotContext, tapped: AskLeave) -> None:
    await start(update, ctx)


def closed_text(ctx: BotContext, request: LeaveRequest) -> str:
    """A request as its deciders see it once decided: who decided, and how."""
    return ctx.t(
        "leave.request_closed", name=request.learner_name, unit=request.learner_unit or "—",
        class_name=request.class_name, code=request.class_code, at=request.starts_at,
        reason=request.reason, by=request.decided_by_name,
        decision=ctx.t(decision_key(request.status)),
    )  # fmt: skip


async def decide(update: Update, ctx: BotContext, tapped: DecideLeave) -> None:
    """A decider's tap: the first decision wins, and their message shows it (or, tapped in
    the list of requests waiting, the list shows what still waits)."""
    actor = await ctx.actor(update)
    decided = await ctx.services.leave.decide(actor, tapped.request_id, tapped.approve)
    await answer(update, ctx, ctx.t("leave.recorded"))
    if tapped.listed:
        await show(update, ctx, *await pending_list(update, ctx))
    else:
        await show(update, ctx, closed_text(ctx, decided.request))


async def pending_list(update: Update, ctx: BotContext) -> tuple[str, Markup]:
    """The requests waiting for this decider, each with its two buttons."""
    waiting, _ = await ctx.services.leave.pending(await ctx.actor(update))
    if not waiting:
        return ctx.t("leave.pending_none"), inline([])
    lines = [ctx.t("leave.pending_heading")]
    rows: list[list[Button]] = []
    for n, r in enumerate(waiting, start=1):
        lines.append(ctx.t("leave.pending_line", n=n, name=r.learner_name,
                           unit=r.learner_unit or "—", code=r.class_code, at=r.starts_at,
                           reason=r.reason))  # fmt: skip
        approve = (ctx.t("leave.pending_approve", n=n, name=r.learner_name),
                   DecideLeave(r.id, True, listed=True))  # fmt: skip
        reject = (ctx.t("leave.pending_reject", n=n), DecideLeave(r.id, False, listed=True))
        rows.append([approve, reject])
    return "\n".join(lines), inline(rows)


async def show_pending(update: Update, ctx: BotContext, tapped: PendingLeave) -> None:
    await say(update, ctx, *await pending_list(update, ctx))


def handlers() -> list[Handler]:
    return [
        command("leave", start),
        button(AskLeave, start_from_button),
        button(DecideLeave, decide),
        button(PendingLeave, show_pending),
    ]

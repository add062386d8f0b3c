"""/approvals: the enrolments waiting for a unit head's (or the office's) approval; and the
Approve / Reject buttons of each request, a rejection asking a short reason first.

The requests' own messages are edited by the outbox (bot/services/approval_requests.settle):
a tap here only answers it, or shows the list again when tapped in the list.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from telegram import Update

from bot.actions import ApproveEnrolment, PendingApprovals, RejectEnrolment
from bot.leave import REASON_MAX, REASON_MIN, clean_reason
from handlers.admin_steps import Typed
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Turn, begin, register
from handlers.routing import Handler, button, command
from handlers.ui import Button, Markup, answer, inline, say, show


@dataclass
class RejectDraft:
    enrolment_id: int = 0
    listed: bool = False
    name: str = ""
    code: str = ""
    reason: str | None = None


async def _reason(turn: Turn[RejectDraft], raw: str) -> str:
    return clean_reason(raw)


def _params(turn: Turn[RejectDraft]) -> dict[str, object]:
    return {"name": turn.draft.name, "code": turn.draft.code, "min": REASON_MIN,
            "max": REASON_MAX}  # fmt: skip


async def _reject(turn: Turn[RejectDraft]) -> None:
    actor = await turn.ctx.actor(turn.update)
    draft = turn.draft
    await turn.services.approval.decide(actor, draft.enrolment_id, False, draft.reason)
    done = turn.t("approval.rejected_done", name=draft.name, code=draft.code)
    if draft.listed:  # from the list: what still waits, below
        text, markup = await pending_list(turn.update, turn.ctx)
        await turn.say(done + "\n\n" + text, markup)
    else:
        back = inline([[(turn.t("approval.list_button"), PendingApprovals())]])
        await turn.say(done, back)


REJECT = register(
    Dialogue(
        name="approval_reject", draft=RejectDraft,
        steps=[Typed("reason", "reason", prompt="approval.ask_reason", parse=_reason,
                     skip="approval.skip_reason", params=_params)],
        finish=_reject, cancelled="approval.reject_dropped",
        interrupted="approval.reject_dropped", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def approve(update: Update, ctx: BotContext, tapped: ApproveEnrolment) -> None:
    """The first decision wins; the request's copies are edited to say it."""
    actor = await ctx.actor(update)
    await ctx.services.approval.decide(actor, tapped.enrolment_id, True)
    await answer(update, ctx, ctx.t("approval.approved_answer"))
    if tapped.listed:
        await show(update, ctx, *await pending_list(update, ctx))


async def reject(update: Update, ctx: BotContext, tapped: RejectEnrolment) -> None:
    """Asks the reason (or none), once sure this person may still reject it."""
    actor = await ctx.actor(update)
    approval = await ctx.services.approval.request(actor, tapped.enrolment_id)
    await answer(update, ctx)
    draft = RejectDraft(approval.id, tapped.listed, approval.learner_name, approval.class_code)
    await begin(update, ctx, REJECT, draft)


async def pending_list(update: Update, ctx: BotContext) -> tuple[str, Markup]:
    """The enrolments waiting for this decider, each with its two buttons."""
    waiting = await ctx.services.approval.pending(await ctx.actor(update))
    if not waiting.approvals:
        return ctx.t("approval.pending_none"), None
    lines = [ctx.t("approval.pending_heading", count=waiting.total)]
    rows: list[list[Button]] = []
    for n, a in enumerate(waiting.approvals, start=1):
        lines.append(ctx.t("approval.pending_line", n=n, name=a.learner_name,
                           unit=a.unit_name or "—", code=a.class_code,
                           class_name=a.class_name, until=a.expires_at))  # fmt: skip
        rows.append([
            (ctx.t("approval.pending_approve", n=n),
             ApproveEnrolment(a.id, listed=True)),
            (ctx.t("approval.pending_reject", n=n), RejectEnrolment(a.id, listed=True)),
        ])  # fmt: skip
    if waiting.total > len(waiting.approvals):
        lines.append(ctx.t("approval.pending_more", count=waiting.total - len(waiting.approvals)))
    return "\n".join(lines), inline(rows)


async def approvals(update: Update, ctx: BotContext) -> None:
    await say(update, ctx, *await pending_list(update, ctx))


async def show_pending(update: Update, ctx: BotContext, tapped: PendingApprovals) -> None:
    """From a reminder (`fresh`), in a new message so the reminder stays."""
    await (say if tapped.fresh else show)(update, ctx, *await pending_list(update, ctx))


def handlers() -> list[Handler]:
    return [
        command("approvals", approvals),
        button(ApproveEnrolment, approve),
        button(RejectEnrolment, reject),
        button(PendingApprovals, show_pending),
    ]

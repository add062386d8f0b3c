"""Requests to approve an enrolment, as the enrolment service and the approval service both
make and close them: who decides, the request each decider receives, and its closing edit.

Requests are keyed by the enrolment and a round, so a cadre rejected (or withdrawn) who
enrols again starts a new round whose copies are not the old ones: the round is one more
than the last found in the outbox, and only the last is ever open.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import ApproveEnrolment, RejectEnrolment
from bot.approval import approval_expiry, nearest_heads
from bot.delivery.model import NewMessage
from bot.domain import Gender, MessageKind, Person
from bot.services.notices import moment, notice
from bot.training import PriorityGroup, TrainingClass, priority_groups
from storage.repositories.approvals import Approval, ApprovalRepository, Reachable
from storage.repositories.classes import ClassRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository

KIND = MessageKind.APPROVAL_REQUEST
#: The priority groups, as a request lists them.
GROUP_NAMES = {
    PriorityGroup.YOUNG: "training.group_young",
    PriorityGroup.WOMEN: "training.group_women",
    PriorityGroup.MINORITY: "training.group_minority",
    PriorityGroup.SOURCE_POOL: "training.group_source_pool",
}


@dataclass(frozen=True, slots=True)
class ApprovalPolicy:
    """What approvals need from the configuration: how long a seat is held (APPROVAL_DAYS)
    and who decides when no unit has a head (the administrators, ADMIN_IDS among them)."""

    days: int
    superadmin_ids: frozenset[int]
    tz: tzinfo


def request_key(enrolment_id: int, round_: int) -> str:
    """The prefix of every decider's copy of one request round."""
    return f"{KIND.value}:{enrolment_id}:{round_}:"


async def last_round(conn: AsyncConnection, enrolment_id: int) -> int:
    """The enrolment's latest request round (0: none yet)."""
    copies = await OutboxRepository(conn).copies(f"{KIND.value}:{enrolment_id}:")
    return max((int(c.dedup_key.split(":")[2]) for c in copies), default=0)


async def deciders(
    conn: AsyncConnection, learner: Person, policy: ApprovalPolicy
) -> tuple[list[int], bool]:
    """The people who decide a learner's enrolment, and whether they are unit heads: the heads
    of the nearest unit up the learner's tree that has one (never the learner), else the
    administrators."""
    if learner.unit is not None:
        heads = nearest_heads(await ApprovalRepository(conn).heads(learner.unit.id), learner.id)
        if heads:
            return heads, True
    admins = await RoleRepository(conn).admins(also=policy.superadmin_ids)
    return [pid for pid, _ in admins if pid != learner.id], False


async def recipients(
    conn: AsyncConnection, learner: Person, policy: ApprovalPolicy
) -> list[Reachable]:
    """Who is sent the request: the deciders on Telegram; if none of the heads is, the
    administrators, so that a request never waits unseen."""
    ids, heads = await deciders(conn, learner, policy)
    repo = ApprovalRepository(conn)
    found = await repo.reachable(ids)
    if found or not heads:
        return found
    admins = await RoleRepository(conn).admins(also=policy.superadmin_ids)
    return await repo.reachable(pid for pid, _ in admins if pid != learner.id)


async def hold_for_approval(
    conn: AsyncConnection,
    training_class: TrainingClass,
    learner: Person,
    now: datetime,
    policy: ApprovalPolicy,
) -> Approval:
    """The learner's enrolment (its seat taken) waits for approval, and its deciders are
    asked, in the caller's transaction. Returns it as it now stands."""
    repo = ApprovalRepository(conn)
    enrolment_id = await repo.id_of(training_class.id, learner.id)
    until = approval_expiry(
        now, policy.days, training_class.enrol_deadline, training_class.starts_at
    )
    await repo.hold(enrolment_id, until, now)
    approval = await repo.get(enrolment_id)
    prefix = request_key(enrolment_id, await last_round(conn, enrolment_id) + 1)
    params = request_params(approval, learner, now, policy.tz)
    clashes = await ClassRepository(conn).clashes(training_class.id, learner.id)
    others = sorted({c.other_class for c in clashes})
    params["clash"] = (
        {"key": "approval.clash_line", "params": {"others": ", ".join(others)}} if others else ""
    )
    buttons = [[("approval.approve", ApproveEnrolment(enrolment_id)),
                ("approval.reject", RejectEnrolment(enrolment_id))]]  # fmt: skip
    await OutboxRepository(conn).add(
        [
            notice(KIND, f"{prefix}{d.person_id}", chat_id=d.telegram_id,
                   person_id=d.person_id, text_key="approval.request", params=params,
                   buttons=buttons)
            for d in await recipients(conn, learner, policy)
        ]
    )  # fmt: skip
    return approval


def request_params(
    approval: Approval, learner: Person, now: datetime, tz: tzinfo
) -> dict[str, Any]:
    """What a decider's message names: the learner, unit, position, priority groups, the
    class (as `summary`, which the closing edit keeps), and until when the seat is held."""
    groups = priority_groups(
        year=now.astimezone(tz).year,
        birth_year=learner.birth_year,
        female=learner.gender is Gender.FEMALE,
        ethnicity_code=learner.ethnicity.code if learner.ethnicity else None,
        source_pool=learner.source_pool,
    )
    listed: Any = [{"key": "approval.group_item", "params": {"group": {"key": key}}}
                   for group, key in GROUP_NAMES.items() if group in groups]  # fmt: skip
    position = learner.title.name if learner.title else learner.title_other
    summary = {
        "name": approval.learner_name,
        "unit": approval.unit_name or "—",
        "position": position or "—",
        "groups": {"key": "approval.groups", "params": {"names": listed}}
        if listed
        else {"key": "approval.groups_none"},
        "class_name": approval.class_name,
        "code": approval.class_code,
        "dates": _dates(approval),
    }
    return {
        "summary": {"key": "approval.request_summary", "params": summary},
        "until": moment(approval.expires_at or now),
    }


def _dates(approval: Approval) -> dict[str, Any]:
    if approval.starts_at is None or approval.ends_at is None:
        return {"key": "approval.dates_none"}
    starts, ends = moment(approval.starts_at), moment(approval.ends_at)
    return {"key": "approval.dates", "params": {"starts": starts, "ends": ends}}


async def settle(
    conn: AsyncConnection, approval: Approval, outcome: dict[str, Any], now: datetime, tz: tzinfo
) -> None:
    """Every decider's copy of the request says how it ended and loses its buttons: edited if
    sent, cancelled if not yet sent, told anew if being sent this very moment."""
    outbox = OutboxRepository(conn)
    prefix = request_key(approval.id, await last_round(conn, approval.id))
    copies = [c for c in await outbox.copies(prefix) if not c.dedup_key.endswith(":closed")]
    await outbox.cancel_pending(prefix)
    learner = await PeopleRepository(conn).get(approval.person_id)
    summary = request_params(approval, learner, now, tz)["summary"]
    params = {"summary": summary, "outcome": outcome}
    messages: list[NewMessage] = []
    for copy in copies:
        if copy.state not in ("sent", "sending"):
            continue  # never went out: cancelled above
        message = notice(
            KIND, f"{copy.dedup_key}:closed", chat_id=copy.chat_id, person_id=copy.person_id,
            text_key="approval.request_closed", params=params,
        )  # fmt: skip
        if copy.state == "sent" and copy.message_id is not None:
            edit = {"chat_id": copy.chat_id, "message_id": copy.message_id}
            message = dataclasses.replace(message, payload={**message.payload, "edit": edit})
        messages.append(message)
    await outbox.add(messages)

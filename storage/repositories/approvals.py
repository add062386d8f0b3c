"""Enrolments waiting for a unit head's approval: who decides them, the one decision that
wins, and those whose time ran out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.approval import HeadOf
from bot.domain import Role, UnitScope
from bot.errors import NotFound
from bot.training import EnrolmentStatus
from storage.links import SENDABLE
from storage.repositories.units import in_scope
from storage.schema import classes, enrolments, people, roles, unit_closure, units

_PENDING = EnrolmentStatus.PENDING.value


@dataclass(frozen=True, slots=True)
class Approval:
    """An enrolment as its deciders see it: the learner, the class, and where it stands."""

    id: int
    class_id: int
    person_id: int
    status: EnrolmentStatus
    expires_at: datetime | None
    learner_name: str
    unit_id: int | None
    unit_name: str | None
    class_code: str
    class_name: str
    starts_at: datetime | None
    ends_at: datetime | None
    decided_by_name: str | None = None
    decided_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Reachable:
    """A decider who can be sent a request: linked to Telegram and consenting."""

    person_id: int
    telegram_id: int
    name: str


_decider = people.alias("decider")
_SELECT = (
    sa.select(
        enrolments.c.id, enrolments.c.class_id, enrolments.c.person_id, enrolments.c.status,
        enrolments.c.expires_at, people.c.full_name, people.c.unit_id, units.c.name.label("unit"),
        classes.c.code, classes.c.name, classes.c.starts_at, classes.c.ends_at,
        _decider.c.full_name.label("decided_by"), enrolments.c.decided_at, enrolments.c.reason,
    )
    .select_from(
        enrolments.join(people, people.c.id == enrolments.c.person_id)
        .join(classes, classes.c.id == enrolments.c.class_id)
        .outerjoin(units, units.c.id == people.c.unit_id)
        .outerjoin(_decider, _decider.c.id == enrolments.c.decided_by)
    )
)  # fmt: skip


def _approval(r: Any) -> Approval:
    return Approval(
        r.id, r.class_id, r.person_id, EnrolmentStatus(r.status), r.expires_at, r.full_name,
        r.unit_id, r.unit, r.code, r.name, r.starts_at, r.ends_at, r.decided_by, r.decided_at,
        r.reason,
    )  # fmt: skip


class ApprovalRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, enrolment_id: int) -> Approval:
        row = (await self.conn.execute(_SELECT.where(enrolments.c.id == enrolment_id))).first()
        if row is None:
            raise NotFound("approval.unknown")
        return _approval(row)

    async def id_of(self, class_id: int, person_id: int) -> int:
        found = await self.conn.execute(
            sa.select(enrolments.c.id).where(
                enrolments.c.class_id == class_id, enrolments.c.person_id == person_id
            )
        )
        return int(found.scalar_one())

    async def hold(self, enrolment_id: int, expires_at: datetime, at: datetime) -> None:
        """The enrolment waits for approval until `expires_at` (its seat already taken)."""
        await self.conn.execute(
            enrolments.update()
            .where(enrolments.c.id == enrolment_id)
            .values(status=_PENDING, ticket=None, expires_at=expires_at, decided_by=None,
                    decided_at=None, reason=None, updated_at=at)
        )  # fmt: skip

    async def decide(
        self,
        enrolment_id: int,
        status: EnrolmentStatus,
        by: int | None,
        at: datetime,
        reason: str | None = None,
    ) -> bool:
        """The decision, if the enrolment still waits for one: one conditional UPDATE, so of
        two deciders (or a decider and the expiry pass) exactly one wins."""
        result = await self.conn.execute(
            enrolments.update()
            .where(enrolments.c.id == enrolment_id, enrolments.c.status == _PENDING)
            .values(status=status.value, decided_by=by, decided_at=at, reason=reason,
                    updated_at=at)
        )  # fmt: skip
        return result.rowcount == 1

    async def due(self, now: datetime, limit: int) -> list[tuple[int, int]]:
        """(enrolment id, class id) of pending enrolments whose time has run out, oldest
        first: the index on (status, expires_at) finds them."""
        rows = await self.conn.execute(
            sa.select(enrolments.c.id, enrolments.c.class_id)
            .where(enrolments.c.status == _PENDING, enrolments.c.expires_at <= now)
            .order_by(enrolments.c.expires_at, enrolments.c.id)
            .limit(limit)
        )
        return [(r.id, r.class_id) for r in rows]

    async def pending_of_class(self, class_id: int) -> list[Approval]:
        """The class's enrolments still waiting for a decision (a cancelled class settles them)."""
        rows = await self.conn.execute(
            _SELECT.where(enrolments.c.class_id == class_id, enrolments.c.status == _PENDING)
        )
        return [_approval(r) for r in rows]

    async def heads(self, unit_id: int) -> list[HeadOf]:
        """The unit heads of this unit and every unit above it, with how far up they are."""
        rows = await self.conn.execute(
            sa.select(unit_closure.c.depth, roles.c.person_id)
            .select_from(roles.join(unit_closure, unit_closure.c.ancestor_id == roles.c.unit_id))
            .where(roles.c.role == Role.UNIT_HEAD.value, unit_closure.c.descendant_id == unit_id)
        )
        return [HeadOf(r.depth, r.person_id) for r in rows]

    async def reachable(self, person_ids: Iterable[int]) -> list[Reachable]:
        """Those of the people who can be sent a message, by name."""
        ids = sorted(set(person_ids))
        if not ids:
            return []
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id, people.c.full_name)
            .where(
                people.c.id.in_(ids),
                *SENDABLE,
            )
            .order_by(people.c.name_search)
        )
        return [Reachable(r.id, r.telegram_id, r.full_name) for r in rows]

    async def pending(self, scope: UnitScope, limit: int) -> list[Approval]:
        """Pending enrolments of learners in the units of `scope`, the soonest to expire
        first (the caller keeps those it decides)."""
        rows = await self.conn.execute(
            _SELECT.where(enrolments.c.status == _PENDING, in_scope(people.c.unit_id, scope))
            .order_by(enrolments.c.expires_at, enrolments.c.id)
            .limit(limit)
        )
        return [_approval(r) for r in rows]

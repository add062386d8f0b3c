"""Announcement audiences in SQL: whom, among the people an announcement may reach, a class,
its waitlist, a unit or a priority group names; counted, or listed to queue."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.audience import AudienceKind, ClassOption, Recipients
from bot.domain import UnitScope
from bot.training import ACTIVE_ENROLMENT, EnrolmentStatus
from storage.repositories.people import PeopleRepository, group_condition
from storage.repositories.units import in_scope
from storage.schema import classes, enrolments, people, units, unreachable_chats

#: Linked, but Telegram told us they blocked the bot (or their account is gone).
_BLOCKED = people.c.telegram_id.in_(sa.select(unreachable_chats.c.chat_id))


def audience_condition(recipients: Recipients, year: int) -> sa.ColumnElement[bool] | None:
    """A condition on `people`: the person is in the audience (priority groups as of `year`);
    None for everyone."""
    kind, ref = recipients.kind, recipients.ref
    if kind.of_class:
        status = (
            EnrolmentStatus.ENROLLED if kind is AudienceKind.CLASS else EnrolmentStatus.WAITLISTED
        )
        members = sa.select(enrolments.c.person_id).where(
            enrolments.c.class_id == ref, enrolments.c.status == status.value
        )
        return people.c.id.in_(members)
    if kind is AudienceKind.UNIT:
        assert ref is not None
        return in_scope(people.c.unit_id, UnitScope((ref,)))
    group = kind.group
    return group_condition(group, year) if group is not None else None


class AudienceRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def size(
        self, recipients: Recipients, scope: UnitScope, year: int, but: int | None
    ) -> tuple[int, int]:
        """(reachable, blocked): how many of the audience in `scope` can be sent the
        announcement, and how many of those blocked the bot."""
        among = audience_condition(recipients, year)
        repo = PeopleRepository(self.conn)
        total = await repo.count_reachable(scope, but, among)
        blocked = await repo.count_reachable(
            scope, but, _BLOCKED if among is None else sa.and_(among, _BLOCKED)
        )
        return total - blocked, blocked

    async def recipients(
        self, recipients: Recipients, scope: UnitScope, year: int, but: int | None
    ) -> list[tuple[int, int]]:
        """(person id, Telegram id) of the audience in `scope`, those who blocked the bot
        included (the sender marks them at once, and the report names them)."""
        among = audience_condition(recipients, year)
        return await PeopleRepository(self.conn).reachable(scope, but, among)

    async def unit_in_scope(self, unit_id: int, scope: UnitScope) -> bool:
        found = await self.conn.execute(
            sa.select(units.c.id).where(units.c.id == unit_id, in_scope(units.c.id, scope))
        )
        return found.first() is not None

    async def classes(
        self, words: Sequence[str], scope: UnitScope, limit: int
    ) -> list[ClassOption]:
        """Classes whose code or name has every word, latest first; for a unit head, only
        those someone of their units is enrolled in or waiting for."""
        query = sa.select(classes.c.id, classes.c.code, classes.c.name).where(
            *(classes.c.search_text.contains(word, autoescape=True) for word in words)
        )
        if not scope.is_province:
            staff = (
                sa.select(enrolments.c.id)
                .join(people, people.c.id == enrolments.c.person_id)
                .where(
                    enrolments.c.class_id == classes.c.id,
                    enrolments.c.status.in_([s.value for s in ACTIVE_ENROLMENT]),
                    in_scope(people.c.unit_id, scope),
                )
            )
            query = query.where(sa.exists(staff))
        rows = await self.conn.execute(
            query.order_by(classes.c.starts_at.desc().nulls_last(), classes.c.id.desc()).limit(
                limit
            )
        )
        return [ClassOption(*row) for row in rows]

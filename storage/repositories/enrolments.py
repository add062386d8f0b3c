"""Enrolments and the waitlist, overrides of the duplicated-training rule, completions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import UnitScope
from bot.training import (
    ACTIVE_ENROLMENT,
    ClassMember,
    ClassStatus,
    EarlierTraining,
    Enrolment,
    EnrolmentStatus,
    StaffEnrolment,
)
from storage.batches import chunks
from storage.repositories.units import in_scope
from storage.schema import (
    classes,
    completions,
    enrolment_overrides,
    enrolments,
    people,
    programmes,
    results,
    units,
)
from storage.types import utcnow

_ACTIVE = [s.value for s in ACTIVE_ENROLMENT]


class EnrolmentRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def of(self, class_id: int, person_id: int) -> Enrolment | None:
        return (await self.of_many(class_id, [person_id])).get(person_id)

    async def of_many(self, class_id: int, person_ids: Sequence[int]) -> dict[int, Enrolment]:
        """`of` for many people: those with an enrolment in the class, a position for those
        waiting (read one by one: few wait, and the rank needs the whole waitlist)."""
        found: dict[int, Enrolment] = {}
        for part in chunks(person_ids):
            rows = await self.conn.execute(
                sa.select(
                    enrolments.c.person_id,
                    enrolments.c.status,
                    enrolments.c.ticket,
                    enrolments.c.expires_at,
                    enrolments.c.nominated_by,
                ).where(enrolments.c.class_id == class_id, enrolments.c.person_id.in_(part))
            )
            for row in rows:
                status = EnrolmentStatus(row.status)
                waiting = status is EnrolmentStatus.WAITLISTED
                found[row.person_id] = Enrolment(
                    class_id,
                    row.person_id,
                    status,
                    await self.position(class_id, row.ticket) if waiting else None,
                    row.expires_at if status is EnrolmentStatus.PENDING else None,
                    row.nominated_by is not None,
                )
        return found

    async def position(self, class_id: int, ticket: int) -> int:
        """The rank of a ticket among those still waiting: 1 is next."""
        ahead = await self.conn.execute(
            sa.select(sa.func.count()).where(
                enrolments.c.class_id == class_id,
                enrolments.c.status == EnrolmentStatus.WAITLISTED.value,
                enrolments.c.ticket < ticket,
            )
        )
        return int(ahead.scalar_one()) + 1

    async def put(
        self,
        class_id: int,
        person_id: int,
        status: EnrolmentStatus,
        ticket: int | None = None,
        *,
        at: datetime | None = None,
    ) -> None:
        """Enrols or waitlists the person, reusing the row of an earlier withdrawal. A second
        row for the same person and class is refused by the database (a double tap).

        `at`: the service's clock (reminders due before it are not sent late)."""
        now = at or utcnow()
        updated = await self.conn.execute(
            enrolments.update()
            .where(
                enrolments.c.class_id == class_id,
                enrolments.c.person_id == person_id,
                enrolments.c.status.not_in(_ACTIVE),
            )
            .values(status=status.value, ticket=ticket, updated_at=now)
        )
        if updated.rowcount == 0:
            await self.conn.execute(
                enrolments.insert().values(
                    class_id=class_id,
                    person_id=person_id,
                    status=status.value,
                    ticket=ticket,
                    created_at=now,
                    updated_at=now,
                )
            )

    async def add_enrolled(
        self, class_id: int, person_ids: Sequence[int], at: datetime | None = None
    ) -> None:
        """Seats for many people in a class none of them is in yet, in one statement (a
        class's list loaded at once: the demo), taken `at` (by default now). The caller sets
        the class's enrolled_count to match, in the same transaction."""
        if person_ids:
            now = at or utcnow()
            await self.conn.execute(
                enrolments.insert(),
                [{"class_id": class_id, "person_id": person_id,
                  "status": EnrolmentStatus.ENROLLED.value, "ticket": None,
                  "created_at": now, "updated_at": now}
                 for person_id in person_ids],
            )  # fmt: skip

    async def set_status(
        self,
        class_id: int,
        person_id: int,
        status: EnrolmentStatus,
        *,
        at: datetime | None = None,
    ) -> None:
        await self.conn.execute(
            enrolments.update()
            .where(enrolments.c.class_id == class_id, enrolments.c.person_id == person_id)
            .values(status=status.value, updated_at=at or utcnow())
        )

    async def first_waiting(self, class_id: int) -> int | None:
        """The person whose ticket comes first."""
        found = await self.conn.execute(
            sa.select(enrolments.c.person_id)
            .where(
                enrolments.c.class_id == class_id,
                enrolments.c.status == EnrolmentStatus.WAITLISTED.value,
            )
            .order_by(enrolments.c.ticket)
            .limit(1)
        )
        return found.scalar()

    async def active_people(self, class_id: int) -> list[ClassMember]:
        """Everyone enrolled or waiting, with how to reach them."""
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id, people.c.consent_at, people.c.full_name,
                      people.c.phone, units.c.name.label("unit"), enrolments.c.status)
            .select_from(
                enrolments.join(people, people.c.id == enrolments.c.person_id)
                .outerjoin(units, units.c.id == people.c.unit_id)
            )
            .where(enrolments.c.class_id == class_id, enrolments.c.status.in_(_ACTIVE))
            .order_by(enrolments.c.status, enrolments.c.ticket, people.c.name_search)
        )  # fmt: skip
        return [
            ClassMember(r.id, r.telegram_id if r.consent_at else None, r.full_name, r.phone,
                        r.unit, EnrolmentStatus(r.status))
            for r in rows
        ]  # fmt: skip

    async def cancel_class(self, class_id: int) -> None:
        await self.conn.execute(
            enrolments.update()
            .where(enrolments.c.class_id == class_id, enrolments.c.status.in_(_ACTIVE))
            .values(status=EnrolmentStatus.CANCELLED.value, updated_at=utcnow())
        )

    async def of_person(self, person_id: int) -> dict[int, Enrolment]:
        """Class id → the person's active enrolment there (the catalog marks those)."""
        rows = await self.conn.execute(
            sa.select(enrolments.c.class_id, enrolments.c.status).where(
                enrolments.c.person_id == person_id, enrolments.c.status.in_(_ACTIVE)
            )
        )
        return {
            r.class_id: Enrolment(r.class_id, person_id, EnrolmentStatus(r.status)) for r in rows
        }

    async def of_staff(self, scope: UnitScope, since: Any, limit: int = 60) -> list[StaffEnrolment]:
        """Who of the units in scope is enrolled or waiting in a class not yet over."""
        rows = await self.conn.execute(
            sa.select(
                people.c.full_name,
                units.c.name.label("unit"),
                classes.c.code,
                classes.c.name,
                enrolments.c.status,
                classes.c.starts_at,
                classes.c.id.label("class_id"),
            )
            .select_from(
                enrolments.join(people, people.c.id == enrolments.c.person_id)
                .join(units, units.c.id == people.c.unit_id)
                .join(classes, classes.c.id == enrolments.c.class_id)
            )
            .where(
                enrolments.c.status.in_(_ACTIVE),
                in_scope(people.c.unit_id, scope),
                classes.c.status != ClassStatus.CANCELLED.value,
                sa.or_(classes.c.ends_at.is_(None), classes.c.ends_at > since),
            )
            .order_by(classes.c.starts_at, classes.c.code, people.c.name_search)
            .limit(limit)
        )
        return [
            StaffEnrolment(
                r.full_name,
                r.unit,
                r.code,
                r.name,
                EnrolmentStatus(r.status),
                r.starts_at,
                r.class_id,
            )
            for r in rows
        ]

    # --- duplicated training -------------------------------------------------------------------

    async def earlier_training(
        self,
        person_id: int,
        programme_id: int,
        validity_months: int | None,
        class_id: int,
        now: datetime,
        tz: tzinfo,
    ) -> EarlierTraining | None:
        """A class of the same programme the person is in, or took (a completion, or a class
        of theirs that has ended) while it still counts; None if this duplicates nothing."""
        found = await self.earlier_trainings(
            [person_id], programme_id, validity_months, class_id, now, tz
        )
        return found.get(person_id)

    async def earlier_trainings(
        self,
        person_ids: Sequence[int],
        programme_id: int,
        validity_months: int | None,
        class_id: int,
        now: datetime,
        tz: tzinfo,
    ) -> dict[int, EarlierTraining]:
        """`earlier_training` of many people at once (a unit head's staff): two queries a
        chunk, whoever duplicates nothing left out."""
        today = now.astimezone(tz).date()
        taking: dict[int, list[Any]] = {}
        done: dict[int, list[tuple[str, date]]] = {}
        for part in chunks(person_ids):
            taken_rows = await self.conn.execute(
                sa.select(enrolments.c.person_id, classes.c.name, classes.c.ends_at,
                          enrolments.c.status, results.c.outcome)
                .select_from(
                    enrolments.join(classes, classes.c.id == enrolments.c.class_id).outerjoin(
                        results,
                        sa.and_(
                            results.c.class_id == classes.c.id,
                            results.c.person_id == enrolments.c.person_id,
                        ),
                    )
                )
                .where(
                    enrolments.c.person_id.in_(part),
                    enrolments.c.status.in_(_ACTIVE),
                    classes.c.programme_id == programme_id,
                    classes.c.id != class_id,
                    classes.c.status != ClassStatus.CANCELLED.value,
                )
            )  # fmt: skip
            for row in taken_rows:
                taking.setdefault(row.person_id, []).append(row)
            completed = await self.conn.execute(
                sa.select(
                    completions.c.person_id,
                    sa.func.coalesce(
                        classes.c.name, completions.c.class_name, programmes.c.name
                    ).label("name"),
                    completions.c.completed_on,
                )
                .select_from(
                    completions.join(
                        programmes, programmes.c.id == completions.c.programme_id
                    ).outerjoin(classes, classes.c.id == completions.c.class_id)
                )
                .where(
                    completions.c.person_id.in_(part), completions.c.programme_id == programme_id
                )
            )
            for person_id, name, completed_on in completed:
                done.setdefault(person_id, []).append((name, completed_on))
        found: dict[int, EarlierTraining] = {}
        for person_id in set(taking) | set(done):
            theirs = taking.get(person_id, [])
            current = next(
                (r for r in theirs  # in that class now, or waiting for it
                 if r.status == EnrolmentStatus.WAITLISTED.value
                 or r.ends_at is None or r.ends_at > now),
                None,
            )  # fmt: skip
            if current is not None:
                found[person_id] = EarlierTraining(current.name, None)
                continue
            # A class of theirs that has ended counts as taken until its results are
            # recorded; then its result decides (a completion, or nothing if not completed).
            taken = done.get(person_id, []) + [
                (r.name, r.ends_at.astimezone(tz).date()) for r in theirs if r.outcome is None
            ]
            if not taken:
                continue
            name, on = max(taken, key=lambda d: d[1])
            if validity_months is not None and _months_between(on, today) >= validity_months:
                continue  # it has lapsed: a refresher is due again
            found[person_id] = EarlierTraining(name, on)
        return found

    async def overridden(self, class_id: int, person_ids: Sequence[int]) -> set[int]:
        """Those of these people an administrator let take the class despite earlier training."""
        found: set[int] = set()
        for part in chunks(person_ids):
            rows = await self.conn.execute(
                sa.select(enrolment_overrides.c.person_id).where(
                    enrolment_overrides.c.class_id == class_id,
                    enrolment_overrides.c.person_id.in_(part),
                )
            )
            found.update(rows.scalars())
        return found

    async def has_override(self, class_id: int, person_id: int) -> bool:
        found = await self.conn.execute(
            sa.select(enrolment_overrides.c.class_id).where(
                enrolment_overrides.c.class_id == class_id,
                enrolment_overrides.c.person_id == person_id,
            )
        )
        return found.first() is not None

    async def add_override(self, class_id: int, person_id: int, by: int | None) -> bool:
        if await self.has_override(class_id, person_id):
            return False
        await self.conn.execute(
            enrolment_overrides.insert().values(
                class_id=class_id, person_id=person_id, granted_by=by, granted_at=utcnow()
            )
        )
        return True

    async def add_completion(
        self,
        person_id: int,
        programme_id: int,
        completed_on: date,
        *,
        class_id: int | None = None,
        class_name: str | None = None,
        source: str = "import",
    ) -> None:
        await self.conn.execute(
            completions.insert().values(
                person_id=person_id,
                programme_id=programme_id,
                class_id=class_id,
                class_name=class_name,
                completed_on=completed_on,
                source=source,
            )
        )


def _months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)

"""Learners' results in a class, and the completions a completed result writes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import Outcome, ResultEntry
from bot.training import EnrolmentStatus
from storage.repositories.outbox import _insert
from storage.schema import classes, completions, enrolments, people, results, units


@dataclass(frozen=True, slots=True)
class Result:
    """A learner's result, with the attendance it was recorded on."""

    class_id: int
    person_id: int
    outcome: Outcome
    attended: int
    total: int
    override: bool
    recorded_by: int | None
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Learner:
    """A learner enrolled in a class, as the results sheet lists them."""

    person_id: int
    name: str
    unit: str | None


def _result(row: Any) -> Result:
    return Result(
        class_id=row.class_id,
        person_id=row.person_id,
        outcome=Outcome(row.outcome),
        attended=row.attended,
        total=row.total,
        override=row.override,
        recorded_by=row.recorded_by,
        recorded_at=row.recorded_at,
    )


class ResultRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def of_class(self, class_id: int) -> dict[int, Result]:
        rows = await self.conn.execute(sa.select(results).where(results.c.class_id == class_id))
        return {r.person_id: _result(r) for r in rows}

    async def learners(self, class_id: int) -> list[Learner]:
        """Everyone enrolled in the class, by name."""
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.full_name, units.c.name.label("unit"))
            .select_from(
                enrolments.join(people, people.c.id == enrolments.c.person_id).outerjoin(
                    units, units.c.id == people.c.unit_id
                )
            )
            .where(
                enrolments.c.class_id == class_id,
                enrolments.c.status == EnrolmentStatus.ENROLLED.value,
            )
            .order_by(people.c.name_search, people.c.id)
        )
        return [Learner(r.id, r.full_name, r.unit) for r in rows]

    async def existing(self, person_ids: Iterable[int]) -> set[int]:
        """Those of these ids that name a person (an import names people by id)."""
        wanted = list(set(person_ids))
        if not wanted:
            return set()
        rows = await self.conn.execute(sa.select(people.c.id).where(people.c.id.in_(wanted)))
        return {r.id for r in rows}

    async def put(self, result: Result, programme_id: int, completed_on: date) -> None:
        """Writes the result, replacing an earlier one; a completed result is the person's
        completion of the programme (the duplicated-training rule reads it), any other
        removes the completion this class gave them."""
        values = {
            "class_id": result.class_id, "person_id": result.person_id,
            "outcome": result.outcome.value, "attended": result.attended, "total": result.total,
            "override": result.override, "recorded_by": result.recorded_by,
            "recorded_at": result.recorded_at,
        }  # fmt: skip
        statement = _insert(self.conn, results).values(**values)
        await self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=["class_id", "person_id"],
                set_={k: v for k, v in values.items() if k not in ("class_id", "person_id")},
            )
        )
        await self.conn.execute(
            completions.delete().where(
                completions.c.person_id == result.person_id,
                completions.c.class_id == result.class_id,
            )
        )
        if result.outcome.completed:
            await self.conn.execute(
                completions.insert().values(
                    person_id=result.person_id, programme_id=programme_id,
                    class_id=result.class_id, completed_on=completed_on, source="class",
                )
            )  # fmt: skip

    async def add_many(self, recorded: Sequence[tuple[Result, int, date]]) -> None:
        """Results of classes that have none yet, with the completions they give, as (result,
        programme, completed on): two bulk inserts (the demo's year, an import)."""
        if not recorded:
            return
        await self.conn.execute(
            results.insert(),
            [
                {"class_id": r.class_id, "person_id": r.person_id, "outcome": r.outcome.value,
                 "attended": r.attended, "total": r.total, "override": r.override,
                 "recorded_by": r.recorded_by, "recorded_at": r.recorded_at}
                for r, _, _ in recorded
            ],
        )  # fmt: skip
        done = [
            {"person_id": r.person_id, "programme_id": programme, "class_id": r.class_id,
             "completed_on": on, "source": "class"}
            for r, programme, on in recorded
            if r.outcome.completed
        ]  # fmt: skip
        if done:
            await self.conn.execute(completions.insert(), done)

    async def of_person(self, person_id: int) -> list[ResultEntry]:
        """Every result of a person (/mydata)."""
        rows = await self.conn.execute(
            sa.select(classes.c.code, classes.c.name, results.c.outcome, results.c.override,
                      results.c.recorded_at)
            .select_from(results.join(classes, classes.c.id == results.c.class_id))
            .where(results.c.person_id == person_id)
            .order_by(results.c.recorded_at)
        )  # fmt: skip
        return [
            ResultEntry(r.code, r.name, Outcome(r.outcome), r.override, r.recorded_at) for r in rows
        ]

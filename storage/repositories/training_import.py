"""What the plan, programme, class, session and completion imports read in bulk before
comparing a file with what is saved, and the few writes no other repository has."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.text_search import fold
from bot.training import Audience, TrainingClass
from storage.repositories.classes import _CLASS_SELECT, _class, _waiting
from storage.schema import (
    class_audience,
    class_lecturers,
    classes,
    completions,
    people,
    programmes,
    units,
)

#: Values bound in one IN (...) list: well under SQLite's and asyncpg's limits.
CHUNK = 500


def _chunks(values: Iterable[Any]) -> list[list[Any]]:
    items = list(dict.fromkeys(values))
    return [items[i : i + CHUNK] for i in range(0, len(items), CHUNK)]


@dataclass(frozen=True, slots=True)
class SavedClass:
    """A class as an import compares it: with its audience and lecturers as ids."""

    training_class: TrainingClass
    lecturer_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SavedCompletion:
    id: int
    class_name: str | None


class TrainingImportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def unit_ids(self, codes: Iterable[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for chunk in _chunks(codes):
            rows = await self.conn.execute(
                sa.select(units.c.code, units.c.id).where(units.c.code.in_(chunk))
            )
            found.update({r.code: r.id for r in rows})
        return found

    async def staff_ids(self, codes: Iterable[str]) -> dict[str, int]:
        """People by their staff code (mã cán bộ), given and returned in upper case: offices
        write them either way."""
        found: dict[str, int] = {}
        upper = sa.func.upper(people.c.staff_code)
        for chunk in _chunks(codes):
            rows = await self.conn.execute(
                sa.select(upper.label("code"), people.c.id).where(upper.in_(chunk))
            )
            found.update({r.code: r.id for r in rows})
        return found

    async def classes_by_code(self, codes: Iterable[str]) -> dict[str, SavedClass]:
        """The saved classes among these codes, with audience and lecturers, in a few
        statements however many there are."""
        found: dict[str, SavedClass] = {}
        for chunk in _chunks(codes):
            rows = (
                await self.conn.execute(
                    _CLASS_SELECT.add_columns(_waiting.label("waiting")).where(
                        classes.c.code.in_(chunk)
                    )
                )
            ).all()
            ids = [r.id for r in rows]
            targets: dict[int, list[str]] = {i: [] for i in ids}
            lecturers: dict[int, list[int]] = {i: [] for i in ids}
            if ids:
                for r in await self.conn.execute(
                    sa.select(class_audience).where(class_audience.c.class_id.in_(ids))
                ):
                    targets[r.class_id].append(r.target)
                for r in await self.conn.execute(
                    sa.select(class_lecturers).where(class_lecturers.c.class_id.in_(ids))
                ):
                    lecturers[r.class_id].append(r.person_id)
            for r in rows:
                audience = Audience.from_targets(sorted(targets[r.id]))
                found[r.code] = SavedClass(
                    _class(r, waiting=r.waiting, audience=audience),
                    tuple(sorted(lecturers[r.id])),
                )
        return found

    async def lock_classes(self, codes: Iterable[str]) -> None:
        """Holds the rows of these classes until the transaction ends (PostgreSQL), always in
        the same order, so that two imports of the same classes wait rather than deadlock."""
        for chunk in _chunks(sorted(set(codes))):
            await self.conn.execute(
                sa.select(classes.c.id)
                .where(classes.c.code.in_(chunk))
                .order_by(classes.c.id)
                .with_for_update()
            )

    async def programmes_in_use(self) -> set[int]:
        """Programmes that have classes: their kind is their classes' kind."""
        rows = await self.conn.execute(sa.select(classes.c.programme_id).distinct())
        return set(rows.scalars())

    async def update_programme(
        self, programme_id: int, name: str, kind: str, validity_months: int | None
    ) -> None:
        await self.conn.execute(
            programmes.update()
            .where(programmes.c.id == programme_id)
            .values(name=name, name_search=fold(name), kind=kind, validity_months=validity_months)
        )

    async def completions_of(
        self, person_ids: Iterable[int]
    ) -> dict[tuple[int, int, date], SavedCompletion]:
        """Every completion of these people, by (person, programme, day)."""
        found: dict[tuple[int, int, date], SavedCompletion] = {}
        for chunk in _chunks(person_ids):
            rows = await self.conn.execute(
                sa.select(
                    completions.c.id,
                    completions.c.person_id,
                    completions.c.programme_id,
                    completions.c.completed_on,
                    completions.c.class_name,
                )
                .where(completions.c.person_id.in_(chunk))
                .order_by(completions.c.id)
            )
            for r in rows:
                found.setdefault(
                    (r.person_id, r.programme_id, r.completed_on),
                    SavedCompletion(r.id, r.class_name),
                )
        return found

    async def add_completions(self, rows: Sequence[dict[str, Any]]) -> None:
        """Imported completions (person_id, programme_id, completed_on, class_name)."""
        if rows:
            await self.conn.execute(
                completions.insert(),
                [{**row, "class_id": None, "source": "import"} for row in rows],
            )

    async def rename_completion(self, completion_id: int, class_name: str | None) -> None:
        await self.conn.execute(
            completions.update()
            .where(completions.c.id == completion_id)
            .values(class_name=class_name)
        )

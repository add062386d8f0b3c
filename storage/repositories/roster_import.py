"""The SQL of the units and roster imports: everything read in bulk (one query per table),
written with executemany in chunks, so 50,000 rows save in seconds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.text_search import fold
from storage.batches import chunks
from storage.schema import (
    ethnicities,
    grades,
    people,
    professional_titles,
    titles,
    unit_closure,
    units,
)

#: The roster's own fields: what a roster import reads and may change.
ROSTER_FIELDS = (
    "staff_code", "full_name", "unit_id", "title_id", "title_other", "employment", "grade_id",
    "professional_title_id", "professional_rank", "gender", "birth_year", "ethnicity_id",
    "phone", "source_pool",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class UnitRow:
    id: int
    code: str
    name: str
    parent_id: int | None
    kind: str


@dataclass(frozen=True, slots=True)
class ListItem:
    """An entry of a code list with what a cell may call it: its code, its name, and (for
    ethnic groups) its other names, compacted."""

    id: int
    code: str
    name: str
    other_names: str = ""


@dataclass(frozen=True, slots=True)
class CodeLists:
    titles: list[ListItem]
    grades: list[ListItem]
    professional_titles: list[ListItem]
    ethnicities: list[ListItem]


@dataclass(frozen=True, slots=True)
class RosterPerson:
    """A person as the roster import compares them: id and the roster's fields."""

    id: int
    staff_code: str | None
    full_name: str
    unit_id: int | None
    title_id: int | None
    title_other: str | None
    employment: str | None
    grade_id: int | None
    professional_title_id: int | None
    professional_rank: int | None
    gender: str | None
    birth_year: int | None
    ethnicity_id: int | None
    phone: str | None
    source_pool: bool


class RosterImportRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- units ----------------------------------------------------------------------------------

    async def units(self) -> list[UnitRow]:
        rows = await self.conn.execute(
            sa.select(units.c.id, units.c.code, units.c.name, units.c.parent_id, units.c.kind)
        )
        return [UnitRow(*r) for r in rows]

    async def add_units(self, new: Sequence[tuple[str, str, str]]) -> dict[str, int]:
        """Units (code, name, kind) without a parent yet; their ids by code."""
        for part in chunks(new):
            await self.conn.execute(
                units.insert(),
                [{"code": code, "name": name, "name_search": fold(name), "kind": kind,
                  "parent_id": None} for code, name, kind in part],
            )  # fmt: skip
        ids: dict[str, int] = {}
        for codes in chunks([code for code, _, _ in new]):
            rows = await self.conn.execute(
                sa.select(units.c.code, units.c.id).where(units.c.code.in_(codes))
            )
            ids.update({code: unit_id for code, unit_id in rows})
        return ids

    async def set_units(self, changed: Sequence[Mapping[str, Any]]) -> None:
        """Name, kind and parent of units (`name`, `kind`, `parent_id`), by id (`b_id`)."""
        if not changed:
            return
        # The SET clause is made of the rows' keys (executemany: the same keys in each).
        statement = units.update().where(units.c.id == sa.bindparam("b_id"))
        for chunk in chunks(changed):
            await self.conn.execute(
                statement, [{**row, "name_search": fold(row["name"])} for row in chunk]
            )

    async def rebuild_closure(self, parents: Mapping[int, int | None]) -> None:
        """The closure table anew from every unit's parent (the tree has no cycle)."""
        pairs: list[dict[str, int]] = []
        for unit_id in parents:
            depth = 0
            current: int | None = unit_id
            while current is not None:
                pairs.append({"ancestor_id": current, "descendant_id": unit_id, "depth": depth})
                current, depth = parents.get(current), depth + 1
        await self.conn.execute(unit_closure.delete())
        for chunk in chunks(pairs):
            await self.conn.execute(unit_closure.insert(), list(chunk))

    # --- code lists -------------------------------------------------------------------------------

    async def code_lists(self) -> CodeLists:
        async def plain(table: sa.Table) -> list[ListItem]:
            rows = await self.conn.execute(sa.select(table.c.id, table.c.code, table.c.name))
            return [ListItem(*r) for r in rows]

        groups = await self.conn.execute(
            sa.select(ethnicities.c.id, ethnicities.c.code, ethnicities.c.name,
                      ethnicities.c.search_text)
        )  # fmt: skip
        return CodeLists(
            await plain(titles), await plain(grades), await plain(professional_titles),
            [ListItem(*r) for r in groups],
        )  # fmt: skip

    # --- people ---------------------------------------------------------------------------------

    async def people(self) -> list[RosterPerson]:
        """Everyone a roster row could be: those with a staff code or a phone number."""
        columns = [people.c.id, *(people.c[name] for name in ROSTER_FIELDS)]
        rows = await self.conn.execute(
            sa.select(*columns).where(
                sa.or_(people.c.staff_code.is_not(None), people.c.phone.is_not(None))
            )
        )
        return [RosterPerson(**row._mapping) for row in rows]

    async def add_people(self, new: Sequence[Sequence[Any]], now: datetime) -> None:
        """Roster people (the office's list, so confirmed): values in ROSTER_FIELDS order."""
        fixed = {"source": "roster", "verified": True, "verified_at": now, "created_at": now,
                 "updated_at": now}  # fmt: skip
        for chunk in chunks(new):
            rows = [dict(zip(ROSTER_FIELDS, values, strict=True)) for values in chunk]
            await self.conn.execute(
                people.insert(),
                [{**row, **fixed, "name_search": fold(row["full_name"])} for row in rows],
            )

    async def set_people(self, changed: Sequence[Sequence[Any]], now: datetime) -> None:
        """Every roster field of people: the id, then values in ROSTER_FIELDS order; the
        search form follows the name."""
        if not changed:
            return
        statement = (
            people.update().where(people.c.id == sa.bindparam("b_id")).values(updated_at=now)
        )
        for chunk in chunks(changed):
            rows = [dict(zip(("b_id", *ROSTER_FIELDS), values, strict=True)) for values in chunk]
            await self.conn.execute(
                statement, [{**row, "name_search": fold(row["full_name"])} for row in rows]
            )

    async def give_staff_codes(self, prefix: str) -> None:
        """A code to every roster person without one, from their id ("CB000042"): what an
        office that never kept codes gets, so that its next import can update by them."""
        ids = await self.conn.execute(
            sa.select(people.c.id).where(people.c.source == "roster", people.c.staff_code.is_(None))
        )
        codes = [{"b_id": person_id, "staff_code": f"{prefix}{person_id:06d}"}
                 for person_id in ids.scalars()]  # fmt: skip
        statement = people.update().where(people.c.id == sa.bindparam("b_id"))
        for chunk in chunks(codes):
            await self.conn.execute(statement, list(chunk))

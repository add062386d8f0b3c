"""The unit tree: units, their closure (every ancestor of every unit) and scopes over it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import NewUnit, Unit, UnitScope
from bot.errors import NotFound
from bot.text_search import fold
from storage.batches import chunks
from storage.schema import unit_closure, units

_parent = units.alias("parent")

#: A unit with its parent's name, unless the parent is the province (it tells nothing apart).
_UNIT_SELECT = sa.select(
    units.c.id,
    units.c.code,
    units.c.name,
    units.c.parent_id,
    units.c.kind,
    sa.case((_parent.c.parent_id.is_(None), None), else_=_parent.c.name).label("parent_name"),
).select_from(units.outerjoin(_parent, _parent.c.id == units.c.parent_id))


def in_scope(unit_id: sa.ColumnElement[Any], scope: UnitScope) -> sa.ColumnElement[bool]:
    """A condition: the unit in `unit_id` lies in the scope (a subquery, never an id list)."""
    if scope.roots is None:
        return sa.true()
    below = sa.select(unit_closure.c.descendant_id).where(
        unit_closure.c.ancestor_id.in_(scope.roots)
    )
    return unit_id.in_(below)


def _unit(row: Any) -> Unit:
    return Unit(row.id, row.code, row.name, row.parent_id, row.kind, row.parent_name)


class UnitRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, unit_id: int) -> Unit:
        row = (await self.conn.execute(_UNIT_SELECT.where(units.c.id == unit_id))).first()
        if row is None:
            raise NotFound("error.unit_unknown")
        return _unit(row)

    async def search(
        self, folded: str, limit: int = 8, scope: UnitScope | None = None
    ) -> list[Unit]:
        """Units whose name, or whose name with the parent's, has every word typed: "van
        phong noi vu" finds the office of the Department of Home Affairs. Within a scope,
        if given (a unit head narrows a list to the units they answer for)."""
        words = folded.split()
        both = units.c.name_search + " " + sa.func.coalesce(_parent.c.name_search, "")
        within = in_scope(units.c.id, scope) if scope is not None else sa.true()
        rows = await self.conn.execute(
            _UNIT_SELECT.where(within, *(both.contains(word, autoescape=True) for word in words))
            .order_by(
                # What was typed at the start of the name first: "van phong" finds offices
                # before units that merely have an office word somewhere.
                sa.case((units.c.name_search.startswith(folded, autoescape=True), 0), else_=1),
                sa.func.length(units.c.name),
                units.c.name_search,
            )
            .limit(limit)
        )
        return [_unit(r) for r in rows]

    async def add(self, unit: NewUnit) -> Unit:
        """One unit, placed in the tree under its parent."""
        ids = await self.add_many([unit])
        return await self.get(ids[unit.code])

    async def add_many(self, new_units: Sequence[NewUnit]) -> dict[str, int]:
        """Units whose parents exist already (a roster import adds them level by level);
        returns their ids by code."""
        if not new_units:
            return {}
        await self.conn.execute(
            units.insert(),
            [
                {"code": u.code, "name": u.name, "name_search": fold(u.name),
                 "parent_id": u.parent_id, "kind": u.kind}
                for u in new_units
            ],
        )  # fmt: skip
        codes = [u.code for u in new_units]
        rows = (
            await self.conn.execute(
                sa.select(units.c.code, units.c.id).where(units.c.code.in_(codes))
            )
        ).all()
        ids = {code: unit_id for code, unit_id in rows}
        await self._place(list(ids.values()))
        return ids

    async def codes_taken(self, codes: Sequence[str]) -> list[str]:
        rows = await self.conn.execute(sa.select(units.c.code).where(units.c.code.in_(codes)))
        return list(rows.scalars())

    async def _place(self, unit_ids: list[int]) -> None:
        """Closure rows for new units: themselves, and each ancestor of their parent."""
        await self.conn.execute(
            unit_closure.insert().from_select(
                ["ancestor_id", "descendant_id", "depth"],
                sa.select(units.c.id, units.c.id, sa.literal(0)).where(units.c.id.in_(unit_ids)),
            )
        )
        above = unit_closure.alias("above")
        await self.conn.execute(
            unit_closure.insert().from_select(
                ["ancestor_id", "descendant_id", "depth"],
                sa.select(above.c.ancestor_id, units.c.id, above.c.depth + 1)
                .select_from(units.join(above, above.c.descendant_id == units.c.parent_id))
                .where(units.c.id.in_(unit_ids)),
            )
        )

    async def labels(self, unit_ids: Iterable[int]) -> dict[int, str]:
        """Unit id → how people read its name (with its parent's), for the ids that exist."""
        ids = list(unit_ids)
        if not ids:
            return {}
        rows = await self.conn.execute(_UNIT_SELECT.where(units.c.id.in_(ids)))
        return {unit.id: unit.label for unit in map(_unit, rows)}

    async def ancestors_of(self, unit_ids: Sequence[int]) -> dict[int, list[int]]:
        """Each unit's ancestors (itself first, up to the province), for many units at once."""
        found: dict[int, list[int]] = {unit_id: [] for unit_id in unit_ids}
        for chunk in chunks(list(found)):
            rows = await self.conn.execute(
                sa.select(unit_closure.c.descendant_id, unit_closure.c.ancestor_id)
                .where(unit_closure.c.descendant_id.in_(chunk))
                .order_by(unit_closure.c.descendant_id, unit_closure.c.depth)
            )
            for row in rows:
                found[row.descendant_id].append(row.ancestor_id)
        return found

    async def ancestor_ids(self, unit_id: int) -> list[int]:
        """The unit and every unit above it, up to the province."""
        rows = await self.conn.execute(
            sa.select(unit_closure.c.ancestor_id)
            .where(unit_closure.c.descendant_id == unit_id)
            .order_by(unit_closure.c.depth)
        )
        return list(rows.scalars())

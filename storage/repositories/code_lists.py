"""Units and the national code lists (titles, grades, ethnic groups)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import CodeItem, Unit
from storage.schema import ethnicities, grades, titles, units

_LISTS = {"title": titles, "grade": grades, "ethnicity": ethnicities}


class CodeListRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def items(self, kind: str) -> list[CodeItem]:
        table = _LISTS[kind]
        rows = await self.conn.execute(
            sa.select(table.c.id, table.c.code, table.c.name).order_by(table.c.id)
        )
        return [CodeItem(*r) for r in rows]

    async def item(self, kind: str, item_id: int) -> CodeItem | None:
        table = _LISTS[kind]
        row = (
            await self.conn.execute(
                sa.select(table.c.id, table.c.code, table.c.name).where(table.c.id == item_id)
            )
        ).first()
        return CodeItem(*row) if row else None

    async def search_ethnicities(self, folded: str, limit: int = 8) -> list[CodeItem]:
        rows = await self.conn.execute(
            sa.select(ethnicities.c.id, ethnicities.c.code, ethnicities.c.name)
            .where(ethnicities.c.name_search.contains(folded, autoescape=True))
            .order_by(ethnicities.c.id)
            .limit(limit)
        )
        return [CodeItem(*r) for r in rows]

    async def unit(self, unit_id: int) -> Unit | None:
        row = (await self.conn.execute(sa.select(units).where(units.c.id == unit_id))).first()
        return Unit(row.id, row.code, row.name, row.parent_id, row.kind) if row else None

    async def search_units(self, folded: str, limit: int = 8) -> list[Unit]:
        rows = await self.conn.execute(
            sa.select(units)
            .where(units.c.name_search.contains(folded, autoescape=True))
            .order_by(sa.func.length(units.c.name), units.c.name_search)
            .limit(limit)
        )
        return [Unit(r.id, r.code, r.name, r.parent_id, r.kind) for r in rows]

    async def ancestor_ids(self, unit_id: int) -> list[int]:
        """The unit and every unit above it, up to the province."""
        chain = sa.select(units.c.id, units.c.parent_id).where(units.c.id == unit_id)
        chain = chain.cte("chain", recursive=True)
        chain = chain.union_all(
            sa.select(units.c.id, units.c.parent_id).where(units.c.id == chain.c.parent_id)
        )
        return [r.id for r in await self.conn.execute(sa.select(chain.c.id))]

    async def subtree_ids(self, root_ids: list[int]) -> list[int]:
        """A unit and all units below it: a unit head answers for the whole subtree."""
        if not root_ids:
            return []
        tree = sa.select(units.c.id).where(units.c.id.in_(root_ids)).cte("tree", recursive=True)
        tree = tree.union_all(sa.select(units.c.id).where(units.c.parent_id == tree.c.id))
        rows = await self.conn.execute(sa.select(tree.c.id))
        return [r.id for r in rows]

"""The national code lists: titles, grades and the 54 ethnic groups."""

from __future__ import annotations

from typing import Literal

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import CodeItem
from bot.errors import NotFound
from bot.text_search import compact
from storage.schema import ethnicities, grades, professional_titles, titles

CodeList = Literal["title", "grade", "professional_title", "ethnicity"]
_LISTS = {
    "title": titles,
    "grade": grades,
    "professional_title": professional_titles,
    "ethnicity": ethnicities,
}


class CodeListRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def items(self, kind: CodeList) -> list[CodeItem]:
        table = _LISTS[kind]
        rows = await self.conn.execute(
            sa.select(table.c.id, table.c.code, table.c.name).order_by(table.c.id)
        )
        return [CodeItem(*r) for r in rows]

    async def get(self, kind: CodeList, item_id: int) -> CodeItem:
        table = _LISTS[kind]
        row = (
            await self.conn.execute(
                sa.select(table.c.id, table.c.code, table.c.name).where(table.c.id == item_id)
            )
        ).first()
        if row is None:
            raise NotFound(f"error.{kind}_unknown")
        return CodeItem(*row)

    async def ids_by_code(self, kind: CodeList) -> dict[str, int]:
        table = _LISTS[kind]
        rows = await self.conn.execute(sa.select(table.c.code, table.c.id))
        return {code: item_id for code, item_id in rows}

    async def search_ethnicities(self, query: str, limit: int = 8) -> list[CodeItem]:
        """Groups whose name, or one of their other names, is what was typed however spelt
        ("hmong", "H'Mông" and "Mèo" all find the Mông, "Mán" the Dao); if none is, those
        with a name that begins with it, and failing that, that holds it."""
        typed = compact(query)
        if not typed:
            return []
        names = ";" + ethnicities.c.search_text + ";"  # search_text is "name;other;other"
        for pattern in (f";{typed};", f";{typed}", typed):
            rows = (
                await self.conn.execute(
                    sa.select(ethnicities.c.id, ethnicities.c.code, ethnicities.c.name)
                    .where(names.contains(pattern, autoescape=True))
                    .order_by(ethnicities.c.id)
                    .limit(limit)
                )
            ).all()
            if rows:
                return [CodeItem(*r) for r in rows]
        return []

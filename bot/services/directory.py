"""Look-ups in the code lists: units, titles, grades, ethnic groups."""

from __future__ import annotations

from bot.domain import CodeItem, Unit, UnitScope
from bot.text_search import fold
from bot.validation import plain_text
from storage.database import Database
from storage.repositories.code_lists import CodeList, CodeListRepository
from storage.repositories.units import UnitRepository

#: Ethnic groups offered as buttons first; any other is found by typing its name.
COMMON_ETHNICITY_CODES = ("01", "02", "03", "07", "08", "09")
QUERY_MAX = 100


class DirectoryService:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def search_units(
        self, query: str, limit: int = 8, *, within: UnitScope | None = None
    ) -> list[Unit]:
        folded = fold(plain_text(query)[:QUERY_MAX])
        if len(folded) < 2:
            return []
        async with self.db.read() as conn:
            return await UnitRepository(conn).search(folded, limit, within)

    async def unit(self, unit_id: int) -> Unit:
        """The unit; NotFound (a forged or outdated choice) if there is none."""
        async with self.db.read() as conn:
            return await UnitRepository(conn).get(unit_id)

    async def items(self, kind: CodeList) -> list[CodeItem]:
        async with self.db.read() as conn:
            return await CodeListRepository(conn).items(kind)

    async def item(self, kind: CodeList, item_id: int) -> CodeItem:
        async with self.db.read() as conn:
            return await CodeListRepository(conn).get(kind, item_id)

    async def search_items(self, kind: CodeList, query: str, limit: int = 4) -> list[CodeItem]:
        """Entries of a short code list (grades, positions) whose name has every word typed,
        diacritics or not."""
        words = fold(plain_text(query)[:QUERY_MAX]).split()
        if not words or len(" ".join(words)) < 2:
            return []
        found = [i for i in await self.items(kind) if all(w in fold(i.name) for w in words)]
        return found[:limit]

    async def common_ethnicities(self) -> list[CodeItem]:
        items = await self.items("ethnicity")
        return [e for e in items if e.code in COMMON_ETHNICITY_CODES]

    async def search_ethnicities(self, query: str, limit: int = 8) -> list[CodeItem]:
        typed = plain_text(query)[:QUERY_MAX]
        async with self.db.read() as conn:
            return await CodeListRepository(conn).search_ethnicities(typed, limit)

"""Staff members with a Telegram link, for publishing their command menus at start."""

from __future__ import annotations

import sqlalchemy as sa

from bot.domain import Role
from storage.database import Database
from storage.schema import people, roles


async def staff_chats(db: Database) -> dict[int, tuple[set[Role], str]]:
    """telegram_id → (roles, language) for everyone holding a role and linked to Telegram."""
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(people.c.telegram_id, people.c.language, roles.c.role)
            .select_from(roles.join(people, people.c.id == roles.c.person_id))
            .where(people.c.telegram_id.is_not(None))
        )
        staff: dict[int, tuple[set[Role], str]] = {}
        for row in rows:
            staff.setdefault(row.telegram_id, (set(), row.language or "vi"))[0].add(Role(row.role))
    return staff

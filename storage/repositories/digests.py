"""Who receives the monthly digests: the unit heads with a chat."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Role
from storage.links import SENDABLE
from storage.schema import people, roles


@dataclass(frozen=True, slots=True)
class DigestReader:
    person_id: int
    chat_id: int
    language: str | None


class DigestRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def unit_heads(self) -> list[DigestReader]:
        """The linked unit heads who consented, each once, whatever units they head."""
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id, people.c.language)
            .where(
                people.c.id.in_(
                    sa.select(roles.c.person_id).where(roles.c.role == Role.UNIT_HEAD.value)
                ),
                *SENDABLE,
            )
            .order_by(people.c.id)
        )
        return [DigestReader(r.id, r.telegram_id, r.language) for r in rows]

"""Classes' deep-link tokens: the live one of a class, a token looked up, a token revoked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.class_links import ClassLink
from storage.schema import class_links


class ClassLinkRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def live(self, class_id: int) -> ClassLink | None:
        """The class's link that still works (the newest, should two ever be)."""
        row = (
            await self.conn.execute(
                sa.select(class_links)
                .where(class_links.c.class_id == class_id, class_links.c.revoked_at.is_(None))
                .order_by(class_links.c.id.desc())
                .limit(1)
            )
        ).first()
        return _link(row) if row else None

    async def latest(self, class_id: int) -> ClassLink | None:
        """The class's newest link, live or revoked: whether it ever had one, and when it ended."""
        row = (
            await self.conn.execute(
                sa.select(class_links)
                .where(class_links.c.class_id == class_id)
                .order_by(class_links.c.id.desc())
                .limit(1)
            )
        ).first()
        return _link(row) if row else None

    async def by_token(self, token: str) -> ClassLink | None:
        row = (
            await self.conn.execute(sa.select(class_links).where(class_links.c.token == token))
        ).first()
        return _link(row) if row else None

    async def add(self, class_id: int, token: str, *, by: int | None, at: datetime) -> ClassLink:
        link_id = (
            await self.conn.execute(
                class_links.insert()
                .values(class_id=class_id, token=token, created_by=by, created_at=at)
                .returning(class_links.c.id)
            )
        ).scalar_one()
        return ClassLink(int(link_id), class_id, token, by, at)

    async def revoke(self, link_id: int, *, by: int | None, at: datetime) -> bool:
        """Revokes the link if it still works; False if it had been revoked already."""
        result = await self.conn.execute(
            class_links.update()
            .where(class_links.c.id == link_id, class_links.c.revoked_at.is_(None))
            .values(revoked_by=by, revoked_at=at)
        )
        return bool(result.rowcount)


def _link(row: Any) -> ClassLink:
    return ClassLink(
        id=int(row.id),
        class_id=int(row.class_id),
        token=row.token,
        created_by=row.created_by,
        created_at=row.created_at,
        revoked_by=row.revoked_by,
        revoked_at=row.revoked_at,
    )

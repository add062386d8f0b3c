"""Catalog views: a cadre's filters and search behind the short key their buttons carry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.schema import catalog_views


class CatalogViewRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def add(
        self, key: str, telegram_id: int, state: dict[str, Any], now: datetime, expires_at: datetime
    ) -> None:
        await self.conn.execute(
            catalog_views.insert().values(
                key=key, telegram_id=telegram_id, state=state, created_at=now, expires_at=expires_at
            )
        )

    async def get(self, key: str, telegram_id: int, now: datetime) -> dict[str, Any] | None:
        """The view, if it is this person's and has not expired."""
        found = await self.conn.execute(
            sa.select(catalog_views.c.state).where(
                catalog_views.c.key == key,
                catalog_views.c.telegram_id == telegram_id,
                catalog_views.c.expires_at > now,
            )
        )
        state = found.scalar()
        return dict(state) if state is not None else None

    async def put(self, key: str, state: dict[str, Any], expires_at: datetime) -> None:
        await self.conn.execute(
            catalog_views.update()
            .where(catalog_views.c.key == key)
            .values(state=state, expires_at=expires_at)
        )

    async def purge(self, now: datetime) -> int:
        result = await self.conn.execute(
            catalog_views.delete().where(catalog_views.c.expires_at <= now)
        )
        return result.rowcount

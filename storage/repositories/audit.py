"""The audit log: every privileged change, written in the transaction of the change."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import AuditEntry
from storage.schema import audit_log
from storage.types import utcnow


class AuditRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record(
        self, action: str, *, actor: int | None, person_id: int | None = None, **details: Any
    ) -> int:
        """Appends an entry; its id names this change (e.g. in the keys of the notices it
        causes, so a retried change never queues them twice)."""
        result = await self.conn.execute(
            audit_log.insert()
            .values(at=utcnow(), actor_telegram_id=actor, action=action, person_id=person_id,
                    details=details)
            .returning(audit_log.c.id)
        )  # fmt: skip
        return int(result.scalar_one())

    async def of_person(self, person_id: int) -> list[AuditEntry]:
        rows = await self.conn.execute(
            sa.select(audit_log.c.at, audit_log.c.action, audit_log.c.details)
            .where(audit_log.c.person_id == person_id)
            .order_by(audit_log.c.id)
        )
        return [AuditEntry(r.at, r.action, dict(r.details)) for r in rows]

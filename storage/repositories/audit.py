"""The audit log: every privileged change, written in the transaction of the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import AuditAction, AuditEntry
from storage.schema import audit_log
from storage.types import utcnow


class AuditRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def record(
        self,
        action: AuditAction,
        *,
        actor: int | None,
        person_id: int | None = None,
        **details: Any,
    ) -> int:
        """Appends an entry; its id names this change (e.g. in the keys of the notices it
        causes, so a retried change never queues them twice)."""
        result = await self.conn.execute(
            audit_log.insert()
            .values(at=utcnow(), actor_telegram_id=actor, action=action.value, person_id=person_id,
                    details=details)
            .returning(audit_log.c.id)
        )  # fmt: skip
        return int(result.scalar_one())

    async def record_each(
        self, action: AuditAction, *, actor: int | None, entries: Mapping[int, dict[str, Any]]
    ) -> None:
        """One entry per person (a roll call's corrections), in one statement."""
        if not entries:
            return
        at = utcnow()
        await self.conn.execute(
            audit_log.insert(),
            [{"at": at, "actor_telegram_id": actor, "action": action.value, "person_id": person,
              "details": details} for person, details in entries.items()],
        )  # fmt: skip

    async def of_person(self, person_id: int, telegram_id: int | None = None) -> list[AuditEntry]:
        """The entries about the person, and those of what they did from this account."""
        about = audit_log.c.person_id == person_id
        where = (
            about
            if telegram_id is None
            else sa.or_(about, audit_log.c.actor_telegram_id == telegram_id)
        )
        rows = await self.conn.execute(sa.select(*_ENTRY).where(where).order_by(audit_log.c.id))
        return [_entry(r) for r in rows]

    async def last_of(self, person_id: int, actions: tuple[AuditAction, ...]) -> AuditEntry | None:
        """The latest of these actions about the person (who decided, and when)."""
        row = (
            await self.conn.execute(
                sa.select(*_ENTRY)
                .where(
                    audit_log.c.person_id == person_id,
                    audit_log.c.action.in_([a.value for a in actions]),
                )
                .order_by(audit_log.c.id.desc())
                .limit(1)
            )
        ).first()
        return _entry(row) if row else None


_ENTRY = (audit_log.c.at, audit_log.c.action, audit_log.c.details, audit_log.c.actor_telegram_id)


def _entry(row: Any) -> AuditEntry:
    return AuditEntry(row.at, row.action, dict(row.details), row.actor_telegram_id)

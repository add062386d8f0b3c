"""One sender per database: a lock that dies with its holder.

SQLite: an OS file lock (flock) beside the database file; the kernel releases it when the
process exits, however it exits. PostgreSQL: a session advisory lock held on a dedicated
connection; the server releases it when that connection closes. Its key is derived from the
database and schema, so deployments (or test runs) in different schemas of one database do
not block each other. Either way the holder is described (pid, host, since) so the process
that did not get it can say who has it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import filelock
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import Database

LOCK_CHECK_TIMEOUT_S = 5.0


def _me() -> dict[str, object]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "since": datetime.now(UTC).isoformat(),
    }


class SenderLock(Protocol):
    async def try_acquire(self) -> bool: ...
    async def alive(self) -> bool: ...
    async def holder(self) -> str: ...
    async def release(self) -> None: ...


class FileSenderLock:
    def __init__(self, database_file: Path) -> None:
        self.path = database_file.with_name(database_file.name + ".sender.lock")
        self.owner = database_file.with_name(database_file.name + ".sender.owner")
        self._lock = filelock.FileLock(self.path, timeout=0, thread_local=False)

    async def try_acquire(self) -> bool:
        try:
            self._lock.acquire(timeout=0)
        except filelock.Timeout:
            return False
        self.owner.write_text(json.dumps(_me()), encoding="utf-8")
        return True

    async def alive(self) -> bool:
        """A file lock lasts as long as this process: nothing can take it away."""
        return self._lock.is_locked

    async def holder(self) -> str:
        try:
            owner = json.loads(self.owner.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return "unknown process"
        return f"pid {owner['pid']} on {owner['host']} since {owner['since']}"

    async def release(self) -> None:
        if self._lock.is_locked:
            self._lock.release()


def advisory_key(database: str, schema: str) -> int:
    """The advisory lock key of one schema of one database: a stable signed 64-bit hash."""
    digest = hashlib.blake2b(f"outbox-sender:{database}:{schema}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


async def _key_of(conn: AsyncConnection) -> int:
    """The key for the database and schema this connection works in."""
    row = (await conn.execute(sa.text("SELECT current_database(), current_schema()"))).one()
    return advisory_key(row[0], row[1] or "")


class AdvisorySenderLock:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._conn: AsyncConnection | None = None
        self._key = 0

    async def try_acquire(self) -> bool:
        conn = await self.db.engine.connect()
        await conn.execute(
            sa.text("SELECT set_config('application_name', :name, false)"),
            {"name": "outbox-sender " + json.dumps(_me())},
        )
        key = await _key_of(conn)
        got = (await conn.execute(sa.text("SELECT pg_try_advisory_lock(:k)"), {"k": key})).scalar()
        await conn.commit()
        if got:
            self._conn, self._key = conn, key
            return True
        await _discard(conn)
        return False

    async def alive(self) -> bool:
        """The lock lives in the server session; if that connection broke, it is gone."""
        if self._conn is None:
            return False
        try:
            await asyncio.wait_for(self._conn.execute(sa.text("SELECT 1")), LOCK_CHECK_TIMEOUT_S)
            await self._conn.commit()
        except Exception:
            return False
        return True

    async def holder(self) -> str:
        async with self.db.read() as conn:
            # A bigint key shows in pg_locks as classid (high half) and objid (low half),
            # with objsubid 1; keys are per database.
            row = (
                await conn.execute(
                    sa.text(
                        "SELECT a.pid, a.application_name, a.client_addr FROM pg_locks l "
                        "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
                        "AND l.granted AND l.objsubid = 1 AND l.database = "
                        "(SELECT oid FROM pg_database WHERE datname = current_database()) "
                        "AND ((l.classid::bigint << 32) | l.objid::bigint) = :k"
                    ),
                    {"k": await _key_of(conn)},
                )
            ).first()
        if row is None:
            return "unknown process"
        return f"server pid {row.pid} ({row.application_name}) from {row.client_addr or 'local'}"

    async def release(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            try:
                await conn.execute(sa.text("SELECT pg_advisory_unlock(:k)"), {"k": self._key})
            finally:
                await _discard(conn)


async def _discard(conn: AsyncConnection) -> None:
    """Closes the server session itself: a pooled session would keep the lock and the name."""
    await conn.invalidate()
    await conn.close()


def sender_lock(db: Database, url: str) -> SenderLock:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return FileSenderLock(Path(parsed.database or "bot.db").resolve())
    return AdvisorySenderLock(db)

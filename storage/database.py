"""Engine set-up and the two kinds of transaction the services use: read and write.

SQLite needs care to behave under concurrent async users: WAL so readers never block the
writer, a busy timeout, foreign keys on, and write transactions that start with
``BEGIN IMMEDIATE``. A deferred transaction that reads and then writes cannot wait for the
lock (SQLite returns "database is locked" at once to avoid a deadlock), so every write
transaction takes the write lock up front and queues behind the busy timeout instead.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 15_000
_WRITE = "cadre_write"
_NO_TRANSACTION = "cadre_no_transaction"


def create_engine(url: str, *, schema: str | None = None, echo: bool = False) -> AsyncEngine:
    """An async engine for `url`; `schema` pins PostgreSQL's search_path (tests use it)."""
    parsed = make_url(url)
    # hide_parameters: SQL errors must not carry personal data into logs.
    kwargs: dict[str, Any] = {"echo": echo, "hide_parameters": True}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
        # Every transaction here ends in commit or rollback before the connection goes back;
        # the pool's extra rollback would cost one more thread hop per use with aiosqlite.
        kwargs["pool_reset_on_return"] = None
        engine = create_async_engine(parsed, **kwargs)
        _configure_sqlite(engine)
        return engine
    if schema:
        kwargs["connect_args"] = {"server_settings": {"search_path": schema}}
    kwargs.update(pool_size=10, max_overflow=10, pool_pre_ping=True)
    return create_async_engine(parsed, **kwargs)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let us emit BEGIN ourselves instead of the driver's implicit deferred BEGIN.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        if options.get(_NO_TRANSACTION):
            return  # a single statement is its own consistent snapshot
        conn.exec_driver_sql("BEGIN IMMEDIATE" if options.get(_WRITE) else "BEGIN")


class Database:
    """Owns the engine; hands out transactions. One owner per transaction: the service."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @classmethod
    def from_url(cls, url: str, *, schema: str | None = None) -> Database:
        return cls(create_engine(url, schema=schema))

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction: a consistent snapshot, never takes the write lock."""
        async with self.engine.connect() as conn, conn.begin():
            yield conn

    @asynccontextmanager
    async def lookup(self) -> AsyncIterator[AsyncConnection]:
        """For exactly one SELECT on a hot path (who is writing to the bot?).

        On SQLite it runs outside a transaction: one statement is consistent by itself, and
        BEGIN and COMMIT would each cost a thread hop through aiosqlite on every update.
        """
        if self.dialect != "sqlite":
            async with self.read() as conn:
                yield conn
            return
        async with self.engine.connect() as conn:
            await conn.execution_options(**{_NO_TRANSACTION: True})
            yield conn

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction that commits on success and rolls back on any exception.

        SQLite has one writer at a time. Writers of this process wait their turn on an asyncio
        lock instead of in SQLite's busy handler, which polls with sleeps of up to 100 ms: under
        a rush (hundreds of cadres enrolling at once) that sleeping, not the work, made the
        latency. Other processes (a second bot on standby) still meet the busy timeout.
        """
        async with self._writer(), self.engine.connect() as conn:
            await conn.execution_options(**{_WRITE: True})
            async with conn.begin():
                yield conn

    def _writer(self) -> AbstractAsyncContextManager[Any]:
        """The in-process writers' turn on SQLite (one lock per event loop); none elsewhere."""
        if self.dialect != "sqlite":
            return nullcontext()
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(loop)
        if lock is None:
            lock = self._write_locks[loop] = asyncio.Lock()
        return lock

    @asynccontextmanager
    async def schema_change(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction for migrations.

        On SQLite, Alembic's batch mode rebuilds a table (copy, drop, rename), and the drop
        fails while other rows refer to it and foreign keys are on. SQLite ignores
        ``PRAGMA foreign_keys`` inside a transaction, so it is switched off before BEGIN,
        and the whole database is checked with ``foreign_key_check`` before COMMIT: a
        migration that breaks a reference still rolls back.
        """
        if self.dialect != "sqlite":
            async with self.write() as conn:
                yield conn
            return
        async with self.engine.connect() as conn:
            await _sqlite_pragma(conn, "foreign_keys=OFF")
            try:
                await conn.execution_options(**{_NO_TRANSACTION: False, _WRITE: True})
                async with conn.begin():
                    yield conn
                    broken = (await conn.exec_driver_sql("PRAGMA foreign_key_check")).all()
                    if broken:
                        tables = sorted({str(row[0]) for row in broken})
                        raise RuntimeError(f"migration broke references in {tables}")
            finally:
                await _sqlite_pragma(conn, "foreign_keys=ON")

    async def dispose(self) -> None:
        await self.engine.dispose()


async def _sqlite_pragma(conn: AsyncConnection, pragma: str) -> None:
    """Run a PRAGMA outside any transaction, where SQLite honours it."""
    await conn.execution_options(**{_NO_TRANSACTION: True, _WRITE: False})
    await conn.exec_driver_sql(f"PRAGMA {pragma}")
    await conn.commit()

"""Shared fixtures: a migrated database on SQLite and on PostgreSQL, one test each.

PostgreSQL is found at TEST_POSTGRES_URL (default: the local server, database `test`). Each
test gets its own schema, dropped afterwards. Without a server the PostgreSQL cases are
skipped with one line of explanation, unless REQUIRE_POSTGRES=1 (CI) makes that an error.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from storage.database import Database
from storage.migrate import upgrade

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
_DSN = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")


def _postgres_reachable() -> bool:
    async def probe() -> bool:
        try:
            conn = await asyncpg.connect(_DSN, timeout=3)
        except (OSError, asyncpg.PostgresError, TimeoutError):
            return False
        await conn.close()
        return True

    return asyncio.run(probe())


POSTGRES_UP = _postgres_reachable()


def pytest_report_header(config: pytest.Config) -> str:
    if POSTGRES_UP:
        return f"databases: SQLite and PostgreSQL ({_DSN.rsplit('@', 1)[-1]})"
    return "databases: SQLite only: no PostgreSQL server at TEST_POSTGRES_URL"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not POSTGRES_UP:
        terminalreporter.write_line(
            f"PostgreSQL unreachable at {_DSN.rsplit('@', 1)[-1]}: ran on SQLite only"
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    if os.environ.get("REQUIRE_POSTGRES") == "1" and not POSTGRES_UP:
        raise pytest.UsageError(f"REQUIRE_POSTGRES=1 but PostgreSQL is unreachable at {_DSN}")


@pytest.fixture(params=["sqlite", "postgres"])
def database_kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not POSTGRES_UP:
        pytest.skip("PostgreSQL server not reachable")
    return request.param


#: A SQLite database migrated once per test process (an xdist worker), copied for each test:
#: running every migration costs about a third of a second a test.
_sqlite_template: list[Path] = []


async def _copy_of_migrated_sqlite(target: Path) -> None:
    if not _sqlite_template:
        folder = Path(tempfile.mkdtemp(prefix="bot-tests-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        template = Database.from_url(f"sqlite+aiosqlite:///{folder}/template.db")
        await upgrade(template)
        await template.dispose()
        _sqlite_template.append(folder / "template.db")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_sqlite_template[0], target)


async def open_database(kind: str, tmp_path: object) -> tuple[Database, str | None]:
    """A fresh, migrated database; for PostgreSQL a new schema whose name is returned."""
    if kind == "sqlite":
        await _copy_of_migrated_sqlite(Path(str(tmp_path)) / "test.db")
        return Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/test.db"), None
    schema = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_DSN)
    try:
        await conn.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await conn.close()
    db = Database.from_url(POSTGRES_URL, schema=schema)
    await upgrade(db)
    return db, schema


async def close_database(db: Database, schema: str | None) -> None:
    await db.dispose()
    if schema:
        conn = await asyncpg.connect(_DSN)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()


@pytest.fixture
async def db(database_kind: str, tmp_path: object) -> AsyncIterator[Database]:
    database, schema = await open_database(database_kind, tmp_path)
    yield database
    await close_database(database, schema)


@pytest.fixture
async def sqlite_db(tmp_path: object) -> AsyncIterator[Database]:
    """SQLite only, for unit tests of services that do not depend on the engine."""
    database, _ = await open_database("sqlite", tmp_path)
    yield database
    await database.dispose()

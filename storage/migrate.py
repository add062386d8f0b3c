"""Applies Alembic migrations at start, on the application's own engine, before polling."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from storage.database import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Run pending migrations in one transaction: all of them or none."""
    await _migrate(db, command.upgrade, revision)


async def downgrade(db: Database, revision: str) -> None:
    """Back to `revision`, in one transaction (before a rollback of the bot itself)."""
    await _migrate(db, command.downgrade, revision)


async def _migrate(db: Database, step: Callable[[Config, str], None], revision: str) -> None:
    def _run(connection: Connection) -> None:
        config = alembic_config()
        config.attributes["connection"] = connection
        step(config, revision)

    async with db.schema_change() as conn:
        await conn.run_sync(_run)


async def current_revision(db: Database) -> str | None:
    async with db.read() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()

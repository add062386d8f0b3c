"""Alembic environment. The application hands in its own connection (see storage.migrate);
the `alembic` command line builds an engine from DATABASE_URL and runs the async template."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.schema import metadata

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_from_url() -> None:
    url = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///data/bot.db")
    db = Database.from_url(url)
    async with db.schema_change() as conn:
        await conn.run_sync(run_with)
    await db.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    run_with(connection)
else:
    asyncio.run(run_from_url())

"""Crash behaviour of the delivery engine with the bot in a separate process.

SIGTERM: nothing lost, nothing doubled. SIGKILL: nothing lost, at most the in-flight
messages sent again. A second process on the same database never sends.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from bench.bot_process import BotProcess
from bot.delivery.model import NewMessage
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories.outbox import OutboxRepository
from storage.schema import outbox
from tests.conftest import _DSN, POSTGRES_UP, POSTGRES_URL
from tools.emulator import BotApiEmulator
from tools.emulator.faults import Faults

pytestmark = pytest.mark.slow

TOKEN = "515151:CRASH"
CHATS = list(range(8_000_000, 8_000_060))
IN_FLIGHT = 4


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    # Slow enough (30/s) that a signal lands in the middle of the batch.
    async with BotApiEmulator(token=TOKEN, faults=Faults(overall_per_s=30)) as emu:
        for chat in CHATS:
            emu.user(chat, bot=TOKEN)
        yield emu


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A migrated database with the batch in its outbox; for PostgreSQL a whole database,
    since the bot in a child process cannot be pinned to a test schema."""
    if request.param == "sqlite":
        yield await _database(f"sqlite+aiosqlite:///{tmp_path}/bot.db")
        return
    if not POSTGRES_UP:
        pytest.skip("PostgreSQL server not reachable")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(_DSN)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield await _database(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _database(url: str) -> str:
    db = Database.from_url(url)
    await upgrade(db)
    async with db.write() as conn:
        await OutboxRepository(conn).add(
            [NewMessage(f"crash:{c}", c, "test", {"text": f"crash:{c}"}) for c in CHATS]
        )
    await db.dispose()
    return url


def _bot(emu: BotApiEmulator, url: str, tmp_path: Path, name: str = "bot") -> BotProcess:
    return BotProcess(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": emu.base_url,
            "TELEGRAM_BASE_FILE_URL": emu.base_file_url,
            "DATABASE_URL": url,
            "SEND_RATE_PER_S": "30",
            "SEND_IN_FLIGHT": str(IN_FLIGHT),
        },
        tmp_path,
        name,
    )


async def _wait_for(emu: BotApiEmulator, count: int, seconds: float = 30) -> None:
    for _ in range(int(seconds / 0.02)):
        if len(emu.delivered(TOKEN)) >= count:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"only {len(emu.delivered(TOKEN))} of {count} delivered")


async def _states(url: str) -> Counter[str]:
    db = Database.from_url(url)
    try:
        async with db.read() as conn:
            return Counter((await conn.execute(sa.select(outbox.c.state))).scalars())
    finally:
        await db.dispose()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["TERM", "KILL"])
async def test_a_restart_in_the_middle_of_a_batch(
    emulator: BotApiEmulator, tmp_path: Path, sig: signal.Signals, database_url: str
) -> None:
    url = database_url
    bot = _bot(emulator, url, tmp_path)
    await bot.start()
    try:
        await _wait_for(emulator, 15)
        code = await bot.signal(sig)
        assert code == (0 if sig is signal.SIGTERM else -signal.SIGKILL)
        before_restart = len(emulator.delivered(TOKEN))
        assert before_restart < len(CHATS)
        if sig is signal.SIGTERM:
            # A graceful stop leaves nothing in doubt.
            assert (await _states(url))["sending"] == 0
        await bot.start()
        await _wait_for(emulator, len(CHATS))
        await asyncio.sleep(0.5)
    finally:
        await bot.signal(signal.SIGTERM)
    texts = Counter(d.text for d in emulator.delivered(TOKEN))
    assert set(texts) == {f"crash:{c}" for c in CHATS}  # nothing lost
    doubled = sum(texts.values()) - len(texts)
    if sig is signal.SIGTERM:
        assert doubled == 0
    else:
        assert doubled <= IN_FLIGHT
    assert await _states(url) == {"sent": len(CHATS)}


async def test_a_second_process_on_the_same_database_does_not_send(
    emulator: BotApiEmulator, tmp_path: Path, database_url: str
) -> None:
    url = database_url
    first = _bot(emulator, url, tmp_path, "first")
    second = _bot(emulator, url, tmp_path, "second")
    await first.start()
    try:
        await second.start()
        standby = next(
            line for line in second.log_text().splitlines() if "outbox sender on standby" in line
        )
        assert str(first.process.pid) in standby  # type: ignore[union-attr]
        await _wait_for(emulator, len(CHATS))
        await asyncio.sleep(0.5)
    finally:
        await second.signal(signal.SIGTERM)
        await first.signal(signal.SIGTERM)
    texts = Counter(d.text for d in emulator.delivered(TOKEN))
    assert len(texts) == len(CHATS) and sum(texts.values()) == len(CHATS)
    assert "outbox sender active" not in second.log_text()

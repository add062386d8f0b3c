"""`python -m bot`'s serve module: both channels in one process against both emulators, a
Zalo-only office, and the one-line errors of a token refused."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app.serve import serve
from bot.config import Settings
from bot.zalo.client import ZaloClient
from tests.conftest import close_database, open_database
from tests.factories import make_province
from tools.emulator import BotApiEmulator
from tools.zalo_emulator import ZaloBotApiEmulator

ROOT = Path(__file__).resolve().parents[2]
SECRET = "serve-secret-123"
STEP_S = 10.0
#: The bot keeps staff menus up to date for linked people whose chats the emulator never saw.
ALLOWED = ("chat not found",)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return Settings(
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{tmp_path}/test.db",
        quiet_hours="00:00-00:00",
        office_reminder_hours="00:00-00:00",
        digest_weekly="off",
        digest_monthly="off",
        **overrides,
    )


@asynccontextmanager
async def _serving(settings: Settings, tmp_path: Path) -> AsyncIterator[None]:
    """serve() in a task on a migrated database; stops it at the end, expecting exit 0."""
    db, schema = await open_database("sqlite", tmp_path)
    await make_province(db)
    stop = asyncio.Event()
    task = asyncio.create_task(serve(settings, stop=stop, db=db, poll_timeout=1))
    try:
        yield
        stop.set()
        assert await asyncio.wait_for(task, STEP_S) == 0
    finally:
        if not task.done():
            task.cancel()
        await close_database(db, schema)


async def test_both_channels_run_in_one_process_zalo_by_webhook(tmp_path: Path) -> None:
    port = _free_port()
    async with BotApiEmulator() as emulator, ZaloBotApiEmulator() as zemu:
        settings = _settings(
            tmp_path,
            bot_token=emulator.token,
            telegram_base_url=emulator.base_url,
            telegram_base_file_url=emulator.base_file_url,
            zalo_bot_token=zemu.token,
            zalo_base_url=zemu.url,
            public_base_url=f"http://127.0.0.1:{port}",
            public_port=port,
            zalo_webhook_secret=SECRET,
        )
        async with _serving(settings, tmp_path):
            telegram_user, zalo_user = emulator.user(501), zemu.user("Lan")
            await telegram_user.send("/start")
            await zalo_user.send("/start")
            await telegram_user.expect("dữ liệu cá nhân", timeout=STEP_S)
            await zalo_user.expect("dữ liệu cá nhân", timeout=STEP_S)
            assert zemu.bot().webhook_url == f"http://127.0.0.1:{port}/zalo/webhook"
            assert zemu.stats.methods["getUpdates"] == 0
        refused = [r for r in emulator.stats.refused if not any(a in r[1] for a in ALLOWED)]
        assert refused == [] and zemu.stats.refused == []


async def test_a_zalo_only_office_long_polls_after_removing_a_webhook(tmp_path: Path) -> None:
    async with ZaloBotApiEmulator() as zemu:
        async with ZaloClient(zemu.token, base_url=zemu.url) as client:
            await client.set_webhook("http://127.0.0.1:9/left-from-before", SECRET)
        settings = _settings(tmp_path, zalo_bot_token=zemu.token, zalo_base_url=zemu.url)
        async with _serving(settings, tmp_path):
            async with asyncio.timeout(STEP_S):
                while zemu.bot().webhook_url:  # noqa: ASYNC110 (the emulator has no event)
                    await asyncio.sleep(0.05)
            lan = zemu.user("Lan")
            await lan.send("/start")
            await lan.expect("dữ liệu cá nhân", timeout=STEP_S)
        assert zemu.stats.refused == []


def _environment(tmp_path: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "ZALO_", "PUBLIC_"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path}/bot.db")
    env.update(BOT_TOKEN="", DIGEST_WEEKLY="off", DIGEST_MONTHLY="off", **values)
    return env


async def _bot_process(tmp_path: Path, **values: str) -> asyncio.subprocess.Process:
    """`python -m bot` in tmp_path (no `.env` read); its log goes to tmp_path/log."""
    with (tmp_path / "log").open("wb") as log:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=_environment(tmp_path, **values),
            stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=log,
        )  # fmt: skip


@pytest.mark.slow
async def test_python_m_bot_with_only_zalo_serves_zalo_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    async with ZaloBotApiEmulator() as zemu:
        process = await _bot_process(
            tmp_path, ZALO_BOT_TOKEN=zemu.token, ZALO_BASE_URL=zemu.url, LOG_LEVEL="DEBUG"
        )
        try:
            lan = zemu.user("Lan")
            await lan.send("/start")
            try:
                await lan.expect("dữ liệu cá nhân", timeout=30)  # no sandbox: the real bot
            except AssertionError as exc:
                raise AssertionError((tmp_path / "log").read_text()) from exc
            process.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(process.communicate(), STEP_S)
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    log = (tmp_path / "log").read_text()
    assert process.returncode == 0, log
    assert "running: Zalo" in log and "stopping" in log
    assert zemu.token not in log and zemu.token.split(":")[1] not in log
    assert out == b""


@pytest.mark.slow
async def test_a_refused_zalo_token_is_one_line_without_the_token(tmp_path: Path) -> None:
    forged = "999999:not-a-token-zalo-knows"
    async with ZaloBotApiEmulator() as zemu:
        process = await _bot_process(tmp_path, ZALO_BOT_TOKEN=forged, ZALO_BASE_URL=zemu.url)
        out, _ = await asyncio.wait_for(process.communicate(), 30)
    log = (tmp_path / "log").read_text()
    assert process.returncode == 2
    assert log.strip().splitlines()[-1] == f"ZALO_BOT_TOKEN was rejected by {zemu.url}"
    assert forged not in log + out.decode()

"""The real PTB application against the project's Bot API emulator, over HTTP on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from bot.app import build_application, start_application, stop_application
from bot.app.zalo_channel import ZaloChannel, zalo_channel
from bot.clock import Clock
from bot.config import Settings
from bot.zalo.client import ZaloClient
from storage.database import Database
from storage.schema import dialogues
from tests.conftest import POSTGRES_URL, close_database, open_database
from tests.factories import Province, count, make_province
from tools.emulator import BotApiEmulator
from tools.emulator.faults import Faults
from tools.emulator.users import BotMessage, ScriptedUser
from tools.zalo_emulator import ZaloBotApiEmulator

SUPERADMIN_ID = 1000
#: Refusals that are not the bot's fault here: the tests link people to Telegram accounts
#: whose chats the emulator only opens when the test first acts as them, and the bot keeps
#: their command menus up to date from the start (a real linked person has a chat).
ALWAYS_ALLOWED = ("chat not found",)


@dataclass
class Harness:
    emulator: BotApiEmulator
    app: Any
    db: Database
    province: Province
    settings: Settings
    clock: Clock | None = None

    def user(self, user_id: int, **kwargs: Any) -> ScriptedUser:
        return self.emulator.user(user_id, **kwargs)

    def menu(self, chat_id: int, language: str | None = None) -> list[str]:
        return [c["command"] for c in self.emulator.commands_for(None, chat_id, language)]

    async def restart(self) -> None:
        """Stops the bot as a deploy does and starts a new one on the same database."""
        await stop_application(self.app)
        self.app = build_application(self.settings, db=self.db, clock=self.clock)
        await start_application(self.app, poll_timeout=1)


@asynccontextmanager
async def running_bot(
    kind: str,
    tmp_path: object,
    *,
    faults: Faults | None = None,
    clock: Clock | None = None,
    refusals_allowed: tuple[str, ...] = (),
    **overrides: Any,
) -> AsyncIterator[Harness]:
    """A migrated database with a small province, the emulator, and the real bot polling it."""
    # Tests must not depend on the hour they run at: quiet hours only where a test sets them.
    overrides.setdefault("quiet_hours", "00:00-00:00")
    # Nor on the day: the office's own reminders only where a test asks for them.
    overrides.setdefault("office_reminder_hours", "00:00-00:00")
    # Nor the progress digests (on Mondays and the 1st by default).
    overrides.setdefault("digest_weekly", "off")
    overrides.setdefault("digest_monthly", "off")
    db, schema = await open_database(kind, tmp_path)
    province = await make_province(db)
    url = f"sqlite+aiosqlite:///{tmp_path}/test.db" if kind == "sqlite" else POSTGRES_URL
    try:
        async with BotApiEmulator(faults=faults) as emulator:
            settings = Settings(
                _env_file=None,
                bot_token=emulator.token,
                telegram_base_url=emulator.base_url,
                telegram_base_file_url=emulator.base_file_url,
                admin_ids=frozenset({SUPERADMIN_ID}),
                database_url=url,
                **overrides,
            )
            harness = Harness(
                emulator, build_application(settings, db=db, clock=clock), db, province,
                settings, clock,
            )  # fmt: skip
            await start_application(harness.app, poll_timeout=1)
            try:
                yield harness
            finally:
                await stop_application(harness.app)
            refused = [
                (method, why)
                for method, why in emulator.stats.refused
                if not any(allowed in why for allowed in (*ALWAYS_ALLOWED, *refusals_allowed))
            ]
            assert refused == [], "Telegram would have refused these requests"
    finally:
        await close_database(db, schema)


@pytest.fixture
async def harness(database_kind: str, tmp_path: object) -> AsyncIterator[Harness]:
    async with running_bot(database_kind, tmp_path) as running:
        yield running


async def forged_tap(user: ScriptedUser, callback_data: str) -> str:
    """Presses a button the bot never offered (or one from long ago); returns the bot's answer."""
    assert user.inbox, "the user needs at least one bot message to attach the button to"
    return await _answer_to(user, user.tap_data(callback_data, user.inbox[-1].message_id))


async def tap_answer(user: ScriptedUser, label: str, message_id: int | None = None) -> str:
    """Taps a button shown; returns the bot's answer to the tap (an alert's text, or "")."""
    return await _answer_to(user, user.tap(label, message_id))


async def _answer_to(user: ScriptedUser, tapping: Awaitable[str]) -> str:
    return await user.answer_to(await tapping)


async def declare(
    cadre: ScriptedUser,
    name: str,
    unit_query: str,
    unit: str,
    gender: str = "Nữ",
    year: str = "1990",
) -> BotMessage:
    """From the name question of sign-up to the profile made: no position, ethnicity left
    out. Returns the summary the cadre confirmed."""
    await cadre.send(name)
    await cadre.send(unit_query)
    await cadre.tap(unit)
    await cadre.tap("Bỏ qua")
    await cadre.tap(gender)
    await cadre.send(year)
    await cadre.tap("Không khai")
    review = await cadre.expect("kiểm tra lại")
    await cadre.tap("Xác nhận")
    await cadre.expect("hồ sơ tự khai báo")
    return review


async def withdraw(cadre: ScriptedUser) -> None:
    """Withdraws consent from the profile card, once sure."""
    await cadre.send("/profile")
    await cadre.tap("Rút lại đồng ý")
    await cadre.tap("Có, rút lại")
    await cadre.expect("Đã rút lại đồng ý")


async def no_dialogue_left(db: Database, seconds: float = 5.0) -> None:
    """Waits for the dialogue rows to be gone: a dialogue ends just after its last reply."""
    for _ in range(int(seconds / 0.02)):
        if await count(db, dialogues) == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("a dialogue is still in progress")


async def consent(cadre: ScriptedUser) -> None:
    """Opens the bot and agrees to the personal-data notice."""
    await cadre.send("/start")
    await cadre.tap("Tôi đồng ý")
    await cadre.expect("Chia sẻ số điện thoại")


async def link_by_contact(cadre: ScriptedUser) -> None:
    """The whole happy path of a cadre on the roster: consent, contact, "that's me"."""
    await consent(cadre)
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.tap("Đúng, là tôi")
    await cadre.expect("đã được liên kết")


@dataclass
class Both:
    """Both channels, as one `python -m bot` runs them: the Telegram harness (its application
    leads) and the Zalo emulator with the Zalo channel (bridge and follower application)."""

    harness: Harness
    zemu: ZaloBotApiEmulator
    zalo: ZaloChannel


@asynccontextmanager
async def running_both(kind: str, tmp_path: object, **overrides: Any) -> AsyncIterator[Both]:
    """`running_bot` and, beside it, the Zalo channel on the same services; at the end,
    checks that Zalo refused nothing the bot asked."""
    async with (
        running_bot(kind, tmp_path, **overrides) as harness,
        ZaloBotApiEmulator() as zemu,
        ZaloClient(zemu.token, base_url=zemu.url) as client,
        zalo_channel(
            harness.settings,
            harness.app.bot_data.services,
            client,
            leader=harness.app,
            poll_timeout=1,
            app_poll_timeout=1,
        ) as channel,
    ):
        yield Both(harness, zemu, channel)
    assert zemu.stats.refused == [], "Zalo would have refused these requests"

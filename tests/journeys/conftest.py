"""Both channels at once, and a cadre who is the same person on either: the journeys are
written once, against `Cadre`, and run on Telegram and on Zalo.

The Telegram emulator and the leader application, the Zalo emulator and the Zalo channel
(bridge and follower application, sharing the leader's services) always run together, as one
`python -m bot` runs them; the parameter only picks the messenger the cadre uses. The clock
is frozen at ten past ten, local, of the real day: out of the quiet hours, and what the
reminder and check-in journeys move on from.
"""

# Test code reads best with `timeout=` arguments, so ASYNC109 does not apply here.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest

from bot.app.zalo_channel import ZaloChannel
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.services import Services
from tests.e2e.conftest import Harness, running_both
from tests.factories import add_person
from tools.emulator.users import BotMessage, ScriptedUser
from tools.zalo_emulator import ZaloBotApiEmulator, ZaloUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CHANNELS = ["telegram", "zalo"]
#: A numbered choice as a Zalo user reads it under a message: "1 · ✅ Tôi đồng ý".
_CHOICE = re.compile(r"^(\d{1,4}) · (.+)$", re.MULTILINE)


class Cadre(Protocol):
    """A cadre at their phone, whichever messenger it runs: what they type, what they
    choose, what they read. `account_id` is the id the application knows them by."""

    channel: str
    account_id: int

    async def send(self, text: str) -> None: ...

    async def choose(self, label: str, timeout: float = 5.0) -> None:
        """Take the option with this label (exact, else a part of it)."""

    async def expect(self, fragment: str, timeout: float = 5.0) -> str:
        """Reads on until a message contains `fragment`; returns that message's plain text."""


def plain(message: BotMessage) -> str:
    """What a Telegram user reads: the text, then the labels of its buttons."""
    keyboard = [b.text for row in message.reply_keyboard or [] for b in row]
    return "\n".join([message.body, *message.labels, *keyboard])


class TelegramCadre:
    channel = "telegram"

    def __init__(self, user: ScriptedUser) -> None:
        self.user = user
        self.account_id = user.id

    async def send(self, text: str) -> None:
        await self.user.send(text)

    async def choose(self, label: str, timeout: float = 5.0) -> None:
        await self.user.choose(label, timeout)

    async def expect(self, fragment: str, timeout: float = 5.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        skipped: list[str] = []
        while True:
            try:
                message = await self.user.next_message(max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(
                    f"{self.user}: no message containing {fragment!r} within {timeout}s; "
                    f"read instead: {skipped or 'nothing'}"
                ) from None
            if not message.deleted and fragment in (text := plain(message)):
                return text
            skipped.append(str(message))


class ZaloCadre:
    channel = "zalo"

    def __init__(self, user: ZaloUser, account_id: int) -> None:
        self.user = user
        self.account_id = account_id

    async def send(self, text: str) -> None:
        await self.user.send(text)

    async def choose(self, label: str, timeout: float = 5.0) -> None:
        """Types the number the latest numbered list shows for `label`, as the bridge asks;
        waits for such a list to arrive."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            number = self._number_of(label)
            remaining = deadline - loop.time()
            if number is not None or remaining <= 0:
                break
            await self.user.events_after(len(self.user.inbox), remaining)
        if number is None:
            raise AssertionError(f"{self.user}: no choice {label!r} in {self._latest_list()}")
        await self.user.send(number)

    def _latest_list(self) -> list[tuple[str, str]]:
        """The numbered choices of the latest message that has any."""
        for received in reversed(self.user.inbox):
            if choices := _CHOICE.findall(received.text):
                return choices
        return []

    def _number_of(self, label: str) -> str | None:
        choices = self._latest_list()
        exact = [n for n, shown in choices if shown == label]
        partial = [n for n, shown in choices if label in shown]
        return (exact or partial or [None])[0]

    async def expect(self, fragment: str, timeout: float = 5.0) -> str:
        return (await self.user.expect(fragment, timeout)).text


@dataclass
class World:
    """Both channels running over the small province; `channel` is the cadre's messenger."""

    channel: str
    harness: Harness
    zemu: ZaloBotApiEmulator
    zalo: ZaloChannel
    clock: FrozenClock

    @property
    def services(self) -> Services:
        services: Services = self.harness.app.bot_data.services
        return services

    async def cadre(self, n: int) -> Cadre:
        """The n-th cadre of a test on the world's channel, not yet known to the bot."""
        if self.channel == "telegram":
            return TelegramCadre(self.harness.user(3900 + n))
        user = self.zemu.user(f"Cán bộ {n}")
        return ZaloCadre(user, await self.zalo.bridge.accounts.presented(user.id))

    async def registered(self, n: int, name: str = "Lò Thị Dung") -> Cadre:
        """A cadre on the roster of the commune, linked to their account on the channel."""
        cadre = await self.cadre(n)
        await add_person(self.harness.db, name, unit_id=self.harness.province.commune_id,
                         telegram_id=cadre.account_id)  # fmt: skip
        return cadre

    async def actor(self, account_id: int) -> Actor:
        return await self.services.access.actor(account_id)


@pytest.fixture(params=CHANNELS)
async def world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[World]:
    clock = FrozenClock(datetime.combine(datetime.now(TZ).date(), time(10, 0, 10), TZ))
    async with running_both("sqlite", tmp_path, clock=clock) as both:
        yield World(request.param, both.harness, both.zemu, both.zalo, clock)


async def declare_the_rest(cadre: Cadre) -> str:
    """Sign-up after the name: a unit in the Sở Nội vụ, no title, woman, born 1990, no
    ethnicity; the review the cadre is shown."""
    await cadre.expect("đơn vị")
    await cadre.send("noi vu")
    await cadre.choose("Sở Nội vụ")
    await cadre.expect("chức vụ")
    await cadre.choose("Bỏ qua")
    await cadre.expect("giới tính")
    await cadre.choose("Nữ")
    await cadre.expect("năm sinh")
    await cadre.send("1990")
    await cadre.expect("dân tộc")
    await cadre.choose("Không khai")
    return await cadre.expect("kiểm tra lại")

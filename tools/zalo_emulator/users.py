"""Scripted Zalo users that talk to a bot through the emulator, for end-to-end tests.

A ZaloUser builds events exactly as the docs show them (hex ids, `date` in milliseconds) and
records what the bot sends back as the plain text a Zalo user reads; every wait is bounded.
"""

# Test code reads best with `timeout=` arguments, so ASYNC109 does not apply here.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from tools.zalo_emulator.state import (
    EVENT_IMAGE,
    EVENT_STICKER,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    BotState,
    hex_id,
    now_ms,
)

DEFAULT_STICKER = "0e078a2fb66a5f34067b"


@dataclass(frozen=True)
class ZaloReceived:
    """One message the bot sent to this chat, as the user sees it."""

    kind: str  # "text", "photo" or "sticker"
    text: str  # the plain text read: message text or photo caption ("" for a sticker)
    message_id: str
    date: int
    raw: str | None = None  # the text as sent, before the server stripped its markup
    photo: str | None = None
    sticker: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ZaloReceived:
        names = cls.__dataclass_fields__
        return cls(**{k: v for k, v in data.items() if k in names})

    def __str__(self) -> str:
        body = self.text if len(self.text) <= 80 else self.text[:77] + "..."
        extra = f" photo={self.photo}" if self.photo else ""
        extra += f" sticker={self.sticker}" if self.sticker else ""
        return f"{self.kind} {body!r}{extra}"


def _describe(events: list[ZaloReceived]) -> str:
    return "; ".join(map(str, events)) or "nothing"


class ZaloUser:
    """A Zalo user in a private chat with one bot; create with `ZaloBotApiEmulator.user`."""

    def __init__(self, bot: BotState, user_id: str, display_name: str = "Lan") -> None:
        self.id = user_id
        self.display_name = display_name
        self.inbox: list[ZaloReceived] = []
        self._bot = bot
        self._cursor = 0
        self._cond = asyncio.Condition()
        bot.users[user_id] = self

    def __repr__(self) -> str:
        return f"ZaloUser({self.id!r}, {self.display_name!r})"

    @property
    def sender(self) -> dict[str, Any]:
        return {"id": self.id, "display_name": self.display_name, "is_bot": False}

    @property
    def chat(self) -> dict[str, Any]:
        return {"id": self.id, "chat_type": "PRIVATE"}

    # -- acting ---------------------------------------------------------------------------------

    async def _event(self, name: str, content: dict[str, Any]) -> dict[str, Any]:
        message = {
            "from": self.sender,
            "chat": self.chat,
            **content,
            "message_id": self._bot.new_message_id(),
            "date": now_ms(),
        }
        event = {"event_name": name, "message": message}
        self._bot.reachable.add(self.id)
        await self._bot.push(event)
        return event

    async def send(self, text: str) -> dict[str, Any]:
        """Type a text message; returns the event the bot will receive."""
        return await self._event(EVENT_TEXT, {"text": text})

    async def send_image(self, url: str, caption: str | None = None) -> dict[str, Any]:
        """Send a photo: the bot gets its URL (`photo`) and any caption."""
        content: dict[str, Any] = {"photo": url}
        if caption:
            content["caption"] = caption
        return await self._event(EVENT_IMAGE, content)

    async def send_sticker(self, sticker: str = DEFAULT_STICKER) -> dict[str, Any]:
        """Input a text-only bot does not expect."""
        url = f"https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid={sticker}"
        return await self._event(EVENT_STICKER, {"sticker": sticker, "url": url})

    async def send_unsupported(self) -> dict[str, Any]:
        """What the platform sends, without content, for a message it will not pass on."""
        return await self._event(EVENT_UNSUPPORTED, {})

    # -- observing ------------------------------------------------------------------------------

    async def next_event(self, timeout: float = 5.0) -> ZaloReceived:
        """The next message of the bot not yet consumed, with its kind, photo or sticker."""
        async with self._cond:
            if not await self._wait(lambda: self._cursor < len(self.inbox), timeout):
                raise TimeoutError(
                    f"{self}: no new bot message within {timeout}s; "
                    f"received so far: {_describe(self.inbox)}"
                )
            self._cursor += 1
            return self.inbox[self._cursor - 1]

    async def next_message(self, timeout: float = 5.0) -> str:
        """The plain text of the next bot message (a photo's caption, "" for a sticker)."""
        return (await self.next_event(timeout)).text

    async def expect(self, substring: str, timeout: float = 5.0) -> ZaloReceived:
        """Consume bot messages until one's text contains substring."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        skipped: list[ZaloReceived] = []
        while True:
            try:
                event = await self.next_event(max(0.0, deadline - loop.time()))
            except TimeoutError:
                raise AssertionError(
                    f"{self}: expected a bot message containing {substring!r} within "
                    f"{timeout}s; got instead: {_describe(skipped)}"
                ) from None
            if substring in event.text:
                return event
            skipped.append(event)

    async def no_message(self, within: float = 0.3) -> None:
        """Assert the bot sends nothing to this chat for `within` seconds."""
        async with self._cond:
            if await self._wait(lambda: self._cursor < len(self.inbox), within):
                raise AssertionError(
                    f"{self}: expected no bot message, got {_describe(self.inbox[self._cursor :])}"
                )

    async def events_after(self, cursor: int, timeout: float) -> list[ZaloReceived]:
        """Bot messages past the first `cursor`, waiting up to timeout; consumes nothing."""
        async with self._cond:
            await self._wait(lambda: len(self.inbox) > cursor or self._bot.closing, timeout)
            return self.inbox[cursor:]

    # -- internals ------------------------------------------------------------------------------

    async def _wait(self, predicate: Callable[[], Any], seconds: float) -> Any:
        try:
            async with asyncio.timeout(seconds):
                return await self._cond.wait_for(predicate)
        except TimeoutError:
            return None

    async def receive(self, event: ZaloReceived) -> None:
        """Called by the emulator for every message the bot sends to this chat."""
        async with self._cond:
            self.inbox.append(event)
            self._cond.notify_all()

    async def interrupt(self) -> None:
        """Wake every wait on this chat, so that it sees the emulator is closing."""
        async with self._cond:
            self._cond.notify_all()


def new_user_id(token: str, display_name: str, n: int) -> str:
    """A stable hex id for the n-th user of a bot."""
    return hex_id(token, "user", display_name, n)

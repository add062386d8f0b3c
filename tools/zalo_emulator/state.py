"""Per-bot state of the Zalo emulator: its users, the event queue and the webhook setting.

Kept apart from the HTTP layer so scripted users can push events without going through HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import html
import re
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.zalo_emulator.users import ZaloUser

#: The events the docs list for a private chat (voice is documented but out of scope here).
EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"


class ZaloError(Exception):
    """An error answer: `{"ok": false, "error_code", "description"}` with that HTTP status."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def bad_request(reason: str) -> ZaloError:
    return ZaloError(400, f"Bad Request: {reason}")


def now_ms() -> int:
    """Zalo dates are Unix milliseconds."""
    return int(time.time() * 1000)


def hex_id(*parts: object) -> str:
    """A 20-hex-digit id like the docs' samples, stable for the same parts."""
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:20]


def utf16_len(text: str) -> int:
    """Length as Java (the platform) counts it: UTF-16 code units, so an emoji counts 2."""
    return len(text.encode("utf-16-le")) // 2


_TAG = re.compile(r"<[^>]*>")
_BLOCK_END = re.compile(r"</(p|div|h[1-6]|li)>|<br\s*/?>", re.IGNORECASE)
_MARKDOWN = re.compile(r"\*\*\*|\*\*|__|~~|`|\{/?(?:red|orange|yellow|green|big|underline)\}")


def plain_text(text: str, parse_mode: str | None) -> str:
    """What a Zalo user reads: the server strips the markup of `html` and `markdown`."""
    if parse_mode == "html":
        return html.unescape(_TAG.sub("", _BLOCK_END.sub("\n", text))).strip()
    if parse_mode == "markdown":
        return _MARKDOWN.sub("", text)
    return text


class BotState:
    """Everything one bot token sees."""

    def __init__(self, token: str) -> None:
        self.token = token
        head, sep, _ = token.partition(":")
        self.id = head if sep and head.isdigit() else str(int(hex_id(token), 16) % 10**19)
        self.account_name = f"bot.{hex_id('name', token)[:9]}"
        self.users: dict[str, ZaloUser] = {}
        #: Chats that wrote to the bot at least once: the only ones it can send to.
        self.reachable: set[str] = set()
        self.events: list[dict[str, Any]] = []
        self.webhook_url = ""
        self.webhook_secret = ""
        self.webhook_updated_at = now_ms()
        self.closing = False
        self._poll_generation = 0
        self._messages = 0
        self.cond = asyncio.Condition()

    def me(self) -> dict[str, Any]:
        """The getMe answer, as the docs show it."""
        return {
            "id": self.id,
            "account_name": self.account_name,
            "account_type": "BASIC",
            "can_join_groups": False,
        }

    def new_message_id(self) -> str:
        self._messages += 1
        return hex_id(self.token, "message", self._messages)

    def webhook_info(self) -> dict[str, Any]:
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    async def push(self, event: dict[str, Any]) -> None:
        """Queue an event for getUpdates or the webhook; wake whoever waits for one."""
        async with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    async def next_event(self, wait: float) -> dict[str, Any] | None:
        """Long poll: ONE event, or None after `wait` s; a newer poll ends this one with 409.

        The docs say nothing of two concurrent polls; as Telegram does, the newer one wins, so
        an event never goes to a poll whose client has already given up.
        """
        self._poll_generation += 1
        generation = self._poll_generation
        async with self.cond:
            self.cond.notify_all()
            if not self.events and wait > 0:
                try:
                    async with asyncio.timeout(wait):
                        await self.cond.wait_for(
                            lambda: (
                                bool(self.events)
                                or self.closing
                                or generation != self._poll_generation
                                or bool(self.webhook_url)
                            )
                        )
                except TimeoutError:
                    pass
            if generation != self._poll_generation:
                raise ZaloError(409, "Conflict: terminated by other getUpdates request")
            if self.webhook_url or not self.events:
                return None
            return self.events.pop(0)

    async def close(self) -> None:
        """Release pending long polls and inbox reads so the server stops at once."""
        async with self.cond:
            self.closing = True
            self.cond.notify_all()
        for user in self.users.values():
            await user.interrupt()

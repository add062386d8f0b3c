"""Scripted users in another process than the emulator, over its /_emulator/ HTTP endpoints.

A standalone emulator (`python -m tools.emulator`) keeps its users' chats in its own memory, so
a benchmark or test elsewhere cannot hold a ScriptedUser. A RemoteUser offers the part of its
interface that drives a conversation (send a text or a file, tap a button, wait for the
next bot event) and gets the same BotMessage objects back: code written against ScriptedUser
runs unchanged. The server builds the updates with ScriptedUser itself, so both kinds of user look
alike to the bot.
"""

# ScriptedUser's interface has `timeout=` arguments; RemoteUser mirrors it.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
from types import TracebackType
from typing import Any

import httpx

from tools.emulator.state import ApiError
from tools.emulator.users import BotMessage, user_object

#: One long poll of GET /_emulator/inbox; under the server's cap of 30 s.
INBOX_POLL_S = 25.0
#: Connecting and sending are local and quick; reading waits out a whole long poll.
_TIMEOUT = httpx.Timeout(10.0, read=INBOX_POLL_S + 10.0)


class RemoteEmulator:
    """One bot token of a standalone emulator, seen from the process that scripts its users.

    Owns one HTTP client for all its users: each user has at most one request in flight, so
    the connection pool is left unbounded rather than making users queue for a connection
    (which would add the pool's wait to every measured reply).
    """

    def __init__(self, url: str, token: str, *, client: httpx.AsyncClient | None = None) -> None:
        """url: the server's root, e.g. http://127.0.0.1:8081 (no /bot)."""
        self.url = url.rstrip("/")
        self.token = token
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=_TIMEOUT,
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
        )

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(...)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url(...)."""
        return f"{self.url}/file/bot"

    def user(
        self,
        user_id: int,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> RemoteUser:
        """A user of this token's bot; the server learns of it with its first message."""
        return RemoteUser(self, user_id, first_name, last_name, username, language_code)

    async def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """One request to /_emulator/<path>; the result, or the server's error as ApiError."""
        response = await self.client.request(
            method, f"{self.url}/_emulator/{path}", params=params, **kwargs
        )
        try:
            body = response.json()
        except ValueError:
            raise ApiError(response.status_code, response.text[:200]) from None
        if not body.get("ok"):
            code = body.get("error_code", response.status_code)
            raise ApiError(code, body.get("description", "unknown error"))
        return body["result"]

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> RemoteEmulator:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


class RemoteUser:
    """A private-chat user of one bot of a standalone emulator; create with RemoteEmulator.user.

    Like ScriptedUser, `inbox` holds every bot event seen so far and next_message consumes
    them in order. The server keeps the events, so this side only needs its cursor.
    """

    def __init__(
        self,
        emulator: RemoteEmulator,
        user_id: int,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
    ) -> None:
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.inbox: list[BotMessage] = []
        self._emulator = emulator
        self._cursor = 0

    def __repr__(self) -> str:
        return f"RemoteUser({self.id}, {self.first_name!r})"

    @property
    def user(self) -> dict[str, Any]:
        """The Telegram User object of this user, as the server will put it in updates."""
        return user_object(self)

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message (a leading /command gets its entity); returns the Message."""
        # An absent language_code means the server's default ("vi"); None must stay None.
        user = {**self.user, "language_code": self.language_code}
        body = {"token": self._emulator.token, "user": user, "text": text}
        result: dict[str, Any] = await self._emulator.call("POST", "updates", json=body)
        return result

    async def upload(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a document (base64 in the request); the bot can getFile and download these
        bytes. Returns the Message."""
        document = {
            "file_name": filename,
            "mime_type": mime_type,
            "content_base64": base64.b64encode(content).decode("ascii"),
        }
        body: dict[str, Any] = {
            "token": self._emulator.token,
            "user": {**self.user, "language_code": self.language_code},
            "document": document,
        }
        if caption:
            body["caption"] = caption
        result: dict[str, Any] = await self._emulator.call("POST", "updates", json=body)
        return result

    async def tap_data(self, callback_data: str, message_id: int) -> str:
        """Tap a button with this data on the bot's message message_id; returns the callback
        query id."""
        body = {
            "token": self._emulator.token,
            "user": {**self.user, "language_code": self.language_code},
            "data": callback_data,
            "message_id": message_id,
        }
        result = await self._emulator.call("POST", "updates", json=body)
        return str(result["callback_query_id"])

    async def next_message(self, timeout: float = 5.0) -> BotMessage:
        """The next bot event (new, edited or deleted message) not yet consumed.

        Reads the server's inbox in long polls of at most INBOX_POLL_S until one arrives.
        Before this user's first message the server does not know the chat: ApiError 400.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._cursor >= len(self.inbox):
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "; ".join(map(str, self.inbox)) or "nothing"
                raise TimeoutError(
                    f"{self}: no new bot message within {timeout}s; received so far: {seen}"
                )
            await self._poll(min(remaining, INBOX_POLL_S))
        self._cursor += 1
        return self.inbox[self._cursor - 1]

    async def _poll(self, wait: float) -> None:
        params = {
            "token": self._emulator.token,
            "chat_id": self.id,
            "after": len(self.inbox),
            "timeout": wait,
        }
        result = await self._emulator.call("GET", "inbox", params=params)
        self.inbox.extend(BotMessage.from_json(event) for event in result["events"])

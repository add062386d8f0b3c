"""Scripted Zalo users in another process than the emulator, over its /_emulator/ endpoints.

A standalone emulator (`python -m tools.zalo_emulator`) keeps its chats in its own memory; a
RemoteZaloUser offers the part of ZaloUser's interface that drives a conversation (send a
text, an image, a sticker; wait for the bot's next message) and gets the same ZaloReceived
objects back, so code written against ZaloUser runs unchanged.
"""

# ZaloUser's interface has `timeout=` arguments; RemoteZaloUser mirrors it.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tools.zalo_emulator.state import ZaloError
from tools.zalo_emulator.users import ZaloReceived

#: One long poll of GET /_emulator/inbox; under the server's cap of 30 s.
INBOX_POLL_S = 25.0
_TIMEOUT = httpx.Timeout(10.0, read=INBOX_POLL_S + 10.0)


class RemoteZaloEmulator:
    """One bot token of a standalone Zalo emulator, seen from the process scripting users."""

    def __init__(self, url: str, token: str, *, client: httpx.AsyncClient | None = None) -> None:
        """url: the server's root, e.g. http://127.0.0.1:8082 (no /bot)."""
        self.url = url.rstrip("/")
        self.token = token
        self._owns_client = client is None
        self.client = client or httpx.AsyncClient(timeout=_TIMEOUT)

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    def user(self, user_id: str, display_name: str = "Lan") -> RemoteZaloUser:
        """A user of this token's bot; the server learns of it with its first message."""
        return RemoteZaloUser(self, user_id, display_name)

    async def call(
        self, method: str, path: str, *, params: dict[str, Any] | None = None, **kwargs: Any
    ) -> Any:
        """One request to /_emulator/<path>; the result, or the server's error as ZaloError."""
        response = await self.client.request(
            method, f"{self.url}/_emulator/{path}", params=params, **kwargs
        )
        try:
            body = response.json()
        except ValueError:
            raise ZaloError(response.status_code, response.text[:200]) from None
        if not body.get("ok"):
            code = body.get("error_code", response.status_code)
            raise ZaloError(code, body.get("description", "unknown error"))
        return body["result"]

    async def aclose(self) -> None:
        if self._owns_client:
            await self.client.aclose()

    async def __aenter__(self) -> RemoteZaloEmulator:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class RemoteZaloUser:
    """A Zalo user of a standalone emulator; `inbox` holds every bot message seen so far."""

    def __init__(self, emulator: RemoteZaloEmulator, user_id: str, display_name: str) -> None:
        self.id = user_id
        self.display_name = display_name
        self.inbox: list[ZaloReceived] = []
        self._emulator = emulator
        self._cursor = 0

    def __repr__(self) -> str:
        return f"RemoteZaloUser({self.id!r}, {self.display_name!r})"

    async def _post(self, **content: Any) -> dict[str, Any]:
        body = {
            "token": self._emulator.token,
            "user": {"id": self.id, "display_name": self.display_name},
            **content,
        }
        result: dict[str, Any] = await self._emulator.call("POST", "messages", json=body)
        return result

    async def send(self, text: str) -> dict[str, Any]:
        """Type a text message; returns the event the bot will receive."""
        return await self._post(text=text)

    async def send_image(self, url: str, caption: str | None = None) -> dict[str, Any]:
        image: dict[str, Any] = {"url": url}
        if caption:
            image["caption"] = caption
        return await self._post(image=image)

    async def send_sticker(self, sticker: str = "0e078a2fb66a5f34067b") -> dict[str, Any]:
        return await self._post(sticker=sticker)

    async def next_event(self, timeout: float = 5.0) -> ZaloReceived:
        """The next bot message not yet consumed, read in long polls of the server's inbox."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._cursor >= len(self.inbox):
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "; ".join(map(str, self.inbox)) or "nothing"
                raise TimeoutError(
                    f"{self}: no new bot message within {timeout}s; received so far: {seen}"
                )
            params = {
                "token": self._emulator.token,
                "chat_id": self.id,
                "after": len(self.inbox),
                "timeout": min(remaining, INBOX_POLL_S),
            }
            result = await self._emulator.call("GET", "inbox", params=params)
            self.inbox.extend(ZaloReceived.from_json(e) for e in result["events"])
        self._cursor += 1
        return self.inbox[self._cursor - 1]

    async def next_message(self, timeout: float = 5.0) -> str:
        """The plain text of the next bot message (a photo's caption, "" for a sticker)."""
        return (await self.next_event(timeout)).text

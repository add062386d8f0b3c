"""Where the outbox's messages go (bot.delivery.routing), looked up for each batch the sender
fetches: one query for all its chats, and one write for its Zalo copies, beside the sending
rather than between a message's turn under the rate limit and its request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

from bot.channels import Channel, channel_of
from bot.delivery.model import OutboxMessage
from bot.delivery.routing import JoinedZalo, Route, route
from bot.services import Services

#: Chats whose route is remembered; past it the memory starts again (a miss is one query).
KEPT_CHATS: Final = 20_000


class ChannelRouter:
    def __init__(self, services: Services, zalo_running: Callable[[], bool]) -> None:
        self.services = services
        self.zalo_running = zalo_running
        self._joined: dict[int, JoinedZalo | None] = {}  # Telegram chat → its Zalo account
        self._presented: dict[int, int | None] = {}  # Zalo number → the id its bot knows

    async def prepare(self, rows: Sequence[OutboxMessage]) -> None:
        """Looks up the fetched rows' chats and queues the Zalo copies they call for."""
        telegram = {r.chat_id for r in rows if channel_of(r.chat_id) is Channel.TELEGRAM}
        zalo = {r.chat_id for r in rows} - telegram
        joined = await self.services.channels.joined_to(telegram)
        presented = await self.services.channels.presented(zalo) if zalo else {}
        if len(self._joined) + len(self._presented) > KEPT_CHATS:
            self._joined.clear()
            self._presented.clear()
        self._joined.update({chat: joined.get(chat) for chat in telegram})
        self._presented.update({chat: presented.get(chat) for chat in zalo})
        copies = [(r, copy) for r in rows if (copy := self._known(r).copy_to) is not None]
        if copies:
            await self.services.delivery.queue_copies(copies)

    async def route(self, message: OutboxMessage) -> Route:
        """The message's route, as prepared; looked up now if it was not (a copy it calls
        for is then queued now: once, whichever way)."""
        chat = message.chat_id
        if chat not in self._joined and chat not in self._presented:
            await self.prepare([message])
        return self._known(message)

    def _known(self, message: OutboxMessage) -> Route:
        chat = message.chat_id
        if channel_of(chat) is Channel.ZALO:
            return route(chat, presented=self._presented.get(chat))
        return route(
            chat,
            edit=bool(message.payload.get("edit")),
            joined=self._joined.get(chat),
            zalo_running=self.zalo_running(),
        )

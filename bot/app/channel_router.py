"""Where the outbox's messages go (bot.delivery.routing), looked up for each batch the sender
fetches: one query for all its chats, and one write for its Zalo copies, beside the sending
rather than between a message's turn under the rate limit and its request."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Final

from bot.channels import Channel, channel_of
from bot.delivery.model import Moved, OutboxMessage, Outcome, Transient, Unreachable
from bot.delivery.routing import JoinedZalo, Route, route
from bot.delivery.sender import Transport
from bot.services.channels import ChannelService
from bot.services.delivery import DeliveryService

#: Chats whose route is remembered; past it the memory starts again (a miss is one query).
KEPT_CHATS: Final = 20_000


class ChannelRouter:
    def __init__(
        self,
        channels: ChannelService,
        delivery: DeliveryService,
        zalo_running: Callable[[], bool],
    ) -> None:
        self.channels = channels
        self.delivery = delivery
        self.zalo_running = zalo_running
        self._joined: dict[int, JoinedZalo | None] = {}  # Telegram chat → its Zalo account
        self._presented: dict[int, int | None] = {}  # Zalo number → the id its bot knows

    async def prepare(self, rows: Sequence[OutboxMessage]) -> None:
        """Looks up the fetched rows' chats and queues the Zalo copies they call for."""
        telegram = {r.chat_id for r in rows if channel_of(r.chat_id) is Channel.TELEGRAM}
        zalo = {r.chat_id for r in rows} - telegram
        joined = await self.channels.joined_to(telegram)
        presented = await self.channels.presented(zalo) if zalo else {}
        if len(self._joined) + len(self._presented) > KEPT_CHATS:
            self._joined.clear()
            self._presented.clear()
        self._joined.update({chat: joined.get(chat) for chat in telegram})
        self._presented.update({chat: presented.get(chat) for chat in zalo})
        copies = [(r, copy) for r in rows if (copy := self._known(r).copy_to) is not None]
        if copies:
            await self.delivery.queue_copies(copies)

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


async def send_routed(
    router: ChannelRouter, transports: Mapping[Channel, Transport], message: OutboxMessage
) -> Outcome:
    """Sends one message through the transport of the channel its route names."""
    plan = await router.route(message)
    if plan.move_to is not None:
        return Moved(plan.move_to)
    if plan.channel is None:
        return Unreachable("chat marked unreachable")
    transport = transports.get(plan.channel)
    if transport is None:
        return Transient(f"the {plan.channel} channel is not running", counts=False)
    if plan.to != message.chat_id:
        message = _readdressed(message, plan.to)
    return await transport(message)


def _readdressed(message: OutboxMessage, chat_id: int) -> OutboxMessage:
    """The message for `chat_id`, as its channel's bot knows the chat; an edit with it."""
    payload = message.payload
    edit = payload.get("edit")
    if edit:
        payload = {**payload, "edit": {**edit, "chat_id": chat_id}}
    return replace(message, chat_id=chat_id, payload=payload)

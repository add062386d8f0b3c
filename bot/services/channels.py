"""The messengers each person's messages go out on: what the outbox asks before sending, and
the choice a person on both Telegram and Zalo makes in /settings (bot.delivery.routing)."""

from __future__ import annotations

from collections.abc import Collection

from bot.channels import NotifyVia
from bot.clock import Clock
from bot.delivery.routing import JoinedZalo
from bot.domain import Actor
from bot.services.access import registered
from storage.database import Database
from storage.repositories.zalo_accounts import ZaloAccountRepository


class ChannelService:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def joined_to(self, telegram_ids: Collection[int]) -> dict[int, JoinedZalo]:
        """Read for every batch of messages rather than kept: joining an account or changing
        the choice, in any process, counts from the next batch on."""
        async with self.db.lookup() as conn:
            return await ZaloAccountRepository(conn).joined_to_many(telegram_ids)

    async def presented(self, zalo_chats: Collection[int]) -> dict[int, int]:
        async with self.db.lookup() as conn:
            return await ZaloAccountRepository(conn).presented_for(zalo_chats)

    async def choice(self, actor: Actor) -> NotifyVia | None:
        """Where the actor's messages go; None when they have one messenger only (there is
        nothing to choose)."""
        person = registered(actor)
        async with self.db.lookup() as conn:
            return await ZaloAccountRepository(conn).notify_via(person.id)

    async def choose(self, actor: Actor, via: NotifyVia) -> NotifyVia | None:
        """Saves the choice; None (nothing saved) once the person has no Zalo account joined
        any more, as a tap on an old settings screen may find."""
        person = registered(actor)
        async with self.db.write() as conn:
            repo = ZaloAccountRepository(conn)
            if await repo.notify_via(person.id) is None:
                return None
            await repo.set_notify_via(person.id, via, self.clock.now())
        return via

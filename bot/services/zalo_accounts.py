"""Who a Zalo user is to the application: the number it knows them by, kept across restarts."""

from __future__ import annotations

from bot.clock import Clock
from storage.database import Database
from storage.repositories.zalo_accounts import ZaloAccountRepository


class ZaloAccountService:
    """The Zalo bridge's directory of accounts (bot.zalo.accounts.AccountDirectory)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def presented(self, zalo_id: str) -> int:
        """The id the application sees for this Zalo user; the first message records it.

        Read on every event rather than kept: joining a Telegram person changes it."""
        async with self.db.lookup() as conn:
            account = await ZaloAccountRepository(conn).get(zalo_id)
        if account is None:
            async with self.db.write() as conn:
                account = await ZaloAccountRepository(conn).create(zalo_id, self.clock.now())
        return account.presented_id

    async def zalo_id(self, chat_id: int) -> str | None:
        """The Zalo account a message for `chat_id` goes to, if it has one."""
        async with self.db.lookup() as conn:
            return await ZaloAccountRepository(conn).zalo_id_for(chat_id)

"""The bridge's directory of Zalo accounts: the id the application sees for each one."""

from __future__ import annotations

from typing import Protocol

from bot.channels import first_number, next_number


class AccountDirectory(Protocol):
    async def presented(self, zalo_id: str) -> int:
        """The Telegram-style id the application knows this Zalo user by."""
        ...

    async def zalo_id(self, chat_id: int) -> str | None:
        """The Zalo user a message for `chat_id` goes to; None if there is none."""
        ...


class MemoryAccounts:
    """Kept in memory only: for tests and tools that start from nothing each time. The bot
    itself uses bot.services.zalo_accounts, which keeps the numbers in the database."""

    def __init__(self) -> None:
        self._to_int: dict[str, int] = {}
        self._to_zalo: dict[int, str] = {}

    async def presented(self, zalo_id: str) -> int:
        known = self._to_int.get(zalo_id)
        if known is not None:
            return known
        number = first_number(zalo_id)
        while number in self._to_zalo:
            number = next_number(number)
        self._to_int[zalo_id] = number
        self._to_zalo[number] = zalo_id
        return number

    async def zalo_id(self, chat_id: int) -> str | None:
        return self._to_zalo.get(chat_id)

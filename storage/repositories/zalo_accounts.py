"""Zalo accounts: the number the application knows each one by, and whom it belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels import ZALO_ID_BASE, first_number, next_number
from storage.repositories.outbox import _insert
from storage.schema import people, zalo_accounts

#: Numbers tried for one new account before giving up (each clash moves to the next one).
_PROBES = 16


@dataclass(frozen=True, slots=True)
class ZaloAccount:
    zalo_id: str
    chat_id: int  # the account's own number, at or above ZALO_ID_BASE
    person_id: int | None  # joined to a person who uses Telegram too
    presented_id: int  # what the application sees: the person's Telegram id once joined


_SELECT = sa.select(
    zalo_accounts.c.zalo_id,
    zalo_accounts.c.chat_id,
    zalo_accounts.c.person_id,
    sa.func.coalesce(people.c.telegram_id, zalo_accounts.c.chat_id).label("presented_id"),
).select_from(zalo_accounts.outerjoin(people, people.c.id == zalo_accounts.c.person_id))


class ZaloAccountRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def get(self, zalo_id: str) -> ZaloAccount | None:
        row = (await self.conn.execute(_SELECT.where(zalo_accounts.c.zalo_id == zalo_id))).first()
        return ZaloAccount(*row) if row else None

    async def create(self, zalo_id: str, now: datetime) -> ZaloAccount:
        """The account met for the first time; a clash on the number moves to the next one.
        Two first messages racing both end with the one row."""
        number = first_number(zalo_id)
        for _ in range(_PROBES):
            await self.conn.execute(
                _insert(self.conn, zalo_accounts)
                .values(zalo_id=zalo_id, chat_id=number, code_attempts=0, created_at=now)
                .on_conflict_do_nothing()
            )
            account = await self.get(zalo_id)
            if account is not None:
                return account
            number = next_number(number)
        raise RuntimeError("no free number for a Zalo account")

    async def zalo_id_for(self, chat_id: int) -> str | None:
        """The Zalo account behind a number the application sends to: a Zalo account's own
        number, or the Telegram id of a person whose Zalo account is joined to them."""
        if chat_id >= ZALO_ID_BASE:
            where = zalo_accounts.c.chat_id == chat_id
        else:
            where = people.c.telegram_id == chat_id
        statement = (
            sa.select(zalo_accounts.c.zalo_id)
            .select_from(zalo_accounts.outerjoin(people, people.c.id == zalo_accounts.c.person_id))
            .where(where)
        )
        return (await self.conn.execute(statement)).scalar_one_or_none()

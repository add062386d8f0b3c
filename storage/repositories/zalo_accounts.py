"""Zalo accounts: the number the application knows each one by, and whom it belongs to."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.channels import ZALO_ID_BASE, NotifyVia, first_number, next_number
from bot.delivery.routing import JoinedZalo
from bot.errors import NotFound
from storage.repositories.outbox import _insert
from storage.schema import people, unreachable_chats, zalo_accounts

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

    async def presented_for(self, chat_ids: Collection[int]) -> dict[int, int]:
        """The ids the Zalo bot knows these Zalo accounts' numbers by (see ZaloAccount)."""
        if not chat_ids:
            return {}
        rows = await self.conn.execute(_SELECT.where(zalo_accounts.c.chat_id.in_(chat_ids)))
        return {a.chat_id: a.presented_id for a in (ZaloAccount(*row) for row in rows)}

    async def joined_to(self, telegram_id: int) -> JoinedZalo | None:
        return (await self.joined_to_many([telegram_id])).get(telegram_id)

    async def joined_to_many(self, telegram_ids: Collection[int]) -> dict[int, JoinedZalo]:
        """The Zalo accounts joined to the people of these Telegram chats, with their choice
        of channels and which of the two chats is known to be unreachable: one indexed
        query for a batch of messages the outbox is about to send."""
        if not telegram_ids:
            return {}
        on_telegram = unreachable_chats.alias("on_telegram")
        on_zalo = unreachable_chats.alias("on_zalo")
        statement = (
            sa.select(
                people.c.telegram_id,
                zalo_accounts.c.chat_id,
                people.c.notify_via,
                on_telegram.c.chat_id.is_not(None),
                on_zalo.c.chat_id.is_not(None),
            )
            .select_from(
                people.join(zalo_accounts, zalo_accounts.c.person_id == people.c.id)
                .outerjoin(on_telegram, on_telegram.c.chat_id == people.c.telegram_id)
                .outerjoin(on_zalo, on_zalo.c.chat_id == zalo_accounts.c.chat_id)
            )
            .where(people.c.telegram_id.in_(telegram_ids))
        )
        return {
            telegram_id: JoinedZalo(zalo_chat, _via(via), bool(on_tg), bool(on_zalo))
            for telegram_id, zalo_chat, via, on_tg, on_zalo in await self.conn.execute(statement)
        }

    async def notify_via(self, person_id: int) -> NotifyVia | None:
        """Where the person's messages go; None unless they have a Zalo account joined."""
        statement = (
            sa.select(people.c.notify_via)
            .select_from(people.join(zalo_accounts, zalo_accounts.c.person_id == people.c.id))
            .where(people.c.id == person_id)
        )
        row = (await self.conn.execute(statement)).first()
        return _via(row.notify_via) if row else None

    async def set_notify_via(self, person_id: int, via: NotifyVia, now: datetime) -> None:
        stored = None if via is NotifyVia.BOTH else via.value
        await self.conn.execute(
            people.update()
            .where(people.c.id == person_id)
            .values(notify_via=stored, updated_at=now)
        )


@dataclass(frozen=True, slots=True)
class PendingCode:
    """A one-time code asked for on a Zalo account: its hash, for whom, until when, tries."""

    code_hash: str
    person_id: int
    expires_at: datetime
    attempts: int


class ZaloCodeRepository:
    """The one-time code that joins a Zalo account to a person who uses Telegram."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def lock(self, chat_id: int) -> tuple[str, int | None, PendingCode | None]:
        """The account (zalo id, person joined) and its pending code, the row locked until
        the transaction ends: two codes typed at once are counted one after the other."""
        statement = (
            sa.select(
                zalo_accounts.c.zalo_id,
                zalo_accounts.c.person_id,
                zalo_accounts.c.code_hash,
                zalo_accounts.c.code_person_id,
                zalo_accounts.c.code_expires_at,
                zalo_accounts.c.code_attempts,
            )
            .where(zalo_accounts.c.chat_id == chat_id)
            .with_for_update()
        )
        row = (await self.conn.execute(statement)).first()
        if row is None:
            raise NotFound()
        pending = None
        if row.code_hash is not None and row.code_person_id is not None:
            pending = PendingCode(
                row.code_hash, row.code_person_id, row.code_expires_at, row.code_attempts
            )
        return row.zalo_id, row.person_id, pending

    async def set_code(
        self, chat_id: int, code_hash: str, person_id: int, expires_at: datetime
    ) -> None:
        """A new code replaces any earlier one, with its tries counted afresh."""
        await self._update(
            chat_id, code_hash=code_hash, code_person_id=person_id,
            code_expires_at=expires_at, code_attempts=0,
        )  # fmt: skip

    async def count_attempt(self, chat_id: int) -> None:
        await self._update(chat_id, code_attempts=zalo_accounts.c.code_attempts + 1)

    async def clear_code(self, chat_id: int) -> None:
        await self._update(
            chat_id, code_hash=None, code_person_id=None, code_expires_at=None, code_attempts=0
        )

    async def holder_of(self, person_id: int) -> str | None:
        """The Zalo account already joined to the person, if any."""
        statement = sa.select(zalo_accounts.c.zalo_id).where(zalo_accounts.c.person_id == person_id)
        return (await self.conn.execute(statement)).scalar_one_or_none()

    async def join(self, chat_id: int, person_id: int) -> bool:
        """Joins the account to the person, its code spent; False if the person has
        meanwhile been joined to another account (person_id is unique)."""
        taken = await self.holder_of(person_id)
        if taken is not None:
            return False
        await self._update(
            chat_id, person_id=person_id, code_hash=None, code_person_id=None,
            code_expires_at=None, code_attempts=0,
        )  # fmt: skip
        return True

    async def _update(self, chat_id: int, **values: Any) -> None:
        await self.conn.execute(
            zalo_accounts.update().where(zalo_accounts.c.chat_id == chat_id).values(**values)
        )


def _via(stored: str | None) -> NotifyVia:
    return NotifyVia.BOTH if stored is None else NotifyVia(stored)

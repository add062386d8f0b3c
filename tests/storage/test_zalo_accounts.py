"""Zalo accounts keep their number across restarts, never on a Telegram id, and a joined
account is seen as its person's Telegram id."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from bot.channels import ZALO_ID_BASE, Channel, channel_of, first_number
from bot.clock import SystemClock
from bot.services.zalo_accounts import ZaloAccountService
from storage.repositories.zalo_accounts import ZaloAccountRepository
from storage.schema import zalo_accounts
from storage.types import utcnow
from tests.conftest import close_database, open_database
from tests.factories import add_person, make_province


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_numbers_are_kept_and_clashes_move_on(kind: str, tmp_path: Path) -> None:
    db, schema = await open_database(kind, tmp_path)
    try:
        accounts = ZaloAccountService(db, SystemClock())
        lan = await accounts.presented("a1b2c3d4e5f6")
        assert lan == first_number("a1b2c3d4e5f6") and channel_of(lan) is Channel.ZALO
        assert await ZaloAccountService(db, SystemClock()).presented("a1b2c3d4e5f6") == lan
        assert await accounts.zalo_id(lan) == "a1b2c3d4e5f6"
        assert await accounts.zalo_id(ZALO_ID_BASE - 1) is None

        # Another id whose first number is taken (a SHA-256 clash, forced) gets the next one.
        async with db.write() as conn:
            await conn.execute(
                update(zalo_accounts)
                .where(zalo_accounts.c.zalo_id == "a1b2c3d4e5f6")
                .values(chat_id=first_number("ffff0000"))
            )
        async with db.write() as conn:
            other = await ZaloAccountRepository(conn).create("ffff0000", utcnow())
        assert other.chat_id == first_number("ffff0000") + 1
    finally:
        await close_database(db, schema)


async def test_a_joined_account_is_seen_as_its_person(tmp_path: Path) -> None:
    db, schema = await open_database("sqlite", tmp_path)
    try:
        province = await make_province(db)
        person_id = await add_person(db, "Lò Thị Mai", unit_id=province.commune_id, telegram_id=77)
        accounts = ZaloAccountService(db, SystemClock())
        own = await accounts.presented("0a0b")
        async with db.write() as conn:
            await conn.execute(
                update(zalo_accounts)
                .where(zalo_accounts.c.zalo_id == "0a0b")
                .values(person_id=person_id)
            )
        assert await accounts.presented("0a0b") == 77
        assert await accounts.zalo_id(77) == "0a0b"
        assert await accounts.zalo_id(own) == "0a0b"  # its own number still reaches it
    finally:
        await close_database(db, schema)

"""Who a Zalo user is: a typed phone links a roster record unconfirmed, and a one-time code
sent to the person's Telegram chat joins a Zalo account to them."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.clock import FrozenClock
from bot.domain import AuditAction, MessageKind, Role
from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services import Services
from bot.services.access import registered
from bot.services.notices import notice
from bot.services.people import ContactMatch, MatchOutcome
from bot.services.zalo_accounts import ZaloAccountService
from bot.services.zalo_link import CODE_TTL, MAX_TRIES, code_hash
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.repositories.roles import RoleRepository
from storage.schema import audit_log, outbox, zalo_accounts
from tests.conftest import close_database, open_database
from tests.factories import add_person, add_role, make_province

PHONE = "+84912345678"
START = datetime(2026, 3, 2, 3, 0, tzinfo=UTC)


async def _code_row(db: Database, chat_id: int) -> sa.Row[tuple[str | None, int | None, int]]:
    async with db.read() as conn:
        statement = sa.select(
            zalo_accounts.c.code_hash, zalo_accounts.c.person_id, zalo_accounts.c.code_attempts
        ).where(zalo_accounts.c.chat_id == chat_id)
        return (await conn.execute(statement)).one()


async def _sent_code(db: Database) -> tuple[int, str]:
    """The chat the latest code went to, and the code, from the outbox."""
    async with db.read() as conn:
        row = (
            await conn.execute(
                sa.select(outbox.c.chat_id, outbox.c.payload)
                .where(outbox.c.kind == "zalo_link_code")
                .order_by(outbox.c.id.desc())
            )
        ).first()
    assert row is not None
    return row.chat_id, row.payload["params"]["code"]


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_a_code_is_hashed_spent_once_and_joins_the_person(kind: str, tmp_path: Path) -> None:
    db, schema = await open_database(kind, tmp_path)
    try:
        province = await make_province(db)
        mai = await add_person(
            db, "Lò Thị Mai", unit_id=province.commune_id, phone=PHONE, telegram_id=77
        )
        clock = FrozenClock(START)
        services = Services.build(db, superadmin_ids=frozenset(), clock=clock)
        accounts = ZaloAccountService(db, clock)
        zalo = await accounts.presented("0a0b")
        link = services.zalo_link

        match = await services.people.match_typed("0912 345 678", "lo thi  MAI")
        assert match.outcome is MatchOutcome.TAKEN and match.person and match.person.id == mai
        stranger = await services.people.match_typed("0912 345 678", "Lò Thị Lan")
        assert stranger == ContactMatch(MatchOutcome.NONE, PHONE)  # as a number off the roster
        await link.send_code(zalo, mai, PHONE)
        to, code = await _sent_code(db)
        assert to == 77 and len(code) == 6 and code.isdigit()
        stored = await _code_row(db, zalo)
        assert stored.code_hash == code_hash(zalo, code) != code and stored.person_id is None

        with pytest.raises(InvalidInput) as wrong:
            await link.join(zalo, "000000" if code != "000000" else "111111")
        assert wrong.value.key == "zalo_link.code_wrong"
        assert wrong.value.params["count"] == MAX_TRIES - 1
        with pytest.raises(InvalidInput, match=r"zalo_link\.code_format"):
            await link.join(zalo, "12ab")  # not a guess: no try counted
        assert (await _code_row(db, zalo)).code_attempts == 1

        joined = await link.join(zalo, code[:3] + " " + code[3:])
        assert joined.id == mai
        assert await accounts.presented("0a0b") == 77  # the next message comes in as Mai
        assert (await _code_row(db, zalo)).code_hash is None
        async with db.read() as conn:
            told = (
                await conn.execute(
                    sa.select(outbox.c.chat_id, outbox.c.payload).where(
                        outbox.c.kind == "zalo_joined"
                    )
                )
            ).one()
        assert told.chat_id == 77 and told.payload["key"] == "zalo_link.joined_notice"
        with pytest.raises(InvalidInput, match=r"zalo_link\.code_none"):
            await link.join(zalo, code)  # spent
        async with db.read() as conn:
            actions = (
                await conn.execute(
                    sa.select(audit_log.c.action).where(audit_log.c.person_id == mai)
                )
            ).scalars()
            assert AuditAction.ZALO_JOINED.value in set(actions)

        # One Zalo account per person: a second one is refused, naming the office.
        other = await accounts.presented("0c0d")
        with pytest.raises(Conflict, match=r"zalo_link\.person_has_zalo"):
            await link.send_code(other, mai, PHONE)
    finally:
        await close_database(db, schema)


async def test_codes_expire_and_too_many_tries_spend_them(tmp_path: Path) -> None:
    db, schema = await open_database("sqlite", tmp_path)
    try:
        province = await make_province(db)
        mai = await add_person(
            db, "Lò Thị Mai", unit_id=province.commune_id, phone=PHONE, telegram_id=77
        )
        clock = FrozenClock(START)
        services = Services.build(db, superadmin_ids=frozenset(), clock=clock)
        zalo = await ZaloAccountService(db, clock).presented("0a0b")
        link = services.zalo_link

        await link.send_code(zalo, mai, PHONE)
        _, code = await _sent_code(db)
        clock.advance(CODE_TTL)
        with pytest.raises(InvalidInput, match=r"zalo_link\.code_expired"):
            await link.join(zalo, code)
        assert (await _code_row(db, zalo)).person_id is None

        await link.send_code(zalo, mai, PHONE)
        _, code = await _sent_code(db)
        with pytest.raises(InvalidInput, match=r"zalo_link\.resend_later"):
            await link.send_code(zalo, mai, PHONE)  # Mai's Telegram chat is not flooded
        assert (await _sent_code(db))[1] == code
        wrong = "000000" if code != "000000" else "111111"
        for _ in range(MAX_TRIES - 1):
            with pytest.raises(InvalidInput, match=r"zalo_link\.code_wrong"):
                await link.join(zalo, wrong)
        with pytest.raises(InvalidInput, match=r"zalo_link\.code_too_many"):
            await link.join(zalo, wrong)
        with pytest.raises(InvalidInput, match=r"zalo_link\.code_none"):
            await link.join(zalo, code)  # the right one, too late: ask again
        assert (await _code_row(db, zalo)).person_id is None

        # Only a record on Telegram vouches; a Telegram id is never given a code to type.
        free = await add_person(db, "Cà Văn Tú", unit_id=province.commune_id, phone="+84987654321")
        with pytest.raises(NotFound):
            await link.send_code(zalo, free, "+84987654321")
        with pytest.raises(InvalidInput):
            await link.send_code(77, mai, PHONE)
        await link.send_code(zalo, mai, PHONE)  # the spent code is no reason to wait
    finally:
        await close_database(db, schema)


async def test_a_typed_phone_links_unconfirmed_until_a_unit_head_confirms(tmp_path: Path) -> None:
    db, schema = await open_database("sqlite", tmp_path)
    try:
        province = await make_province(db)
        tu = await add_person(db, "Cà Văn Tú", unit_id=province.commune_id, phone=PHONE)
        await add_role(db, tu, "unit_head", province.commune_id)  # the record's own role
        head = await add_person(db, "Vì Văn Sơn", unit_id=province.root_id, telegram_id=55)
        await add_role(db, head, "unit_head", province.root_id)
        clock = FrozenClock(START)
        services = Services.build(db, superadmin_ids=frozenset(), clock=clock)
        zalo = await ZaloAccountService(db, clock).presented("0e0f")

        match = await services.people.match_typed("0912345678", " Cà văn tú ")
        assert match.outcome is MatchOutcome.FOUND and match.person and match.person.id == tu
        wrong = await services.people.match_typed("0912345678", "Cà Văn Tuấn")
        assert (wrong.outcome, wrong.person) == (MatchOutcome.NONE, None)
        linked = await services.people.link(zalo, tu, PHONE, "vi", clock.now(), typed=True)
        assert not linked.verified and linked.awaits_decision and linked.telegram_id == zalo
        # Meanwhile, as an unconfirmed self-declared cadre: not the record's roles.
        assert (await services.access.actor(zalo)).roles == frozenset()

        boss = await services.access.actor(55)
        waiting = await services.people.pending(boss)
        assert [p.id for p in waiting.people] == [tu]
        async with db.read() as conn:
            asked = (
                await conn.execute(sa.select(outbox.c.payload).where(outbox.c.chat_id == 55))
            ).scalar_one()
            action = (
                await conn.execute(sa.select(audit_log.c.action).where(audit_log.c.person_id == tu))
            ).scalar_one()
        assert asked["key"] == "notice.verify_typed_phone"
        assert action == AuditAction.LINKED_BY_TYPED_PHONE.value

        confirmed = await services.people.verify(boss, tu)
        assert confirmed.verified
        assert Role.UNIT_HEAD in (await services.access.actor(zalo)).roles
    finally:
        await close_database(db, schema)


async def test_a_unit_head_undoes_a_typed_link_that_is_not_the_cadre(tmp_path: Path) -> None:
    db, schema = await open_database("sqlite", tmp_path)
    try:
        province = await make_province(db)
        tu = await add_person(db, "Cà Văn Tú", unit_id=province.commune_id, phone=PHONE)
        head = await add_person(db, "Vì Văn Sơn", unit_id=province.root_id, telegram_id=55)
        await add_role(db, head, "unit_head", province.root_id)
        clock = FrozenClock(START)
        services = Services.build(db, superadmin_ids=frozenset(), clock=clock)
        zalo = await ZaloAccountService(db, clock).presented("0e0f")
        await services.people.link(zalo, tu, PHONE, "vi", clock.now(), typed=True)

        async with db.write() as conn:  # something queued for the account meanwhile
            await OutboxRepository(conn).add(
                [notice(MessageKind.PROFILE_REJECTED, "stray", chat_id=zalo, person_id=None,
                        text_key="notice.typed_link_refused")]
            )  # fmt: skip
        boss = await services.access.actor(55)
        record, account = await services.people.refuse_typed_link(boss, tu)
        assert account == zalo
        assert record.telegram_id is None and record.verified and not record.awaits_decision
        assert record.phone == PHONE  # the office's number: the real cadre is found by it
        assert (await services.access.actor(zalo)).person is None
        assert (await services.people.pending(boss)).total == 0
        async with db.read() as conn:
            told = (
                await conn.execute(
                    sa.select(outbox.c.payload).where(
                        outbox.c.chat_id == zalo, outbox.c.state == "pending"
                    )
                )
            ).scalar_one()
            stray = await conn.scalar(
                sa.select(outbox.c.state).where(outbox.c.dedup_key == "stray")
            )
        assert stray == "cancelled"
        assert told["key"] == "notice.typed_link_refused"
        with pytest.raises(InvalidInput, match=r"error\.not_pending"):
            await services.people.refuse_typed_link(boss, tu)  # a second tap changes nothing
        match = await services.people.match_contact("84912345678")  # Telegram finds it free
        assert match.outcome is MatchOutcome.FOUND and match.person and match.person.id == tu
    finally:
        await close_database(db, schema)


async def test_nothing_about_the_record_reaches_a_typed_link_before_its_head_confirms(
    tmp_path: Path,
) -> None:
    db, schema = await open_database("sqlite", tmp_path)
    try:
        province = await make_province(db)
        tu = await add_person(db, "Cà Văn Tú", unit_id=province.commune_id, phone=PHONE)
        head = await add_person(db, "Vì Văn Sơn", unit_id=province.root_id, telegram_id=55)
        await add_role(db, head, "unit_head", province.root_id)
        await add_role(db, tu, "unit_head", province.commune_id)  # the record's role, withheld
        clock = FrozenClock(START)
        services = Services.build(db, superadmin_ids=frozenset(), clock=clock)
        zalo = await ZaloAccountService(db, clock).presented("0e0f")
        await services.people.link(zalo, tu, PHONE, "vi", clock.now(), typed=True)

        about_tu = notice(MessageKind.ROLE_CHANGED, "about-tu", chat_id=zalo, person_id=tu,
                          text_key="notice.role_granted")  # fmt: skip
        async with db.write() as conn:
            await OutboxRepository(conn).add([about_tu])
            heads = await RoleRepository(conn).heads_above(province.commune_id)
        assert [h for h, _ in heads] == [head]  # not asked to decide for others either
        assert await _queued(db, "about-tu") == 0
        with pytest.raises(PermissionDenied, match=r"profile\.awaits_head"):
            registered(await services.access.actor(zalo))

        await services.people.verify(await services.access.actor(55), tu)
        async with db.write() as conn:
            await OutboxRepository(conn).add([about_tu])
        assert await _queued(db, "about-tu") == 1  # confirmed: the record is theirs
    finally:
        await close_database(db, schema)


async def _queued(db: Database, key: str) -> int:
    async with db.read() as conn:
        found = await conn.scalar(
            sa.select(sa.func.count()).select_from(outbox).where(outbox.c.dedup_key == key)
        )
        return int(found or 0)

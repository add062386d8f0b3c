"""The rules of the people service, fast: a real SQLite database, no Telegram, a set clock."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.clock import FrozenClock
from bot.domain import Actor, Gender, NewProfile, ProfileField, Role, RoleGrant, UnitRef
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services import Services
from bot.services.access import registered
from bot.services.delivery import SIGNATURE_MAX, DeliveryService
from bot.services.people import editable_profile
from storage.database import Database
from storage.schema import outbox
from tests.factories import Province, add_person, add_role, make_province

NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
async def province(sqlite_db: Database) -> Province:
    return await make_province(sqlite_db)


@pytest.fixture
async def services(sqlite_db: Database) -> AsyncIterator[Services]:
    yield Services.build(sqlite_db, superadmin_ids=frozenset(), clock=FrozenClock(NOW))


async def test_typed_answers_are_checked_and_normalised(
    services: Services, province: Province
) -> None:
    parse = services.people.parse_field
    assert await parse(ProfileField.FULL_NAME, "  lò   thị  dung ") == "Lò Thị Dung"
    assert await parse(ProfileField.BIRTH_YEAR, "1990") == 1990
    assert await parse(ProfileField.GENDER, "female") is Gender.FEMALE
    assert await parse(ProfileField.UNIT, str(province.commune_id)) == province.commune_id
    assert await parse(ProfileField.TITLE, None) is None
    with pytest.raises(InvalidInput, match="birth_year"):
        await parse(ProfileField.BIRTH_YEAR, "2010")  # 16 years old on the clock's date


@pytest.mark.parametrize(
    ("field", "forged"),
    [
        (ProfileField.UNIT, "99999"),
        (ProfileField.UNIT, "-1"),
        (ProfileField.TITLE, "1; drop table people"),
        (ProfileField.ETHNICITY, "55"),
        (ProfileField.GENDER, "other"),
        (ProfileField.UNIT, "٣"),  # an Arabic-Indic digit is a digit to Python, not to us
    ],
)
async def test_forged_choices_are_refused_as_input(
    services: Services, province: Province, field: ProfileField, forged: str
) -> None:
    with pytest.raises(InvalidInput):
        await services.people.parse_field(field, forged)


async def test_each_change_that_needs_confirming_asks_the_heads_once(
    sqlite_db: Database, services: Services, province: Province
) -> None:
    head = await add_person(sqlite_db, "Sùng Mí Chá", unit_id=province.root_id, telegram_id=9)
    await add_role(sqlite_db, head, "unit_head", province.root_id)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    await services.people.register(77, profile, "vi", NOW)
    await services.people.edit_own(77, ProfileField.UNIT, province.department_id)
    await services.people.edit_own(77, ProfileField.BIRTH_YEAR, "1991")  # still unconfirmed
    async with sqlite_db.read() as conn:
        keys = (await conn.execute(sa.select(outbox.c.dedup_key))).scalars().all()
    assert len(keys) == 2 and all(k.startswith("verify-request:") for k in keys)
    assert len(set(keys)) == 2  # one per change, named by the change, never by the time


async def test_only_self_declared_profiles_can_be_edited_by_their_owner(
    sqlite_db: Database, services: Services, province: Province
) -> None:
    await add_person(sqlite_db, "Lò Văn Pọm", unit_id=province.commune_id, telegram_id=5)
    roster = await services.access.actor(5)
    with pytest.raises(PermissionDenied, match="roster_locked"):
        editable_profile(roster)
    with pytest.raises(PermissionDenied):
        await services.people.edit_own(5, ProfileField.FULL_NAME, "Lò Văn Khác")
    with pytest.raises(NotFound, match=r"profile\.none"):
        registered(Actor(6))


async def test_languages_and_announcements_are_checked_by_the_services(
    services: Services, province: Province
) -> None:
    with pytest.raises(InvalidInput):
        await services.people.set_language(5, "fr")
    assert services.delivery.check_announcement("  Họp lúc 8 giờ  ") == "Họp lúc 8 giờ"
    with pytest.raises(InvalidInput) as too_long:
        services.delivery.check_announcement("x" * 3501)
    assert too_long.value.params == {"max": 3500, "length": 3501}
    admin = Actor(1, grants=(RoleGrant(Role.ADMIN),))
    for typed in ("abc", "", "1" * 13, "１２"):
        with pytest.raises(InvalidInput, match="delivery_usage"):
            await services.delivery.report(admin, typed)
    with pytest.raises(NotFound):
        await services.delivery.report(admin, "12")
    with pytest.raises(PermissionDenied):
        await services.delivery.report(Actor(2), "12")


async def test_an_announcement_requested_twice_with_one_key_is_queued_once(
    sqlite_db: Database, services: Services, province: Province
) -> None:
    await add_person(sqlite_db, "Mùa A Dế", unit_id=province.commune_id, telegram_id=31)
    admin = Actor(1, grants=(RoleGrant(Role.ADMIN),))
    first = await services.delivery.announce(admin, "Họp giao ban", "announce:1:run-a")
    again = await services.delivery.announce(admin, "Họp giao ban", "announce:1:run-a")
    other = await services.delivery.announce(admin, "Họp giao ban", "announce:1:run-b")
    assert first == again != other
    async with sqlite_db.read() as conn:
        queued = (await conn.execute(sa.select(sa.func.count()).select_from(outbox))).scalar()
    assert queued == 2


async def test_the_export_holds_what_was_done_about_and_by_the_person_and_messages_sent(
    sqlite_db: Database, services: Services, province: Province
) -> None:
    head_id = await add_person(sqlite_db, "Sùng Mí Chá", unit_id=province.root_id, telegram_id=9)
    await add_role(sqlite_db, head_id, "unit_head", province.root_id)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    cadre = await services.people.register(77, profile, "vi", NOW)
    head = await services.access.actor(9)
    await services.people.verify(head, cadre.id)

    mine = await services.people.export(77)
    assert [a.action for a in mine.audit] == ["self_registered", "profile_verified"]
    assert [m.kind for m in mine.messages] == ["profile_verified"]
    theirs = await services.people.export(9)
    assert "profile_verified" in [a.action for a in theirs.audit]  # what the head did
    assert [m.kind for m in theirs.messages] == ["verify_request"]


def test_a_head_of_many_units_signs_within_the_room_left_for_the_heading() -> None:
    heads = tuple(
        RoleGrant(Role.UNIT_HEAD, UnitRef(i, f"X{i}", f"Ủy ban nhân dân xã Số {i:02}"))
        for i in range(20)
    )
    key, params = DeliveryService.announcement(Actor(1, grants=heads), "Họp lúc 8 giờ")
    assert key == "notice.announcement_unit"
    assert len(params["unit"]) <= SIGNATURE_MAX and params["unit"].endswith("…")
    assert params["unit"].startswith("Ủy ban nhân dân xã Số 00, Ủy ban nhân dân xã Số 01")

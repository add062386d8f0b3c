"""Services against a real database: atomic links, consent, verification scope, roles."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.domain import (
    Actor,
    CodeItem,
    Gender,
    NewProfile,
    ProfileField,
    Role,
    RoleGrant,
    UnitRef,
)
from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.services import Services
from bot.services.people import MatchOutcome
from storage.database import Database
from storage.schema import audit_log, consents, outbox, people, roles
from storage.types import utcnow
from tests.factories import add_person, add_role, count, make_province

SUPER = 42


@pytest.fixture
def services(db: Database) -> Services:
    return Services.build(db, superadmin_ids=frozenset({SUPER}))


async def test_two_accounts_racing_for_one_record_cannot_both_link(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    person_id = await add_person(db, "Vàng Thị Mai", unit_id=province.commune_id,
                                 phone="+84912000001")  # fmt: skip
    match = await services.people.match_contact("84912000001")  # as Telegram sends it
    assert match.outcome is MatchOutcome.FOUND and match.person and match.person.id == person_id

    results = await asyncio.gather(
        *(services.people.link(tg, person_id, "+84912000001", "vi", utcnow()) for tg in (1, 2)),
        return_exceptions=True,
    )
    assert sum(not isinstance(r, Exception) for r in results) == 1
    assert any(isinstance(r, Conflict) for r in results)
    assert await count(db, consents) == 1
    assert (await services.people.match_contact("+84912000001")).outcome is MatchOutcome.TAKEN


async def test_register_refuses_unknown_units_and_stores_nothing(
    db: Database, services: Services
) -> None:
    profile = NewProfile("Lò Văn Hải", 9999, Gender.MALE, 1990, 8)
    with pytest.raises(InvalidInput):
        await services.people.register(5, profile, "vi", utcnow())
    assert (await count(db, people), await count(db, consents)) == (0, 0)


async def test_withdrawal_keeps_the_record_and_erases_optional_fields(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8,
                         phone="+84912000009")  # fmt: skip
    person = await services.people.register(77, profile, "vi", utcnow())
    await services.people.withdraw_consent(77)
    assert (await services.access.actor(77)).person is None
    async with db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.id == person.id))).one()
        actions = (await conn.execute(sa.select(audit_log.c.action))).scalars().all()
    assert row.full_name == "Lò Văn Hải" and row.phone is None and row.telegram_id is None
    assert actions == ["self_registered", "consent_withdrawn"]
    with pytest.raises(NotFound):  # nothing left to withdraw
        await services.people.withdraw_consent(77)


async def test_unit_heads_see_their_subtree_only(db: Database, services: Services) -> None:
    province = await make_province(db)
    mine = await add_person(db, "Giàng A Sử", unit_id=province.commune_id, telegram_id=11,
                            source="self", verified=False)  # fmt: skip
    other = await add_person(db, "Lê Văn Tám", unit_id=province.department_id, telegram_id=12,
                             source="self", verified=False)  # fmt: skip
    head = Actor(13, grants=(RoleGrant(Role.UNIT_HEAD, UnitRef(province.commune_id, "X", "X")),))
    assert [p.id for p in (await services.people.pending(head)).people] == [mine]
    with pytest.raises(NotFound):
        await services.people.verify(head, other)
    provincial = Actor(
        14, grants=(RoleGrant(Role.UNIT_HEAD, CodeItem(province.root_id, "T", "T")),)
    )
    assert {p.id for p in (await services.people.pending(provincial)).people} == {mine, other}
    with pytest.raises(PermissionDenied):
        await services.people.pending(Actor(15))


async def test_roles_are_granted_by_super_administrators_only_and_audited(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    target = await add_person(db, "Đặng Thị Hoa", unit_id=province.commune_id, telegram_id=21)
    admin = Actor(22, grants=(RoleGrant(Role.ADMIN),))
    with pytest.raises(PermissionDenied):
        await services.access.set_role(admin, target, Role.LECTURER, True)
    superadmin = await services.access.actor(SUPER)
    assert superadmin.is_superadmin and superadmin.is_admin
    await services.access.set_role(superadmin, target, Role.UNIT_HEAD, True)
    await services.access.set_role(superadmin, target, Role.UNIT_HEAD, True)  # a double tap
    assert await services.access.roles_of(target) == {Role.UNIT_HEAD}
    actor = await services.access.actor(21)
    assert actor.headed_unit_ids == (province.commune_id,)
    await services.access.set_role(superadmin, target, Role.UNIT_HEAD, False)
    await services.access.set_role(superadmin, target, Role.UNIT_HEAD, False)
    with pytest.raises(NotFound):
        await services.access.set_role(superadmin, 99_999, Role.ADMIN, True)
    async with db.read() as conn:
        actions = (await conn.execute(sa.select(audit_log.c.action))).scalars().all()
    assert actions == ["role_granted", "role_revoked"]
    assert await count(db, roles) == 0


async def test_two_decisions_at_once_are_taken_one_after_the_other(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    cadre = await add_person(db, "Giàng A Sử", unit_id=province.commune_id, telegram_id=31,
                             source="self", verified=False)  # fmt: skip
    await add_person(db, "Đinh Văn Quản", unit_id=province.root_id, telegram_id=32)
    await add_person(db, "Lê Thị Ngọc", unit_id=province.root_id, telegram_id=33)
    admins = [Actor(tid, grants=(RoleGrant(Role.ADMIN),)) for tid in (32, 33)]
    admins = [Actor(a.telegram_id, person=(await services.access.actor(a.telegram_id)).person,
                    grants=a.grants) for a in admins]  # fmt: skip
    results = await asyncio.gather(
        services.people.verify(admins[0], cadre),
        services.people.reject(admins[1], cadre),
        return_exceptions=True,
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict)
    async with db.read() as conn:
        decisions = (
            (
                await conn.execute(
                    sa.select(audit_log.c.action).where(
                        audit_log.c.action.in_(["profile_verified", "profile_rejected"])
                    )
                )
            )
            .scalars()
            .all()
        )
        row = (await conn.execute(sa.select(people).where(people.c.id == cadre))).one()
    assert len(decisions) == 1
    # Confirmed with its unit, or returned without it: never confirmed without a unit.
    assert (row.verified, row.unit_id is None) in ((True, False), (False, True))
    # The same decision again by the one who took it is a double tap, not an error.
    winner = admins[0] if decisions[0] == "profile_verified" else admins[1]
    again = services.people.verify if decisions[0] == "profile_verified" else services.people.reject
    await again(winner, cadre)
    loser = admins[1] if winner is admins[0] else admins[0]
    with pytest.raises(Conflict) as told:
        await services.people.verify(loser, cadre)
    assert told.value.params["who"] in ("Đinh Văn Quản", "Lê Thị Ngọc")


async def test_a_merge_moves_the_link_roles_consents_and_history_and_refuses_two_accounts(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    roster = await add_person(db, "Lò Văn Hải", unit_id=province.commune_id, birth_year=1990)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    duplicate = await services.people.register(61, profile, "vi", utcnow())
    await add_role(db, duplicate.id, "lecturer")
    admin = Actor(62, grants=(RoleGrant(Role.ADMIN),))
    with pytest.raises(InvalidInput):  # the roster is the office's: never merged away
        await services.people.merge(admin, roster, duplicate.id)
    with pytest.raises(PermissionDenied):
        await services.people.merge(Actor(63), duplicate.id, roster)
    kept = await services.people.merge(admin, duplicate.id, roster)
    assert (kept.id, kept.telegram_id) == (roster, 61)
    async with db.read() as conn:
        ids = (await conn.execute(sa.select(people.c.id))).scalars().all()
        owners = (await conn.execute(sa.select(consents.c.person_id))).scalars().all()
        held = (await conn.execute(sa.select(roles.c.person_id))).scalars().all()
        trail = (
            (
                await conn.execute(
                    sa.select(audit_log.c.action).where(audit_log.c.person_id == roster)
                )
            )
            .scalars()
            .all()
        )
    assert ids == [roster] and owners == [roster] and held == [roster]
    assert {"self_registered", "profile_merged"} <= set(trail)

    again = await services.people.register(64, profile, "vi", utcnow())
    with pytest.raises(Conflict):  # both linked to an account
        await services.people.merge(admin, again.id, roster)


async def test_possible_duplicates_stay_within_the_actors_units(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    here = await add_person(db, "Lò Văn Hải", unit_id=province.commune_id, birth_year=1990)
    await add_person(db, "Lò Văn Hải", unit_id=province.department_id, birth_year=1990)
    await add_person(db, "Lò Văn Hải", unit_id=None, birth_year=1990)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    declared = await services.people.register(61, profile, "vi", utcnow())
    head = Actor(62, grants=(RoleGrant(Role.UNIT_HEAD, UnitRef(province.commune_id, "X", "X")),))
    admin = Actor(63, grants=(RoleGrant(Role.ADMIN),))

    seen_by_head = await services.people.possible_duplicates(head, declared.id)
    seen_by_admin = await services.people.possible_duplicates(admin, declared.id)

    assert [p.id for p in seen_by_head] == [here]
    assert len(seen_by_admin) == 3


async def _asked_to_confirm(db: Database, person_id: int) -> set[int]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.chat_id).where(
                outbox.c.kind == "verify_request",
                outbox.c.dedup_key.like(f"verify-request:{person_id}:%"),
            )
        )
        return set(rows.scalars())


async def test_where_a_unit_has_no_other_head_the_administrators_are_asked(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await add_person(db, "Quản Trị Một", unit_id=province.root_id, telegram_id=SUPER)
    admin = await add_person(db, "Quản Trị Hai", unit_id=province.root_id, telegram_id=50)
    await add_role(db, admin, "admin")
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)

    newcomer = await services.people.register(61, profile, "vi", utcnow())
    assert await _asked_to_confirm(db, newcomer.id) == {SUPER, 50}

    # The commune's only head edits their own profile: someone else is asked, not nobody.
    own = NewProfile("Lò Văn Trưởng", province.commune_id, Gender.MALE, 1980, 8)
    head = await services.people.register(70, own, "vi", utcnow())
    await add_role(db, head.id, "unit_head", province.commune_id)
    await services.people.edit_own(70, ProfileField.UNIT, province.commune_id)
    assert await _asked_to_confirm(db, head.id) == {SUPER, 50}


async def test_a_profile_decided_on_meanwhile_is_not_asked_a_return_note_for(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    cadre = await services.people.register(61, profile, "vi", utcnow())
    head_id = await add_person(db, "Sùng Mí Chá", unit_id=province.commune_id, telegram_id=62)
    await add_role(db, head_id, "unit_head", province.commune_id)
    head = Actor(62, grants=(RoleGrant(Role.UNIT_HEAD, UnitRef(province.commune_id, "X", "X")),))
    admin = Actor(SUPER, is_superadmin=True)
    assert (await services.people.returnable(head, cadre.id)).id == cadre.id

    await services.people.verify(admin, cadre.id)

    with pytest.raises(Conflict):
        await services.people.returnable(head, cadre.id)

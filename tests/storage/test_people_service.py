"""Services against a real database: atomic links, consent, verification scope, roles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import Mark, MarkSource
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
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import (
    attendance,
    audit_log,
    classes,
    completions,
    consents,
    enrolments,
    outbox,
    people,
    roles,
)
from storage.types import utcnow
from tests.factories import add_class, add_person, add_role, count, make_province

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


async def test_a_cadre_who_withdrew_and_declares_again_gets_the_earlier_profile_back(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    first = await services.people.register(77, profile, "vi", utcnow())
    await services.people.withdraw_consent(77)
    again = NewProfile("lò văn  hải", province.commune_id, Gender.MALE, 1990, None,
                       phone="+84912000010")  # a new phone, typed otherwise  # fmt: skip
    back = await services.people.register(78, again, "en", utcnow())
    assert back.id == first.id and back.telegram_id == 78 and back.awaits_decision
    assert (back.phone, back.language) == ("+84912000010", "en")
    assert (await count(db, people), await count(db, consents)) == (1, 2)
    # Someone else with that name, another birth year, is someone else.
    other = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1991, None)
    assert (await services.people.register(79, other, "vi", utcnow())).id != first.id


async def test_two_administrators_confirming_at_once_write_one_decision(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    cadre = await add_person(db, "Thào A Dình", unit_id=province.commune_id, telegram_id=61,
                             source="self", verified=False)  # fmt: skip
    for telegram_id, name in ((62, "Đinh Văn Quản"), (63, "Lê Thị Ngọc")):
        admin_id = await add_person(db, name, unit_id=province.root_id, telegram_id=telegram_id)
        await add_role(db, admin_id, "admin")
    admins = [await services.access.actor(telegram_id) for telegram_id in (62, 63)]
    async with db.write() as conn:  # a third transaction holds the row, so both taps overlap
        await conn.execute(sa.select(people.c.id).where(people.c.id == cadre).with_for_update())
        taps = [asyncio.create_task(services.people.verify(a, cadre)) for a in admins]
        await asyncio.sleep(0.5)  # each on its own connection, queued behind the lock
        assert not any(tap.done() for tap in taps)
    results = await asyncio.gather(*taps, return_exceptions=True)
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], Conflict)
    assert refused[0].params["who"] in ("Đinh Văn Quản", "Lê Thị Ngọc")
    async with db.read() as conn:
        audited = await conn.scalar(
            sa.select(sa.func.count()).where(audit_log.c.action == "profile_verified")
        )
        told = await conn.scalar(sa.select(sa.func.count()).where(outbox.c.chat_id == 61))
    assert (audited, told) == (1, 1)


async def test_a_head_probing_ids_outside_their_units_takes_no_write_lock(
    db: Database, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    province = await make_province(db)
    outside = await add_person(db, "Lê Văn Tám", unit_id=province.department_id,
                               source="self", verified=False)  # fmt: skip
    head_id = await add_person(db, "Sùng Mí Chá", unit_id=province.commune_id, telegram_id=51)
    await add_role(db, head_id, "unit_head", province.commune_id)
    head = await services.access.actor(51)
    writes = 0
    real_write = db.write

    @asynccontextmanager
    async def counted_write() -> AsyncIterator[AsyncConnection]:
        nonlocal writes
        writes += 1
        async with real_write() as conn:
            yield conn

    monkeypatch.setattr(db, "write", counted_write)
    for probe in (outside, 999_999):
        for decide in (services.people.verify, services.people.reject):
            with pytest.raises(NotFound):
                await decide(head, probe)
        with pytest.raises(NotFound):
            await services.people.returnable(head, probe)
    assert writes == 0


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


async def test_a_merge_keeps_the_duplicates_classes_and_reminder_settings(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    roster = await add_person(db, "Lò Văn Hải", unit_id=province.commune_id, birth_year=1990)
    own, shared = await add_class(db, "M01"), await add_class(db, "M02")
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    duplicate = await services.people.register(61, profile, "vi", utcnow())
    me = await services.access.actor(61)
    await services.enrolment.enrol(me, own, clashes_seen=True)
    await services.enrolment.enrol(me, shared, clashes_seen=True)
    await services.reminders.set_enabled(me, False)
    async with db.write() as conn:  # the roster profile was already in the shared class
        await EnrolmentRepository(conn).add_enrolled(shared, [roster])
        await conn.execute(classes.update().where(classes.c.id == shared).values(enrolled_count=2))
    now = utcnow()
    async with db.write() as conn:  # marks in both classes; the roster's own in the shared one
        repo, sessions = AttendanceRepository(conn), ClassRepository(conn)
        first_own, first_shared = (
            (await sessions.sessions(own))[0],
            (await sessions.sessions(shared))[0],
        )
        await repo.put(first_own.id, own, {duplicate.id: Mark.LATE}, source=MarkSource.ROLL,
                       by=None, at=now)  # fmt: skip
        await repo.put(first_shared.id, shared, {duplicate.id: Mark.ABSENT, roster: Mark.PRESENT},
                       source=MarkSource.ROLL, by=duplicate.id, at=now)  # fmt: skip
        programme = (await ClassRepository(conn).get(own)).programme.id
        await EnrolmentRepository(conn).add_completion(duplicate.id, programme, now.date())
    await services.people.merge(Actor(62, grants=(RoleGrant(Role.ADMIN),)), duplicate.id, roster)
    async with db.read() as conn:
        places = (
            await conn.execute(sa.select(enrolments.c.class_id, enrolments.c.person_id))
        ).all()
        seats = dict((await conn.execute(sa.select(classes.c.id, classes.c.enrolled_count))).all())
        marks = (
            await conn.execute(
                sa.select(attendance.c.class_id, attendance.c.person_id, attendance.c.mark,
                          attendance.c.marked_by)
            )
        ).all()  # fmt: skip
        completed = (await conn.execute(sa.select(completions.c.person_id))).scalars().all()
    assert sorted(places) == [(own, roster), (shared, roster)]
    assert seats == {own: 1, shared: 1}
    assert sorted(marks) == sorted(
        [(own, roster, "late", None), (shared, roster, "present", roster)]
    )
    assert completed == [roster]
    assert not (await services.reminders.settings(await services.access.actor(61))).enabled


async def test_possible_duplicates_stay_within_the_actors_units(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    here = await add_person(db, "Lò Văn Hải", unit_id=province.commune_id, birth_year=1990)
    await add_person(db, "Lò Văn Hải", unit_id=province.department_id, birth_year=1990)
    await add_person(db, "Lò Văn Hải", unit_id=None, birth_year=1990)
    mistyped = await add_person(db, "Lò Văn Hải", unit_id=province.commune_id, birth_year=1995)
    await add_person(db, "Lò Văn Hải", unit_id=province.department_id, birth_year=1995)
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    declared = await services.people.register(61, profile, "vi", utcnow())
    head = Actor(62, grants=(RoleGrant(Role.UNIT_HEAD, UnitRef(province.commune_id, "X", "X")),))
    admin = Actor(63, grants=(RoleGrant(Role.ADMIN),))

    seen_by_head = await services.people.possible_duplicates(head, declared.id)
    seen_by_admin = await services.people.possible_duplicates(admin, declared.id)

    # Same name and birth year, or same name in the same unit (one year mistyped).
    assert sorted(p.id for p in seen_by_head) == [here, mistyped]
    assert len(seen_by_admin) == 4


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

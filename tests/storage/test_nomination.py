"""Nomination against a real database: the head's scope, capacity, the duplicate and audience
rules, a decline that frees the seat for the waitlist, and the notices of first contact."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.domain import Actor, Gender, NewProfile
from bot.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from bot.services import Services
from bot.services.nomination import clean_query, tell_untold
from bot.training import Audience, EnrolmentStatus
from storage.database import Database
from storage.schema import audit_log, classes, enrolments, outbox
from storage.types import utcnow
from tests.factories import NEVER_QUIET, Province, add_class, add_person, add_role, make_province

ADMIN = 42
KINH = 1  # the majority: no priority group
HEAD = 7001


@pytest.fixture
def services(db: Database) -> Services:
    return Services.build(db, superadmin_ids=frozenset({ADMIN}), quiet=NEVER_QUIET)


async def _head(db: Database, province: Province) -> int:
    head = await add_person(db, "Thủ trưởng Xã", unit_id=province.commune_id, telegram_id=HEAD)
    await add_role(db, head, "unit_head", province.commune_id)
    return head


async def _actor(services: Services, telegram_id: int = HEAD) -> Actor:
    return await services.access.actor(telegram_id)


async def _rows(db: Database, class_id: int) -> dict[int, sa.Row[tuple[object, ...]]]:
    async with db.read() as conn:
        found = await conn.execute(sa.select(enrolments).where(enrolments.c.class_id == class_id))
        return {r.person_id: r for r in found}


async def _seats(db: Database, class_id: int) -> int:
    async with db.read() as conn:
        found = await conn.execute(
            sa.select(classes.c.enrolled_count).where(classes.c.id == class_id)
        )
        return int(found.scalar_one())


async def _notices(db: Database, kind: str) -> list[sa.Row[tuple[object, ...]]]:
    async with db.read() as conn:
        return list(await conn.execute(sa.select(outbox).where(outbox.c.kind == kind)))


async def test_seats_then_the_waitlist_in_the_order_chosen_each_nominee_told(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    head = await _head(db, province)
    linked = [
        await add_person(db, f"Cán bộ {i}", unit_id=province.commune_id, telegram_id=7100 + i)
        for i in range(3)
    ]
    offline = await add_person(db, "Chưa dùng bot", unit_id=province.commune_id)
    class_id = await add_class(db, "NOM1", capacity=2)
    chosen = [offline, linked[2], linked[0], linked[1]]

    done = await services.nomination.nominate(await _actor(services), class_id, chosen)

    assert [(n.full_name, n.status, n.position) for n in done.nominees] == [
        ("Chưa dùng bot", EnrolmentStatus.ENROLLED, None),
        ("Cán bộ 2", EnrolmentStatus.ENROLLED, None),
        ("Cán bộ 0", EnrolmentStatus.WAITLISTED, 1),
        ("Cán bộ 1", EnrolmentStatus.WAITLISTED, 2),
    ]
    assert done.training_class.seats_left == 0 and await _seats(db, class_id) == 2
    rows = await _rows(db, class_id)
    assert {r.nominated_by for r in rows.values()} == {head}
    assert {r.decided_by for r in rows.values()} == {head}
    assert all(r.decided_at is not None for r in rows.values())
    assert rows[offline].told_at is None  # told when they first come
    assert all(rows[p].told_at is not None for p in linked)
    told = await _notices(db, "nominated")
    assert sorted(n.chat_id for n in told) == [7100, 7101, 7102]
    waiting = next(n for n in told if n.chat_id == 7100)
    assert waiting.payload["params"]["waiting"] == {"key": "nomination.told_waiting"}
    async with db.read() as conn:
        audited = await conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.action == "nominated")
        )
        assert audited.scalar_one() == 4


async def test_someone_outside_the_heads_units_is_refused_and_nothing_changes(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await _head(db, province)
    mine = await add_person(db, "Của xã", unit_id=province.commune_id)
    other = await add_person(db, "Của sở", unit_id=province.department_id)
    class_id = await add_class(db, "NOM2")
    actor = await _actor(services)

    with pytest.raises(PermissionDenied) as refused:
        await services.nomination.nominate(actor, class_id, [mine, other])
    assert refused.value.key == "nomination.not_your_staff"
    with pytest.raises(PermissionDenied):
        await services.nomination.pick(actor, class_id, other)
    with pytest.raises(PermissionDenied):
        await services.nomination.nominate(actor, class_id, [999_999])  # nobody at all
    assert await _rows(db, class_id) == {} and await _seats(db, class_id) == 0
    picker = await services.nomination.picker(actor, class_id)
    assert [c.full_name for c in picker.candidates] == ["Của xã", "Thủ trưởng Xã"]


async def test_a_learner_cannot_nominate_nor_see_the_picker(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await add_person(db, "Học viên", unit_id=province.commune_id, telegram_id=7200)
    staff = await add_person(db, "Đồng nghiệp", unit_id=province.commune_id)
    class_id = await add_class(db, "NOM3")
    learner = await _actor(services, 7200)
    with pytest.raises(PermissionDenied):
        await services.nomination.nominate(learner, class_id, [staff])
    with pytest.raises(PermissionDenied):
        await services.nomination.picker(learner, class_id)
    with pytest.raises(PermissionDenied):
        await services.nomination.staff(learner)
    assert await _rows(db, class_id) == {}


async def test_duplicate_training_and_audience_hold_and_block_the_whole_nomination(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await _head(db, province)
    fresh = await add_person(db, "Chưa học", unit_id=province.commune_id)
    trained = await add_person(db, "Đã học", unit_id=province.commune_id)
    first = await add_class(db, "NOM4A", programme="P.SAME")
    second = await add_class(db, "NOM4B", programme="P.SAME")
    department_only = await add_class(
        db, "NOM4C", audience=Audience(unit_ids=(province.department_id,))
    )
    actor = await _actor(services)
    await services.nomination.nominate(actor, first, [trained])

    with pytest.raises(Conflict) as refused:
        await services.nomination.nominate(actor, second, [fresh, trained])
    assert refused.value.key == "nomination.blocked_duplicate_current"
    assert refused.value.params["name"] == "Đã học"
    assert await _rows(db, second) == {}  # all or none: the fresh one was not sent either
    picker = await services.nomination.picker(actor, second)
    blocked = {c.full_name: c.blocked for c in picker.candidates}
    assert blocked["Đã học"] == "nomination.blocked_duplicate_current"
    assert blocked["Chưa học"] is None
    in_first = await services.nomination.picker(actor, first)
    assert {c.full_name: c.blocked for c in in_first.candidates}["Đã học"] == (
        "nomination.blocked_enrolled"
    )
    with pytest.raises(DomainError) as outside:
        await services.nomination.nominate(actor, department_only, [fresh])
    assert outside.value.key == "nomination.blocked_audience"
    with pytest.raises(InvalidInput):
        await services.nomination.nominate(actor, first, [])


async def test_a_class_not_open_cannot_be_nominated_to(db: Database, services: Services) -> None:
    province = await make_province(db)
    await _head(db, province)
    staff = await add_person(db, "Cán bộ", unit_id=province.commune_id)
    closed = await add_class(db, "NOM5", deadline=utcnow() - timedelta(days=1))
    unapproved = await add_class(db, "NOM5B", approved=False, plan_year=2031)
    actor = await _actor(services)
    for class_id in (closed, unapproved):
        with pytest.raises(Conflict) as refused:
            await services.nomination.nominate(actor, class_id, [staff])
        assert refused.value.key == "nomination.class_closed"
    with pytest.raises(NotFound):
        await services.nomination.nominate(actor, 424_242, [staff])


async def test_a_decline_frees_the_seat_promotes_the_waitlist_and_tells_the_head(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    head = await _head(db, province)
    nominee = await add_person(db, "Được cử", unit_id=province.commune_id, telegram_id=7300)
    waiting = await add_person(db, "Đang chờ", unit_id=province.commune_id, telegram_id=7301)
    class_id = await add_class(db, "NOM6", capacity=1)
    await services.nomination.nominate(await _actor(services), class_id, [nominee, waiting])
    cadre = await _actor(services, 7300)

    with pytest.raises(InvalidInput):
        await services.nomination.decline(cadre, class_id, "  ")
    with pytest.raises(InvalidInput):
        await services.nomination.decline(cadre, class_id, "x" * 301)
    await services.nomination.decline(cadre, class_id, "Đang điều trị tại bệnh viện tỉnh")

    rows = await _rows(db, class_id)
    assert rows[nominee].status == "declined"
    assert rows[nominee].reason == "Đang điều trị tại bệnh viện tỉnh"
    assert rows[waiting].status == "enrolled"  # promoted into the freed seat
    assert await _seats(db, class_id) == 1
    told = await _notices(db, "nomination_declined")
    assert [(n.chat_id, n.person_id) for n in told] == [(HEAD, head)]
    assert told[0].payload["params"]["reason"] == "Đang điều trị tại bệnh viện tỉnh"
    assert [n.chat_id for n in await _notices(db, "waitlist_promoted")] == [7301]
    with pytest.raises(NotFound):  # a second tap
        await services.nomination.decline(cadre, class_id, "Lần nữa")
    await add_person(db, "Tự đăng ký", unit_id=province.commune_id, telegram_id=7302)
    other_class = await add_class(db, "NOM6B")
    self_enrolled = await _actor(services, 7302)
    await services.enrolment.enrol(self_enrolled, other_class, clashes_seen=True)
    with pytest.raises(NotFound):  # enrolled by themselves: nothing to decline
        await services.nomination.declinable(self_enrolled, other_class)
    listed = await services.nomination.staff(await _actor(services), class_id)
    assert [(e.full_name, e.status, e.reason) for e in listed.entries] == [
        ("Đang chờ", EnrolmentStatus.ENROLLED, None),
        ("Được cử", EnrolmentStatus.DECLINED, "Đang điều trị tại bệnh viện tỉnh"),
    ]
    overall = await services.nomination.staff(await _actor(services))
    assert {(e.full_name, e.nominated) for e in overall.entries} == {
        ("Đang chờ", True), ("Được cử", True), ("Tự đăng ký", False),
    }  # fmt: skip


async def test_first_contact_queues_the_untold_nominations_once(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await _head(db, province)
    offline = await add_person(db, "Lần đầu", unit_id=province.commune_id, phone="+84912000111")
    first = await add_class(db, "NOM7A")
    second = await add_class(db, "NOM7B", capacity=1)
    cancelled = await add_class(db, "NOM7C")
    filler = await add_person(db, "Đủ chỗ", unit_id=province.commune_id)
    actor = await _actor(services)
    await services.nomination.nominate(actor, first, [offline])
    await services.nomination.nominate(actor, second, [filler, offline])
    await services.nomination.nominate(actor, cancelled, [offline])
    await services.enrolment.cancel_class(await _actor(services, ADMIN), cancelled, "Hoãn")
    assert await _notices(db, "nominated") == []

    await services.people.link(7400, offline, "+84912000111", "vi", utcnow())

    told = await _notices(db, "nominated")
    assert sorted(n.payload["params"]["code"] for n in told) == ["NOM7A", "NOM7B"]
    assert {n.chat_id for n in told} == {7400}
    waiting = next(n for n in told if n.payload["params"]["code"] == "NOM7B")
    assert waiting.payload["params"]["waiting"] == {"key": "nomination.told_waiting"}
    rows = await _rows(db, first)
    assert rows[offline].told_at is not None
    async with db.write() as conn:  # a second link (after unlinking) tells nothing again
        assert await tell_untold(conn, offline, 7400, utcnow()) == 0
    assert len(await _notices(db, "nominated")) == 2


async def test_the_picker_searches_without_diacritics_and_filters_priority_groups(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await _head(db, province)  # born 1988: not young
    await add_person(db, "Nguyễn Văn Hùng", unit_id=province.commune_id, gender="male",
                     birth_year=1970, ethnicity_id=KINH)  # fmt: skip
    await add_person(db, "Nguyễn Thị Lan", unit_id=province.commune_id, birth_year=1970)
    for i in range(9):
        await add_person(db, f"Trần Văn Tư {i}", unit_id=province.commune_id, gender="male",
                         birth_year=1970)  # fmt: skip
    class_id = await add_class(db, "NOM8")
    actor = await _actor(services)
    found = await services.nomination.picker(actor, class_id, query="nguyen")
    assert [c.full_name for c in found.candidates] == ["Nguyễn Thị Lan", "Nguyễn Văn Hùng"]
    women = await services.nomination.picker(actor, class_id, query="nguyen", priority_only=True)
    assert [c.full_name for c in women.candidates] == ["Nguyễn Thị Lan"]
    everyone = await services.nomination.picker(actor, class_id, page=1)
    assert (everyone.total, everyone.pages, everyone.page) == (12, 2, 1)
    beyond = await services.nomination.picker(actor, class_id, page=9)  # a page kept too long
    assert beyond.page == 1 and len(beyond.candidates) == 4
    forged = 10**18  # a forged button's page: the last one, not an overflow
    assert (await services.nomination.picker(actor, class_id, page=forged)).page == 1
    assert (await services.nomination.staff(actor, page=forged)).page == 0
    assert (await services.nomination.open_classes(actor, page=forged)).page == 0
    for odd in ("x" * 51, " \u202e\u200b ", ""):
        with pytest.raises(InvalidInput):
            clean_query(odd)
    assert clean_query("  nguyen\u200b  thi ") == "nguyen thi"


async def test_a_merge_that_links_the_roster_record_tells_its_nominations(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await _head(db, province)
    roster = await add_person(db, "Lò Văn Hải", unit_id=province.commune_id, birth_year=1990)
    class_id = await add_class(db, "NOM9")
    await services.nomination.nominate(await _actor(services), class_id, [roster])
    profile = NewProfile("Lò Văn Hải", province.commune_id, Gender.MALE, 1990, 8)
    duplicate = await services.people.register(7500, profile, "vi", utcnow())
    assert await _notices(db, "nominated") == []
    await services.people.merge(await _actor(services, ADMIN), duplicate.id, roster)
    assert [n.chat_id for n in await _notices(db, "nominated")] == [7500]


async def test_a_second_nomination_after_a_decline_is_told_on_the_next_first_contact(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await _head(db, province)
    phone = "+84912000333"
    person = await add_person(db, "Hai Lần Cử", unit_id=province.commune_id, phone=phone)
    class_id = await add_class(db, "NOM10")
    head = await _actor(services)
    await services.nomination.nominate(head, class_id, [person])
    await services.people.link(7600, person, phone, "vi", utcnow())
    await services.nomination.decline(await _actor(services, 7600), class_id, "Bận việc gia đình")
    await services.people.withdraw_consent(7600)  # off Telegram again
    await services.nomination.nominate(head, class_id, [person])
    assert (await _rows(db, class_id))[person].told_at is None
    await services.people.link(7601, person, phone, "vi", utcnow())
    assert sorted(n.chat_id for n in await _notices(db, "nominated")) == [7600, 7601]


async def test_the_picker_shows_who_can_be_nominated_first_and_who_declined_and_why(
    db: Database, services: Services
) -> None:
    """Staff who cannot go come after all who can (priority groups first among them), each
    part by name, across the pages; one who declined may be chosen again, their reason shown."""
    province = await make_province(db)
    await _head(db, province)
    commune, phone = province.commune_id, "+84912000444"
    blocked = [await add_person(db, f"An Đã Học {i}", unit_id=commune, gender="male",
                                birth_year=1970, ethnicity_id=KINH) for i in range(6)]  # fmt: skip
    await add_person(db, "Bùi Văn Chọn", unit_id=commune, gender="male", birth_year=1970,
                     ethnicity_id=KINH)  # fmt: skip
    await add_person(db, "Cao Thị Trẻ", unit_id=commune, birth_year=2000)
    declined = await add_person(db, "Đỗ Văn Từ", unit_id=commune, gender="male",
                                birth_year=1970, ethnicity_id=KINH, phone=phone)  # fmt: skip
    earlier = await add_class(db, "NOM11A", programme="P.PICK")
    class_id = await add_class(db, "NOM11B", programme="P.PICK")
    head = await _actor(services)
    await services.nomination.nominate(head, earlier, blocked)
    await services.nomination.nominate(head, class_id, [declined])
    await services.people.link(7700, declined, phone, "vi", utcnow())
    await services.nomination.decline(await _actor(services, 7700), class_id, "Con ốm nằm viện")

    first = await services.nomination.picker(head, class_id)
    assert (first.total, first.pages, first.blocked) == (10, 2, 6)
    # The head (a woman, a priority group) is one of the staff too.
    assert [c.full_name for c in first.candidates[:4]] == [
        "Cao Thị Trẻ", "Thủ trưởng Xã", "Bùi Văn Chọn", "Đỗ Văn Từ"
    ]  # fmt: skip
    assert [c.blocked is None for c in first.candidates] == [True] * 4 + [False] * 4
    second = await services.nomination.picker(head, class_id, page=1)
    assert [c.full_name for c in second.candidates] == ["An Đã Học 4", "An Đã Học 5"]
    reasons = {c.full_name: c.declined for c in first.candidates}
    assert reasons["Đỗ Văn Từ"] == "Con ốm nằm viện" and reasons["Bùi Văn Chọn"] is None
    found = await services.nomination.picker(head, class_id, query="van")
    assert [c.full_name for c in found.candidates] == ["Bùi Văn Chọn", "Đỗ Văn Từ"]
    assert found.blocked == 0

    # Chosen again: a new nomination, not refused.
    assert (await services.nomination.pick(head, class_id, declined)).declined is not None
    await services.nomination.nominate(head, class_id, [declined])
    assert (await _rows(db, class_id))[declined].status == "enrolled"
    again = await services.nomination.picker(head, class_id, page=1)  # now among the last
    assert [(c.full_name, c.blocked) for c in again.candidates] == [
        ("An Đã Học 5", "nomination.blocked_duplicate_current"),
        ("Đỗ Văn Từ", "nomination.blocked_enrolled"),
    ]

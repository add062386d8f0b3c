"""Announcements to an audience: each audience resolves, in SQL, to exactly its people in the
sender's reach; a unit head cannot reach past their units; the batch, its report and its
audit entry say whom it went to; its progress message is followed to the final report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.audience import AudienceKind, AudienceLabel, Recipients
from bot.clock import FrozenClock
from bot.domain import AuditAction
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.services import Services
from bot.training import EnrolmentStatus, PriorityGroup, priority_groups
from storage.database import Database
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import group_condition
from storage.schema import audit_log, delivery_batches, ethnicities, outbox, people
from tests.factories import (
    Province,
    add_class,
    add_person,
    add_role,
    add_unit,
    count,
    make_province,
)

ADMIN, HEAD = 801, 802
KINH, MONG = 1, 8  # ethnicity ids: codes "01" (the majority) and "08"
#: Mid-2026: young means born 1992 or later (under 35 this year).
NOW = datetime(2026, 6, 1, 3, 0, tzinfo=UTC)


@dataclass
class Town:
    """A province where every kind of audience has members and non-members."""

    services: Services
    province: Province
    hamlet: int  # a unit under the commune
    class_id: int
    ids: dict[str, int]


async def _town(db: Database) -> Town:
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=FrozenClock(NOW))
    p = await make_province(db)
    hamlet = await add_unit(db, "XA.DONGVAN.BANA", "Bản A", p.commune_id, "village")
    ids: dict[str, int] = {}
    ids["admin"] = await add_person(db, "Đinh Văn Quản", unit_id=p.root_id, telegram_id=ADMIN)
    ids["head"] = await add_person(db, "Sùng Mí Chá", unit_id=p.commune_id, telegram_id=HEAD,
                                   gender="male", birth_year=1975, ethnicity_id=KINH)  # fmt: skip
    await add_role(db, ids["head"], "unit_head", p.commune_id)
    people_ = [  # key, unit, gender, born, ethnicity, extra
        ("lan", p.commune_id, "female", 1995, KINH, {}),  # young woman
        ("pao", hamlet, "male", 1980, MONG, {}),  # minority, in the sub-unit
        ("hoa", p.department_id, "female", 1970, KINH, {"source_pool": True}),
        ("tuan", p.department_id, "male", 1991, KINH, {}),  # 35 this year: not young
        ("nam", p.department_id, "male", 1992, KINH, {}),  # 34: young
        ("mai", p.commune_id, "female", 1990, MONG, {"linked": False}),  # cannot be reached
        ("dung", p.commune_id, "female", 1993, MONG, {"verified": False}),  # unconfirmed
        ("vang", hamlet, "female", 1988, MONG, {"blocked": True}),  # blocked the bot
    ]
    for n, (key, unit, gender, born, ethnicity, extra) in enumerate(people_):
        linked = extra.get("linked", True)
        ids[key] = await add_person(
            db, f"Lò Thị {key.title()}", unit_id=unit, gender=gender, birth_year=born,
            ethnicity_id=ethnicity, telegram_id=9000 + n if linked else None,
            verified=extra.get("verified", True),
            source="roster" if extra.get("verified", True) else "self", phone=f"+8491200{n:04d}",
        )  # fmt: skip
        if extra.get("source_pool"):
            async with db.write() as conn:
                await conn.execute(
                    people.update().where(people.c.id == ids[key]).values(source_pool=True)
                )
        if extra.get("blocked"):
            await services.delivery.chat_blocked(9000 + n, "test")
    class_id = await add_class(db, "BD.01", name="Bồi dưỡng chuyển đổi số")
    async with db.write() as conn:
        enrol = EnrolmentRepository(conn)
        for key in ("lan", "hoa", "mai", "vang"):
            await enrol.put(class_id, ids[key], EnrolmentStatus.ENROLLED)
        for ticket, key in enumerate(("pao", "tuan"), start=1):
            await enrol.put(class_id, ids[key], EnrolmentStatus.WAITLISTED, ticket)
        await enrol.put(class_id, ids["nam"], EnrolmentStatus.WITHDRAWN)
    return Town(services, p, hamlet, class_id, ids)


async def _queued(db: Database, batch: int) -> set[int]:
    async with db.read() as conn:
        rows = await conn.execute(sa.select(outbox.c.person_id).where(outbox.c.batch_id == batch))
        return set(rows.scalars())


def _named(town: Town, *keys: str) -> set[int]:
    return {town.ids[k] for k in keys}


async def test_each_audience_of_an_administrator_is_exactly_its_people(db: Database) -> None:
    town = await _town(db)
    delivery = town.services.delivery
    admin = await town.services.access.actor(ADMIN)
    p = town.province
    expected = {  # those who blocked the bot are queued too, so the report names them
        Recipients(): _named(town, "head", "lan", "pao", "hoa", "tuan", "nam", "vang"),
        Recipients(AudienceKind.CLASS, town.class_id): _named(town, "lan", "hoa", "vang"),
        Recipients(AudienceKind.WAITLIST, town.class_id): _named(town, "pao", "tuan"),
        Recipients(AudienceKind.UNIT, p.commune_id): _named(town, "head", "lan", "pao", "vang"),
        Recipients(AudienceKind.UNIT, town.hamlet): _named(town, "pao", "vang"),
        Recipients(AudienceKind.UNIT, p.department_id): _named(town, "hoa", "tuan", "nam"),
        Recipients(AudienceKind.YOUNG): _named(town, "lan", "nam"),
        Recipients(AudienceKind.WOMEN): _named(town, "lan", "hoa", "vang"),
        Recipients(AudienceKind.MINORITY): _named(town, "pao", "vang"),
        Recipients(AudienceKind.SOURCE_POOL): _named(town, "hoa"),
    }
    for n, (recipients, members) in enumerate(expected.items()):
        size = await delivery.audience(admin, recipients)
        blocked = int(town.ids["vang"] in members)
        assert (size.reachable, size.blocked) == (len(members) - blocked, blocked), recipients
        batch = await delivery.announce(admin, f"Thông báo {n}", f"t:{n}", recipients)
        assert await _queued(db, batch) == members, recipients


async def test_priority_groups_in_sql_follow_the_rule_in_python(db: Database) -> None:
    town = await _town(db)
    folks = sa.select(
        people.c.id, people.c.birth_year, people.c.gender, ethnicities.c.code, people.c.source_pool
    ).select_from(people.outerjoin(ethnicities, ethnicities.c.id == people.c.ethnicity_id))
    async with db.read() as conn:
        rows = (await conn.execute(folks)).all()
        for group in PriorityGroup:
            found = await conn.execute(
                sa.select(people.c.id).where(group_condition(group, NOW.year))
            )
            in_sql = set(found.scalars())
            by_rule = {r.id for r in rows if group in _groups(r)}
            assert in_sql == by_rule, group
    assert len(rows) == len(town.ids)


def _groups(row: sa.Row[tuple[int, int, str, str, bool]]) -> frozenset[PriorityGroup]:
    return priority_groups(
        year=NOW.year, birth_year=row.birth_year, female=row.gender == "female",
        ethnicity_code=row.code, source_pool=row.source_pool,
    )  # fmt: skip


async def test_a_unit_head_reaches_their_own_staff_only(db: Database) -> None:
    town = await _town(db)
    delivery = town.services.delivery
    head = await town.services.access.actor(HEAD)
    p = town.province
    expected = {  # the head never among them: the sender is left out
        Recipients(): _named(town, "lan", "pao", "vang"),
        Recipients(AudienceKind.CLASS, town.class_id): _named(town, "lan", "vang"),
        Recipients(AudienceKind.WAITLIST, town.class_id): _named(town, "pao"),
        Recipients(AudienceKind.UNIT, town.hamlet): _named(town, "pao", "vang"),
        Recipients(AudienceKind.WOMEN): _named(town, "lan", "vang"),
        Recipients(AudienceKind.YOUNG): _named(town, "lan"),
    }
    for n, (recipients, members) in enumerate(expected.items()):
        batch = await delivery.announce(head, f"Thông báo {n}", f"h:{n}", recipients)
        assert await _queued(db, batch) == members, recipients
    other = await add_class(db, "BD.03", name="Bồi dưỡng kỹ năng số")  # none of theirs in it
    async with db.write() as conn:
        await EnrolmentRepository(conn).put(other, town.ids["hoa"], EnrolmentStatus.ENROLLED)
    found = await delivery.find_classes(await town.services.access.actor(ADMIN), "boi duong", 9)
    assert {c.code for c in found} == {"BD.01", "BD.03"}
    assert [c.code for c in await delivery.find_classes(head, "boi duong", 9)] == ["BD.01"]
    size = await delivery.audience(head, Recipients(AudienceKind.CLASS, town.class_id))
    assert size.label == AudienceLabel(
        AudienceKind.CLASS, "Bồi dưỡng chuyển đổi số (BD.01)", "Xã Đồng Văn"
    )

    async with db.read() as conn:
        batches = (await conn.execute(sa.select(sa.func.count(delivery_batches.c.id)))).scalar()
    for outside in (p.department_id, p.root_id):
        with pytest.raises(PermissionDenied) as refused:
            await delivery.audience(head, Recipients(AudienceKind.UNIT, outside))
        assert refused.value.key == "announce.unit_outside"
        with pytest.raises(PermissionDenied):
            await delivery.announce(head, "Ra ngoài đơn vị", f"out:{outside}",
                                    Recipients(AudienceKind.UNIT, outside))  # fmt: skip
    with pytest.raises(InvalidInput):  # the source pool of the commune is empty
        await delivery.announce(head, "Cán bộ nguồn", "h:pool",
                                Recipients(AudienceKind.SOURCE_POOL))  # fmt: skip
    async with db.read() as conn:
        after = (await conn.execute(sa.select(sa.func.count(delivery_batches.c.id)))).scalar()
    assert after == batches  # nothing queued


async def test_a_learner_and_unknown_classes_or_units_are_refused(db: Database) -> None:
    town = await _town(db)
    delivery = town.services.delivery
    admin = await town.services.access.actor(ADMIN)
    learner = await town.services.access.actor(9000)
    with pytest.raises(PermissionDenied):
        await delivery.audience(learner, Recipients(AudienceKind.WOMEN))
    with pytest.raises(PermissionDenied):
        await delivery.announce(learner, "Tin", None, Recipients(AudienceKind.WOMEN))
    with pytest.raises(NotFound) as unknown:
        await delivery.announce(admin, "Tin", None, Recipients(AudienceKind.CLASS, 999_999))
    assert unknown.value.key == "error.class_unknown"
    with pytest.raises(NotFound) as unknown:
        await delivery.audience(admin, Recipients(AudienceKind.UNIT, 999_999))
    assert unknown.value.key == "error.unit_unknown"
    with pytest.raises(InvalidInput) as nobody:  # no one waits for a seat in a new class
        await delivery.announce(
            admin, "Tin", None, Recipients(AudienceKind.WAITLIST, await add_class(db, "BD.02"))
        )
    assert nobody.value.key == "announce.nobody"
    with pytest.raises(InvalidInput):
        await delivery.find_classes(admin, "\x00\u200b  ", 9)
    assert [c.code for c in await delivery.find_classes(admin, "chuyen doi SO", 9)] == ["BD.01"]
    assert await delivery.find_classes(admin, "🙂" * 5000, 9) == []
    assert await count(db, outbox) == await count(db, delivery_batches) == 0


async def test_the_report_and_the_audit_say_whom_it_went_to(db: Database) -> None:
    town = await _town(db)
    delivery = town.services.delivery
    admin = await town.services.access.actor(ADMIN)
    waitlist = Recipients(AudienceKind.WAITLIST, town.class_id)
    batch = await delivery.announce(admin, "Còn chỗ trống", "r:1", waitlist)
    report = await delivery.report(admin, batch)
    assert report.audience == AudienceLabel(
        AudienceKind.WAITLIST, "Bồi dưỡng chuyển đổi số (BD.01)", None
    )
    assert report.total == 2
    async with db.read() as conn:
        (details,) = (
            await conn.execute(
                sa.select(audit_log.c.details).where(
                    audit_log.c.action == AuditAction.ANNOUNCEMENT.value
                )
            )
        ).scalars()
    assert details == {"batch": batch, "recipients": 2, "audience": "waitlist",
                       "audience_ref": town.class_id,
                       "audience_name": "Bồi dưỡng chuyển đổi số (BD.01)"}  # fmt: skip
    async with db.write() as conn:  # a batch of an earlier release had no audience
        old = await OutboxRepository(conn).new_batch("announcement", "Cũ", ADMIN, 0)
    assert (await delivery.report(admin, old)).audience is None


async def test_a_progress_message_is_followed_until_the_final_report(db: Database) -> None:
    town = await _town(db)
    delivery = town.services.delivery
    admin = await town.services.access.actor(ADMIN)
    batch = await delivery.announce(admin, "Họp", "p:1", Recipients(AudienceKind.YOUNG))
    report = await delivery.report(admin, batch)
    await delivery.follow(admin, batch, ADMIN, 77, report.digest)
    assert await delivery.progress() == []  # nothing changed since it was shown

    async with db.write() as conn:
        await conn.execute(
            outbox.update()
            .where(outbox.c.batch_id == batch, outbox.c.person_id == town.ids["lan"])
            .values(state="sent")
        )
    (moved,) = await delivery.progress()
    assert (moved.final, moved.report.delivered, moved.report.pending) == (False, 1, 1)
    assert (moved.message.chat_id, moved.message.message_id) == (ADMIN, 77)
    await delivery.progress_shown(moved)
    assert await delivery.progress() == []

    async with db.write() as conn:
        await conn.execute(outbox.update().where(outbox.c.batch_id == batch).values(state="sent"))
    (done,) = await delivery.progress()
    assert done.final and done.report.delivered == 2
    await delivery.progress_shown(done)
    assert await delivery.progress() == []  # left alone from now on

    other = await delivery.announce(admin, "Họp nữa", "p:2", Recipients(AudienceKind.WOMEN))
    await delivery.follow(admin, other, ADMIN, 78, "")
    (gone,) = await delivery.progress()
    await delivery.progress_shown(gone, stop=True)  # the message was deleted
    assert await delivery.progress() == []
    head = await town.services.access.actor(HEAD)
    with pytest.raises(NotFound):  # not theirs to follow
        await delivery.follow(head, other, HEAD, 79, "")

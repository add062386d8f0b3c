"""Approval of enrolments against a real database: a pending enrolment holds its seat, the
first of two deciders wins (even on two engines at once), rejection and expiry give the seat
to the first waiting cadre (who waits for approval in turn), and rights are checked."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.clock import FrozenClock
from bot.domain import Actor
from bot.errors import Conflict, NotFound, PermissionDenied
from bot.services import Services
from bot.training import EnrolmentStatus
from storage.database import Database
from storage.schema import audit_log, classes, enrolments, outbox
from tests.conftest import POSTGRES_URL, close_database, open_database
from tests.factories import NEVER_QUIET, Province, add_class, add_person, add_role, make_province
from tools.demo.seed import ask_demo_approvals, seed_demo

ADMIN = 42
HEAD, CO_HEAD, PROVINCE_HEAD, OUTSIDER = 4001, 4002, 4003, 4004
START = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


def build(db: Database, clock: FrozenClock) -> Services:
    return Services.build(
        db, superadmin_ids=frozenset({ADMIN}), quiet=NEVER_QUIET, clock=clock, approval_days=3
    )


async def actor(services: Services, telegram_id: int) -> Actor:
    return await services.access.actor(telegram_id)


async def heads(db: Database, province: Province) -> dict[str, int]:
    """Two heads of the commune, a head of the province, and a cadre of another unit."""
    found = {
        "head": await add_person(db, "Lò Văn Hùng", unit_id=province.commune_id, telegram_id=HEAD),
        "co_head": await add_person(
            db, "Hà Thị Lan", unit_id=province.commune_id, telegram_id=CO_HEAD
        ),
        "province_head": await add_person(
            db, "Nguyễn Văn Tỉnh", unit_id=province.root_id, telegram_id=PROVINCE_HEAD
        ),
        "outsider": await add_person(
            db, "Cầm Văn Khải", unit_id=province.department_id, telegram_id=OUTSIDER
        ),
    }
    await add_role(db, found["head"], "unit_head", province.commune_id)
    await add_role(db, found["co_head"], "unit_head", province.commune_id)
    await add_role(db, found["province_head"], "unit_head", province.root_id)
    return found


async def learners(db: Database, province: Province, count: int) -> list[int]:
    return [
        await add_person(db, f"Học viên {i}", unit_id=province.commune_id, telegram_id=5000 + i)
        for i in range(count)
    ]


async def row(db: Database, class_id: int, person_id: int) -> sa.Row[tuple[object, ...]]:
    async with db.read() as conn:
        found = await conn.execute(
            sa.select(enrolments).where(
                enrolments.c.class_id == class_id, enrolments.c.person_id == person_id
            )
        )
        return found.one()


async def enrolled_count(db: Database, class_id: int) -> int:
    async with db.read() as conn:
        found = await conn.scalar(
            sa.select(classes.c.enrolled_count).where(classes.c.id == class_id)
        )
    return int(found or 0)


async def keys(db: Database, prefix: str) -> dict[str, str]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.dedup_key, outbox.c.state).where(
                outbox.c.dedup_key.startswith(prefix)
            )
        )
        return {r.dedup_key: r.state for r in rows}


async def test_a_pending_enrolment_holds_its_seat_and_asks_the_nearest_heads(
    db: Database, clock: FrozenClock
) -> None:
    services = build(db, clock)
    province = await make_province(db)
    people = await heads(db, province)
    [learner] = await learners(db, province, 1)
    class_id = await add_class(
        db, "DUYET", capacity=1, starts=START + timedelta(days=10), requires_approval=True
    )
    outcome = await services.enrolment.enrol(await actor(services, 5000), class_id,
                                             clashes_seen=True)  # fmt: skip
    assert outcome.status is EnrolmentStatus.PENDING
    assert outcome.enrolment.expires_at == START + timedelta(days=3)
    assert await enrolled_count(db, class_id) == 1  # the seat is held
    stored = await row(db, class_id, learner)
    assert stored.status == "pending" and stored.expires_at == START + timedelta(days=3)
    # The commune's two heads are asked; the province's head (further up) is not.
    asked = await keys(db, "approval_request:")
    assert sorted(k.rsplit(":", 1)[1] for k in asked) == sorted(
        [str(people["head"]), str(people["co_head"])]
    )
    # Enrolling again is refused, saying until when the seat is held.
    with pytest.raises(Conflict) as again:
        await services.enrolment.enrol(await actor(services, 5000), class_id, clashes_seen=True)
    assert again.value.key == "enrol.already_pending"
    # The commune's heads see it in their list; the outsider may not look.
    waiting = await services.approval.pending(await actor(services, HEAD))
    assert [a.person_id for a in waiting.approvals] == [learner] and waiting.total == 1
    assert (await services.approval.pending(await actor(services, PROVINCE_HEAD))).total == 0
    with pytest.raises(PermissionDenied):
        await services.approval.pending(await actor(services, OUTSIDER))


async def test_two_heads_deciding_at_once_exactly_one_wins(
    db: Database, clock: FrozenClock
) -> None:
    services = build(db, clock)
    province = await make_province(db)
    people = await heads(db, province)
    [learner] = await learners(db, province, 1)
    class_id = await add_class(db, "DUYET", requires_approval=True)
    await services.enrolment.enrol(await actor(services, 5000), class_id, clashes_seen=True)
    enrolment_id = int((await row(db, class_id, learner)).id)

    async def decide(telegram_id: int, approve: bool) -> object:
        who = await actor(services, telegram_id)
        return await services.approval.decide(who, enrolment_id, approve, "Chưa bố trí được")

    results = await asyncio.gather(
        decide(HEAD, True), decide(CO_HEAD, False), return_exceptions=True
    )
    refused = [r for r in results if isinstance(r, Conflict)]
    assert len(refused) == 1 and refused[0].key in (
        "approval.already_approved",
        "approval.already_rejected",
    )
    stored = await row(db, class_id, learner)
    winner = people["head"] if stored.status == "enrolled" else people["co_head"]
    assert stored.decided_by == winner and stored.decided_at == START
    # The seat: kept if approved, freed if rejected.
    assert await enrolled_count(db, class_id) == (1 if stored.status == "enrolled" else 0)
    async with db.read() as conn:
        decided = (
            (
                await conn.execute(
                    sa.select(audit_log.c.action).where(
                        audit_log.c.action.in_(["enrolment_approved", "enrolment_rejected"])
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(decided) == 1


async def test_two_engines_deciding_at_once_exactly_one_wins(
    database_kind: str, tmp_path: Path, clock: FrozenClock
) -> None:
    first, schema = await open_database(database_kind, tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path}/test.db" if schema is None else POSTGRES_URL
    second = Database.from_url(url, schema=schema)
    try:
        province = await make_province(first)
        await heads(first, province)
        [learner] = await learners(first, province, 1)
        class_id = await add_class(first, "DUYET", requires_approval=True)
        one, two = build(first, clock), build(second, clock)
        await one.enrolment.enrol(await actor(one, 5000), class_id, clashes_seen=True)
        enrolment_id = int((await row(first, class_id, learner)).id)
        results = await asyncio.gather(
            one.approval.decide(await actor(one, HEAD), enrolment_id, False),
            two.approval.decide(await actor(two, CO_HEAD), enrolment_id, False),
            return_exceptions=True,
        )
        assert sum(isinstance(r, Conflict) for r in results) == 1
        assert (await row(first, class_id, learner)).status == "rejected"
        assert await enrolled_count(first, class_id) == 0  # freed once, not twice
    finally:
        await second.dispose()
        await close_database(first, schema)


async def test_expiry_frees_the_seat_to_the_first_waiting_who_waits_for_approval_in_turn(
    db: Database, clock: FrozenClock
) -> None:
    services = build(db, clock)
    province = await make_province(db)
    await heads(db, province)
    first, second, third = await learners(db, province, 3)
    class_id = await add_class(
        db, "DUYET", capacity=1, starts=START + timedelta(days=10), requires_approval=True
    )
    for i in range(3):
        await services.enrolment.enrol(await actor(services, 5000 + i), class_id,
                                       clashes_seen=True)  # fmt: skip
    assert (await row(db, class_id, second)).status == "waitlisted"

    clock.advance(timedelta(days=3) - timedelta(minutes=1))
    assert await services.approval.expire_due() == 0  # not yet
    clock.advance(timedelta(minutes=1))
    assert await services.approval.expire_due() == 1
    assert await services.approval.expire_due() == 0  # a second pass finds nothing
    assert (await row(db, class_id, first)).status == "expired"
    promoted = await row(db, class_id, second)
    assert promoted.status == "pending"
    assert promoted.expires_at == clock.now() + timedelta(days=3)
    assert (await row(db, class_id, third)).status == "waitlisted"
    assert await enrolled_count(db, class_id) == 1
    # The first learner is told; the heads' unsent requests of the first are cancelled, and
    # the promoted cadre's requests go out.
    async with db.read() as conn:
        told = (
            (
                await conn.execute(
                    sa.select(outbox.c.payload).where(outbox.c.kind == "approval_decided")
                )
            )
            .scalars()
            .all()
        )
    assert [t["key"] for t in told] == ["approval.told_expired"]
    states = await keys(db, "approval_request:")
    first_id, second_id = (await row(db, class_id, first)).id, promoted.id
    assert {s for k, s in states.items() if k.startswith(f"approval_request:{first_id}:")} == {
        "cancelled"
    }
    assert {s for k, s in states.items() if k.startswith(f"approval_request:{second_id}:")} == {
        "pending"
    }
    # A decision after the expiry changes nothing.
    with pytest.raises(Conflict) as late:
        await services.approval.decide(await actor(services, HEAD), int(first_id), True)
    assert late.value.key == "approval.already_expired"


async def test_only_a_decider_or_an_administrator_may_decide(
    db: Database, clock: FrozenClock
) -> None:
    services = build(db, clock)
    province = await make_province(db)
    await heads(db, province)
    await add_person(db, "Quản trị", unit_id=None, telegram_id=ADMIN)
    [learner] = await learners(db, province, 1)
    class_id = await add_class(db, "DUYET", requires_approval=True)
    await services.enrolment.enrol(await actor(services, 5000), class_id, clashes_seen=True)
    enrolment_id = int((await row(db, class_id, learner)).id)
    for who in (OUTSIDER, PROVINCE_HEAD, 5000):  # not a head, a head further up, the learner
        with pytest.raises(PermissionDenied):
            await services.approval.decide(await actor(services, who), enrolment_id, True)
    with pytest.raises(NotFound):
        await services.approval.decide(await actor(services, HEAD), 999_999, True)
    assert (await row(db, class_id, learner)).status == "pending"
    await services.approval.decide(await actor(services, ADMIN), enrolment_id, True)
    assert (await row(db, class_id, learner)).status == "enrolled"


async def test_a_learner_without_a_head_is_decided_by_the_office_and_may_withdraw(
    db: Database, clock: FrozenClock
) -> None:
    services = build(db, clock)
    province = await make_province(db)
    admin = await add_person(db, "Quản trị", unit_id=None, telegram_id=ADMIN)
    [learner, waiting] = await learners(db, province, 2)
    class_id = await add_class(db, "DUYET", capacity=1, requires_approval=True)
    for i in range(2):
        await services.enrolment.enrol(await actor(services, 5000 + i), class_id,
                                       clashes_seen=True)  # fmt: skip
    enrolment_id = (await row(db, class_id, learner)).id
    assert list(await keys(db, f"approval_request:{enrolment_id}:")) == [
        f"approval_request:{enrolment_id}:1:{admin}"
    ]
    # Withdrawing frees the seat at once; the next cadre is promoted, pending in turn.
    had = await services.enrolment.withdraw(await actor(services, 5000), class_id)
    assert had.status is EnrolmentStatus.PENDING
    assert (await row(db, class_id, learner)).status == "withdrawn"
    assert (await row(db, class_id, waiting)).status == "pending"
    assert await enrolled_count(db, class_id) == 1


async def test_the_daily_reminder_goes_once_to_each_decider_within_office_hours(
    db: Database, clock: FrozenClock
) -> None:
    services = build(db, clock)
    province = await make_province(db)
    people = await heads(db, province)
    await learners(db, province, 2)
    class_id = await add_class(db, "DUYET", requires_approval=True)
    for i in range(2):
        await services.enrolment.enrol(await actor(services, 5000 + i), class_id,
                                       clashes_seen=True)  # fmt: skip
    assert await services.approval.remind_due() == 2  # 09:00: the two commune heads
    assert await services.approval.remind_due() == 0
    again = build(db, clock)  # another process, or a restart: nothing doubled
    assert await again.approval.remind_due() == 0
    reminded = await keys(db, "approval_reminder:")
    assert sorted(reminded) == sorted(
        f"approval_reminder:2026-12-01:{people[h]}" for h in ("head", "co_head")
    )
    clock.advance(timedelta(hours=12))  # 21:00: outside the office's hours
    assert await again.approval.remind_due() == 0
    clock.advance(timedelta(hours=12))  # the next morning
    assert await again.approval.remind_due() == 2


@pytest.mark.parametrize(
    "now",
    [
        datetime(2027, 1, 4, 3, 0, tzinfo=UTC),
        datetime(2026, 3, 18, 3, 0, tzinfo=UTC),
        datetime(2026, 7, 1, 3, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 3, 0, tzinfo=UTC),
        datetime(2026, 12, 31, 3, 0, tzinfo=UTC),
    ],
    ids=["early-january", "march", "mid-year", "3-december", "31-december"],
)  # 10:00 in Vietnam; late in the year no ordinary class is open any more
async def test_the_demo_head_has_enrolments_waiting_one_expiring_soon(
    db: Database, now: datetime
) -> None:
    summary = await seed_demo(db, people=500, seed=2026, now=now)
    code = await ask_demo_approvals(db, summary, now)
    assert code is not None
    clock = FrozenClock(now)
    services = build(db, clock)
    head = await actor(services, summary.identities.unit_head.telegram_id or 0)
    waiting = await services.approval.pending(head)
    assert waiting.total == 3 and {a.class_code for a in waiting.approvals} == {code}
    soonest = waiting.approvals[0].expires_at
    assert soonest is not None and soonest - now == timedelta(hours=2)
    async with db.read() as conn:
        asked = (
            (
                await conn.execute(
                    sa.select(outbox.c.chat_id).where(outbox.c.kind == "approval_request")
                )
            )
            .scalars()
            .all()
        )
    assert set(asked) == {summary.identities.unit_head.telegram_id}
    clock.advance(timedelta(hours=2))
    assert await services.approval.expire_due() == 1
    assert (await services.approval.pending(head)).total == 2


async def test_a_seat_held_for_approval_clashes_and_the_heads_are_told(
    db: Database, clock: FrozenClock
) -> None:
    """Two classes at the same hours: holding a seat in one (pending) is a clash for the
    other, refused unless seen, and the heads' request for the second names the first."""
    services = build(db, clock)
    province = await make_province(db)
    await heads(db, province)
    [learner] = await learners(db, province, 1)
    starts = START + timedelta(days=10)
    first = await add_class(db, "SANG1", name="Lớp sáng một", starts=starts,
                            requires_approval=True)  # fmt: skip
    second = await add_class(db, "SANG2", name="Lớp sáng hai", starts=starts,
                             requires_approval=True)  # fmt: skip
    cadre = await actor(services, 5000)
    await services.enrolment.enrol(cadre, first, clashes_seen=False)
    assert (await row(db, first, learner)).status == "pending"

    prospect = await services.enrolment.prospect(cadre, second)
    assert {c.other_class for c in prospect.clashes} == {"Lớp sáng một"}
    with pytest.raises(Conflict) as unseen:
        await services.enrolment.enrol(cadre, second, clashes_seen=False)
    assert unseen.value.key == "enrol.clash_appeared"
    await services.enrolment.enrol(cadre, second, clashes_seen=True)
    second_id = (await row(db, second, learner)).id
    first_id = (await row(db, first, learner)).id
    async with db.read() as conn:
        payloads = (
            (await conn.execute(sa.select(outbox.c.dedup_key, outbox.c.payload).where(
                outbox.c.kind == "approval_request")))
            .all()
        )  # fmt: skip
    clash = {key.split(":")[1]: p["params"]["clash"] for key, p in payloads}
    assert clash[str(first_id)] == ""  # nothing else held when it was asked
    assert clash[str(second_id)] == {
        "key": "approval.clash_line", "params": {"others": "Lớp sáng một"}
    }  # fmt: skip


async def test_a_late_promotion_gives_the_deciders_their_days_and_an_expiry_feeds_the_waitlist(
    db: Database, clock: FrozenClock
) -> None:
    """Seats raised at 23:00 with the enrolment deadline at 23:59: the promoted wait the
    approval days (not 59 minutes), and a seat given back after the deadline goes on to the
    next waiting cadre."""
    services = build(db, clock)
    province = await make_province(db)
    await heads(db, province)
    people = await learners(db, province, 4)
    clock.advance(timedelta(hours=14))  # 23:00 in Vietnam
    deadline = clock.now() + timedelta(minutes=59)
    starts = clock.now() + timedelta(days=5)
    class_id = await add_class(db, "MUON", capacity=1, starts=starts, deadline=deadline,
                               requires_approval=True)  # fmt: skip
    for i in range(4):
        await services.enrolment.enrol(await actor(services, 5000 + i), class_id,
                                       clashes_seen=True)  # fmt: skip
    assert (await row(db, class_id, people[0])).expires_at == clock.now() + timedelta(days=3)

    promoted = await services.enrolment.set_capacity(await actor(services, ADMIN), class_id, 3)
    assert [p.id for p in promoted] == people[1:3]
    for person in people[1:3]:
        held = await row(db, class_id, person)
        assert held.status == "pending" and held.expires_at == clock.now() + timedelta(days=3)
    assert (await row(db, class_id, people[3])).status == "waitlisted"

    clock.advance(timedelta(days=3))  # long past the deadline; nobody decided
    assert await services.approval.expire_due() == 3
    last = await row(db, class_id, people[3])
    assert last.status == "pending" and last.expires_at == starts  # held until the start
    assert await enrolled_count(db, class_id) == 1

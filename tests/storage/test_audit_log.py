"""The office's audit log against a real database: a period holds its whole last local day
and nothing of the days around it; a person's filter finds what is about them and what they
did from their account; one kind of action; pages newest first; an export streams everything
and is itself recorded; only administrators get any of it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import sqlalchemy as sa

from bot.audit_log import AuditQuery, Period, PeriodPreset
from bot.clock import FrozenClock
from bot.domain import AuditAction
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.i18n import Texts
from bot.services import Services
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.schema import audit_log
from tests.factories import add_class, add_person, add_role, make_province

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
ADMIN, LAN, HEAD = 9001, 7001, 6001
NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))
SINCE, UNTIL = NOVEMBER.bounds(TZ)
NOW = datetime(2026, 12, 5, 3, 0, tzinfo=UTC)


def local(day: int, month: int, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=TZ)


async def entry(
    db: Database,
    at: datetime,
    action: AuditAction = AuditAction.PROFILE_EDITED,
    *,
    actor: int | None = ADMIN,
    person_id: int | None = None,
    **details: object,
) -> int:
    async with db.write() as conn:
        found = await conn.execute(
            audit_log.insert()
            .values(at=at, actor_telegram_id=actor, action=action.value, person_id=person_id,
                    details=details)
            .returning(audit_log.c.id)
        )  # fmt: skip
        return int(found.scalar_one())


async def people(db: Database) -> dict[str, int]:
    province = await make_province(db)
    ids = {
        "admin": await add_person(db, "Trần Văn Quản", unit_id=province.root_id,
                                  telegram_id=ADMIN),
        "lan": await add_person(db, "Nguyễn Thị Lan", unit_id=province.commune_id,
                                telegram_id=LAN),
        "head": await add_person(db, "Sùng A Dế", unit_id=province.commune_id, telegram_id=HEAD),
        "other": await add_person(db, "Lò Văn Pọm", unit_id=province.commune_id),
    }  # fmt: skip
    await add_role(db, ids["admin"], "admin")
    await add_role(db, ids["head"], "unit_head", province.commune_id)
    return ids


async def test_a_period_holds_its_whole_last_local_day_and_nothing_around_it(db: Database) -> None:
    ids = await people(db)
    before = await entry(db, local(31, 10, 23, 59, 59), person_id=ids["lan"])
    first = await entry(db, local(1, 11, 0, 0), person_id=ids["lan"])
    last = await entry(db, local(30, 11, 23, 59, 59), person_id=ids["lan"])
    after = await entry(db, local(1, 12, 0, 0), person_id=ids["lan"])
    assert (local(1, 11, 0), local(1, 12, 0)) == (SINCE, UNTIL)
    async with db.read() as conn:
        repo = AuditRepository(conn)
        found = await repo.page(SINCE, UNTIL)
        assert [line.id for line in found] == [last, first]
        assert await repo.count(SINCE, UNTIL) == 2
        day = Period(date(2026, 11, 30), date(2026, 11, 30)).bounds(TZ)
        assert [line.id for line in await repo.page(*day)] == [last]
    assert {before, after}.isdisjoint(line.id for line in found)
    # The names of who did it and whom it is about come with each entry.
    assert (found[0].actor_name, found[0].person_name) == ("Trần Văn Quản", "Nguyễn Thị Lan")


async def test_a_person_is_found_as_the_one_concerned_and_as_the_one_who_acted(
    db: Database,
) -> None:
    ids = await people(db)
    about = await entry(db, local(3, 11, 9), AuditAction.PROFILE_VERIFIED, person_id=ids["lan"])
    did = await entry(db, local(4, 11, 9), AuditAction.ENROLLED, actor=LAN, class_id=1)
    both = await entry(db, local(5, 11, 9), actor=LAN, person_id=ids["lan"], field="unit")
    await entry(db, local(6, 11, 9), AuditAction.PROFILE_VERIFIED, person_id=ids["other"])
    await entry(db, local(7, 11, 9), AuditAction.DEMO_SEED, actor=None)
    async with db.read() as conn:
        repo = AuditRepository(conn)
        found = await repo.page(SINCE, UNTIL, ids["lan"], LAN)
        assert [line.id for line in found] == [both, did, about]
        assert await repo.count(SINCE, UNTIL, ids["lan"], LAN) == 3
        assert [line.id for line in await repo.page(SINCE, UNTIL, ids["lan"])] == [both, about]
        assert [line.id for line in await repo.page(SINCE, UNTIL, None, LAN)] == [both, did]
        by_kind = await repo.page(SINCE, UNTIL, action=AuditAction.PROFILE_VERIFIED)
        assert len(by_kind) == 2 and {line.action for line in by_kind} == {"profile_verified"}
        assert await repo.page(SINCE, UNTIL, ids["lan"], LAN, AuditAction.ENROLLED) == [
            line for line in found if line.id == did
        ]
        assert await repo.actions(SINCE, UNTIL) == [
            ("profile_verified", 2), ("demo_seed", 1), ("enrolled", 1), ("profile_edited", 1),
        ]  # fmt: skip
        assert await repo.actions(SINCE, UNTIL, ids["lan"], LAN) == [
            ("enrolled", 1), ("profile_edited", 1), ("profile_verified", 1),
        ]  # fmt: skip
        system = next(line for line in await repo.page(SINCE, UNTIL) if line.action == "demo_seed")
        assert (system.actor_telegram_id, system.actor_name, system.person_name) == (None,) * 3


async def test_pages_go_newest_first_and_an_empty_period_finds_nothing(db: Database) -> None:
    ids = await people(db)
    made = [
        await entry(db, local(10, 11, 8) + timedelta(minutes=n), person_id=ids["lan"])
        for n in range(25)
    ]
    async with db.read() as conn:
        repo = AuditRepository(conn)
        pages = [await repo.page(SINCE, UNTIL, offset=n * 10, limit=10) for n in range(3)]
        assert [[line.id for line in page] for page in pages] == [
            made[::-1][:10], made[::-1][10:20], made[::-1][20:],
        ]  # fmt: skip
        assert await repo.page(SINCE, UNTIL, offset=30, limit=10) == []
        october = Period(date(2026, 10, 1), date(2026, 10, 31)).bounds(TZ)
        assert await repo.page(*october) == []
        assert await repo.count(*october) == 0
        assert await repo.actions(*october) == []
        streamed = [
            [line.id for line in chunk] async for chunk in repo.stream(SINCE, UNTIL, chunk=10)
        ]
    assert streamed == [made[::-1][:10], made[::-1][10:20], made[::-1][20:]]


def services(db: Database) -> Services:
    return Services.build(db, superadmin_ids=frozenset(), clock=FrozenClock(NOW), tz=TZ)


async def test_the_service_pages_words_and_exports_for_administrators_only(db: Database) -> None:
    ids = await people(db)
    class_id = await add_class(db, "QPAN")
    for n in range(30):
        await entry(db, local(2, 11, 8) + timedelta(minutes=n), AuditAction.ENROLLED, actor=LAN,
                    person_id=ids["lan"], class_id=class_id)  # fmt: skip
    await entry(db, local(20, 11, 8), AuditAction.DEMO_SEED, actor=None)
    built = services(db)
    service = built.audit_log
    admin = await built.access.actor(ADMIN)
    query = AuditQuery(NOVEMBER, ids["lan"], AuditAction.ENROLLED)

    page = await service.page(admin, query, 1)
    assert (page.total, page.number, page.pages, len(page.lines)) == (30, 1, 3, 12)
    assert page.person is not None and page.person.full_name == "Nguyễn Thị Lan"
    assert page.names.classes == {class_id: "QPAN"}
    assert (await service.page(admin, query, 99)).number == 2  # past the end: the last page
    assert await service.actions(admin, AuditQuery(NOVEMBER)) == [
        (AuditAction.ENROLLED, 30), (AuditAction.DEMO_SEED, 1),
    ]  # fmt: skip
    assert service.preset(admin, PeriodPreset.LAST_MONTH) == NOVEMBER  # NOW is in December
    assert service.parse_period(admin, "1/11/2026 - 30/11/2026") == NOVEMBER

    made = await service.export(admin, query, Texts("vi"))
    assert made.entries == 30
    sheet = openpyxl.load_workbook(io.BytesIO(made.content))["Nhật ký thay đổi"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("Thời điểm", "Người thực hiện", "Thao tác", "Đối tượng", "Chi tiết")
    assert rows[1] == (datetime(2026, 11, 2, 8, 29), "Nguyễn Thị Lan", "Đăng ký lớp",
                       "Nguyễn Thị Lan", "Lớp: QPAN")  # fmt: skip
    assert len(rows) == 31
    async with db.read() as conn:
        recorded = await AuditRepository(conn).last_of(ids["lan"], (AuditAction.AUDIT_EXPORTED,))
    assert recorded is not None and recorded.actor_telegram_id == ADMIN
    assert recorded.details == {"since": "2026-11-01", "until": "2026-11-30",
                                "kind": "enrolled", "entries": 30}  # fmt: skip

    with pytest.raises(InvalidInput) as empty:
        await service.export(admin, AuditQuery(Period(date(2026, 10, 1), date(2026, 10, 2))),
                             Texts("vi"))  # fmt: skip
    assert empty.value.key == "audit_log.export_empty"
    with pytest.raises(NotFound):
        await service.page(admin, AuditQuery(NOVEMBER, 999_999))

    for telegram_id in (LAN, HEAD):  # a learner, a unit head: refused, whatever they ask
        someone = await built.access.actor(telegram_id)
        with pytest.raises(PermissionDenied):
            await service.page(someone, query)
        with pytest.raises(PermissionDenied):
            await service.export(someone, query, Texts("vi"))
        with pytest.raises(PermissionDenied):
            await service.actions(someone, query)
        with pytest.raises(PermissionDenied):
            await service.person(someone, ids["lan"])
        with pytest.raises(PermissionDenied):
            service.preset(someone, PeriodPreset.TODAY)
        with pytest.raises(PermissionDenied):
            service.parse_period(someone, "1/11/2026-30/11/2026")
    async with db.read() as conn:
        exports = await conn.execute(
            sa.select(sa.func.count()).where(audit_log.c.action == "audit_exported")
        )
        assert exports.scalar_one() == 1  # the refused and the empty ones left no trace


async def test_the_query_plans_walk_the_indexes(db: Database) -> None:
    """A period is read from ix_audit_log_at in order (no sort of a year of entries: with a
    million entries, page 400 of a year takes milliseconds), and a person's entries from the
    two indexes of whom they concern and who acted."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's EXPLAIN QUERY PLAN")
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "audit_log" in sql:
            statements.append((sql, params))

    sa.event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with db.read() as conn:
            repo = AuditRepository(conn)
            await repo.page(SINCE, UNTIL, offset=4800, limit=12)
            await repo.page(SINCE, UNTIL, action=AuditAction.ENROLLED)
            await repo.page(SINCE, UNTIL, 5, LAN)
    finally:
        sa.event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    plans = []
    async with db.read() as conn:
        for sql, params in statements:
            rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, params)
            plans.append([str(row[-1]) for row in rows])
    period, kind, person = plans
    for plan in (period, kind):
        assert any("USING INDEX ix_audit_log_at" in step for step in plan), plan
        assert not any("TEMP B-TREE" in step or step.startswith("SCAN") for step in plan), plan
    assert any("ix_audit_log_person_id" in step for step in person), person
    assert any("ix_audit_log_actor_telegram_id" in step for step in person), person

"""A class's list on both databases: every status in its section and order, the waitlist's
places over the whole class, priority groups, phones for administrators only, a unit head's
staff only, and the refusals; the workbook's download is audited."""

from __future__ import annotations

import io

import openpyxl
import pytest
import sqlalchemy as sa

from bot.class_lists import ListSection
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.errors import NotFound, PermissionDenied
from bot.i18n import Texts
from bot.services import Services
from bot.training import EnrolmentStatus, PriorityGroup
from storage.database import Database
from storage.repositories.class_lists import ClassListRepository
from storage.schema import audit_log
from storage.types import utcnow
from tests.class_list_world import (
    ADMIN,
    HEAD,
    LEARNER,
    LECTURER,
    OTHER_LECTURER,
    ClassListWorld,
    class_list_world,
)
from tests.factories import NEVER_QUIET, make_province


@pytest.fixture
def services(db: Database) -> Services:
    clock = FrozenClock(utcnow())
    return Services.build(db, superadmin_ids=frozenset(), quiet=NEVER_QUIET, clock=clock)


@pytest.fixture
async def world(db: Database) -> ClassListWorld:
    return await class_list_world(db, await make_province(db))


async def actor(services: Services, telegram_id: int) -> Actor:
    return await services.access.actor(telegram_id)


def names(entries: object) -> list[str]:
    return [e.name for e in entries]  # type: ignore[attr-defined]


async def test_the_office_sees_every_section_in_order_with_phones_and_groups(
    services: Services, world: ClassListWorld
) -> None:
    shown = await services.class_lists.view(await actor(services, ADMIN), world.class_id)
    assert shown.whole and shown.phones
    assert shown.counts() == {ListSection.ENROLLED: 3, ListSection.PENDING: 1,
                              ListSection.WAITING: 2, ListSection.DECLINED: 1,
                              ListSection.OTHER: 3}  # fmt: skip
    # By given name: An, Bình, Phương; the waitlist by place; the rest by status.
    assert names(shown.entries) == [
        "Vàng Văn An", "Trần Văn Bình", "Nguyễn Thị Phương", "Vàng Thị Em", "Hoàng Văn Dũng",
        "Lò Văn Cường", "Sùng A Phủ", "Lý Thị Mai", "Giàng A Tủa", "Bùi Văn Thắng",
    ]  # fmt: skip
    by_name = {e.name: e for e in shown.entries}
    phuong, binh = by_name["Nguyễn Thị Phương"], by_name["Trần Văn Bình"]
    assert (phuong.unit_label, phuong.title, phuong.grade, phuong.phone) == (
        "Xã Đồng Văn",
        "Phó Chủ tịch UBND",
        "Chuyên viên",
        "0912000111",
    )
    assert binh.unit_label == "Văn phòng (Sở Nội vụ)" and binh.grade == "Chuyên viên chính"
    assert shown.groups(phuong) == {
        PriorityGroup.YOUNG,
        PriorityGroup.WOMEN,
        PriorityGroup.MINORITY,
    }
    assert shown.groups(binh) == {PriorityGroup.SOURCE_POOL}
    assert [by_name[n].position for n in ("Hoàng Văn Dũng", "Lò Văn Cường")] == [1, 2]
    pending = by_name["Vàng Thị Em"]
    assert pending.status is EnrolmentStatus.PENDING
    assert pending.expires_at == world.pending_until
    assert pending.nominated_by == "Sùng A Dế"
    assert by_name["Sùng A Phủ"].reason == "Trùng lịch tiếp dân"
    assert {e.status for e in shown.section(ListSection.OTHER)} == {
        EnrolmentStatus.REJECTED,
        EnrolmentStatus.EXPIRED,
        EnrolmentStatus.WITHDRAWN,
    }


async def test_its_lecturer_sees_everyone_without_phones_others_are_refused(
    services: Services, world: ClassListWorld
) -> None:
    shown = await services.class_lists.view(await actor(services, LECTURER), world.class_id)
    assert shown.whole and not shown.phones
    assert len(shown.entries) == 10 and all(e.phone is None for e in shown.entries)
    for refused in (OTHER_LECTURER, LEARNER, 999_999):
        with pytest.raises(PermissionDenied):
            await services.class_lists.view(await actor(services, refused), world.class_id)
    with pytest.raises(NotFound):
        await services.class_lists.view(await actor(services, ADMIN), 987_654)


async def test_a_unit_head_sees_only_their_staff_who_keep_their_waitlist_place(
    services: Services, world: ClassListWorld
) -> None:
    shown = await services.class_lists.view(await actor(services, HEAD), world.class_id)
    assert not shown.whole and not shown.phones
    assert names(shown.entries) == [
        "Vàng Văn An", "Nguyễn Thị Phương", "Vàng Thị Em", "Lò Văn Cường", "Sùng A Phủ",
        "Lý Thị Mai", "Giàng A Tủa",
    ]  # fmt: skip
    assert shown.section(ListSection.WAITING)[0].position == 2
    assert all(e.phone is None for e in shown.entries)


async def test_lecturer_of_a_session_only_teaches_the_class(
    db: Database, world: ClassListWorld
) -> None:
    async with db.read() as conn:
        repo = ClassListRepository(conn)
        assert await repo.teaches(world.class_id, world.ids["lecturer"])
        assert not await repo.teaches(world.class_id, world.ids["other_lecturer"])


async def test_the_workbook_is_audited_and_holds_what_the_reader_may_see(
    db: Database, services: Services, world: ClassListWorld
) -> None:
    texts = Texts("vi")
    made = await services.class_lists.export(await actor(services, LECTURER), world.class_id, texts)
    assert made.counts == {ListSection.ENROLLED: 3, ListSection.PENDING: 1,
                           ListSection.WAITING: 2, ListSection.DECLINED: 1,
                           ListSection.OTHER: 3}  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(made.content))
    assert book.sheetnames == ["Thông tin lớp", "Học viên", "Chờ duyệt", "Danh sách chờ",
                               "Từ chối tham gia", "Khác"]  # fmt: skip
    header = next(book["Học viên"].iter_rows(values_only=True))
    assert "Điện thoại" not in header
    async with db.read() as conn:
        query = sa.select(audit_log.c.details, audit_log.c.actor_telegram_id).where(
            audit_log.c.action == "class_list_exported"
        )
        entry = (await conn.execute(query)).one()
    assert entry.actor_telegram_id == LECTURER
    assert entry.details == {"class_id": world.class_id, "entries": 10, "phones": False,
                             "whole": True}  # fmt: skip

"""Classes through the real protocol: the catalog, a card, enrolment with its refusals, the
clash confirmation, the waitlist and its promotion, withdrawal, cancellation notices and
"my timetable"."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from bot.actions import BrowseCatalog, Enrol, OpenClass, ShowSchedule
from bot.training import Audience
from storage.repositories.classes import ClassRepository
from storage.schema import catalog_views, classes, enrolments
from storage.types import utcnow
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, running_bot
from tests.factories import add_class, add_person, add_role

CADRE, OTHER = 3001, 3002


async def cadre(harness: Harness, telegram_id: int = CADRE, name: str = "Lò Thị Dung") -> int:
    return await add_person(harness.db, name, unit_id=harness.province.commune_id,
                            telegram_id=telegram_id)  # fmt: skip


async def enrolled_status(harness: Harness, class_id: int, person_id: int) -> str | None:
    async with harness.db.read() as conn:
        return await conn.scalar(
            sa.select(enrolments.c.status).where(
                enrolments.c.class_id == class_id, enrolments.c.person_id == person_id
            )
        )


async def test_a_cadre_finds_a_class_without_diacritics_and_enrols(harness: Harness) -> None:
    person = await cadre(harness)
    await add_class(harness.db, "TH.01", name="Tin học văn phòng")
    class_id = await add_class(harness.db, "CDS.01", name="Chuyển đổi số trong cơ quan nhà nước")
    user = harness.user(CADRE)

    await user.send("/classes chuyen doi so")
    listed = await user.expect("Lớp học đồng chí có thể đăng ký")
    assert "Chuyển đổi số" in listed.text and "Tin học" not in listed.text
    assert "2 buổi" in listed.text and "còn 30 chỗ" in listed.text
    await user.tap("1. Chuyển đổi số")
    card = await user.expect("Mã lớp: CDS.01")
    assert "Hội trường A" in card.text and "tất cả cán bộ" in card.text
    await user.tap("Đăng ký lớp này")
    await user.expect("xác nhận đăng ký lớp")
    await user.tap("Xác nhận đăng ký")
    done = await user.expect("Đồng chí đã đăng ký lớp")
    assert "CDS.01" in done.text
    assert await enrolled_status(harness, class_id, person) == "enrolled"

    # The search button asks for words, and the list shows the class now taken.
    await user.send("/classes")
    await user.expect("2 lớp")
    await user.tap("Tìm lớp")
    await user.expect("Nhập tên hoặc mã lớp")
    await user.send("cds")
    found = await user.expect("Lớp học đồng chí có thể đăng ký")
    assert "CDS.01" in found.text and "✅" in found.text


async def test_each_refusal_says_why_and_changes_nothing(harness: Harness) -> None:
    person = await cadre(harness)
    now = utcnow()
    deadline = await add_class(harness.db, "D.HAN", deadline=now - timedelta(hours=2))
    elsewhere = await add_class(
        harness.db, "D.SNV", audience=Audience(unit_ids=(harness.province.department_id,))
    )
    draft = await add_class(harness.db, "D.NHAP", plan_year=now.year + 2, approved=False)
    user = harness.user(CADRE)
    await user.send("/classes")
    listed = await user.expect("Lớp học đồng chí có thể đăng ký")
    for code in ("D.HAN", "D.SNV", "D.NHAP"):  # none of them is offered
        assert code not in listed.text
    expected = {
        deadline: "hết hạn đăng ký",
        elsewhere: "không dành cho đối tượng",
        draft: "chưa được phê duyệt",
        999_999: "Không tìm thấy lớp học",
    }
    for class_id, reason in expected.items():
        for confirmed in (False, True):
            answer = await forged_tap(user, Enrol(class_id, confirmed=confirmed).pack())
            assert reason in answer, (class_id, answer)
    async with harness.db.read() as conn:
        assert await conn.scalar(sa.select(sa.func.count()).select_from(enrolments)) == 0

    open_one = await add_class(harness.db, "D.MO")
    await user.send("/classes")
    await user.tap("D.MO")  # the button's label is its name; the list line shows the code
    await user.tap("Đăng ký lớp này")
    await user.tap("Xác nhận đăng ký")
    await user.expect("Đồng chí đã đăng ký lớp")
    again = await forged_tap(user, Enrol(open_one, confirmed=True).pack())
    assert "đã đăng ký lớp này rồi" in again
    assert await enrolled_status(harness, open_one, person) == "enrolled"


async def test_duplicated_training_names_the_earlier_class(harness: Harness) -> None:
    await cadre(harness)
    first = await add_class(harness.db, "CVC.1", programme="CVC", name="Chuyên viên chính khóa 1")
    second = await add_class(harness.db, "CVC.2", programme="CVC", name="Chuyên viên chính khóa 2")
    user = harness.user(CADRE)
    await user.send("/classes")
    await user.tap("khóa 1")
    await user.tap("Đăng ký lớp này")
    await user.tap("Xác nhận đăng ký")
    await user.expect("Đồng chí đã đăng ký lớp")
    answer = await forged_tap(user, OpenClass(second).pack())
    assert answer == ""
    card = await user.expect("Mã lớp: CVC.2")  # the card says why, and offers no Enrol
    assert "⛔ Đồng chí đang học nội dung này: «Chuyên viên chính khóa 1»" in card.text
    assert "Đăng ký lớp này" not in card.labels
    refused = await forged_tap(user, Enrol(second, confirmed=True).pack())
    assert "Chuyên viên chính khóa 1" in refused
    assert first != second


async def test_a_clash_is_shown_and_the_cadre_confirms_or_goes_back(harness: Harness) -> None:
    person = await cadre(harness)
    starts = utcnow().replace(microsecond=0) + timedelta(days=10)
    await add_class(harness.db, "A.1", starts=starts, name="Lớp sáng thứ nhất")
    second = await add_class(
        harness.db, "B.2", starts=starts + timedelta(hours=1), name="Lớp chồng lịch"
    )
    user = harness.user(CADRE)
    await user.send("/classes")
    await user.tap("Lớp sáng thứ nhất")
    await user.tap("Đăng ký lớp này")
    await user.tap("Xác nhận đăng ký")
    await user.expect("Đồng chí đã đăng ký lớp")

    await user.send("/classes")
    await user.tap("Lớp chồng lịch")
    await user.tap("Đăng ký lớp này")
    warning = await user.expect("trùng với lớp đồng chí đã đăng ký")
    assert "Lớp sáng thứ nhất" in warning.text and warning.text.count("• ") == 2
    await user.tap("Quay lại")
    await user.expect("Mã lớp: B.2")
    assert await enrolled_status(harness, second, person) is None
    await user.tap("Đăng ký lớp này")
    await user.tap("Vẫn đăng ký dù trùng lịch")
    await user.expect("Đồng chí đã đăng ký lớp")
    assert await enrolled_status(harness, second, person) == "enrolled"


async def test_the_waitlist_is_promoted_when_a_seat_frees_and_when_capacity_grows(
    harness: Harness,
) -> None:
    await cadre(harness)
    waiting_ids = [await cadre(harness, tid, f"Người chờ {tid}") for tid in (OTHER, 3003)]
    class_id = await add_class(harness.db, "FULL.1", capacity=1, name="Lớp một chỗ")
    first, second, third = harness.user(CADRE), harness.user(OTHER), harness.user(3003)
    await first.send("/classes")
    await first.tap("Lớp một chỗ")
    await first.tap("Đăng ký lớp này")
    await first.tap("Xác nhận đăng ký")
    await first.expect("Đồng chí đã đăng ký lớp")
    for position, user in ((1, second), (2, third)):
        await user.send("/classes")
        hidden = await user.expect("1 lớp phù hợp đã đủ chỗ")
        assert "Lớp một chỗ" not in hidden.text
        await user.tap("Xem cả lớp đã đủ chỗ")
        await user.tap("Lớp một chỗ")
        await user.tap("Đăng ký danh sách chờ")
        await user.expect("vào danh sách chờ")
        await user.tap("Xác nhận vào danh sách chờ")
        await user.expect(f"thứ tự {position}")

    await first.send("/schedule")
    await first.tap("Tất cả")
    await first.expect("FULL.1")
    await forged_tap(first, OpenClass(class_id).pack())
    await first.tap("Rút tên khỏi lớp")
    await first.expect("chắc chắn rút tên")
    await first.tap("Có, rút tên")
    await first.expect("Đã rút tên đồng chí khỏi lớp")
    promoted = await second.expect("Đã có chỗ cho đồng chí", timeout=10)
    assert "Lớp một chỗ" in promoted.text
    await second.tap("Xem lớp")
    await second.expect("Đồng chí đã đăng ký lớp này")
    assert await enrolled_status(harness, class_id, waiting_ids[0]) == "enrolled"

    await add_person(
        harness.db, "Quản trị", unit_id=harness.province.root_id, telegram_id=SUPERADMIN_ID
    )
    admin = await harness.app.bot_data.services.access.actor(SUPERADMIN_ID)
    await harness.app.bot_data.services.enrolment.set_capacity(admin, class_id, 2)
    await third.expect("Đã có chỗ cho đồng chí", timeout=10)
    async with harness.db.read() as conn:
        seats = await conn.scalar(
            sa.select(classes.c.enrolled_count).where(classes.c.id == class_id)
        )
    assert seats == 2


async def test_cancelling_a_class_tells_its_learners_and_waitlist(harness: Harness) -> None:
    await cadre(harness)
    await cadre(harness, OTHER, "Người chờ")
    class_id = await add_class(harness.db, "HUY.1", capacity=1, name="Lớp sẽ hủy")
    taken = ((CADRE, "Đăng ký lớp này", "Đồng chí đã đăng ký lớp"),
             (OTHER, "Đăng ký danh sách chờ", "thứ tự 1"))  # fmt: skip
    for telegram_id, label, outcome in taken:
        user = harness.user(telegram_id)
        await user.send("/classes")
        if telegram_id == OTHER:
            await user.tap("Xem cả lớp đã đủ chỗ")
        await user.tap("Lớp sẽ hủy")
        await user.tap(label)
        await user.tap("Xác nhận")
        await user.expect(outcome)
    await add_person(
        harness.db, "Quản trị", unit_id=harness.province.root_id, telegram_id=SUPERADMIN_ID
    )
    services = harness.app.bot_data.services
    admin = await services.access.actor(SUPERADMIN_ID)
    await services.enrolment.cancel_class(admin, class_id, "Trùng lịch họp của Tỉnh ủy")
    for telegram_id in (CADRE, OTHER):
        told = await harness.user(telegram_id).expect("đã bị hủy", timeout=10)
        assert "Trùng lịch họp của Tỉnh ủy" in told.text


async def test_my_timetable_shows_the_sessions_of_two_classes_by_day(harness: Harness) -> None:
    await cadre(harness)
    soon = utcnow().replace(microsecond=0) + timedelta(days=2)
    await add_class(harness.db, "T.1", starts=soon, name="Lớp kỹ năng lãnh đạo")
    await add_class(
        harness.db, "T.2", starts=soon + timedelta(hours=4), days=1, name="Lớp tiếng Mông"
    )
    await add_class(harness.db, "T.3", starts=soon + timedelta(days=20), name="Lớp tháng sau")
    user = harness.user(CADRE)
    await user.send("/schedule")
    empty = await user.expect("Lịch học 7 ngày tới")
    assert "chưa có buổi học" in empty.text
    for name in ("kỹ năng lãnh đạo", "tiếng Mông", "tháng sau"):
        await user.send("/classes")
        await user.tap(name)
        await user.tap("Đăng ký lớp này")
        await user.tap("Xác nhận đăng ký")
        await user.expect("Đồng chí đã đăng ký lớp")
    await user.send("🗓 Lịch học")  # the main keyboard's button
    week = await user.expect("Lịch học 7 ngày tới")
    assert week.text.count("T.1") == 2 and week.text.count("T.2") == 1 and "T.3" not in week.text
    assert week.text.index("T.1") < week.text.index("T.2")
    await user.tap("Tất cả")
    everything = await user.expect("Tất cả buổi học sắp tới")
    assert "T.3" in everything.text
    await user.tap("7 ngày tới")
    await user.expect("Lịch học 7 ngày tới")


async def test_the_catalog_pages_filters_survives_a_restart_and_says_when_a_view_expired(
    harness: Harness,
) -> None:
    await cadre(harness)
    for i in range(8):
        await add_class(
            harness.db,
            f"P.{i}",
            name=f"Lớp số {i}",
            starts=utcnow().replace(microsecond=0) + timedelta(days=20 + i),
        )
    user = harness.user(CADRE)
    await user.send("/classes")
    first = await user.expect("8 lớp (trang 1/2)")
    assert "Lớp số 0" in first.text and "Lớp số 7" not in first.text

    await harness.restart()
    await user.tap("Trang sau")
    second = await user.expect("trang 2/2")
    assert "Lớp số 7" in second.text
    await user.tap("Loại lớp")
    await user.expect("Chọn loại lớp")
    await user.tap("Lý luận chính trị")
    none = await user.expect("Không có lớp nào khớp")
    assert "Đang lọc: Lý luận chính trị" in none.text
    await user.tap("Bỏ lọc")
    await user.expect("8 lớp (trang 1/2)")

    async with harness.db.write() as conn:
        await conn.execute(catalog_views.update().values(expires_at=utcnow() - timedelta(days=1)))
    await user.tap("Trang sau")
    await user.expect("Danh sách này đã cũ")
    await user.tap("Mở lại danh sách lớp")
    await user.expect("8 lớp (trang 1/2)")


async def test_odd_input_and_strangers_get_an_answer(harness: Harness) -> None:
    stranger = harness.user(3999)
    await stranger.send("/classes")
    await stranger.expect("chưa có hồ sơ")
    await cadre(harness)
    user = harness.user(CADRE)
    await add_class(harness.db, "X.1")
    await user.send("/classes " + "🙂" * 3000)
    await user.expect("Không có lớp nào khớp")
    await user.send("/classes a")
    await user.expect("ít nhất 2 ký tự")
    assert await forged_tap(user, BrowseCatalog("nosuchview1").pack()) == ""
    await user.expect("Danh sách này đã cũ")
    assert "không hợp lệ" in await forged_tap(user, ShowSchedule("someday").pack())


async def test_lecturers_and_unit_heads_see_their_own_timetables(harness: Harness) -> None:
    lecturer = await add_person(harness.db, "Đặng Quốc Khánh", unit_id=harness.province.root_id,
                                telegram_id=3101)  # fmt: skip
    await add_role(harness.db, lecturer, "lecturer")
    head = await add_person(harness.db, "Giàng Seo Páo", unit_id=harness.province.commune_id,
                            telegram_id=3102)  # fmt: skip
    await add_role(harness.db, head, "unit_head", harness.province.commune_id)
    await cadre(harness)
    soon = utcnow().replace(microsecond=0) + timedelta(days=1)
    class_id = await add_class(harness.db, "GV.1", starts=soon, name="Lớp có giảng viên")
    async with harness.db.write() as conn:
        await ClassRepository(conn).set_lecturers(class_id, [lecturer])
    user = harness.user(CADRE)
    await user.send("/classes")
    await user.tap("Lớp có giảng viên")
    await user.tap("Đăng ký lớp này")
    await user.tap("Xác nhận đăng ký")
    await user.expect("Đồng chí đã đăng ký lớp")

    teacher = harness.user(3101)
    await teacher.send("/schedule")  # nothing to attend: what he teaches
    teaching = await teacher.expect("Lịch giảng dạy 7 ngày tới")
    assert teaching.text.count("GV.1") == 2
    boss = harness.user(3102)
    await boss.send("/schedule")
    await boss.tap("Cán bộ đơn vị")
    staff = await boss.expect("Cán bộ đơn vị đang học")
    assert "Lò Thị Dung" in staff.text and "Lớp có giảng viên" in staff.text


async def test_a_tap_answered_too_late_in_a_rush_gets_its_work_and_no_apology(
    tmp_path: Path,
) -> None:
    async with running_bot("sqlite", tmp_path, refusals_allowed=("query is too old",)) as harness:
        harness.emulator.callback_ttl = 0.0  # every answer comes after Telegram's window
        await cadre(harness)
        await add_class(harness.db, "RUSH.1", name="Lớp đông người")
        user = harness.user(CADRE)
        await user.send("/classes")
        await user.tap("Lớp đông người")
        await user.expect("Mã lớp: RUSH.1")
        await user.no_message(within=0.5)  # no "sorry, something went wrong"


async def test_a_tap_that_waited_past_its_answer_window_is_not_answered(harness: Harness) -> None:
    harness.app.bot_data.arrivals.ANSWER_WINDOW_S = -1.0  # as if each had waited in a rush
    await cadre(harness)
    await add_class(harness.db, "RUSH.2", name="Lớp đông người")
    user = harness.user(CADRE)
    await user.send("/classes")
    await user.tap("Lớp đông người")
    await user.expect("Mã lớp: RUSH.2")  # the work is done; no answer Telegram would refuse
    await user.no_message(within=0.5)

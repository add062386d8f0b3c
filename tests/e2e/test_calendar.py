"""Calendar files through the real app: a learner downloads their timetable as .ics from
/schedule, an administrator moves and cancels sessions in the chat, and the file downloaded
again updates the same events; a class's file from its card; a forged tap for another class
is refused. The clock is frozen at a chosen local hour of today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from icalendar import Calendar, Event

from bot.actions import ClassCalendarFile, MyCalendarFile
from tests.e2e.conftest import forged_tap
from tests.e2e.test_change_notices import a_class, bot_at, office, people_of, pick, today_at
from tests.factories import add_class, add_person
from tools.emulator.users import BotMessage, ScriptedUser

LEARNER, NEWCOMER = 5201, 5202


async def download_mine(learner: ScriptedUser) -> tuple[BotMessage, dict[str, Event]]:
    """From /schedule, all sessions to come, then the calendar button."""
    await learner.send("/schedule")
    await learner.tap("Tất cả")
    await learner.expect("Tất cả buổi học sắp tới")
    await learner.tap("📆 Thêm vào lịch điện thoại (.ics)")
    sent = await learner.expect("Lịch học của đồng chí")
    return sent, _events(sent)


def _events(sent: BotMessage) -> dict[str, Event]:
    assert sent.document is not None
    calendar = Calendar.from_ical(sent.document.content)
    return {str(e["UID"]): e for e in calendar.events}


def _start(event: Event) -> datetime:
    start = event.decoded("DTSTART")
    assert isinstance(start, datetime) and start.tzinfo is not None
    return start


async def test_a_learner_keeps_their_phone_calendar_right(
    database_kind: str, tmp_path: Path
) -> None:
    async with bot_at(database_kind, tmp_path, today_at(10)) as (harness, _):
        first = today_at(8) + timedelta(days=3)
        class_id = await a_class(harness, "CDS.01", first, name="Chuyển đổi số")
        other_id = await add_class(harness.db, "KNS.09", name="Kỹ năng mềm", days=1)
        await people_of(harness, class_id, [LEARNER])
        learner = harness.user(LEARNER)
        host = harness.app.bot.username

        sent, events = await download_mine(learner)
        assert sent.document is not None and sent.document.file_name == "lich-hoc.ics"
        assert "3 buổi" in sent.body and "tải lại tệp" in sent.body
        assert len(events) == 3 and all(uid.endswith(f"@{host}") for uid in events)
        calendar = Calendar.from_ical(sent.document.content)
        assert calendar["X-WR-CALNAME"] == f"Lịch học — Học viên {LEARNER}"
        first_uid = min(events, key=lambda uid: _start(events[uid]))
        event = events[first_uid]
        assert _start(event) == first.astimezone(UTC)
        assert b"DTSTART:" + f"{first.astimezone(UTC):%Y%m%dT%H%M%SZ}".encode() in (
            sent.document.content
        )
        assert (event["SEQUENCE"], event["STATUS"]) == (0, "CONFIRMED")
        assert event["SUMMARY"] == "Chuyển đổi số" and event["LOCATION"] == "Hội trường A"
        assert len(event.walk("VALARM")) == 2  # the default reminders

        # The office moves the first session and cancels the second, in the chat.
        admin = await office(harness)
        await pick(admin, "CDS.01", first)
        await admin.tap("Dời buổi")
        moved_to = first + timedelta(days=3, hours=5, minutes=30)
        await admin.send(f"{moved_to:%d/%m/%Y} 13h30-16h30")
        await admin.expect("Dời buổi học")
        await admin.tap("Xác nhận")
        await admin.expect("Đã dời buổi học")
        await admin.expect("Còn trống")
        second = first + timedelta(days=1)
        await pick(admin, "CDS.01", second)
        await admin.tap("Hủy buổi")
        await admin.tap("Xác nhận")
        await admin.expect("Chọn buổi học")

        _, again = await download_mine(learner)
        assert set(again) == set(events)  # the same events, updated in place
        moved = again[first_uid]
        assert moved["SEQUENCE"] == 1 and moved["STATUS"] == "CONFIRMED"
        assert _start(moved) == moved_to.astimezone(UTC)
        cancelled = [e for e in again.values() if e["STATUS"] == "CANCELLED"]
        assert len(cancelled) == 1 and cancelled[0]["SEQUENCE"] == 1
        assert _start(cancelled[0]) == second.astimezone(UTC)
        assert cancelled[0].walk("VALARM") == []

        # A class's own file, from its card.
        await learner.send("/classes")
        await learner.tap("1. Chuyển đổi số")
        await learner.expect("Mã lớp: CDS.01")
        await learner.tap("📆 Lịch lớp (.ics)")
        of_class = await learner.expect("Lịch lớp Chuyển đổi số")
        assert of_class.document is not None and of_class.document.file_name == "lich-CDS.01.ics"
        assert set(_events(of_class)) == set(events)

        # Another class's file, by a forged tap: refused, nothing sent.
        refused = await forged_tap(learner, ClassCalendarFile(other_id).pack())
        assert refused == "Đồng chí không học lớp này nên không tải được lịch của lớp."
        refused = await forged_tap(learner, ClassCalendarFile(10**12).pack())
        assert "không học lớp này" in refused
        await learner.no_message(within=0.2)


async def test_nothing_to_put_in_a_calendar_is_said_in_words(
    database_kind: str, tmp_path: Path
) -> None:
    async with bot_at(database_kind, tmp_path, today_at(10)) as (harness, _):
        class_id = await add_class(harness.db, "TS.01", name="Chưa xếp lịch", days=0)
        await people_of(harness, class_id, [LEARNER])
        await add_person(harness.db, "Người Mới", unit_id=harness.province.commune_id,
                         telegram_id=NEWCOMER)  # fmt: skip
        learner, newcomer = harness.user(LEARNER), harness.user(NEWCOMER)

        await learner.send("/schedule")
        await learner.expect("chưa có buổi học")
        assert "📆 Thêm vào lịch điện thoại (.ics)" not in learner.inbox[-1].labels
        await forged_tap(learner, MyCalendarFile().pack())  # a button from an older timetable
        said = await learner.expect("chưa có buổi học nào để thêm vào lịch")
        assert said.document is None

        await forged_tap(learner, ClassCalendarFile(class_id).pack())
        said = await learner.expect("Lớp Chưa xếp lịch chưa có lịch học")
        assert said.document is None

        await newcomer.send("/schedule")
        await newcomer.expect("chưa có buổi học")
        refused = await forged_tap(newcomer, ClassCalendarFile(class_id).pack())
        assert "không học lớp này" in refused

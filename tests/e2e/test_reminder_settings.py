"""Reminder settings through the real protocol: one screen edited by each tap (leads, on and
off), classes muted from their list and from a reminder's own button, quiet hours typed,
bad input refused in Vietnamese, and a newcomer told to register first."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.actions import ChangeQuietHours, MuteClass, SwitchReminders, ToggleLead
from bot.channels import NotifyVia
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.reminders import Lead, QuietHours, ReminderPrefs
from storage.repositories.zalo_accounts import ZaloAccountRepository
from storage.schema import zalo_accounts
from storage.types import utcnow
from tests.e2e.conftest import Harness, forged_tap, running_bot, running_both, tap_answer
from tests.factories import add_class, add_person
from tools.emulator.users import BotMessage, ScriptedUser

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CADRE, NEWCOMER = 3301, 3302


async def cadre(harness: Harness, telegram_id: int = CADRE) -> int:
    return await add_person(harness.db, "Hà Thị Nhắc", unit_id=harness.province.commune_id,
                            telegram_id=telegram_id)  # fmt: skip


async def actor(harness: Harness, telegram_id: int = CADRE) -> Actor:
    return await harness.app.bot_data.services.access.actor(telegram_id)


async def prefs(harness: Harness, telegram_id: int = CADRE) -> ReminderPrefs:
    return await harness.app.bot_data.services.reminders.settings(await actor(harness, telegram_id))


async def enrol(harness: Harness, class_id: int, telegram_id: int = CADRE) -> None:
    await harness.app.bot_data.services.enrolment.enrol(
        await actor(harness, telegram_id), class_id, clashes_seen=True
    )


async def edited(user: ScriptedUser, screen: BotMessage, text: str) -> BotMessage:
    """The next change to the screen: the same message, edited to read `text`."""
    again = await user.expect(text)
    assert again.edited and again.message_id == screen.message_id, again
    return again


@pytest.fixture
async def harness(database_kind: str, tmp_path: object) -> AsyncIterator[Harness]:
    """The bot with the production default quiet hours, which the settings screen shows."""
    async with running_bot(database_kind, tmp_path, quiet_hours="21:30-06:00") as running:
        yield running


async def test_one_screen_edited_by_each_tap_leads_on_and_off(harness: Harness) -> None:
    await cadre(harness)
    user = harness.user(CADRE)
    assert "settings" in harness.menu(CADRE)
    await user.send("/help")
    assert "/settings — Cài đặt nhắc lịch" in (await user.expect("/settings")).body

    await user.send("/schedule")  # the timetable offers the settings too
    await user.expect("Lịch học 7 ngày tới")
    await user.tap("Cài đặt nhắc lịch")
    screen = await user.expect("Cài đặt nhắc lịch")
    assert screen.edited and "đang bật" in screen.body
    assert screen.labels == [
        "🔕 Tắt tất cả nhắc lịch",
        "✅ Tối hôm trước, lúc 19:00",
        "▫️ Trước 1 ngày", "▫️ Trước 3 giờ",
        "✅ Trước 1 giờ", "▫️ Trước 15 phút",
        "🌙 Giờ yên lặng: 21:30–06:00",
        "📚 Lớp học của tôi",
    ]  # fmt: skip
    assert "Giờ yên lặng: 21:30–06:00" in screen.body

    await user.tap("Trước 15 phút")
    screen = await edited(user, screen, "Cài đặt nhắc lịch")
    assert "✅ Trước 15 phút" in screen.labels
    assert (await prefs(harness)).leads == (Lead.EVENING, Lead.HOUR, Lead.MINUTES_15)

    # A second tap of a button whose work is done changes nothing, and edits nothing.
    assert await forged_tap(user, ToggleLead(Lead.MINUTES_15).pack()) == ""
    await user.no_message()

    for lead in ("Tối hôm trước", "Trước 1 giờ", "Trước 15 phút"):
        await user.tap(lead)
        screen = await edited(user, screen, "Cài đặt nhắc lịch")
    assert "chưa chọn mốc nhắc nào" in screen.body  # reminders are effectively off
    assert (await prefs(harness)).leads == ()
    await user.tap("Trước 3 giờ")
    screen = await edited(user, screen, "Cài đặt nhắc lịch")
    assert "đang bật" in screen.body and "✅ Trước 3 giờ" in screen.labels

    await user.tap("Tắt tất cả nhắc lịch")
    screen = await edited(user, screen, "đang tắt")
    assert not any("Trước" in label for label in screen.labels)  # no leads while off
    assert not (await prefs(harness)).enabled
    assert await forged_tap(user, SwitchReminders(False).pack()) == ""
    await user.no_message()
    await user.tap("Bật nhắc lịch")
    screen = await edited(user, screen, "đang bật")
    assert "✅ Trước 3 giờ" in screen.labels  # the leads chosen are kept
    assert replace(await prefs(harness), chosen_at=None) == ReminderPrefs(leads=(Lead.HOURS_3,))


async def test_classes_are_muted_one_by_one_from_their_list(harness: Harness) -> None:
    await cadre(harness)
    first = utcnow().replace(microsecond=0) + timedelta(days=20)
    ids = [
        await add_class(harness.db, f"L.{i:02d}", name=f"Lớp thứ {i}",
                        starts=first + timedelta(days=i), days=1)
        for i in range(8)
    ]  # fmt: skip
    user = harness.user(CADRE)
    for class_id in ids:
        await enrol(harness, class_id)

    await user.send("/settings")
    screen = await user.expect("Cài đặt nhắc lịch")
    await user.tap("Lớp học của tôi")
    listed = await edited(user, screen, "Nhắc lịch theo từng lớp")
    assert "Trang 1/2" in listed.body
    assert listed.labels[:6] == [f"🔔 L.{i:02d} · Lớp thứ {i}" for i in range(6)]
    await user.tap("Trang sau")
    listed = await edited(user, listed, "Trang 2/2")
    await user.tap("L.07")
    listed = await edited(user, listed, "Trang 2/2")  # the same page, the class marked
    assert "🔕 L.07 · Lớp thứ 7" in listed.labels
    assert (await prefs(harness)).muted_classes == frozenset({ids[7]})
    again = await forged_tap(user, MuteClass(ids[7], True, listed=True).pack())
    assert again == ""
    await user.no_message()
    await user.tap("L.07")
    listed = await edited(user, listed, "Trang 2/2")
    assert "🔔 L.07 · Lớp thứ 7" in listed.labels
    assert (await prefs(harness)).muted_classes == frozenset()

    refused = await forged_tap(user, MuteClass(999_999, listed=True).pack())
    assert "Không tìm thấy lớp học" in refused
    await user.tap("Cài đặt nhắc lịch")
    await edited(user, listed, "đang bật")


async def test_a_reminder_mutes_its_class_and_can_undo_and_keeps_its_text(
    database_kind: str, tmp_path: Path
) -> None:
    # Ten in the morning, local, of the real day: out of the quiet hours.
    today = datetime.now(TZ).date()
    clock = FrozenClock(datetime.combine(today, time(10, 0), TZ))
    async with running_bot(database_kind, tmp_path, clock=clock) as harness:
        await cadre(harness)
        class_id = await add_class(
            harness.db, "NL.01", name="Kỹ năng số", starts=clock.now() + timedelta(minutes=65),
            days=1, created=clock.now() - timedelta(days=3),
        )  # fmt: skip
        user = harness.user(CADRE)
        await enrol(harness, class_id)
        clock.advance(timedelta(minutes=10))  # the hour before the session has come
        await harness.app.bot_data.services.reminders.run_pass()
        reminder = await user.expect("Nhắc lịch học hôm nay")
        assert reminder.labels == ["🗓 Lịch học của lớp", "🔕 Tắt nhắc lịch lớp này"]

        answer = await tap_answer(user, "Tắt nhắc lịch lớp này", reminder.message_id)
        assert "Đã tắt nhắc lịch lớp NL.01" in answer
        muted = await user.next_message()
        assert muted.message_id == reminder.message_id and muted.edited
        assert muted.text == reminder.text  # only the buttons changed
        assert muted.labels == ["🗓 Lịch học của lớp", "🔔 Bật lại nhắc lịch lớp này"]
        assert (await prefs(harness)).muted_classes == frozenset({class_id})

        answer = await tap_answer(user, "Bật lại nhắc lịch lớp này", reminder.message_id)
        assert "Đã bật lại nhắc lịch lớp NL.01" in answer
        unmuted = await user.next_message()
        assert unmuted.labels == reminder.labels and unmuted.text == reminder.text
        assert (await prefs(harness)).muted_classes == frozenset()
        again = await forged_tap(user, MuteClass(class_id, muted=False).pack())
        assert "Đã bật lại" in again  # a repeated tap: said again, nothing to edit
        await user.no_message()

        # The class's timetable comes in a new message: the reminder stays as it was.
        await user.tap("Lịch học của lớp", reminder.message_id)
        timetable = await user.expect("NL.01")
        assert not timetable.edited and timetable.message_id != reminder.message_id
        assert user.last is not None and user.last.message_id == timetable.message_id
        await user.tap("Tắt nhắc lịch lớp này", reminder.message_id)
        assert (await user.next_message()).message_id == reminder.message_id
        assert (await prefs(harness)).muted_classes == frozenset({class_id})


async def test_quiet_hours_typed_and_bad_input_refused_in_vietnamese(harness: Harness) -> None:
    await cadre(harness)
    user = harness.user(CADRE)
    await user.send("/settings")
    await user.expect("Cài đặt nhắc lịch")
    await user.tap("Giờ yên lặng")
    await user.expect("Giờ yên lặng hiện nay: 21:30–06:00")
    bad = {
        "25:00-06:00": "Chưa đọc được giờ «25:00»",
        "abc": "Chưa đọc được khoảng giờ «abc»",
        "9" * 5000: "Chưa đọc được khoảng giờ «9999",
        "🌙😴": "Chưa đọc được khoảng giờ «🌙😴»",
        "06:00-21:30": "Giờ yên lặng dài tối đa 12 tiếng",
        "22h-22h": "Không dùng giờ yên lặng",
    }
    for typed, said in bad.items():
        await user.send(typed)
        refusal = await user.expect(said)
        assert len(refusal.body) < 400
        assert "↩️ Dùng giờ mặc định (21:30–06:00)" in refusal.labels  # the buttons stay at hand
        assert (await prefs(harness)).quiet == QuietHours()
    await user.send("21h30 – 5h")
    saved = await user.expect("Đã lưu giờ yên lặng: 21:30–05:00")
    assert "🌙 Giờ yên lặng: 21:30–05:00" in saved.labels
    assert (await prefs(harness)).quiet == QuietHours(time(21, 30), time(5, 0))

    await user.tap("Giờ yên lặng")
    question = await user.expect("Giờ yên lặng hiện nay: 21:30–05:00")
    await user.tap("Không dùng giờ yên lặng")
    off = await edited(user, question, "Đã bỏ giờ yên lặng")
    assert "🌙 Giờ yên lặng: không dùng" in off.labels
    assert not (await prefs(harness)).quiet.active

    await user.tap("Giờ yên lặng")
    await user.expect("Giờ yên lặng hiện nay: không dùng")
    await user.send("dùng giờ mặc định")  # a button's label typed is that button
    await user.expect("Đã lưu giờ yên lặng: 21:30–06:00")
    assert (await prefs(harness)).quiet == QuietHours()

    await user.tap("Giờ yên lặng")
    await user.expect("Giờ yên lặng hiện nay")
    await user.tap("Hủy")
    await user.expect("giờ yên lặng giữ nguyên")
    assert (await prefs(harness)).quiet == QuietHours()


async def test_on_zalo_the_screens_say_to_reply_with_a_number(
    database_kind: str, tmp_path: object
) -> None:
    async with running_both(database_kind, tmp_path, quiet_hours="21:30-06:00") as both:
        user = both.zemu.user("Nhắc")
        await cadre(both.harness, await both.zalo.bridge.accounts.presented(user.id))
        await user.send("/settings")
        screen = await user.expect("Cài đặt nhắc lịch", timeout=10)
        assert "trả lời số thứ tự của một mốc để chọn hoặc bỏ chọn" in screen.text
        quiet = re.search(r"(\d+) · 🌙 Giờ yên lặng: 21:30–06:00", screen.text)
        assert quiet is not None, screen.text
        await user.send(quiet[1])
        asked = await user.expect("Giờ yên lặng hiện nay: 21:30–06:00")
        assert "hoặc trả lời số thứ tự của một lựa chọn bên dưới" in asked.text
        await user.send("22h-22h")
        refused = await user.expect("cùng là 22:00")
        assert "trả lời số thứ tự của lựa chọn «Không dùng giờ yên lặng»" in refused.text
        for said in (screen, asked, refused):
            assert "bấm" not in said.text.lower() and "nút" not in said.text, said.text
        await user.send("khong dung gio yen lang")
        await user.expect("Đã bỏ giờ yên lặng")


async def test_a_newcomer_is_told_to_register_first(harness: Harness) -> None:
    user = harness.user(NEWCOMER)
    await user.send("/settings")
    await user.expect("Đồng chí chưa có hồ sơ. Gõ /start để đăng ký.")
    for tapped in (SwitchReminders(False), ToggleLead(Lead.DAY), MuteClass(1), ChangeQuietHours()):
        assert "chưa có hồ sơ" in await forged_tap(user, tapped.pack())


async def test_a_cadre_on_both_messengers_chooses_where_messages_go(harness: Harness) -> None:
    person = await cadre(harness)
    user = harness.user(CADRE)
    await user.send("/settings")
    alone = await user.expect("Cài đặt nhắc lịch")
    assert "Zalo" not in alone.body and not any("Zalo" in label for label in alone.labels)

    async with harness.db.write() as conn:  # a Zalo account joined, as its one-time code does
        account = await ZaloAccountRepository(conn).create("0a1b2c", utcnow())
        await conn.execute(
            sa.update(zalo_accounts)
            .where(zalo_accounts.c.zalo_id == account.zalo_id)
            .values(person_id=person)
        )
    await user.send("/settings")
    screen = await user.expect("Cài đặt nhắc lịch")
    assert "qua: Telegram và Zalo" in screen.body
    assert screen.labels[-3:] == ["✅ Telegram và Zalo", "▫️ Chỉ Telegram", "▫️ Chỉ Zalo"]

    await user.tap("▫️ Chỉ Zalo")
    chosen = await edited(user, screen, "qua: Chỉ Zalo")
    assert chosen.labels[-3:] == ["▫️ Telegram và Zalo", "▫️ Chỉ Telegram", "✅ Chỉ Zalo"]
    services = harness.app.bot_data.services
    assert await services.channels.choice(await actor(harness)) is NotifyVia.ZALO

    # A forged choice changes nothing; a tap once the account is no longer joined says so.
    assert await forged_tap(user, "rem.via:fax")
    assert await services.channels.choice(await actor(harness)) is NotifyVia.ZALO
    async with harness.db.write() as conn:
        await conn.execute(sa.update(zalo_accounts).values(person_id=None))
    answer = await tap_answer(user, "✅ Chỉ Zalo")
    assert "không còn liên kết" in answer
    assert await services.channels.choice(await actor(harness)) is None

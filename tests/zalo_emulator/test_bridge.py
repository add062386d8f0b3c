"""The real bot, unchanged, reached from Zalo: the Zalo emulator, the bridge, PTB polling it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import ApplicationHandlerStop, ContextTypes, TypeHandler

from bot.app import Endpoint, build_application, start_application, stop_application
from bot.channels import ZALO_ID_BASE, Channel
from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import texts
from bot.services.zalo_accounts import ZaloAccountService
from bot.zalo.accounts import MemoryAccounts
from bot.zalo.bridge import ZaloBridge
from bot.zalo.client import ZaloClient
from tests.conftest import close_database, open_database
from tests.factories import make_province
from tools.zalo_emulator import ZaloBotApiEmulator, ZaloUser

TOKEN = "424242:zalo-bridge-test"


@dataclass
class Running:
    zemu: ZaloBotApiEmulator
    bridge: ZaloBridge
    app: Any


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    db, schema = await open_database("sqlite", tmp_path)
    await make_province(db)
    try:
        async with (
            ZaloBotApiEmulator() as zemu,
            ZaloClient(zemu.token, base_url=zemu.url) as client,
            ZaloBridge(
                client,
                texts("vi"),
                token=TOKEN,
                poll_timeout=1,
                accounts=ZaloAccountService(db, SystemClock()),
            ) as bridge,  # fmt: skip
        ):
            settings = Settings(
                _env_file=None,
                bot_token=TOKEN,
                telegram_base_url=bridge.base_url,
                telegram_base_file_url=bridge.base_file_url,
                admin_ids=frozenset({1000}),
                database_url=f"sqlite+aiosqlite:///{tmp_path}/test.db",
                quiet_hours="00:00-00:00",
                office_reminder_hours="00:00-00:00",
                digest_weekly="off",
                digest_monthly="off",
            )
            # A Zalo endpoint, as bot.app.zalo_channel builds it: texts worded for Zalo.
            endpoint = Endpoint(Channel.ZALO, TOKEN, bridge.base_url, bridge.base_file_url)
            app = build_application(settings, db=db, endpoint=endpoint)
            await start_application(app, poll_timeout=1)
            try:
                yield Running(zemu, bridge, app)
            finally:
                await stop_application(app)
    finally:
        await close_database(db, schema)


async def test_a_zalo_user_gives_consent_by_number_and_by_words(running: Running) -> None:
    lan = running.zemu.user("Lan")
    await lan.send("/start")
    notice = await lan.expect("dữ liệu cá nhân nhạy cảm", timeout=10)
    # Telegram HTML arrives as plain text, the buttons as a numbered list.
    assert "<b>" not in notice.text and "<" not in (notice.raw or "")
    assert "1 · ✅ Tôi đồng ý" in notice.text and "2 · ❌ Không đồng ý" in notice.text
    assert "trả lời bằng số thứ tự" in notice.text

    await lan.send("1")
    asked = await lan.expect("gõ số điện thoại")  # Zalo shares no contact: it is typed
    assert "1 · ✍️ Tự khai báo hồ sơ" in asked.text and "Chia sẻ" not in asked.text

    # A reply-keyboard button, typed without diacritics, reaches the bot as its words.
    await lan.send("tu khai bao ho so")
    await lan.expect("họ và tên")


async def test_an_edit_arrives_as_a_new_message_and_menu_lists_the_commands(
    running: Running,
) -> None:
    an = running.zemu.user("An")
    await an.send("/start")
    await an.expect("Tôi đồng ý", timeout=10)
    await an.send("khong dong y")
    refused = await an.next_message()
    # The consent message replaced in place on Telegram by the answer: on Zalo a new message,
    # not marked as an update since it is no revision of the question.
    assert refused.startswith("Đã ghi nhận: đồng chí không đồng ý")
    assert "<b>" not in refused and "·" not in refused

    await an.send("Menu")
    menu = await an.next_message()
    assert menu.startswith("Các chức năng của trợ lý")
    number = next(line for line in menu.splitlines() if line.endswith("— /start")).split(" · ")[0]
    await an.send(number)
    await an.expect("Tôi đồng ý")


async def test_a_long_text_is_split(
    running: Running,
) -> None:
    minh = running.zemu.user("Minh")
    await minh.send("/start")
    await minh.expect("Tôi đồng ý", timeout=10)
    chat_id = await running.bridge.accounts.presented(minh.id)
    assert chat_id >= ZALO_ID_BASE

    paragraph = "<b>Đoạn</b> " + "chữ " * 120
    long_html = "\n\n".join(f"{n}. {paragraph}" for n in range(1, 9))
    await running.app.bot.send_message(chat_id, long_html)
    parts = [await minh.next_message() for _ in range(2)]
    assert all(len(part) <= 2000 for part in parts)
    assert "<b>" not in "".join(parts) and parts[0].startswith("1. Đoạn chữ")
    assert parts[1].rstrip().endswith("chữ")
    assert sum(part.count("Đoạn") for part in parts) == 8


async def test_what_zalo_cannot_do_is_refused_as_telegram_would(running: Running) -> None:
    hoa = running.zemu.user("Hoa")
    await hoa.send("/start")
    await hoa.expect("Tôi đồng ý", timeout=10)
    chat_id = await running.bridge.accounts.presented(hoa.id)
    with pytest.raises(BadRequest, match=r"(?i)not available on zalo"):
        await running.app.bot.send_poll(chat_id, "?", ["a", "b"])
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await running.app.bot.send_message(ZALO_ID_BASE - 1, "xin chào")
    with pytest.raises(BadRequest, match="too long"):
        await running.app.bot.send_message(chat_id, "a" * 4097)
    await hoa.no_message(0.2)

    # A picture is not carried over yet: the person is told to type.
    await hoa.send_image("https://example.invalid/a.jpg")
    assert "chỉ đọc được tin nhắn chữ" in await hoa.next_message()


async def test_zalo_ids_map_to_a_range_telegram_never_uses_and_stay_put() -> None:
    ids = MemoryAccounts()
    first = await ids.presented("a1b2c3d4e5f60718293a")
    assert first >= ZALO_ID_BASE and first < 2**63
    assert (
        await ids.presented("a1b2c3d4e5f60718293a")
        == first
        == await MemoryAccounts().presented("a1b2c3d4e5f60718293a")
    )
    assert await ids.zalo_id(first) == "a1b2c3d4e5f60718293a"
    assert await ids.presented("0000000000000000000b") != first
    assert await ids.zalo_id(12345) is None


async def test_files_are_named_and_zalo_refusals_read_as_telegram_ones(running: Running) -> None:
    binh = running.zemu.user("Bình")
    await binh.send("/start")
    await binh.expect("Tôi đồng ý", timeout=10)
    chat_id = await running.bridge.accounts.presented(binh.id)
    sent = await running.app.bot.send_document(
        chat_id, b"PK\x03\x04", filename="bao_cao.xlsx", caption="<b>Báo cáo</b> quý"
    )
    assert sent.document is not None and sent.document.file_name == "bao_cao.xlsx"
    shown = await binh.next_message()
    assert shown.startswith("Báo cáo quý\n\n📎") and "bao_cao.xlsx" in shown

    url = f"{running.bridge.base_url}{TOKEN}"
    async with httpx.AsyncClient(timeout=5) as http:
        wrong = await http.post(f"{running.bridge.base_url}0:forged/getMe")
        assert wrong.status_code == 401 and wrong.json()["ok"] is False
        gone = await http.post(f"{url}/editMessageText", data={
            "chat_id": chat_id, "message_id": 2**62, "text": "x",
        })  # fmt: skip
        assert gone.status_code == 400 and "not found" in gone.json()["description"]
        stale = await http.post(f"{url}/answerCallbackQuery", data={"callback_query_id": "9"})
        assert stale.status_code == 400

        running.zemu.faults.configure(quota={"every_nth": 1}, retry_after=True)
        busy = await http.post(f"{url}/sendMessage", data={"chat_id": chat_id, "text": "a"})
        assert busy.status_code == 429 and busy.json()["parameters"]["retry_after"] >= 1
        running.zemu.faults.configure(quota={}, server_error={"every_nth": 1})
        down = await http.post(f"{url}/sendMessage", data={"chat_id": chat_id, "text": "a"})
        assert down.status_code == 502 and down.json()["ok"] is False
        running.zemu.faults.configure(server_error={})
    await binh.no_message(0.2)


async def test_odd_text_from_zalo_reaches_the_bot_as_typed(running: Running) -> None:
    chi = running.zemu.user("Chi")
    await chi.send("/start")
    await chi.expect("Tôi đồng ý", timeout=10)
    await chi.send("1")
    await chi.expect("gõ số điện thoại")
    await chi.send("1")
    await chi.expect("họ và tên")
    # Neither a number on the list nor a label: the bot gets the words and judges them.
    await chi.send("👩🏽‍💻\u200f" * 300)
    answer = await chi.next_message()
    assert answer.startswith("Họ tên chỉ gồm chữ cái") and "1 · ⬅️ Quay lại" in answer


async def test_the_poller_outlives_a_failed_answer_of_its_own(running: Running) -> None:
    dung = running.zemu.user("Dũng")
    running.zemu.faults.configure(server_error={"every_nth": 1})
    await dung.send_sticker()
    await dung.no_message(0.3)
    running.zemu.faults.configure(server_error={})
    await dung.send("/start")
    await dung.expect("Tôi đồng ý", timeout=10)


class Watched:
    """A Zalo user who has written to the bot, and what the application receives from them
    from then on: recorded before any handler of the bot sees it, and stopped there, so the
    test sends what it likes and reads exactly what the bridge made of each reply."""

    def __init__(self, running: Running, user: ZaloUser, chat_id: int) -> None:
        self.running = running
        self.user = user
        self.chat_id = chat_id
        self.updates: asyncio.Queue[Update] = asyncio.Queue()

    async def record(self, update: object, _: ContextTypes.DEFAULT_TYPE) -> None:
        assert isinstance(update, Update)
        self.updates.put_nowait(update)
        raise ApplicationHandlerStop

    async def sent(self, text: str, markup: Any = None) -> tuple[int, str]:
        """The bot sends a message; its id, and what the Zalo user read."""
        message = await self.running.app.bot.send_message(self.chat_id, text, reply_markup=markup)
        return message.message_id, await self.user.next_message()

    async def reply(self, typed: str) -> Update:
        await self.user.send(typed)
        return await asyncio.wait_for(self.updates.get(), timeout=5)

    async def tapped(self, typed: str) -> tuple[str | None, int]:
        """The callback query a reply became: its data and the id of its message."""
        query = (await self.reply(typed)).callback_query
        assert query is not None and query.message is not None, typed
        return query.data, query.message.message_id

    async def typed(self, typed: str) -> str | None:
        """The text a reply reached the bot as."""
        message = (await self.reply(typed)).message
        assert message is not None, typed
        return message.text


async def watch(running: Running, name: str) -> Watched:
    user = running.zemu.user(name)
    await user.send("/start")
    await user.expect("Tôi đồng ý", timeout=10)
    watched = Watched(running, user, await running.bridge.accounts.presented(user.id))
    running.app.add_handler(TypeHandler(Update, watched.record), group=-10)
    return watched


def inline(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data)]
                                 for label, data in buttons])  # fmt: skip


async def test_words_reach_the_button_of_an_earlier_message(running: Running) -> None:
    lan = await watch(running, "Lan")
    first, shown = await lan.sent("Nhắc lịch: lớp NL.01", inline(("✅ Điểm danh", "checkin:1")))
    assert "1 · ✅ Điểm danh" in shown
    second, shown = await lan.sent("Nhắc lịch: lớp NL.02", inline(("🗓 Lịch học của lớp", "s:2")))
    assert "1 · 🗓 Lịch học của lớp" in shown

    # A number picks from the latest list; words from the newest list that has them, and the
    # button press is on that list's own message.
    assert await lan.tapped("1") == ("s:2", second)
    assert await lan.tapped("diem danh") == ("checkin:1", first)
    assert await lan.tapped("✅ Điểm danh") == ("checkin:1", first)
    assert await lan.tapped("1 · ✅ Điểm danh") == ("checkin:1", first)
    assert await lan.tapped("lich hoc cua lop") == ("s:2", second)

    # A few lists later the first one is forgotten: its words reach the bot as typed.
    for n in range(5):
        await lan.sent(f"Thông báo {n}", inline((f"Xem {n}", f"see:{n}")))
    assert await lan.tapped("xem 0") == ("see:0", second + 1)
    assert await lan.typed("diem danh") == "diem danh"


async def test_the_main_keyboard_is_listed_only_when_it_changes(running: Running) -> None:
    lan = await watch(running, "Lan")
    main = ReplyKeyboardMarkup([["📚 Lớp học", "🗓 Lịch học"]], is_persistent=True)
    _, welcome = await lan.sent("Chào mừng đồng chí", main)
    assert "1 · 📚 Lớp học\n2 · 🗓 Lịch học" in welcome
    _, found = await lan.sent("Kết quả tìm kiếm", main)
    assert found == "Kết quả tìm kiếm"  # the same keyboard again: not listed
    results, shown = await lan.sent("Lớp CDS.01", inline(("Chi tiết", "class:1")))
    assert "1 · Chi tiết" in shown
    await lan.sent("Hết danh sách", main)
    # The numbers are those of the results; the keyboard answers to its words at any time.
    assert await lan.tapped("1") == ("class:1", results)
    assert await lan.typed("lop hoc") == "📚 Lớp học"
    assert await lan.typed("🗓 Lịch học") == "🗓 Lịch học"

    # A role change brings another keyboard: it is listed, and answers by number.
    staff = ReplyKeyboardMarkup([["📚 Lớp học"], ["🧾 Điểm danh"]], is_persistent=True)
    _, changed = await lan.sent("Đồng chí được giao vai trò cán bộ tổ chức", staff)
    assert "1 · 📚 Lớp học\n2 · 🧾 Điểm danh" in changed
    assert await lan.typed("2") == "🧾 Điểm danh"
    # A one-time keyboard (a dialogue's step) is listed every time.
    step = ReplyKeyboardMarkup([["⬅️ Quay lại", "❌ Hủy"]], one_time_keyboard=True)
    for _ in range(2):
        _, asked = await lan.sent("Nhập họ và tên", step)
        assert "1 · ⬅️ Quay lại\n2 · ❌ Hủy" in asked
    assert await lan.typed("2") == "❌ Hủy"
    # The main keyboard coming back replaces the step's: its numbers mean nothing now.
    await lan.sent("Đã hủy", staff)
    assert await lan.typed("2") == "2"
    assert await lan.typed("huy") == "huy"
    assert await lan.typed("diem danh") == "🧾 Điểm danh"

    # Under inline buttons a new main keyboard is not listed (Telegram carries one markup
    # per message; the bridge takes both if given).
    url = f"{running.bridge.base_url}{TOKEN}/sendMessage"
    markup = {"inline_keyboard": [[{"text": "Mở", "callback_data": "open"}]],
              "keyboard": [["👤 Hồ sơ của tôi"]], "is_persistent": True}  # fmt: skip
    async with httpx.AsyncClient(timeout=5) as http:
        both = await http.post(url, json={"chat_id": lan.chat_id, "text": "Cả hai",
                                          "reply_markup": markup})  # fmt: skip
    assert both.json()["ok"]
    shown = await lan.user.next_message()
    assert "1 · Mở" in shown and "Hồ sơ" not in shown
    assert await lan.typed("ho so cua toi") == "👤 Hồ sơ của tôi"


async def test_an_edit_is_marked_only_when_it_revises_the_text(running: Running) -> None:
    lan = await watch(running, "Lan")
    bot = running.app.bot
    seats, _ = await lan.sent("Lớp CDS.01: còn <b>40</b> chỗ", inline(("Đăng ký", "enrol:1")))
    await bot.edit_message_text("Lớp CDS.01: còn <b>39</b> chỗ", lan.chat_id, seats,
                                reply_markup=inline(("Đăng ký", "enrol:1")))  # fmt: skip
    assert (await lan.user.next_message()).startswith("✏️ Cập nhật: Lớp CDS.01: còn 39 chỗ\n")
    # The next step of a dialogue in the same message: a message of its own, unmarked.
    await bot.edit_message_text("Đồng chí chọn buổi học muốn xin nghỉ", lan.chat_id, seats,
                                reply_markup=inline(("Buổi 1", "leave:1")))  # fmt: skip
    step = await lan.user.next_message()
    assert step.startswith("Đồng chí chọn buổi học muốn xin nghỉ\n\n1 · Buổi 1")
    # Only the buttons changed: the words again, unmarked, over the new list.
    await bot.edit_message_reply_markup(lan.chat_id, seats, reply_markup=inline(("Buổi 2", "l:2")))
    again = await lan.user.next_message()
    assert again.startswith("Đồng chí chọn buổi học muốn xin nghỉ\n\n1 · Buổi 2")
    assert await lan.tapped("1") == ("l:2", seats)
    # The buttons edited away: the number is no longer a choice.
    await bot.edit_message_text("Đã gửi đơn xin nghỉ buổi 2", lan.chat_id, seats)
    assert await lan.user.next_message() == "Đã gửi đơn xin nghỉ buổi 2"
    assert await lan.typed("1") == "1"


async def test_a_long_message_refused_midway_resumes_without_repeating_a_part(
    running: Running,
) -> None:
    """Zalo takes one message a second per chat: the second part of a long text is refused
    (429), the application sends the message again, and only the missing part goes out."""
    minh = running.zemu.user("Minh")
    await minh.send("/start")
    await minh.expect("Tôi đồng ý", timeout=10)
    await minh.no_message(1.1)  # the consent notice's second is over
    running.zemu.faults.configure(chat_per_s=1, retry_after=True)
    chat_id = await running.bridge.accounts.presented(minh.id)

    long_text = "\n\n".join(f"Đoạn {n}. " + "chữ " * 150 for n in range(1, 6))
    await running.app.bot.send_message(chat_id, long_text)  # its limiter retries after 429
    parts = [await minh.next_message(timeout=10) for _ in range(2)]
    assert parts[0].startswith("Đoạn 1.") and "Đoạn 5." in parts[1]
    await minh.no_message(1.5)
    assert running.zemu.stats.rate_limited >= 1

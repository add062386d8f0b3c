"""The sandbox session against the real emulator, the bot's side played over the Bot API.

No bot runs here: the test sends what a bot would (a message on its own initiative, a file to
someone else) and checks what the person at the terminal sees and what reaches the bot.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.zalo.client import ZaloClient
from tools.demo.data import ZALO_NEWCOMER_ID
from tools.emulator import BotApiEmulator
from tools.sandbox import session as session_module
from tools.sandbox.clock import SandboxClock
from tools.sandbox.console import Console
from tools.sandbox.session import Session, demo_identities, free_path, split_name
from tools.zalo_emulator import ZaloBotApiEmulator

TOKEN = "123456:SANDBOX"
NEWCOMER, LEARNER = 900005, 900004
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CONSENT = {"inline_keyboard": [[{"text": "✅ Tôi đồng ý", "callback_data": "ob:yes"}]]}


class TypedLines:
    """Lines the test types, one at a time, as a piped stdin would give them."""

    shows_input = False

    def __init__(self) -> None:
        self.lines: asyncio.Queue[str | None] = asyncio.Queue()

    async def read(self, prompt: str) -> str | None:
        return await self.lines.get()

    def close(self) -> None:
        pass


class Screen(io.StringIO):
    """The terminal's output, with an event to wait on instead of polling."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Event()

    def write(self, text: str) -> int:
        self.changed.set()
        return super().write(text)


class Terminal:
    def __init__(
        self, emulator: BotApiEmulator, http: aiohttp.ClientSession, zalo: ZaloClient
    ) -> None:
        self.emulator, self.http = emulator, http
        #: The Zalo platform as the bot's Zalo channel sees it.
        self.zalo = zalo
        self.out = Screen()
        self.source = TypedLines()
        self.seen = 0
        self.clock_file = Path("data/clock.json")
        #: What "the bot" sends when the clock moves (as its reminder pass would), and to whom.
        self.due: list[tuple[int, str]] = []
        self.wakes = 0
        self._sending: set[asyncio.Task[Any]] = set()

    def clock_moved(self) -> None:
        """The bot's side of a move: its pass sends the reminders now due, a moment later."""
        self.wakes += 1
        for chat_id, text in self.due:
            task = asyncio.create_task(self.bot("sendMessage", chat_id=chat_id, text=text))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)
        self.due = []

    async def bot(self, method: str, **params: Any) -> Any:
        """Call the Bot API as the bot would."""
        url = f"{self.emulator.base_url}{TOKEN}/{method}"
        if "document" in params:
            form = aiohttp.FormData()
            for key, value in params.items():
                if isinstance(value, tuple):
                    form.add_field(key, value[1], filename=value[0])
                else:
                    form.add_field(key, str(value))
            response = await self.http.post(url, data=form)
        else:
            response = await self.http.post(url, json=params)
        body = await response.json()
        assert body["ok"], body
        return body["result"]

    async def type(self, line: str) -> None:
        await self.source.lines.put(line)

    async def expect(self, text: str, within: float = 5.0) -> str:
        """Wait until `text` is printed after what was already matched; returns the new output."""
        async with asyncio.timeout(within):
            while text not in self.out.getvalue()[self.seen :]:
                self.out.changed.clear()
                await self.out.changed.wait()
        output = self.out.getvalue()
        start = self.seen
        self.seen = output.index(text, start) + len(text)
        return output[start : self.seen]


@pytest.fixture
async def terminal(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[Terminal]:
    # No bot answers here, so do not wait long for one.
    monkeypatch.setattr(session_module, "FIRST_REPLY_S", 0.1)
    monkeypatch.setattr(session_module, "QUIET_S", 0.05)
    monkeypatch.chdir(tmp_path)
    async with (
        BotApiEmulator(token=TOKEN) as emulator,
        aiohttp.ClientSession() as http,
        ZaloBotApiEmulator() as zemu,
        ZaloClient(zemu.token, base_url=zemu.url) as zalo,
    ):
        term = Terminal(emulator, http, zalo)
        clock = SandboxClock(term.clock_file, TZ)
        console = Console(term.out, terminal=False)
        session = Session(emulator, console, tmp_path / "files", clock, zalo=zemu)
        session.on_clock_moved = term.clock_moved
        session.start()
        running = asyncio.create_task(session.run(term.source))
        try:
            yield term
            await term.type(":quit")
            await asyncio.wait_for(running, 5)
        finally:
            running.cancel()
            await session.close()


async def updates(term: Terminal) -> list[dict[str, Any]]:
    return await term.bot("getUpdates", offset=0, timeout=0)


async def test_first_chat_opens_with_start_and_a_number_taps_the_button(terminal: Terminal) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.bot("sendMessage", chat_id=NEWCOMER, text="Đồng ý?", reply_markup=CONSENT)
    await terminal.expect("[1] ✅ Tôi đồng ý")
    await terminal.type("1")
    await terminal.expect("newcomer› 1")
    await asyncio.sleep(0.2)
    sent = await updates(terminal)
    assert sent[0]["message"]["text"] == "/start"
    assert sent[0]["message"]["from"]["last_name"] == "Triệu Thị"
    assert sent[1]["callback_query"]["data"] == "ob:yes"


async def test_messages_for_another_identity_wait_for_them(terminal: Terminal) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.bot(
        "sendDocument",
        chat_id=LEARNER,
        caption="Lịch học tuần này",
        document=("lich-hoc.txt", b"Thu 2: 7:30"),
    )
    await terminal.expect("🔔 Tin mới cho Lò Thị Dung, học viên · gõ :as learner")
    assert "Lịch học tuần này" not in terminal.out.getvalue()

    await terminal.type(":as learner")
    shown = await terminal.expect("learner› /start")
    assert "🤖 Lịch học tuần này" in shown
    saved = Path("files/learner/lich-hoc.txt")
    assert f"📎 {saved}" in shown
    assert await asyncio.to_thread(saved.read_bytes) == b"Thu 2: 7:30"


async def test_switching_back_shows_the_live_buttons_again(terminal: Terminal) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.bot("sendMessage", chat_id=NEWCOMER, text="Đồng ý?", reply_markup=CONSENT)
    await terminal.expect("[1] ✅ Tôi đồng ý")
    await terminal.type(":as admin")
    await terminal.expect("admin› /start")
    await terminal.type(":as new")
    shown = await terminal.expect("[1] ✅ Tôi đồng ý")
    assert "── Triệu Thị Đào, cán bộ mới (newcomer) ──" in shown


async def test_who_unknown_commands_and_missing_files_are_answered_locally(
    terminal: Terminal,
) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.type(":who")
    who = await terminal.expect("learner ")
    assert "▶ newcomer Triệu Thị Đào, cán bộ mới (id 900005)" in who
    await terminal.type(":as le")
    await terminal.expect("choose one of")
    await terminal.type(":dance")
    await terminal.expect("Không rõ lệnh :dance")
    await terminal.type(":file /no/such/file.pdf")
    await terminal.expect("no such file: /no/such/file.pdf")
    await terminal.type(":menu")
    await terminal.expect("no menu")
    texts = [u["message"].get("text") for u in await updates(terminal)]
    assert texts == ["/start"]


async def test_upload_and_contact_reach_the_bot(terminal: Terminal, tmp_path: Path) -> None:
    await terminal.expect("newcomer› /start")
    roster = tmp_path / "danh-sach.csv"
    roster.write_text("ho_ten\nTriệu Thị Đào\n", encoding="utf-8")
    await terminal.type(f":file {roster}")
    await terminal.expect("📎 danh-sach.csv (text/csv) → bot")
    await terminal.type(":contact")
    await terminal.expect("newcomer› :contact")
    await asyncio.sleep(0.2)
    sent = [u["message"] for u in await updates(terminal)]
    assert sent[1]["document"]["file_name"] == "danh-sach.csv"
    contact = sent[2]["contact"]
    assert (contact["phone_number"], contact["user_id"]) == ("+84912000005", NEWCOMER)


async def test_the_clock_moves_on_is_kept_and_wakes_the_reminders(terminal: Terminal) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.type(":clock")
    await terminal.expect("(giờ thật · real time)")
    assert terminal.wakes == 0 and not terminal.clock_file.exists()

    await terminal.type(":clock +2h")
    await terminal.expect("(giờ thật + 2 giờ · real time +2h)")
    await terminal.type(":clock +1d30m")
    await terminal.expect("(giờ thật + 1 ngày 2 giờ 30 phút · real time +1d 2h 30m)")
    assert terminal.wakes == 2
    # What a restart reads: the moved time is kept.
    kept = SandboxClock(terminal.clock_file, TZ).clock.offset
    assert timedelta(days=1, hours=2, minutes=29) < kept <= timedelta(days=1, hours=2, minutes=30)

    await terminal.type(":clock reset")
    await terminal.expect("(giờ thật · real time)")
    assert SandboxClock(terminal.clock_file, TZ).clock.offset == timedelta(0)
    assert terminal.wakes == 3


async def test_bad_clock_input_is_answered_and_changes_nothing(terminal: Terminal) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.type(":clock +3h")
    await terminal.expect("real time +3h)")
    saved = terminal.clock_file.read_text("utf-8")
    for line, says in [(":clock -1h", "the clock only moves forward"),
                       (":clock 31/02 08:00", "no such date"),
                       (":clock soon", "Không hiểu «soon» · not understood"),
                       (":clock +400d", "at most 366 days")]:  # fmt: skip
        await terminal.type(line)
        await terminal.expect(says)
    assert terminal.clock_file.read_text("utf-8") == saved and terminal.wakes == 1
    await terminal.type(":help")
    await terminal.expect(":clock reset")


async def test_reminders_due_after_a_move_arrive_before_the_next_line(
    terminal: Terminal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "FIRST_REPLY_S", 5.0)
    monkeypatch.setattr(session_module, "CLOCK_QUIET_S", 0.3)
    await terminal.expect("newcomer› /start")
    terminal.due = [(LEARNER, "⏰ Nhắc lịch học ngày mai"), (NEWCOMER, "⏰ Nhắc lịch học hôm nay")]
    await terminal.type(":clock 19:00")
    await terminal.type(":who")
    shown = await terminal.expect("newcomer› :who")
    assert "🔔 Tin mới cho Lò Thị Dung, học viên · gõ :as learner" in shown
    assert "🤖 ⏰ Nhắc lịch học hôm nay" in shown
    await terminal.type(":as learner")
    await terminal.expect("🤖 ⏰ Nhắc lịch học ngày mai")


async def test_zalo_chats_in_plain_text_and_a_number_is_typed_not_tapped(
    terminal: Terminal,
) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.type(":zalo")
    await terminal.expect("── Vàng Thị Mai, cán bộ mới dùng Zalo (zalo) ──")
    await terminal.expect("zalo› /start   (tự động · sent for you)")
    opened = await terminal.zalo.get_updates(timeout=1)
    assert opened is not None and (opened.sender_id, opened.text) == (ZALO_NEWCOMER_ID, "/start")

    consent = "Đồng chí có đồng ý không?\n\n1 · ✅ Tôi đồng ý\n2 · ❌ Không đồng ý"
    await terminal.zalo.send_message(ZALO_NEWCOMER_ID, consent)
    shown = await terminal.expect("2 · ❌ Không đồng ý")
    assert "🤖 Đồng chí có đồng ý không?\n\n   1 · ✅ Tôi đồng ý\n" in shown
    assert "[1]" not in shown
    await terminal.type("1")
    await terminal.expect("zalo› 1")
    typed = await terminal.zalo.get_updates(timeout=1)
    assert typed is not None and typed.text == "1"  # the bridge reads the number, not the terminal

    for command, answer in ((":contact", "hãy gõ số"), (":menu", "gõ «menu»"), (":file a", "chỉ")):
        await terminal.type(command)
        await terminal.expect(answer)
    await terminal.type(":as newcomer")
    await terminal.expect("── Triệu Thị Đào, cán bộ mới (newcomer) ──")
    await terminal.zalo.send_message(ZALO_NEWCOMER_ID, "⏰ Nhắc lịch học")
    await terminal.expect("🔔 Tin mới cho Vàng Thị Mai, cán bộ mới dùng Zalo · gõ :as zalo")
    await terminal.type(":zalo")
    assert "🤖 ⏰ Nhắc lịch học" in await terminal.expect("(zalo) ──\n\n🤖 ⏰ Nhắc lịch học")


def test_identities_and_names() -> None:
    identities = demo_identities()
    assert list(identities) == ["newcomer", "admin", "head", "lecturer", "learner"]
    assert identities["admin"].telegram_id == 900001
    assert identities["newcomer"].person.phone == "+84912000005"
    assert split_name("Triệu Thị Đào") == ("Đào", "Triệu Thị")
    assert split_name("Páo") == ("Páo", None)


def test_saved_files_never_overwrite(tmp_path: Path) -> None:
    first = free_path(tmp_path, "../bao-cao.pdf")
    assert first == tmp_path / "bao-cao.pdf"
    first.write_bytes(b"1")
    assert free_path(tmp_path, "bao-cao.pdf") == tmp_path / "bao-cao-2.pdf"
    assert free_path(tmp_path, "").name == "file"


async def test_a_class_link_typed_or_pasted_reaches_the_bot_as_start_with_its_payload(
    terminal: Terminal,
) -> None:
    await terminal.expect("newcomer› /start")
    await terminal.type("https://t.me/cadre_demo_bot?start=c-AbCdEfGhIjKlMnOp")
    await terminal.expect("newcomer› https://t.me/cadre_demo_bot?start=c-AbCdEfGhIjKlMnOp")
    await terminal.type("/start c-AbCdEfGhIjKlMnOp")
    await terminal.expect("newcomer› /start c-AbCdEfGhIjKlMnOp")
    await asyncio.sleep(0.2)
    sent = [u["message"] for u in await updates(terminal)]
    assert [m["text"] for m in sent] == ["/start", *["/start c-AbCdEfGhIjKlMnOp"] * 2]
    # A command, as Telegram marks it, so that the bot reads the payload as its argument.
    assert sent[1]["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]

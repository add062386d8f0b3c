"""What the sandbox prints and how it reads a typed line: pure, so tests need no terminal.

A chat on a phone is tapped, not typed; here each inline button gets a number (`[1]`) and each
reply-keyboard button a letter (`(a)`), so a person taps by typing one short token. Lines that
start with `:` are sandbox commands and never reach the bot.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tools.emulator import BotMessage, InlineButton, ReplyButton
from tools.zalo_emulator import ZaloReceived

BOT = "🤖"
INDENT = "   "
EDITED = "✎ (đã sửa · edited)"
DELETED = "✗ (đã xoá · deleted)"
KEYBOARD = "⌨"
KEYBOARD_CLOSED = "(bàn phím đã ẩn · keyboard closed)"
ATTACHMENT = "📎"
ANSWER = "ⓘ"
_SNIPPET = 60

_TAP = re.compile(r"\[?(\d{1,3})\]?")
_PRESS = re.compile(r"\(?([a-z]{1,2})\)?")
#: A bot's deep link pasted as it is (a class's link from a poster or a Zalo group): opening
#: it in Telegram sends "/start <payload>", and so does the sandbox.
_DEEP_LINK = re.compile(r"(?:https?://)?t\.me/\w+/?\?start=([A-Za-z0-9_-]{1,64})")


@dataclass(frozen=True)
class Tap:
    """Tap inline button `button` of bot message `message_id`."""

    message_id: int
    button: InlineButton


@dataclass(frozen=True)
class Press:
    """Press a reply-keyboard button: its text is sent, or one's contact if it asks for it."""

    button: ReplyButton


@dataclass(frozen=True)
class Say:
    """Send a text message, exactly as typed."""

    text: str


@dataclass(frozen=True)
class Command:
    """A sandbox command such as `:as admin`: name in lower case, the rest as typed."""

    name: str
    arg: str = ""


Action = Tap | Press | Say | Command


def letter(index: int) -> str:
    """a, b, …, z, aa, ab, …: the marker of reply button `index` (0-based)."""
    head, tail = divmod(index, 26)
    return (letter(head - 1) if head else "") + chr(ord("a") + tail)


@dataclass
class ChatView:
    """One identity's chat as the person sees it: which number or letter taps what.

    Numbers always refer to the inline keyboard printed last, so what a person sees on screen
    is what they tap; it is withdrawn when that message is edited without buttons or deleted.
    """

    inline_message: BotMessage | None = None
    reply: list[ReplyButton] = field(default_factory=list)

    @property
    def inline(self) -> list[InlineButton]:
        message = self.inline_message
        return [b for row in message.buttons for b in row] if message else []

    def apply(self, event: BotMessage) -> None:
        """Follow one bot event: edits and deletions included."""
        if not event.deleted and event.buttons:
            self.inline_message = event
        elif self.inline_message and self.inline_message.message_id == event.message_id:
            self.inline_message = None
        if not (event.edited or event.deleted):
            if event.reply_keyboard is not None:
                self.reply = [b for row in event.reply_keyboard for b in row]
            elif event.remove_keyboard:
                self.reply = []


def parse_line(line: str, view: ChatView) -> Action | None:
    """What a typed line means in this chat; None for a blank line.

    A number taps an inline button and a letter a reply button, but only when such a button
    is on screen: otherwise the line goes to the bot as text (a birth year stays a year). A
    bot's link pasted opens it, as a tap on it does in Telegram.
    """
    text = line.strip()
    if not text:
        return None
    if text.startswith(":"):
        name, _, arg = text[1:].partition(" ")
        return Command(name.lower(), arg.strip())
    if m := _DEEP_LINK.fullmatch(text):
        return Say(f"/start {m.group(1)}")
    inline = view.inline
    if (m := _TAP.fullmatch(text)) and 1 <= int(m.group(1)) <= len(inline):
        assert view.inline_message is not None
        return Tap(view.inline_message.message_id, inline[int(m.group(1)) - 1])
    if m := _PRESS.fullmatch(text.lower()):
        markers = [letter(i) for i in range(len(view.reply))]
        if m.group(1) in markers:
            return Press(view.reply[markers.index(m.group(1))])
    return Say(line.rstrip("\r\n"))


def _indented(lines: Sequence[str]) -> list[str]:
    return [(INDENT + line).rstrip() for line in lines]


def _row(cells: Sequence[str]) -> str:
    return "   ".join(cells)


def inline_lines(buttons: Sequence[Sequence[InlineButton]]) -> list[str]:
    """Inline keyboard rows as `[1] label   [2] label`; URL buttons show their address."""
    lines, number = [], 0
    for row in buttons:
        cells = []
        for button in row:
            number += 1
            url = f" ↗ {button.url}" if button.url else ""
            cells.append(f"[{number}] {button.text}{url}")
        lines.append(_row(cells))
    return lines


def reply_lines(keyboard: Sequence[Sequence[ReplyButton]]) -> list[str]:
    """Reply keyboard rows as `(a) label   (b) label`, the first row led by the keyboard sign."""
    lines, index = [], 0
    for row in keyboard:
        cells = []
        for button in row:
            cells.append(f"({letter(index)}) {button.text}")
            index += 1
        lines.append(_row(cells))
    return [f"{KEYBOARD if i == 0 else ' '} {line}" for i, line in enumerate(lines)]


def snippet(text: str) -> str:
    """One short line of a long text, to say which message was deleted."""
    flat = " ".join(text.split())
    return flat if len(flat) <= _SNIPPET else flat[: _SNIPPET - 1] + "…"


def render_message(
    event: BotMessage, saved: str | None = None, *, keyboard_closed: bool = False
) -> str:
    """A bot event as printed lines: body, attachment, inline buttons, reply keyboard.

    `saved` is where an attached document or photo was written, to be shown instead of bytes;
    `keyboard_closed` says the event took away a reply keyboard that was on screen.
    """
    if event.deleted:
        return f"{BOT} {DELETED} «{snippet(event.body)}»"
    body = event.body.split("\n") if event.body else []
    head = f"{EDITED} " if event.edited else ""
    lines = [f"{BOT} {head}{body[0] if body else ''}".rstrip()]
    lines += _indented(body[1:])
    if saved:
        lines += _indented([f"{ATTACHMENT} {saved}"])
    lines += _indented(inline_lines(event.buttons))
    if event.reply_keyboard and not event.edited:
        lines += _indented(reply_lines(event.reply_keyboard))
    elif keyboard_closed:
        lines += _indented([KEYBOARD_CLOSED])
    return "\n".join(lines)


def render_zalo(event: ZaloReceived) -> str:
    """A message to the Zalo chat: its plain text exactly as Zalo shows it (choices are
    numbered lines of the text, answered by typing), a photo's or sticker's address."""
    body = event.text.split("\n") if event.text else []
    lines = [f"{BOT} {body[0] if body else ''}".rstrip()]
    lines += _indented(body[1:])
    if event.photo:
        lines += _indented([f"🖼 {event.photo}"])
    if event.sticker:
        lines += _indented([f"(sticker {event.sticker})"])
    return "\n".join(lines)


def parse_zalo_line(line: str) -> Say | Command | None:
    """A line typed in the Zalo chat: sandbox commands as anywhere, everything else goes to
    the bot as typed, numbers included (Zalo has no buttons: the bridge reads the number)."""
    text = line.strip()
    if not text:
        return None
    if text.startswith(":"):
        name, _, arg = text[1:].partition(" ")
        return Command(name.lower(), arg.strip())
    return Say(line.rstrip("\r\n"))


def render_answer(text: str) -> str:
    """A callback answer (the toast a phone shows briefly after a tap)."""
    return f"{INDENT}{ANSWER} {text}"


def render_menu(commands: Sequence[dict[str, str]]) -> str:
    """The bot's command menu for this chat (the ☰ button beside a phone's input field)."""
    if not commands:
        return f"{INDENT}(bot chưa đặt menu · no menu)"
    return "\n".join(f"{INDENT}/{c['command']} — {c['description']}" for c in commands)


def prompt(identity: str) -> str:
    return f"{identity}› "


def banner(who: str, phone: str, key: str, db_path: str, files_dir: str, log_path: str) -> str:
    """Eight short lines: what this is, who one is, how to tap and switch, how to move time
    on to see reminders, where things go."""
    return "\n".join(
        [
            "── Sandbox ngoại tuyến · offline sandbox: bot thật, Telegram giả lập ──",
            f"Bạn là {who} ({key}, {phone}).",
            "Bấm nút: gõ số [1], [2]… hoặc chữ (a), (b)…; gõ chữ khác để nhắn cho bot.",
            "Gõ :as admin để chuyển sang quản trị viên (hoặc head, lecturer, learner, newcomer).",
            "Gõ :zalo để nhắn như một cán bộ dùng Zalo: chữ thuần, gõ số để chọn · as a Zalo user",
            ":who đang là ai · :menu lệnh của bot · :contact gửi SĐT · :help · :quit",
            "Xem nhắc lịch: :clock 19:00 hoặc :clock +2h cho giờ sandbox chạy tới · move time on",
            f"Dữ liệu: {db_path} · tệp nhận: {files_dir}/ · log: {log_path}",
        ]
    )


def classes_guide(year: int, classes: int, codes: dict[str, str]) -> str:
    """What to try with the demo's classes, printed once, when the sandbox seeds them: the
    codes change with the year (and the week) the database was made in. `codes`: the
    classes "week" (the learner's this week), "full", "duplicate", "running", "draft",
    "practice" (meeting now: attendance), "results" (its results to record) and "nominate"
    (open, of the head's commune: staff to send)."""
    return "\n".join(
        [
            f"Lớp mẫu · demo classes: {classes} lớp trong kế hoạch năm {year} đã duyệt.",
            f"  :as learner  /classes, tìm «chuyen doi so»; /schedule: {codes['week']} tuần này",
            f"               {codes['full']} đã đầy: vào hàng chờ · full: join its waitlist",
            f"               {codes['duplicate']} bị từ chối vì đã học · refused: already trained",
            f"  :as lecturer /schedule: dạy {codes['running']} tuần này · teaching this week",
            f"  :as head     thẻ lớp {codes['nominate']}: 👥 Cử cán bộ đi học · nominate staff",
            f"  :as admin    /plan, /newclass, thẻ lớp {codes['full']} · a class's admin card",
            f"               {codes['draft']}: kế hoạch {year + 1} chưa duyệt · plan not approved",
            f"Điểm danh · attendance: {codes['practice']} đang học · meets now",
            "  :as lecturer /attendance: mở mã QR, điểm danh theo danh sách, duyệt đơn xin nghỉ",
            "  :as learner  gõ mã 6 số · type the code; /leave xin nghỉ; /record quá trình học tập",
            f"  :as admin    /classadmin {codes['results']}: 🎓 Kết quả học tập · record results",
        ]
    )


def approvals_guide(code: str) -> str:
    """Where the demo's enrolments waiting for the unit head's approval are."""
    return "\n".join(
        [
            f"Duyệt đăng ký · approvals: lớp {code} cần thủ trưởng duyệt; 3 cán bộ của xã chờ",
            "  :as head     /approvals: ✅ Duyệt / ❌ Không duyệt (một đăng ký sắp hết hạn)",
            "  :clock +3h   đăng ký sắp hết hạn trả lại chỗ · one expires, its seat goes back",
        ]
    )


HELP = "\n".join(
    [
        "Lệnh sandbox, bắt đầu bằng dấu hai chấm · sandbox commands:",
        "  1, 2… / a, b…    bấm nút [1] dưới tin nhắn / nút (a) của bàn phím · tap",
        "  :as VAI          đổi người · switch: admin, head, lecturer, learner, newcomer",
        "  :zalo            nhắn như cán bộ dùng Zalo (chữ thuần, gõ số) · chat as a Zalo user",
        "  :who             đang là ai, ai có tin mới · who am I",
        "  :menu            menu lệnh của bot (nút ☰ trên điện thoại) · the bot's menu",
        "  :contact         chia sẻ số điện thoại của mình · share own contact",
        "  :file ĐƯỜNG_DẪN  gửi một tệp · upload a document",
        "  :say VĂN_BẢN     gửi nguyên văn, kể cả '1' · send text as is",
        "  :clock           xem giờ sandbox · the sandbox's time",
        "  :clock +2h       cho giờ chạy tới: +30m, +1d, 19:00, 18/03 19:00 · move it on",
        "  :clock reset     về giờ thật · back to the real time",
        "  https://t.me/…?start=…  mở liên kết của bot (như bấm vào nó) · open a bot link",
        "  :help            trợ giúp này · this help",
        "  :quit            thoát (hoặc Ctrl-D, Ctrl-C) · quit",
        "Lệnh của bot bắt đầu bằng / (ví dụ /help, /profile) · bot commands start with /",
    ]
)


def display_path(path: Path) -> str:
    """A path as printed: relative to the working directory when under it, else absolute."""
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)

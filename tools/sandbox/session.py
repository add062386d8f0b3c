"""The person at the terminal: who they are, their chats with the bot, and what they typed.

Each demo identity is a scripted user of the emulator with its own chat, so switching with
`:as` is like picking up another person's phone: their history and buttons wait for them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mimetypes
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools.demo.data import (
    DEMO_IDENTITIES,
    NEWCOMER_TELEGRAM_ID,
    ZALO_NEWCOMER,
    ZALO_NEWCOMER_ID,
    DemoPerson,
    blocked_the_bot,
)
from tools.emulator import BotApiEmulator, BotMessage, ScriptedUser
from tools.sandbox.clock import BadMove, SandboxClock, Show, parse_clock
from tools.sandbox.console import Console, LineSource
from tools.sandbox.terminal import (
    ATTACHMENT,
    HELP,
    ChatView,
    Command,
    Press,
    Say,
    Tap,
    display_path,
    parse_line,
    parse_zalo_line,
    prompt,
    render_answer,
    render_menu,
    render_message,
    render_zalo,
)
from tools.zalo_emulator import ZaloBotApiEmulator, ZaloReceived, ZaloUser

#: The bot's first reply may take a moment; after that, it is done once it stays quiet.
FIRST_REPLY_S = 2.0
QUIET_S = 0.3
#: The bot sends one chat at most a message a second: after the clock moves, two reminders
#: to one person come that far apart, and the session waits for both.
CLOCK_QUIET_S = 1.5
SETTLE_MAX_S = 10.0
UPLOAD_LIMIT = 20 * 1024 * 1024
_FOREVER_S = 3600.0
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_QUIT = frozenset({"quit", "q", "exit"})
#: `:as` key of the Zalo chat, and `:zalo` goes there.
ZALO = "zalo"
#: What Zalo cannot do, asked for in the Zalo chat.
_NOT_ON_ZALO = {
    "menu": "Zalo không có menu lệnh: gõ «menu» để bot liệt kê · type menu",
    "contact": "Zalo không chia sẻ được số điện thoại: hãy gõ số · type the number",
    "file": "Zalo chỉ gửi chữ cho bot · Zalo sends the bot text only",
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Identity:
    """A demo person one can act as; `role` says in a few words who they are."""

    key: str
    role: str
    person: DemoPerson
    telegram_id: int

    @property
    def name(self) -> str:
        return self.person.full_name

    @property
    def title(self) -> str:
        return f"{self.name}, {self.role}"


def demo_identities() -> dict[str, Identity]:
    """The five demo people by `:as` key, the newcomer first: the sandbox starts as them."""
    ids = DEMO_IDENTITIES
    staff = [
        ("admin", "quản trị viên", ids.admin),
        ("head", "thủ trưởng đơn vị", ids.unit_head),
        ("lecturer", "giảng viên", ids.lecturer),
        ("learner", "học viên", ids.learner),
    ]
    # The newcomer's Telegram id is not in the roster: linking it is what onboarding does.
    identities = [Identity("newcomer", "cán bộ mới", ids.newcomer, NEWCOMER_TELEGRAM_ID)]
    identities += [Identity(k, role, p, p.telegram_id or 0) for k, role, p in staff]
    return {i.key: i for i in identities}


def split_name(full_name: str) -> tuple[str, str | None]:
    """Telegram's (first_name, last_name) for "Họ Tên đệm Tên": the given name comes last."""
    family, _, given = full_name.rpartition(" ")
    return given, family or None


def free_path(folder: Path, name: str) -> Path:
    """`folder/name`, or `name-2.ext`, `name-3.ext`… so an earlier file is never overwritten."""
    base = Path(Path(name).name or "file")
    candidate, n = folder / base, 1
    while candidate.exists():
        n += 1
        candidate = folder / f"{base.stem}-{n}{base.suffix}"
    return candidate


@dataclass
class Chat:
    """One identity's private chat with the bot, as seen from the terminal."""

    identity: Identity
    user: ScriptedUser
    view: ChatView = field(default_factory=ChatView)
    unseen: list[BotMessage] = field(default_factory=list)
    opened: bool = False

    def hold(self, event: BotMessage | ZaloReceived) -> int:
        """Keeps what came while another identity was at the terminal; how many wait now."""
        assert isinstance(event, BotMessage)
        self.unseen.append(event)
        return len(self.unseen)


@dataclass
class ZaloChat:
    """The Zalo cadre's chat: plain text both ways, the bot's choices numbered in its text."""

    identity: Identity
    user: ZaloUser
    unseen: list[ZaloReceived] = field(default_factory=list)
    opened: bool = False

    def hold(self, event: BotMessage | ZaloReceived) -> int:
        assert isinstance(event, ZaloReceived)
        self.unseen.append(event)
        return len(self.unseen)


def zalo_identity() -> Identity:
    return Identity(ZALO, "cán bộ mới dùng Zalo", ZALO_NEWCOMER, 0)


class Session:
    """Reads lines, acts as the current identity, prints what the bot does in every chat."""

    def __init__(
        self,
        emulator: BotApiEmulator,
        console: Console,
        files_dir: Path,
        clock: SandboxClock,
        identities: dict[str, Identity] | None = None,
        zalo: ZaloBotApiEmulator | None = None,
    ) -> None:
        """With `zalo`, the Zalo emulator the bot's Zalo channel polls, `:zalo` is a chat as
        the demo Zalo cadre."""
        self.emulator = emulator
        self.console = console
        self.files_dir = files_dir
        self.clock = clock
        #: Called after `:clock` moved the clock: the sandbox wakes the bot's reminder pass.
        self.on_clock_moved: Callable[[], None] = lambda: None
        self.chats: dict[str, Chat | ZaloChat] = {}
        #: The photo last saved of each message (chat, message id): a projector's QR code is
        #: edited every minute, and each new one is saved too.
        self._photos: dict[tuple[str, int], bytes] = {}
        for key, identity in (identities or demo_identities()).items():
            first, last = split_name(identity.name)
            user = emulator.user(
                identity.telegram_id, first_name=first, last_name=last, phone=identity.person.phone
            )
            self.chats[key] = Chat(identity, user)
        self.current: Chat | ZaloChat = next(iter(self.chats.values()))
        if zalo is not None:
            identity = zalo_identity()
            zalo_user = zalo.user(identity.person.full_name, user_id=ZALO_NEWCOMER_ID)
            self.chats[ZALO] = ZaloChat(identity, zalo_user)
        self._activity = 0
        self._changed = asyncio.Condition()
        self._watchers: list[asyncio.Task[None]] = []

    # -- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Watch every chat, so messages to any identity are caught as they come."""
        for chat in self.chats.values():
            self._watchers.append(asyncio.create_task(self._watch(chat)))
            if isinstance(chat, Chat):
                self._watchers.append(asyncio.create_task(self._watch_answers(chat)))

    async def close(self) -> None:
        for task in self._watchers:
            task.cancel()
        await asyncio.gather(*self._watchers, return_exceptions=True)

    async def run(self, source: LineSource) -> None:
        """Open the first chat, then act on each line until `:quit` or end of input."""
        await self._open(self.current)
        while True:
            here = prompt(self.current.identity.key)
            line = await source.read(here)
            if line is None:
                return
            if not source.shows_input:
                self.console.show(here + line)
            current = self.current
            action = (
                parse_line(line, current.view)
                if isinstance(current, Chat)
                else parse_zalo_line(line)
            )
            if isinstance(action, Command) and action.name in _QUIT:
                return
            try:
                await self._do(action)
            except Exception as exc:  # one failed action must not end the session
                log.error("sandbox action failed: %s", exc.__class__.__name__, exc_info=exc)

    # -- acting as the current identity ---------------------------------------------------------

    async def _do(self, action: Tap | Press | Say | Command | None) -> None:
        user = self.current.user
        if isinstance(action, Say):
            await self._to_bot(user.send(action.text))
        elif isinstance(action, Command):
            await self._command(action.name, action.arg)
        elif isinstance(user, ScriptedUser):
            await self._tap(user, action)

    async def _tap(self, user: ScriptedUser, action: Tap | Press | None) -> None:
        if isinstance(action, Tap):
            if action.button.callback_data is None:
                self.console.show(f"   ↗ {action.button.url}")
            else:
                await self._to_bot(user.tap_data(action.button.callback_data, action.message_id))
        elif isinstance(action, Press):
            button = action.button
            await self._to_bot(
                user.share_contact() if button.request_contact else user.send(button.text)
            )

    async def _command(self, name: str, arg: str) -> None:
        user = self.current.user
        if name == "as":
            await self._switch(arg)
        elif name == ZALO:
            await self._switch(ZALO)
        elif name in _NOT_ON_ZALO and isinstance(user, ZaloUser):
            self.console.show(_NOT_ON_ZALO[name])
        elif name == "who":
            self.console.show(self.who())
        elif name == "menu" and isinstance(user, ScriptedUser):
            commands = self.emulator.commands_for(None, user.id, user.language_code)
            self.console.show(render_menu(commands))
        elif name == "contact" and isinstance(user, ScriptedUser):
            await self._to_bot(user.share_contact())
        elif name == "file" and isinstance(user, ScriptedUser):
            await self._upload(user, arg)
        elif name == "say" and arg:
            await self._to_bot(user.send(arg))
        elif name == "clock":
            await self._move_clock(arg)
        elif name in ("help", "h", "?"):
            self.console.show(HELP)
        else:
            self.console.show(f"Không rõ lệnh :{name} · unknown command. Gõ :help")

    async def _to_bot(self, sending: Awaitable[Any]) -> None:
        """Send one thing to the bot, then wait for its answer (see `settle`)."""
        since = self._activity
        await sending
        await self.settle(since)

    async def _switch(self, key: str) -> None:
        chat = self._find(key)
        if chat is None and key.strip().lower() == ZALO:
            self.console.show("Sandbox này không chạy Zalo · no Zalo channel in this sandbox")
            return
        if chat is None:
            keys = ", ".join(self.chats)
            self.console.show(f"Chọn một trong · choose one of: {keys}  (ví dụ :as admin)")
            return
        self.current = chat
        self.console.show(f"\n── {chat.identity.title} ({chat.identity.key}) ──")
        unseen, chat.unseen = chat.unseen, []
        for event in unseen:
            self._print(chat, event)
        if not chat.opened:
            await self._open(chat)
        elif not unseen and isinstance(chat, Chat) and chat.view.inline_message is not None:
            # Numbers refer to the last buttons shown: show them again.
            self._print(chat, chat.view.inline_message, again=True)

    def _find(self, key: str) -> Chat | ZaloChat | None:
        """The chat of `key`, or of the only identity whose key starts with it."""
        key = key.strip().lower()
        if key in self.chats:
            return self.chats[key]
        matches = [c for k, c in self.chats.items() if key and k.startswith(key)]
        return matches[0] if len(matches) == 1 else None

    async def _open(self, chat: Chat | ZaloChat) -> None:
        """The first visit to a chat in this run: tap Start, as a phone does for a new chat."""
        chat.opened = True
        self.console.show(prompt(chat.identity.key) + "/start   (tự động · sent for you)")
        await self._to_bot(chat.user.send("/start"))

    async def _move_clock(self, arg: str) -> None:
        """Show or move the sandbox's clock; after a move, the reminders now due arrive (in
        this chat, or as 🔔 for the others) before the next line is read."""
        clock = self.clock
        since = self._activity
        try:
            move = parse_clock(arg, clock.now(), clock.tz)
            if not isinstance(move, Show):
                clock.apply(move)
        except BadMove as exc:
            self.console.show(str(exc))
            return
        self.console.show(clock.describe())
        if not isinstance(move, Show):
            self.on_clock_moved()
            await self.settle(since, CLOCK_QUIET_S)

    async def _upload(self, user: ScriptedUser, arg: str) -> None:
        loaded = await asyncio.to_thread(_read_upload, arg)
        if isinstance(loaded, str):
            self.console.show(loaded)
            return
        name, content, mime = loaded
        self.console.show(f"   {ATTACHMENT} {name} ({mime}) → bot")
        await self._to_bot(user.upload(name, content, mime))

    def who(self) -> str:
        """Every identity, the current one marked, with unread counts: `:who`."""
        lines = []
        for key, chat in self.chats.items():
            mark = "▶" if chat is self.current else " "
            unread = f" · {len(chat.unseen)} tin mới" if chat.unseen else ""
            lines.append(f"{mark} {key:<9}{chat.identity.title} (id {chat.user.id}){unread}")
        return "\n".join(lines)

    # -- what the bot does ------------------------------------------------------------------------

    async def settle(self, since: int, quiet: float | None = None) -> None:
        """Wait for the bot to answer and go quiet, so the next line sees its new buttons.

        Typed lines and piped scripts alike are taken one at a time after this: a `1` sent
        before the bot has shown its buttons would otherwise go out as text.
        """
        deadline = asyncio.get_running_loop().time() + SETTLE_MAX_S
        if not await self._activity_after(since, FIRST_REPLY_S):
            return
        while asyncio.get_running_loop().time() < deadline:
            if not await self._activity_after(self._activity, quiet or QUIET_S):
                return

    async def _activity_after(self, seen: int, seconds: float) -> bool:
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(seconds):
                    await self._changed.wait_for(lambda: self._activity != seen)
            return self._activity != seen

    async def _bump(self) -> None:
        async with self._changed:
            self._activity += 1
            self._changed.notify_all()

    async def _watch(self, chat: Chat | ZaloChat) -> None:
        while True:
            try:
                event = await _next_event(chat)
            except TimeoutError:
                continue
            if chat is self.current:
                self._print(chat, event)
            elif chat.hold(event) == 1:
                key = chat.identity.key
                self.console.show(f"🔔 Tin mới cho {chat.identity.title} · gõ :as {key}")
            await self._bump()

    async def _watch_answers(self, chat: Chat) -> None:
        while True:
            try:
                text = await chat.user.next_answer(timeout=_FOREVER_S)
            except TimeoutError:
                continue
            if text and chat is self.current:
                self.console.show(render_answer(text))
            await self._bump()

    def _print(
        self, chat: Chat | ZaloChat, event: BotMessage | ZaloReceived, *, again: bool = False
    ) -> None:
        if isinstance(chat, ZaloChat) or isinstance(event, ZaloReceived):
            assert isinstance(event, ZaloReceived)
            self.console.show("\n" + render_zalo(event))
            return
        had_keyboard = bool(chat.view.reply)
        if not again:
            chat.view.apply(event)
        saved = None if again else self._save(chat, event)
        closed = had_keyboard and not chat.view.reply
        self.console.show("\n" + render_message(event, saved, keyboard_closed=closed))

    def _save(self, chat: Chat, event: BotMessage) -> str | None:
        """Write an attached document or photo under sandbox-files/<identity>/; an edited
        message's photo if it is a new one."""
        if event.deleted:
            return None
        if event.document is not None and not event.edited:
            name, content = event.document.file_name or "document", event.document.content
        elif event.photo is not None:
            shown = (chat.identity.key, event.message_id)
            if self._photos.get(shown) == event.photo:
                return None  # only the caption changed
            self._photos[shown] = event.photo
            kind = "png" if event.photo.startswith(PNG_SIGNATURE) else "jpg"
            name, content = f"photo-{event.message_id}.{kind}", event.photo
        else:
            return None
        folder = self.files_dir / chat.identity.key
        folder.mkdir(parents=True, exist_ok=True)
        path = free_path(folder, name)
        path.write_bytes(content)
        return display_path(path)


async def _next_event(chat: Chat | ZaloChat) -> BotMessage | ZaloReceived:
    if isinstance(chat, ZaloChat):
        return await chat.user.next_event(timeout=_FOREVER_S)
    return await chat.user.next_message(timeout=_FOREVER_S)


def _read_upload(arg: str) -> tuple[str, bytes, str] | str:
    """(name, bytes, MIME type) of the file to upload, or what is wrong with it."""
    path = Path(arg).expanduser()
    if not arg or not path.is_file():
        return f"Không thấy tệp · no such file: {arg or '—'}   (:file ĐƯỜNG_DẪN)"
    if path.stat().st_size > UPLOAD_LIMIT:
        return "Tệp quá lớn · file too large (tối đa 20 MB)"
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return path.name, path.read_bytes(), mime


def roster_users(emulator: BotApiEmulator, people: Iterable[DemoPerson]) -> int:
    """Give linked roster people a chat, so the bot can message them (nobody reads it);
    the few who blocked the bot answer 403, as on Telegram."""
    count = 0
    for person in people:
        if person.telegram_id is not None:
            first, last = split_name(person.full_name)
            emulator.user(person.telegram_id, first_name=first, last_name=last, phone=person.phone)
            if blocked_the_bot(person):
                emulator.faults.blocked.add(person.telegram_id)
            count += 1
    return count

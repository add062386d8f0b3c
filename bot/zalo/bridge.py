"""The Telegram Bot API, served on 127.0.0.1 to the unchanged PTB application, in front of Zalo.

The application polls this bridge as it polls Telegram (its `base_url` points here); the bridge
long-polls Zalo and turns each Zalo event into a Telegram update, and each Bot API call of the
application into what Zalo can show: plain text, buttons as a numbered list, edits as new
messages, files as links to the bot's public server (bot/zalo/files.py), or as a line naming
them when there is none. A method Zalo cannot carry out is refused with a Telegram-style 400,
so PTB raises and the gap shows, never a silent "ok".

In webhook mode (`poll=False`) the bridge does not long-poll: the public server hands it
each event through `receive`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import Any, Final

from aiohttp import web
from aiohttp.web_request import FileField

from bot.channels import first_number
from bot.http_fields import read_fields
from bot.i18n import Texts
from bot.validation import telegram_length
from bot.zalo.accounts import AccountDirectory, MemoryAccounts
from bot.zalo.client import TEXT_LIMIT as ZALO_TEXT_LIMIT
from bot.zalo.client import (
    EventKind,
    ZaloClient,
    ZaloError,
    ZaloEvent,
    ZaloRetryAfter,
    ZaloUnreachable,
    zalo_length,
)
from bot.zalo.files import FileShelf, FileTooBig, SharedFile
from bot.zalo.parts import PartsSent, content_key
from bot.zalo.render import (
    Button,
    Choice,
    asks_for_menu,
    choose_among,
    edited,
    menu_text,
    numbered,
    plain_text,
    split,
)

log = logging.getLogger(__name__)

TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
CALLBACK_TEXT_LIMIT: Final = 200
#: How long the poller waits before asking Zalo again after a failure, in seconds.
RETRY_S: Final = 1.0
#: Messages remembered per chat for edits, and callback queries awaiting their answer.
KEPT_MESSAGES: Final = 200
KEPT_CALLBACKS: Final = 1000
#: Lists of buttons remembered per chat before the latest one, so their words still reach
#: the message they were under (two reminders arrive together; the first one's is wanted).
EARLIER_LISTS: Final = 5

Handler = Callable[["_Params"], Awaitable[Any]]


class BotApiError(Exception):
    """A refusal worded as Telegram words it, so PTB raises the matching exception."""

    def __init__(self, code: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": max(1, round(self.retry_after))}
        return web.json_response(body, status=self.code)


def _bad(reason: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {reason}")


class _Params:
    """A Bot API call's parameters: PTB sends form fields (nested values JSON-encoded),
    multipart with files, or JSON."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    @classmethod
    async def read(cls, request: web.Request) -> _Params:
        try:
            return cls(await read_fields(request))
        except ValueError as exc:
            raise _bad(str(exc)) from None

    def text(self, name: str) -> str | None:
        value = self.data.get(name)
        if value is None or isinstance(value, FileField):
            return None
        return value if isinstance(value, str) else str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise _bad(f"invalid {name} specified") from None

    def obj(self, name: str) -> Any:
        value = self.data.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise _bad(f"can't parse {name} JSON object") from None
        return value


@dataclass
class _Sent:
    """A message the application sent, as it must be remembered to edit it later."""

    text: str  # plain text, before the numbered list
    labels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Listed:
    """A numbered list a chat was shown, and the message whose buttons it holds (None: the
    bridge's own command menu)."""

    message_id: int | None
    choices: tuple[Choice, ...]

    @property
    def replies(self) -> bool:
        """Whether it lists a reply keyboard, which the next one replaces (inline buttons
        stay under their message)."""
        return all(choice.callback_data is None for choice in self.choices)


def _earlier() -> deque[_Listed]:
    return deque(maxlen=EARLIER_LISTS)


@dataclass
class _Chat:
    zalo_id: str
    telegram_id: int
    name: str
    messages: dict[int, _Sent] = field(default_factory=dict)
    #: What a number picks; None once its reply keyboard was removed or replaced.
    latest: _Listed | None = None
    #: The lists before it, newest first: still answerable by their words.
    earlier: deque[_Listed] = field(default_factory=_earlier)
    #: The persistent (main) keyboard, answerable by its words at any time, and the labels
    #: of the one last listed: it is listed again only when it changes.
    main: tuple[Choice, ...] = ()
    main_listed: tuple[str, ...] = ()
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def lists(self) -> list[_Listed]:
        """Where a reply is looked up, in order: the latest list (empty when gone), the
        earlier ones, the main keyboard."""
        return [
            self.latest or _Listed(None, ()),
            *self.earlier,
            _Listed(None, self.main),
        ]

    def show(self, listed: _Listed) -> None:
        """A list just shown becomes the latest; one shown before for the same message (its
        buttons since edited) is dropped."""
        self.forget(listed.message_id)
        if self.latest is not None:
            self.earlier.appendleft(self.latest)
        self.latest = listed

    def forget(self, message_id: int | None) -> None:
        """The message's buttons are gone (deleted, edited away, or listed anew)."""
        if self.latest is not None and self.latest.message_id == message_id:
            self.latest = None
        self._keep(lambda listed: listed.message_id != message_id)

    def replace_reply_keyboard(self) -> None:
        """A new reply keyboard, or none, takes the place of the one shown before."""
        if self.latest is not None and self.latest.replies:
            self.latest = None
        self._keep(lambda listed: not listed.replies)

    def _keep(self, keep: Callable[[_Listed], bool]) -> None:
        self.earlier = deque(filter(keep, self.earlier), maxlen=EARLIER_LISTS)


@dataclass(frozen=True, slots=True)
class _Markup:
    """A reply_markup as the bridge reads it."""

    inline: list[list[Button]]
    links: list[str]
    reply: list[list[Button]]
    persistent: bool
    removes: bool


def _keyboard(markup: Any) -> _Markup:
    """The inline buttons to number, the link buttons as lines, the reply keyboard, whether
    it stays under the text box, and whether the markup removes the reply keyboard."""
    if not isinstance(markup, dict):
        return _Markup([], [], [], False, False)
    inline: list[list[Button]] = []
    links: list[str] = []
    for row in markup.get("inline_keyboard") or []:
        numbered_row: list[Button] = []
        for button in row:
            label = str(button.get("text", ""))
            if isinstance(button.get("callback_data"), str):
                numbered_row.append((label, button["callback_data"]))
            elif isinstance(button.get("url"), str):
                links.append(f"{label}: {button['url']}")
        inline.append(numbered_row)
    reply: list[list[Button]] = [
        [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
        for row in markup.get("keyboard") or []
    ]
    return _Markup(
        inline,
        links,
        reply,
        markup.get("is_persistent") is True,
        markup.get("remove_keyboard") is True,
    )


def _command_entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/") or len(text) < 2:
        return []
    command = text.split(maxsplit=1)[0]
    return [{"type": "bot_command", "offset": 0, "length": telegram_length(command)}]


class ZaloBridge:
    """The Bot API server and the Zalo poller; `async with` starts and stops both."""

    def __init__(
        self,
        zalo: ZaloClient,
        texts: Texts,
        *,
        token: str,
        accounts: AccountDirectory | None = None,
        poll_timeout: float = 30.0,
        poll: bool = True,
        files: FileShelf | None = None,
    ) -> None:
        """`poll`: long-poll Zalo from the start (else see `start_polling`; webhook mode
        never polls: the public server calls `receive`).
        `files`: where the photos and documents sent are kept behind links; None: they are
        only named."""
        self.zalo = zalo
        self.texts = texts
        self.token = token
        self.poll_timeout = poll_timeout
        self.poll = poll
        self.files = files
        #: Who each Zalo user is to the application (the database's directory in the bot).
        self.accounts: AccountDirectory = accounts or MemoryAccounts()
        #: Waits for the turn of a Zalo call after a message's first (the Zalo application's
        #: rate limiter paced the first): a message in three parts is three sends to Zalo.
        self.pace: Callable[[int], Awaitable[None]] = _no_wait
        self._parts = PartsSent()
        self._chats: dict[int, _Chat] = {}
        self._updates: list[dict[str, Any]] = []
        # Update and message ids start at the clock's milliseconds, so after a restart of
        # the bridge they still grow: PTB's offset drops no new update, and a message id the
        # bot stored is never handed out again; no counter needs keeping.
        first = time.time_ns() // 1_000_000
        self._update_ids = itertools.count(first)
        self._last_message_id = first - 1
        self._callback_ids = itertools.count(1)
        self._callbacks: dict[str, int] = {}  # callback query id -> chat
        self._arrived = asyncio.Condition()
        self._commands: dict[str, list[Any]] = {}
        self._me: dict[str, Any] | None = None
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._poller: asyncio.Task[None] | None = None
        self._port = 0
        self._methods: dict[str, Handler] = {
            "getme": self._get_me,
            "getupdates": self._get_updates,
            "deletewebhook": self._true,
            "logout": self._true,
            "close": self._true,
            "setmycommands": self._set_my_commands,
            "deletemycommands": self._delete_my_commands,
            "getmycommands": self._get_my_commands,
            "setchatmenubutton": self._true,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "answercallbackquery": self._answer_callback_query,
            "deletemessage": self._delete_message,
            "sendchataction": self._send_chat_action,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "getchat": self._get_chat,
        }

    # -- lifecycle ------------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        self._closing = False
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("POST", "/bot{token}/{method}", self._handle)
        app.router.add_route("GET", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._port = self._runner.addresses[0][1]
        if self.poll:
            self.start_polling()

    def start_polling(self) -> None:
        """Long-polls Zalo from now on: for a bridge made with `poll=False` whose application
        has to be ready (its database migrated) before the first event is taken."""
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="zalo-poller")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        async with self._arrived:
            self._closing = True
            self._arrived.notify_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ZaloBridge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(...)."""
        return f"http://127.0.0.1:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url(...): no file is served here (a Zalo
        user cannot send the bot one)."""
        return f"http://127.0.0.1:{self._port}/file/bot"

    # -- Zalo to Telegram -----------------------------------------------------------------------

    async def _poll(self) -> None:
        """Zalo's events, one per long poll, for as long as the bridge runs."""
        while True:
            try:
                event = await self.zalo.get_updates(timeout=self.poll_timeout)
                if event is not None:
                    # An answer the bridge gives itself (the menu, "text only") may fail too.
                    await self.receive(event)
            except ZaloRetryAfter as exc:
                log.warning("zalo poll: %s", exc)
                await asyncio.sleep(exc.retry_after or RETRY_S)
            except ZaloError as exc:
                log.warning("zalo poll: %s", exc)
                await asyncio.sleep(RETRY_S)
            except Exception as exc:  # the database, say: that event is lost, not the next
                log.error("zalo poll: an event failed: %s: %s", exc.__class__.__name__, exc)
                await asyncio.sleep(RETRY_S)

    async def _chat_of(self, event: ZaloEvent) -> _Chat:
        telegram_id = await self.accounts.presented(event.chat_id)
        chat = self._chats.get(telegram_id)
        if chat is None or chat.zalo_id != event.chat_id:
            chat = self._chats[telegram_id] = _Chat(event.chat_id, telegram_id, event.sender_name)
        chat.name = event.sender_name or chat.name
        return chat

    async def receive(self, event: ZaloEvent) -> None:
        """One Zalo event as the Telegram update it means, queued for getUpdates."""
        chat = await self._chat_of(event)
        if event.kind is not EventKind.TEXT or not event.text:
            # Photos and stickers are not read (nothing the bot does takes one from a cadre):
            # the person is told at once to type.
            await self._deliver(chat, plain_text(self.texts("zalo.text_only")))
            return
        if not event.text.startswith("/") and asks_for_menu(event.text):
            await self._menu(chat)
            return
        sender = {"id": chat.telegram_id, "is_bot": False, "first_name": chat.name or "Zalo"}
        tg_chat = {"id": chat.telegram_id, "type": "private", "first_name": sender["first_name"]}
        date = int(event.date.timestamp())
        lists = chat.lists()
        found = choose_among(event.text, [listed.choices for listed in lists])
        index, picked = found if found else (0, None)
        update: dict[str, Any] = {"update_id": next(self._update_ids)}
        if picked is not None and picked.callback_data is not None:
            under = lists[index].message_id  # the message whose button it is
            query_id = str(next(self._callback_ids))
            self._callbacks[query_id] = chat.telegram_id
            if len(self._callbacks) > KEPT_CALLBACKS:
                del self._callbacks[next(iter(self._callbacks))]
            sent = chat.messages.get(under or 0)
            update["callback_query"] = {
                "id": query_id,
                "from": sender,
                "chat_instance": str(chat.telegram_id),
                "data": picked.callback_data,
                "message": {
                    "message_id": under,
                    "date": date,
                    "chat": tg_chat,
                    "from": self._me or {"id": 0, "is_bot": True, "first_name": "bot"},
                    "text": sent.text if sent and sent.text else "…",
                },
            }
        else:
            text = picked.text if picked is not None else event.text
            message: dict[str, Any] = {
                "message_id": self._new_message_id(),
                "date": date,
                "chat": tg_chat,
                "from": sender,
                "text": text,
            }
            if entities := _command_entities(text):
                message["entities"] = entities
            update["message"] = message
        async with self._arrived:
            self._updates.append(update)
            self._arrived.notify_all()

    def _menu_commands(self, chat: _Chat) -> list[Any]:
        """The commands Telegram would show this chat: its own menu, else the default one
        (the language-neutral list first)."""
        ranked: list[tuple[int, list[Any]]] = []
        for key, commands in self._commands.items():
            scope, language = json.loads(key)
            if scope.get("type") == "chat" and scope.get("chat_id") == chat.telegram_id:
                ranked.append((0, commands))
            elif scope.get("type") == "default":
                ranked.append((1 if language == "" else 2, commands))
        return min(ranked, key=lambda pair: pair[0])[1] if ranked else []

    async def _menu(self, chat: _Chat) -> None:
        """Zalo has no command menu: "menu" gets it as a numbered list, answered by number."""
        commands = [
            (str(c.get("command", "")), str(c.get("description", "")))
            for c in self._menu_commands(chat)
            if isinstance(c, dict)
        ]
        listed = menu_text(commands, self.texts)
        async with chat.lock:
            await self._deliver(chat, listed.text)
            chat.show(_Listed(None, listed.choices))

    # -- Telegram to Zalo -----------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        handler = self._methods.get(name.lower())
        try:
            if request.match_info["token"] != self.token:
                raise BotApiError(401, "Unauthorized")
            if handler is None:
                raise _bad(f"method {name} is not available on Zalo")
            params = await _Params.read(request)
            result = await handler(params)
        except BotApiError as exc:
            return exc.response()
        except ZaloRetryAfter as exc:
            return BotApiError(429, "Too Many Requests", exc.retry_after).response()
        except ZaloUnreachable:
            return BotApiError(403, "Forbidden: bot can't initiate conversation").response()
        except ZaloError as exc:
            log.warning("zalo: %s", exc)
            return BotApiError(502, "Bad Gateway").response()
        return web.json_response({"ok": True, "result": result})

    def _new_message_id(self) -> int:
        self._last_message_id += 1
        return self._last_message_id

    async def _chat(self, p: _Params) -> _Chat:
        """The chat a call names: met since the bridge started, or known to the directory
        (a reminder to someone who wrote before a restart)."""
        chat_id = p.integer("chat_id")
        if chat_id is None:
            raise _bad("chat not found")
        chat = self._chats.get(chat_id)
        if chat is None:
            zalo_id = await self.accounts.zalo_id(chat_id)
            if zalo_id is None:
                raise _bad("chat not found")
            chat = self._chats[chat_id] = _Chat(zalo_id, chat_id, "")
        return chat

    async def _deliver(self, chat: _Chat, text: str) -> None:
        parts = split(text)
        await self._in_parts(chat, [partial(self.zalo.send_message, chat.zalo_id, part)
                                    for part in parts], parts)  # fmt: skip

    async def _in_parts(
        self, chat: _Chat, calls: Sequence[Callable[[], Awaitable[Any]]], content: Sequence[str]
    ) -> None:
        """Makes the calls in order, each after the first in its own turn under Zalo's
        limits; a retry of the same content skips the calls an earlier attempt completed."""
        key = content_key(chat.zalo_id, *content)
        done = self._parts.done(key)
        for index, call in enumerate(calls[done:], start=done):
            if index:
                await self.pace(chat.telegram_id)
            await call()
            if index + 1 < len(calls):
                self._parts.advance(key, index + 1)
        self._parts.finish(key)

    def _message(self, chat: _Chat, message_id: int, **content: Any) -> dict[str, Any]:
        return {
            "message_id": message_id,
            "date": int(datetime.now(UTC).timestamp()),
            "chat": {"id": chat.telegram_id, "type": "private", "first_name": chat.name},
            "from": self._me,
            **content,
        }

    async def _post(
        self,
        chat: _Chat,
        text: str,
        markup: Any,
        message_id: int | None = None,
        *,
        photo: str | None = None,
    ) -> int:
        """Sends plain text with its buttons numbered (under the `photo` at that URL, if
        any); the chat now answers to them."""
        keys = _keyboard(markup)
        body = "\n".join([text.rstrip(), *keys.links]) if keys.links else text
        message_id = message_id or self._new_message_id()
        main = numbered("", keys.reply, self.texts).choices if keys.persistent else ()
        labels = tuple(choice.label for choice in main)
        async with chat.lock:
            # The persistent (main) keyboard comes under many messages: it is listed only
            # when it differs from the one last listed, and not under inline buttons, whose
            # numbers it would push down; its words answer at any time.
            lists_reply = not main or (labels != chat.main_listed and not any(keys.inline))
            listed = numbered(body, keys.inline + (keys.reply if lists_reply else []), self.texts)
            if photo is None:
                await self._deliver(chat, listed.text)
            else:
                await self._deliver_photo(chat, photo, listed.text.strip())
            self._remember(chat, message_id, _Sent(text, tuple(c.label for c in listed.choices)))
            if keys.reply or keys.removes:
                chat.replace_reply_keyboard()
            if main:
                chat.main = main
            if main and lists_reply:
                chat.main_listed = labels
            if listed.choices:
                chat.show(_Listed(message_id, listed.choices))
        return message_id

    @staticmethod
    def _remember(chat: _Chat, message_id: int, sent: _Sent) -> None:
        chat.messages.pop(message_id, None)
        chat.messages[message_id] = sent
        if len(chat.messages) > KEPT_MESSAGES:
            del chat.messages[next(iter(chat.messages))]

    @staticmethod
    def _plain(p: _Params, key: str, limit: int) -> str:
        raw = p.text(key) or ""
        if telegram_length(raw) > limit:
            raise _bad("message is too long" if key == "text" else "message caption is too long")
        return plain_text(raw) if (p.text("parse_mode") or "").upper() == "HTML" else raw

    async def _send_message(self, p: _Params) -> Any:
        chat = await self._chat(p)
        text = self._plain(p, "text", TEXT_LIMIT)
        if not text.strip():
            raise _bad("message text is empty")
        markup = p.obj("reply_markup")
        message_id = await self._post(chat, text, markup)
        return self._message(chat, message_id, text=text, **_inline(markup))

    async def _deliver_photo(self, chat: _Chat, url: str, caption: str) -> None:
        """Zalo's sendPhoto by URL; a caption too long for it follows as text."""
        if caption and zalo_length(caption) <= ZALO_TEXT_LIMIT:
            await self.zalo.send_photo(chat.zalo_id, url, caption)
            return
        parts = split(caption) if caption else []
        calls: list[Callable[[], Awaitable[Any]]] = [
            partial(self.zalo.send_photo, chat.zalo_id, url),
            *(partial(self.zalo.send_message, chat.zalo_id, part) for part in parts),
        ]
        await self._in_parts(chat, calls, [url, *parts])

    def _shelve(self, p: _Params, field: str) -> SharedFile | None:
        """The file a call uploads, kept behind a link; or the one it names by a file_id
        this bridge gave (a file's token), while its link works. None without a shelf."""
        if self.files is None:
            return None
        value = p.data.get(field)
        if isinstance(value, FileField):
            try:
                return self.files.put(
                    value.filename or field, value.file.read(), value.content_type
                )
            except FileTooBig:
                raise _bad("file is too big") from None
        return self.files.get(value) if isinstance(value, str) else None

    async def _send_file(self, chat: _Chat, p: _Params, line: str) -> tuple[int, str]:
        caption = self._plain(p, "caption", CAPTION_LIMIT)
        text = f"{caption.rstrip()}\n\n{line}" if caption.strip() else line
        return await self._post(chat, text, p.obj("reply_markup")), caption

    async def _send_document(self, p: _Params) -> Any:
        chat = await self._chat(p)
        upload = p.data.get("document")
        name = upload.filename if isinstance(upload, FileField) else None
        shared = self._shelve(p, "document")
        if shared is not None and self.files is not None:
            name = shared.name
            link = self.texts(
                "zalo.file_link", name=name, url=self.files.url(shared), hours=self.files.hours
            )
            message_id, caption = await self._send_file(chat, p, plain_text(link))
            file_id = shared.token
        else:
            line = plain_text(self.texts("zalo.file_sent", name=name or "—"))
            message_id, caption = await self._send_file(chat, p, line)
            file_id = f"zalo-document-{message_id}"
        document = {"file_id": file_id, "file_unique_id": file_id, "file_name": name or ""}
        return self._message(chat, message_id, document=document, caption=caption)

    async def _send_photo(self, p: _Params) -> Any:
        chat = await self._chat(p)
        shared = self._shelve(p, "photo")
        if shared is not None and self.files is not None:
            caption = self._plain(p, "caption", CAPTION_LIMIT)
            url = self.files.url(shared)
            message_id = await self._post(chat, caption, p.obj("reply_markup"), photo=url)
            file_id = shared.token
        else:
            line = plain_text(self.texts("zalo.photo_sent"))
            message_id, caption = await self._send_file(chat, p, line)
            file_id = f"zalo-photo-{message_id}"
        photo = [{"file_id": file_id, "file_unique_id": file_id, "width": 1, "height": 1}]
        return self._message(chat, message_id, photo=photo, caption=caption)

    async def _edit(self, p: _Params, new_text: str | None) -> Any:
        """An edit as Zalo can show it: a new message when the words changed; the words again
        under the new list when only the buttons did (a ticked setting: a bare list would not
        say what it is); nothing otherwise."""
        chat = await self._chat(p)
        message_id = p.integer("message_id")
        if message_id is None or not 0 < message_id <= self._last_message_id:
            raise _bad("message to edit not found")
        # A message sent long ago (or before a restart) is no longer remembered: its edit
        # arrives whole, as an update.
        sent = chat.messages.get(message_id) or _Sent("", ())
        markup = p.obj("reply_markup")
        text = sent.text if new_text is None else new_text
        update = edited(sent.text, text, self.texts) if new_text is not None else None
        labels = tuple(c.label for c in numbered("", _keyboard(markup).inline, self.texts).choices)
        if update is not None:
            await self._post(chat, update, markup, message_id)
        elif labels != sent.labels and labels:
            await self._post(chat, text, markup, message_id)
        if not labels:
            chat.forget(message_id)
        self._remember(chat, message_id, _Sent(text, labels))
        return self._message(chat, message_id, text=text, **_inline(markup))

    async def _edit_message_text(self, p: _Params) -> Any:
        return await self._edit(p, self._plain(p, "text", TEXT_LIMIT))

    async def _edit_message_caption(self, p: _Params) -> Any:
        return await self._edit(p, self._plain(p, "caption", CAPTION_LIMIT))

    async def _edit_message_reply_markup(self, p: _Params) -> Any:
        return await self._edit(p, None)

    async def _answer_callback_query(self, p: _Params) -> Any:
        chat_id = self._callbacks.pop(p.text("callback_query_id") or "", None)
        if chat_id is None:
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        text = p.text("text")
        if text and len(text) > CALLBACK_TEXT_LIMIT:
            raise _bad("message is too long")
        if text:
            await self._deliver(self._chats[chat_id], text)
        return True

    async def _delete_message(self, p: _Params) -> Any:
        """Zalo cannot take a message back: the bridge only forgets it (and its buttons)."""
        chat = await self._chat(p)
        message_id = p.integer("message_id")
        if message_id is None or chat.messages.pop(message_id, None) is None:
            raise _bad("message to delete not found")
        chat.forget(message_id)
        return True

    async def _send_chat_action(self, p: _Params) -> Any:
        await self.zalo.send_chat_action((await self._chat(p)).zalo_id)
        return True

    async def _get_chat(self, p: _Params) -> Any:
        chat = await self._chat(p)
        return {"id": chat.telegram_id, "type": "private", "first_name": chat.name}

    async def _get_me(self, p: _Params) -> Any:
        if self._me is None:
            me = await self.zalo.get_me()
            self._me = {
                "id": first_number(me.id or "bot"),
                "is_bot": True,
                "first_name": me.name or "Zalo",
                "username": "zalo_bridge",
                "can_join_groups": me.can_join_groups,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        return self._me

    async def _get_updates(self, p: _Params) -> Any:
        """Telegram's long poll: confirms what is below `offset`, waits up to `timeout`."""
        offset = p.integer("offset", 0) or 0
        limit = min(max(p.integer("limit", 100) or 100, 1), 100)
        timeout = max(p.integer("timeout", 0) or 0, 0)
        async with self._arrived:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            if not self._updates and timeout:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(timeout):
                        await self._arrived.wait_for(lambda: bool(self._updates) or self._closing)
            return self._updates[:limit]

    @staticmethod
    def _scope(p: _Params) -> str:
        scope = p.obj("scope") or {"type": "default"}
        return json.dumps([scope, p.text("language_code") or ""], sort_keys=True)

    async def _set_my_commands(self, p: _Params) -> Any:
        commands = p.obj("commands")
        if not isinstance(commands, list):
            raise _bad("commands must be an array")
        self._commands[self._scope(p)] = commands
        return True

    async def _delete_my_commands(self, p: _Params) -> Any:
        self._commands.pop(self._scope(p), None)
        return True

    async def _get_my_commands(self, p: _Params) -> Any:
        return self._commands.get(self._scope(p), [])

    async def _true(self, p: _Params) -> Any:
        return True


async def _no_wait(chat_id: int) -> None:
    """No limits but Zalo's own (tests and tools that run the bridge alone)."""


def _inline(markup: Any) -> dict[str, Any]:
    """The inline keyboard echoed back as Telegram does, so PTB parses the message whole."""
    if isinstance(markup, dict) and markup.get("inline_keyboard"):
        return {"reply_markup": {"inline_keyboard": markup["inline_keyboard"]}}
    return {}

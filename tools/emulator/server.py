"""A local Telegram Bot API server for running the real PTB Application in tests and benchmarks.

It speaks the HTTP dialect python-telegram-bot uses (form fields with JSON-encoded nested
values, multipart uploads, long-polled getUpdates) and validates requests the way Telegram does,
so bugs that only the real server would reveal show up locally.

Beside the Bot API it has its own endpoints under /_emulator/, for a test or benchmark in
another process than a standalone emulator (`python -m tools.emulator`):

    GET|POST /_emulator/config   faults and rate limits (POST changes them)
    GET  /_emulator/stats        counters (?log=1 adds every delivery)
    POST /_emulator/users        {"token", "ids": [...]}: make private chats known
    POST /_emulator/updates      {"token", "user": {"id", "first_name", ...}, "text"}: a user
                                 sends a text message, exactly as ScriptedUser.send does;
                                 with "data" and "message_id" instead, taps an inline button;
                                 with "document": {"file_name", "mime_type", "content_base64"}
                                 (and an optional "caption") instead, sends a file of at most
                                 20 MB (what a bot may download), as ScriptedUser.upload does
    GET  /_emulator/inbox        ?token&chat_id&after&timeout: the bot's messages, edits and
                                 deletions in a private chat past the first `after` of them,
                                 long-polled up to `timeout` s (at most 30)

A real Bot API server has no way to inject a user's message; these do, which is what lets
scripted users (tools.emulator.remote) live in another process.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiohttp import web
from aiohttp.web_request import FileField

from bot.http_fields import read_fields
from tools.emulator.entities import Entity, EntityParseError, parse_html, strip_formatted, utf16_len
from tools.emulator.faults import SEND_METHODS, Delivery, Faults, Stats
from tools.emulator.state import (
    ApiError,
    BotState,
    FileStore,
    ScopeKey,
    StoredFile,
    StoredMessage,
    bad_request,
    scope_key,
)
from tools.emulator.users import BotMessage, ScriptedUser

DEFAULT_TOKEN = "123456789:EMULATOR-TEST-TOKEN"
# fmt: off
_INLINE_ACTIONS = frozenset({
    "url", "callback_data", "web_app", "login_url", "switch_inline_query",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
    "callback_game", "pay",
})
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
# fmt: on
#: The fields of an InputMedia object that the emulator reads.
_INPUT_MEDIA_FIELDS = ("media", "caption", "parse_mode", "caption_entities")
_PROFILE = {"description": 512, "short_description": 120, "name": 64}
_DOWNLOAD_LIMIT = 20 * 1024 * 1024
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
#: Longest wait of GET /_emulator/inbox: below common proxy and client read timeouts.
INBOX_MAX_WAIT_S = 30.0

Handler = Callable[[BotState, "Params"], Awaitable[Any]]


class _HasToken(Protocol):
    @property
    def token(self) -> str: ...


BotRef = str | _HasToken | None  # a token, a PTB Bot (or anything with .token), or the first bot


class Params:
    """Request parameters as PTB sends them: form fields, JSON-encoded nested values, files."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @classmethod
    async def read(cls, request: web.Request) -> Params:
        try:
            return cls(await read_fields(request))
        except ValueError as exc:
            raise bad_request(str(exc)) from None

    def raw(self, name: str) -> Any:
        return self._data.get(name)

    def text(self, name: str) -> str | None:
        value = self._data.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, FileField):
            raise bad_request(f"{name} must be a string")
        return str(value)

    def integer(self, name: str, default: int | None = None) -> int | None:
        value = self.text(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except ValueError:
            raise bad_request(f"invalid {name} specified") from None

    def flag(self, name: str) -> bool:
        value = self._data.get(name)
        return value is True or str(value).lower() in ("true", "1")

    def obj(self, name: str) -> Any:
        """A nested value: PTB sends these JSON-encoded inside form fields."""
        value = self._data.get(name)
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                raise bad_request(f"can't parse {name} JSON object") from None
        return value


def _content(key: str, entities_key: str, text: str, entities: list[Entity]) -> dict[str, Any]:
    content: dict[str, Any] = {key: text}
    if entities:
        content[entities_key] = entities
    return content


def _inline(markup: dict[str, Any] | None) -> dict[str, Any] | None:
    """The reply_markup a Message carries: only a non-empty inline keyboard."""
    if markup and markup.get("inline_keyboard"):
        return {"inline_keyboard": markup["inline_keyboard"]}
    return None


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array')
    for button in (b for row in rows for b in row):
        if not isinstance(button, dict):
            raise bad_request("can't parse inline keyboard button: must be an Object")
        if not button.get("text"):
            raise bad_request("can't parse inline keyboard button: Text must be non-empty")
        if "callback_data" in button:
            if not 1 <= len(str(button["callback_data"]).encode("utf-8")) <= 64:
                raise bad_request("BUTTON_DATA_INVALID")
        elif "url" in button:
            if not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                raise bad_request(
                    f"inline keyboard button URL '{button['url']}' is invalid: Wrong HTTP URL"
                )
        elif not _INLINE_ACTIONS & button.keys():
            raise bad_request("text buttons are unallowed in the inline keyboard")


def _check_reply_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise bad_request('field "keyboard" of the ReplyKeyboardMarkup must be an Array')
    for button in (b for row in rows for b in row):
        text = button.get("text") if isinstance(button, dict) else button
        if not text or not isinstance(text, str):
            raise bad_request("can't parse keyboard button: Text must be non-empty")


class BotApiEmulator:
    """The emulator: HTTP server, per-token bot state, faults, stats and scripted users."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        faults: Faults | None = None,
        callback_ttl: float = 15.0,
    ) -> None:
        self.token = token
        self.faults = faults or Faults()
        self.stats = Stats()
        self.callback_ttl = callback_ttl
        self._files = FileStore()
        self._bots: dict[str, BotState] = {}
        self._runner: web.AppRunner | None = None
        self._port = 0
        table: dict[str, Handler] = {
            "getMe": self._get_me,
            "logOut": self._ok,
            "close": self._ok,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "sendDocument": self._send_document,
            "sendPhoto": self._send_photo,
            "editMessageText": self._edit_message_text,
            "editMessageCaption": self._edit_message_caption,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageMedia": self._edit_message_media,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "getFile": self._get_file,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
        }
        for field, limit in _PROFILE.items():
            camel = "My" + field.title().replace("_", "")
            table["set" + camel] = self._profile_setter(field, limit)
            table["get" + camel] = self._profile_getter(field)
        self._methods = {name.lower(): (name, handler) for name, handler in table.items()}

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:port (0 picks a free port)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/_emulator/config", self._handle_config)
        app.router.add_get("/_emulator/stats", self._handle_stats)
        app.router.add_post("/_emulator/users", self._handle_users)
        app.router.add_post("/_emulator/updates", self._handle_updates)
        app.router.add_get("/_emulator/inbox", self._handle_inbox)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._port = self._runner.addresses[0][1]
        for bot in self._bots.values():
            bot.closing = False

    async def stop(self) -> None:
        """End pending long polls and close the server."""
        for bot in self._bots.values():
            await bot.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """For ApplicationBuilder().base_url(...)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ApplicationBuilder().base_file_url(...)."""
        return f"{self.url}/file/bot"

    # -- test helpers -------------------------------------------------------------------------

    def bot(
        self,
        token: str | None = None,
        *,
        username: str | None = None,
        first_name: str | None = None,
    ) -> BotState:
        """The state of a bot token (created on first use), optionally renaming it."""
        token = token or self.token
        state = self._bots.get(token)
        if state is None:
            state = self._bots[token] = BotState(token, self._files)
        if username:
            state.username = username
        if first_name:
            state.first_name = first_name
        return state

    def _bot_of(self, token_or_bot: BotRef) -> BotState:
        """None means the first bot used (or the default token); a PTB Bot gives its token."""
        if token_or_bot is None:
            return next(iter(self._bots.values()), None) or self.bot()
        return self.bot(token_or_bot if isinstance(token_or_bot, str) else token_or_bot.token)

    def user(
        self,
        user_id: int,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
        phone: str = "+84912345678",
        bot: BotRef = None,
    ) -> ScriptedUser:
        """A scripted user whose private chat with the bot is known from now on."""
        state = self._bot_of(bot)
        if user_id in state.users:
            return state.users[user_id]
        return ScriptedUser(state, user_id, first_name, last_name, username, language_code, phone)

    add_user = user

    def add_chat(
        self, chat_id: int, title: str = "Nhóm học tập", kind: str = "group", bot: BotRef = None
    ) -> dict[str, Any]:
        """Make a group (negative id) known to the bot so it can send there."""
        chat = {"id": chat_id, "type": kind, "title": title}
        self._bot_of(bot).chats[chat_id] = chat
        return chat

    def commands_for(
        self, token_or_bot: BotRef, chat_id: int, language_code: str | None = None
    ) -> list[dict[str, str]]:
        """The command menu chat_id sees: chat scope, then all private/group chats, default."""
        return self._bot_of(token_or_bot).commands_for(chat_id, language_code)

    def delivered(self, token: BotRef = None) -> list[Delivery]:
        """Messages that reached their chat, in order, optionally for one bot only."""
        if token is None:
            return list(self.stats.deliveries)
        wanted = self._bot_of(token).token
        return [d for d in self.stats.deliveries if d.token == wanted]

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        canonical, handler = self._methods.get(name.lower(), (name, None))
        self.stats.methods[canonical] += 1
        if handler is None:
            return _error(ApiError(404, "Not Found"))
        bot = self.bot(request.match_info["token"])
        send = canonical in SEND_METHODS
        try:
            params = await Params.read(request)
            if send:
                if self.faults.server_error.fire():
                    self.stats.server_errors += 1
                    raise ApiError(502, "Bad Gateway")
                if self.faults.drop.fire():
                    self.stats.dropped += 1
                    return _drop(request)
                self._check_rate(bot, params)
            result = await handler(bot, params)
        except ApiError as exc:
            # 429s are pacing and a 409 ends a poll the client already left: neither is a
            # request the bot should not have made.
            if 400 <= exc.code < 500 and exc.code not in (409, 429):
                self.stats.refused.append((canonical, exc.description))
            return _error(exc)
        if send and self.faults.lost_answer.fire():
            self.stats.lost_answers += 1
            return _drop(request)
        return web.json_response({"ok": True, "result": result})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self._files.by_path(request.match_info["path"])
        if stored is None:
            return _error(ApiError(404, "Not Found"))
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.content, content_type=content_type)

    async def _handle_config(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            try:
                self.faults.configure(**await request.json())
            except (ValueError, TypeError) as exc:
                return _error(ApiError(400, f"Bad Request: {exc}"))
        return web.json_response({"ok": True, "result": self.faults.to_dict()})

    async def _handle_users(self, request: web.Request) -> web.StreamResponse:
        """Makes private chats known from another process: {"ids": [...], "token": "..."}."""
        try:
            body = await request.json()
            ids = [int(i) for i in body["ids"]]
        except (ValueError, TypeError, KeyError) as exc:
            return _error(ApiError(400, f"Bad Request: {exc}"))
        for user_id in ids:
            self.user(user_id, bot=body.get("token"))
        return web.json_response({"ok": True, "result": len(ids)})

    async def _handle_updates(self, request: web.Request) -> web.StreamResponse:
        """A user's text message from another process, built and queued by ScriptedUser.send;
        with `data` and `message_id` instead of `text`, a tap on an inline button of that
        message, built by ScriptedUser.tap_data; with `document` instead, a file sent with an
        optional `caption`, stored and built by ScriptedUser.upload.

        The user (and the private chat) becomes known on first use, as does the token's bot.
        The answer to a text or a document is the Message the bot will receive (its
        message_id orders it among the bot's replies); to a tap, {"callback_query_id": ...}.
        """
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
            person, token = body["user"], body.get("token")
            if not isinstance(person, dict):
                raise TypeError("user must be a JSON object")
            if token is not None and not isinstance(token, str):
                raise TypeError("token must be a string")
            if "data" in body:
                if not (isinstance(body["data"], str) and body["data"]):
                    raise ValueError("data must be a non-empty string")
                message_id = int(body["message_id"])
            elif "document" in body:
                file_name, content, mime_type = _remote_document(body["document"])
                caption = body.get("caption")
                if caption is not None and not isinstance(caption, str):
                    raise TypeError("caption must be a string")
            elif not isinstance(body["text"], str) or not body["text"]:
                raise ValueError("text must be a non-empty string")
            user = self.user(
                int(person["id"]),
                first_name=str(person.get("first_name") or "Lan"),
                last_name=person.get("last_name"),
                username=person.get("username"),
                language_code=person.get("language_code", "vi"),
                bot=token,
            )
        except KeyError as exc:
            return _error(bad_request(f"field {exc} is missing"))
        except (ValueError, TypeError) as exc:
            return _error(bad_request(str(exc)))
        if "data" in body:
            query_id = await user.tap_data(body["data"], message_id)
            return web.json_response({"ok": True, "result": {"callback_query_id": query_id}})
        if "document" in body:
            message = await user.upload(file_name, content, mime_type, caption)
            return web.json_response({"ok": True, "result": message})
        return web.json_response({"ok": True, "result": await user.send(body["text"])})

    async def _handle_inbox(self, request: web.Request) -> web.StreamResponse:
        """The bot's actions in a private chat past a cursor, long-polled like getUpdates.

        The cursor counts events (new, edited or deleted messages), not message ids: an edit
        keeps its message's id, so an id could not tell an edit already read from a new one.
        Each event carries its `seq` (1-based); `next` is the cursor for the following call.
        """
        query = request.query
        try:
            chat_id = int(query["chat_id"])
            after = int(query.get("after") or 0)
            timeout = float(query.get("timeout") or 0)
            if after < 0 or not math.isfinite(timeout):
                raise ValueError("after must be >= 0 and timeout a number of seconds")
        except KeyError as exc:
            return _error(bad_request(f"parameter {exc} is missing"))
        except ValueError as exc:
            return _error(bad_request(str(exc)))
        user = self._bot_of(query.get("token")).users.get(chat_id)
        if user is None:
            return _error(bad_request("chat not found"))
        if after > len(user.inbox):
            return _error(bad_request(f"after={after} is past the {len(user.inbox)} events"))
        events = await user.events_after(after, min(max(timeout, 0.0), INBOX_MAX_WAIT_S))
        result = {
            "events": [{"seq": after + n, **event.to_json()} for n, event in enumerate(events, 1)],
            "next": after + len(events),
        }
        return web.json_response({"ok": True, "result": result})

    async def _handle_stats(self, request: web.Request) -> web.StreamResponse:
        with_log = request.query.get("log", "").lower() in ("1", "true")
        return web.json_response({"ok": True, "result": self.stats.to_dict(with_log)})

    def _check_rate(self, bot: BotState, params: Params) -> None:
        try:
            chat_id: int | None = int(params.text("chat_id") or "")
        except ValueError:
            chat_id = None
        retry = self.faults.retry_after(bot.id, chat_id, time.monotonic())
        if retry is not None:
            self.stats.rate_limited += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})

    # -- shared validation --------------------------------------------------------------------

    def _chat(self, bot: BotState, p: Params) -> int:
        """The target chat id, checked as Telegram does: known, not blocked, not deactivated."""
        raw = p.text("chat_id")
        if not raw:
            raise bad_request("chat_id is empty")
        try:
            chat_id = int(raw)
        except ValueError:
            raise bad_request("chat not found") from None
        if chat_id not in bot.chats:
            raise bad_request("chat not found")
        if chat_id in self.faults.deactivated:
            raise ApiError(403, "Forbidden: user is deactivated")
        if chat_id in bot.blocked or chat_id in self.faults.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _formatted(
        self, p: Params, key: str, entities_key: str
    ) -> tuple[str, list[Entity], str] | None:
        """(plain text, entities, raw) of a text or caption field, parsed per parse_mode."""
        raw = p.text(key)
        if raw is None:
            return None
        mode = (p.text("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(raw)
            except EntityParseError as exc:
                raise bad_request(f"can't parse entities: {exc}") from None
        elif mode in ("", "markdown", "markdownv2"):
            text, entities = raw, p.obj(entities_key) or []
        else:
            raise bad_request(f"unsupported parse_mode {p.text('parse_mode')!r}")
        text, entities = strip_formatted(text, entities)
        return text, entities, raw

    def _message_text(self, p: Params) -> tuple[dict[str, Any], str]:
        parsed = self._formatted(p, "text", "entities")
        if parsed is None or not parsed[0]:
            raise bad_request("message text is empty")
        text, entities, raw = parsed
        if utf16_len(text) > 4096:
            raise bad_request("message is too long")
        return _content("text", "entities", text, entities), raw

    def _caption(self, p: Params) -> tuple[dict[str, Any], str | None]:
        parsed = self._formatted(p, "caption", "caption_entities")
        if parsed is None or not parsed[0]:
            return {}, None
        text, entities, raw = parsed
        if utf16_len(text) > 1024:
            raise bad_request("message caption is too long")
        return _content("caption", "caption_entities", text, entities), raw

    def _markup(self, p: Params, *, inline_only: bool = False) -> dict[str, Any] | None:
        markup = p.obj("reply_markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            _check_inline_keyboard(markup["inline_keyboard"])
        elif inline_only:
            raise bad_request("inline keyboard expected")
        elif "keyboard" in markup:
            _check_reply_keyboard(markup["keyboard"])
        elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
            raise bad_request("can't parse reply keyboard markup JSON object")
        return markup

    def _input_file(self, bot: BotState, p: Params, key: str, folder: str) -> StoredFile:
        """An uploaded file (multipart, maybe via attach://) or a known file_id."""
        value = p.raw(key)
        if isinstance(value, str) and value.startswith("attach://"):
            value = p.raw(value.removeprefix("attach://"))
        if isinstance(value, FileField):
            return bot.files.add(value.file.read(), value.filename, value.content_type, folder)
        if value is None:
            raise bad_request(f"there is no {key} in the request")
        stored = bot.files.get(str(value))
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def _target(self, bot: BotState, p: Params, action: str) -> StoredMessage:
        """The message an edit or delete refers to."""
        if p.text("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        chat_id = self._chat(bot, p)
        stored = bot.messages.get((chat_id, p.integer("message_id", 0) or 0))
        if stored is None:
            raise bad_request(f"message to {action} not found")
        if action == "edit" and not stored.from_bot:
            raise bad_request("message can't be edited")
        return stored

    # -- sending ------------------------------------------------------------------------------

    async def _deliver(
        self,
        bot: BotState,
        p: Params,
        chat_id: int,
        content: dict[str, Any],
        raw: str | None,
        markup: dict[str, Any] | None,
    ) -> dict[str, Any]:
        """Create a bot message, log the delivery and show it to the scripted user."""
        reply = p.obj("reply_parameters")
        reply_id = (
            reply.get("message_id") if isinstance(reply, dict) else p.integer("reply_to_message_id")
        )
        if reply_id:
            replied = bot.messages.get((chat_id, int(reply_id)))
            if replied is not None:
                content["reply_to_message"] = {
                    k: v for k, v in replied.data.items() if k != "reply_to_message"
                }
            elif not (isinstance(reply, dict) and reply.get("allow_sending_without_reply")):
                raise bad_request("message to be replied not found")
        if p.flag("protect_content"):
            content["has_protected_content"] = True
        if inline := _inline(markup):
            content["reply_markup"] = inline
        stored = bot.new_message(chat_id, bot.user, content, from_bot=True)
        stored.raw, stored.markup = raw, markup
        text = content.get("text") or content.get("caption") or ""
        self.stats.deliveries.append(
            Delivery(chat_id, stored.message_id, text, time.monotonic(), time.time(), bot.token)
        )
        await self._notify(bot, stored)
        return stored.data

    async def _notify(
        self, bot: BotState, stored: StoredMessage, *, edited: bool = False, deleted: bool = False
    ) -> None:
        if user := bot.users.get(stored.chat_id):
            event = BotMessage.from_stored(stored, bot.files, edited=edited, deleted=deleted)
            await user._receive(event)

    async def _send_message(self, bot: BotState, p: Params) -> Any:
        chat_id = self._chat(bot, p)
        content, raw = self._message_text(p)
        markup = self._markup(p)
        if (preview := p.obj("link_preview_options")) is not None:
            content["link_preview_options"] = preview
        return await self._deliver(bot, p, chat_id, content, raw, markup)

    async def _send_media(self, bot: BotState, p: Params, key: str) -> Any:
        chat_id = self._chat(bot, p)
        caption, raw = self._caption(p)
        markup = self._markup(p)
        stored = self._input_file(bot, p, key, key + "s")
        media = stored.as_document() if key == "document" else stored.as_photo()
        return await self._deliver(bot, p, chat_id, {key: media, **caption}, raw, markup)

    async def _send_document(self, bot: BotState, p: Params) -> Any:
        return await self._send_media(bot, p, "document")

    async def _send_photo(self, bot: BotState, p: Params) -> Any:
        return await self._send_media(bot, p, "photo")

    async def _edit(
        self,
        bot: BotState,
        stored: StoredMessage,
        new: dict[str, Any],
        raw: str | None,
        markup: dict[str, Any] | None,
    ) -> Any:
        """Apply an edit of the given fields, refusing one that changes nothing."""
        new["reply_markup"] = _inline(markup)
        data = stored.data
        if all(data.get(k) == new.get(k) for k in new):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        for key, value in new.items():
            if value is None:
                data.pop(key, None)
            else:
                data[key] = value
        data["edit_date"] = int(time.time())
        stored.markup, stored.raw = new["reply_markup"], raw
        await self._notify(bot, stored, edited=True)
        return data

    async def _edit_message_text(self, bot: BotState, p: Params) -> Any:
        stored = self._target(bot, p, "edit")
        if "text" not in stored.data:
            raise bad_request("there is no text in the message to edit")
        content, raw = self._message_text(p)
        new = {"text": None, "entities": None, **content}
        return await self._edit(bot, stored, new, raw, self._markup(p, inline_only=True))

    async def _edit_message_caption(self, bot: BotState, p: Params) -> Any:
        stored = self._target(bot, p, "edit")
        if "text" in stored.data:
            raise bad_request("there is no caption in the message to edit")
        content, raw = self._caption(p)
        new = {"caption": None, "caption_entities": None, **content}
        return await self._edit(bot, stored, new, raw, self._markup(p, inline_only=True))

    async def _edit_message_media(self, bot: BotState, p: Params) -> Any:
        """A photo or document replaced (and its caption with it): the media is an InputMedia
        object whose file is a file_id, or attach://<part> naming an upload of the request."""
        stored = self._target(bot, p, "edit")
        media = p.obj("media")
        if not isinstance(media, dict):
            raise bad_request("can't parse InputMedia JSON object")
        kind = media.get("type")
        if kind not in ("photo", "document"):
            raise bad_request("MEDIA_EMPTY" if kind is None else f"unsupported media type {kind}")
        if "text" in stored.data:
            raise bad_request("there is no media in the message to edit")
        inner = Params({**p._data, **{k: media.get(k) for k in _INPUT_MEDIA_FIELDS}})
        uploaded = self._input_file(bot, inner, "media", kind + "s")
        caption, raw = self._caption(inner)
        new: dict[str, Any] = {"photo": None, "document": None, "caption": None,
                               "caption_entities": None, **caption}  # fmt: skip
        new[kind] = uploaded.as_document() if kind == "document" else uploaded.as_photo()
        return await self._edit(bot, stored, new, raw, self._markup(p, inline_only=True))

    async def _edit_message_reply_markup(self, bot: BotState, p: Params) -> Any:
        stored = self._target(bot, p, "edit")
        return await self._edit(bot, stored, {}, stored.raw, self._markup(p, inline_only=True))

    async def _delete_message(self, bot: BotState, p: Params) -> Any:
        stored = self._target(bot, p, "delete")
        del bot.messages[(stored.chat_id, stored.message_id)]
        await self._notify(bot, stored, deleted=True)
        return True

    async def _send_chat_action(self, bot: BotState, p: Params) -> Any:
        self._chat(bot, p)
        if p.text("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    # -- everything else ----------------------------------------------------------------------

    async def _ok(self, bot: BotState, p: Params) -> Any:
        return True

    async def _get_me(self, bot: BotState, p: Params) -> Any:
        return bot.me()

    async def _delete_webhook(self, bot: BotState, p: Params) -> Any:
        if p.flag("drop_pending_updates"):
            bot.updates.clear()
        return True

    async def _get_webhook_info(self, bot: BotState, p: Params) -> Any:
        pending = len(bot.updates)
        return {"url": "", "has_custom_certificate": False, "pending_update_count": pending}

    async def _get_updates(self, bot: BotState, p: Params) -> Any:
        allowed = p.obj("allowed_updates")
        if allowed is not None:
            bot.allowed_updates = frozenset(allowed) or None
        offset, limit = p.integer("offset", 0) or 0, p.integer("limit", 100) or 100
        return await bot.get_updates(offset, limit, float(p.text("timeout") or 0))

    async def _answer_callback_query(self, bot: BotState, p: Params) -> Any:
        pending = bot.callbacks.pop(p.text("callback_query_id") or "", None)
        if pending is None or time.monotonic() - pending.created > self.callback_ttl:
            raise bad_request(_QUERY_TOO_OLD)
        if user := bot.users.get(pending.user_id):
            await user._answered(p.text("callback_query_id") or "", p.text("text") or "")
        return True

    async def _get_file(self, bot: BotState, p: Params) -> Any:
        stored = bot.files.get(p.text("file_id") or "")
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > _DOWNLOAD_LIMIT:
            raise bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def _scope(self, bot: BotState, p: Params) -> tuple[ScopeKey, str]:
        key = scope_key(p.obj("scope"))
        if len(key) > 1 and key[1] not in bot.chats:
            raise bad_request("chat not found")
        return key, p.text("language_code") or ""

    async def _set_my_commands(self, bot: BotState, p: Params) -> Any:
        commands = p.obj("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope(bot, p)
        if commands:
            bot.commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            bot.commands.pop(key, None)
        return True

    async def _get_my_commands(self, bot: BotState, p: Params) -> Any:
        return bot.commands.get(self._scope(bot, p), [])

    async def _delete_my_commands(self, bot: BotState, p: Params) -> Any:
        bot.commands.pop(self._scope(bot, p), None)
        return True

    def _profile_setter(self, field: str, limit: int) -> Handler:
        async def handler(bot: BotState, p: Params) -> Any:
            value = p.text(field) or ""
            if len(value) > limit:
                raise bad_request(f"{field} is too long")
            bot.profile[(field, p.text("language_code") or "")] = value
            return True

        return handler

    def _profile_getter(self, field: str) -> Handler:
        async def handler(bot: BotState, p: Params) -> Any:
            lang = p.text("language_code") or ""
            return {field: bot.profile.get((field, lang)) or bot.profile.get((field, ""), "")}

        return handler


def _remote_document(document: Any) -> tuple[str, bytes, str]:
    """The file name, bytes and MIME type of a document sent to /_emulator/updates; a bad
    field raises ValueError or TypeError, a missing one KeyError."""
    if not isinstance(document, dict):
        raise TypeError("document must be a JSON object")
    for name in ("file_name", "content_base64"):
        if name not in document:
            raise KeyError(f"document.{name}")
    file_name, encoded = document["file_name"], document["content_base64"]
    mime_type = document.get("mime_type") or "application/octet-stream"
    if not isinstance(file_name, str) or not file_name.strip():
        raise ValueError("document.file_name must be a non-empty string")
    if not isinstance(mime_type, str):
        raise TypeError("document.mime_type must be a string")
    if not isinstance(encoded, str):
        raise TypeError("document.content_base64 must be a string")
    too_big = f"document is larger than {_DOWNLOAD_LIMIT} bytes, what a bot may download"
    if len(encoded) > (_DOWNLOAD_LIMIT + 2) // 3 * 4:  # refused before decoding it
        raise ValueError(too_big)
    try:
        content = base64.b64decode(encoded, validate=True)
    except binascii.Error:
        raise ValueError("document.content_base64 is not valid base64") from None
    if not content:
        raise ValueError("document is empty")
    if len(content) > _DOWNLOAD_LIMIT:
        raise ValueError(too_big)
    return file_name, content, mime_type


def _error(exc: ApiError) -> web.Response:
    return web.json_response(exc.payload(), status=exc.code)


def _drop(request: web.Request) -> web.Response:
    """Close the connection without an answer, like a network failure mid-request."""
    if request.transport is not None:
        request.transport.abort()
    return web.Response()

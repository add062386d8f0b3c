"""A local Zalo Bot API server, for testing the Zalo bridge without the real platform.

It follows the Zalo Bot Platform docs (bot-api.zaloplatforms.com/bot<TOKEN>/<method>): getMe,
getUpdates (long poll, ONE event per call, HTTP 408 "Request timeout" when none came),
setWebhook / deleteWebhook / getWebhookInfo (events then POSTed to the url with the secret in
X-Bot-Api-Secret-Token), sendMessage (1 to 2,000 characters), sendPhoto (by URL), sendSticker
and sendChatAction. Errors are `{"ok": false, "error_code", "description"}`.

Where the docs are silent the emulator chooses, closest to Telegram: getUpdates under a
webhook is refused with 409; a newer getUpdates ends an older one with 409; a bot can only
send to a chat that wrote to it (else 400 "chat not found"); lengths are counted in UTF-16
units, as the platform's Java does; a webhook POST is retried `webhook_attempts` times with a
doubling delay, any 2xx counting as delivered; webhook URLs may be plain http (the platform
wants public HTTPS) so that tests can use 127.0.0.1.

Control endpoints under /_emulator/, for tests in another process:

    GET|POST /_emulator/config   faults and webhook settings (POST changes them)
    GET  /_emulator/stats        counters, and every refused request with its reason
    POST /_emulator/messages     {"token"?, "user": {"id"?, "display_name"?}, and one of
                                 "text", "image": {"url", "caption"?}, "sticker", or
                                 "unsupported": true}: a user sends it; answers the event
    GET  /_emulator/inbox        ?token&chat_id&after&timeout: the bot's messages to a chat
                                 past the first `after`, long-polled up to `timeout` s (<= 30)
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from aiohttp import web

from bot.http_fields import read_fields
from tools.zalo_emulator.faults import SEND_METHODS, ZaloFaults, ZaloStats
from tools.zalo_emulator.state import (
    BotState,
    ZaloError,
    bad_request,
    now_ms,
    plain_text,
    utf16_len,
)
from tools.zalo_emulator.users import ZaloReceived, ZaloUser, new_user_id

DEFAULT_TOKEN = "1459232241454765289:ZALO-EMULATOR-TOKEN"
TEXT_LIMIT = 2000
#: getUpdates waits 30 s by default (docs); a longer wait is capped here.
POLL_DEFAULT_S = 30.0
POLL_MAX_S = 60.0
INBOX_MAX_WAIT_S = 30.0
_URL = re.compile(r"https?://\S+$")
_CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
_PARSE_MODES = frozenset({"markdown", "html"})
#: 408 ends an empty poll, 409 a superseded one, 429 is pacing: none is a request in error.
_NOT_REFUSALS = frozenset({408, 409, 429})

Handler = Callable[[BotState, "Params"], Awaitable[Any]]


class Params:
    """Request parameters from the query string and a JSON, form or multipart body."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @classmethod
    async def read(cls, request: web.Request) -> Params:
        try:
            return cls(await read_fields(request))
        except ValueError as exc:
            raise bad_request(str(exc)) from None

    def text(self, name: str) -> str | None:
        value = self._data.get(name)
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, bool | int | float):
            return str(value)
        raise bad_request(f"{name} must be a string")

    def required(self, name: str) -> str:
        value = self.text(name)
        if not value:
            raise bad_request(f"{name} is required")
        return value


def _length(name: str, value: str) -> str:
    if not 1 <= utf16_len(value) <= TEXT_LIMIT:
        raise bad_request(f"{name} must be 1 to {TEXT_LIMIT} characters")
    return value


class ZaloBotApiEmulator:
    """The emulator: HTTP server, bots by token, webhook delivery, faults and scripted users."""

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        faults: ZaloFaults | None = None,
        webhook_wrapped: bool = True,
        webhook_attempts: int = 3,
        webhook_retry_delay: float = 0.5,
        webhook_timeout: float = 5.0,
    ) -> None:
        """webhook_wrapped: POST `{"ok": true, "result": event}` as the docs show, or the
        bare event as real traffic has been reported to look."""
        self.token = token
        self.faults = faults or ZaloFaults()
        self.stats = ZaloStats()
        self.webhook_wrapped = webhook_wrapped
        self.webhook_attempts = webhook_attempts
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_timeout = webhook_timeout
        self._bots: dict[str, BotState] = {}
        self._deliverers: dict[str, asyncio.Task[None]] = {}
        self._user_numbers = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._port = 0
        self._methods: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }
        self.bot(token)

    # -- lifecycle ----------------------------------------------------------------------------

    async def start(self, port: int = 0) -> None:
        """Listen on 127.0.0.1:port (0 picks a free port)."""
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/_emulator/config", self._handle_config)
        app.router.add_get("/_emulator/stats", self._handle_stats)
        app.router.add_post("/_emulator/messages", self._handle_messages)
        app.router.add_get("/_emulator/inbox", self._handle_inbox)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self._port = self._runner.addresses[0][1]
        self._session = aiohttp.ClientSession()
        for bot in self._bots.values():
            bot.closing = False
            if bot.webhook_url:
                self._start_delivery(bot)

    async def stop(self) -> None:
        """End long polls and webhook deliveries, then close the server."""
        for task in self._deliverers.values():
            task.cancel()
        for task in self._deliverers.values():
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._deliverers.clear()
        for bot in self._bots.values():
            await bot.close()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> ZaloBotApiEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def base_url(self) -> str:
        """The platform's https://bot-api.zaloplatforms.com/bot, here."""
        return f"{self.url}/bot"

    # -- test helpers -------------------------------------------------------------------------

    def bot(self, token: str | None = None) -> BotState:
        """The state of a bot token, which becomes a valid token from now on."""
        token = token or self.token
        state = self._bots.get(token)
        if state is None:
            state = self._bots[token] = BotState(token)
        return state

    def user(
        self, display_name: str = "Lan", user_id: str | None = None, token: str | None = None
    ) -> ZaloUser:
        """A scripted user of a bot; the bot can write to it once it has written first."""
        state = self.bot(token)
        if user_id is not None and user_id in state.users:
            return state.users[user_id]
        user_id = user_id or new_user_id(state.token, display_name, next(self._user_numbers))
        return ZaloUser(state, user_id, display_name)

    # -- HTTP ---------------------------------------------------------------------------------

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["method"]
        self.stats.methods[name] += 1
        try:
            bot = self._bots.get(request.match_info["token"])
            if bot is None:
                raise ZaloError(401, "Unauthorized")
            handler = self._methods.get(name)  # method names are case-sensitive (docs)
            if handler is None:
                raise ZaloError(404, "Not Found")
            params = await Params.read(request)
            if name in SEND_METHODS:
                await self._faults(params)
            result = await handler(bot, params)
        except ZaloError as exc:
            if exc.code in (400, 401, 403, 404):
                self.stats.refused.append((name, exc.description))
            headers = {}
            if exc.parameters and "retry_after" in exc.parameters:
                headers["Retry-After"] = str(exc.parameters["retry_after"])
            return web.json_response(exc.payload(), status=exc.code, headers=headers)
        if result is None:  # sendChatAction answers {"ok": true} alone, as documented
            return web.json_response({"ok": True})
        return web.json_response({"ok": True, "result": result})

    async def _faults(self, params: Params) -> None:
        faults = self.faults
        if faults.slow.fire():
            self.stats.slowed += 1
            await asyncio.sleep(faults.slow_s)
        if faults.server_error.fire():
            self.stats.server_errors += 1
            raise ZaloError(500, "Internal server error")
        wait = faults.wait_needed(params.text("chat_id"), time.monotonic())
        if wait is None and faults.quota.fire():
            wait = 1
        if wait is not None:
            self.stats.rate_limited += 1
            hint = {"retry_after": wait} if faults.retry_after else None
            raise ZaloError(429, "Quota exceeded", hint)

    async def _handle_config(self, request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            try:
                changes = await request.json()
                if not isinstance(changes, dict):
                    raise TypeError("expected a JSON object")
                webhook = {k: changes.pop(k) for k in list(changes) if k.startswith("webhook_")}
                for key, value in webhook.items():
                    if not hasattr(self, key):
                        raise ValueError(f"unknown setting {key!r}")
                    setattr(self, key, value)
                self.faults.configure(**changes)
            except (ValueError, TypeError) as exc:
                return web.json_response(bad_request(str(exc)).payload(), status=400)
        result = {
            **self.faults.to_dict(),
            "webhook_wrapped": self.webhook_wrapped,
            "webhook_attempts": self.webhook_attempts,
            "webhook_retry_delay": self.webhook_retry_delay,
            "webhook_timeout": self.webhook_timeout,
        }
        return web.json_response({"ok": True, "result": result})

    async def _handle_stats(self, request: web.Request) -> web.StreamResponse:
        return web.json_response({"ok": True, "result": self.stats.to_dict()})

    async def _handle_messages(self, request: web.Request) -> web.StreamResponse:
        """A user's message from another process, built by ZaloUser exactly as in-process."""
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise TypeError("expected a JSON object")
            person, token = body.get("user") or {}, body.get("token")
            if not isinstance(person, dict):
                raise TypeError("user must be a JSON object")
            if token is not None and token not in self._bots:
                raise ValueError("unknown token")
            kinds = [k for k in ("text", "image", "sticker", "unsupported") if k in body]
            if len(kinds) != 1:
                raise ValueError("give exactly one of text, image, sticker, unsupported")
            user = self.user(
                str(person.get("display_name") or "Lan"),
                None if person.get("id") is None else str(person["id"]),
                token,
            )
            kind = kinds[0]
            if kind == "text":
                if not isinstance(body["text"], str) or not body["text"]:
                    raise ValueError("text must be a non-empty string")
                event = await user.send(body["text"])
            elif kind == "image":
                image = body["image"]
                if not isinstance(image, dict) or not isinstance(image.get("url"), str):
                    raise TypeError("image must be {'url': ..., 'caption'?: ...}")
                event = await user.send_image(image["url"], image.get("caption"))
            elif kind == "sticker":
                event = await user.send_sticker(str(body["sticker"]))
            else:
                event = await user.send_unsupported()
        except (ValueError, TypeError) as exc:
            return web.json_response(bad_request(str(exc)).payload(), status=400)
        return web.json_response({"ok": True, "result": event})

    async def _handle_inbox(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            chat_id = query["chat_id"]
            after = int(query.get("after") or 0)
            timeout = float(query.get("timeout") or 0)
            if after < 0 or not math.isfinite(timeout):
                raise ValueError("after must be >= 0 and timeout a number of seconds")
            user = self.bot(query.get("token")).users.get(chat_id)
            if user is None:
                raise ValueError("chat not found")
        except KeyError as exc:
            return web.json_response(bad_request(f"{exc} is missing").payload(), status=400)
        except ValueError as exc:
            return web.json_response(bad_request(str(exc)).payload(), status=400)
        events = await user.events_after(after, min(max(timeout, 0.0), INBOX_MAX_WAIT_S))
        result = {"events": [e.to_json() for e in events], "next": after + len(events)}
        return web.json_response({"ok": True, "result": result})

    # -- methods ------------------------------------------------------------------------------

    async def _get_me(self, bot: BotState, p: Params) -> Any:
        return bot.me()

    async def _get_updates(self, bot: BotState, p: Params) -> Any:
        if bot.webhook_url:
            raise ZaloError(
                409, "Conflict: can't use getUpdates while webhook is active; use deleteWebhook"
            )
        raw = p.text("timeout")
        try:
            wait = POLL_DEFAULT_S if raw in (None, "") else float(raw)
        except ValueError:
            raise bad_request("timeout must be a number of seconds") from None
        if not math.isfinite(wait):
            raise bad_request("timeout must be a number of seconds")
        event = await bot.next_event(min(max(wait, 0.0), POLL_MAX_S))
        if event is None:
            raise ZaloError(408, "Request timeout")
        return event

    async def _set_webhook(self, bot: BotState, p: Params) -> Any:
        url, secret = p.required("url"), p.required("secret_token")
        if not _URL.match(url):
            raise bad_request("url must be an http(s) URL")
        if not 8 <= len(secret) <= 256:
            raise bad_request("secret_token must be 8 to 256 characters")
        async with bot.cond:
            bot.webhook_url, bot.webhook_secret = url, secret
            bot.webhook_updated_at = now_ms()
            bot.cond.notify_all()  # a pending getUpdates ends
        self._start_delivery(bot)
        return bot.webhook_info()

    async def _delete_webhook(self, bot: BotState, p: Params) -> Any:
        task = self._deliverers.pop(bot.token, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        bot.webhook_url, bot.webhook_secret = "", ""
        bot.webhook_updated_at = now_ms()
        return bot.webhook_info()

    async def _get_webhook_info(self, bot: BotState, p: Params) -> Any:
        return bot.webhook_info()

    def _chat(self, bot: BotState, p: Params) -> ZaloUser:
        chat_id = p.required("chat_id")
        user = bot.users.get(chat_id)
        if user is None or chat_id not in bot.reachable:
            raise bad_request("chat not found")
        return user

    async def _deliver(
        self, bot: BotState, user: ZaloUser, kind: str, text: str, **extra: Any
    ) -> Any:
        """Show a bot message to its user; the answer is the documented {message_id, date}."""
        received = ZaloReceived(
            kind=kind, text=text, message_id=bot.new_message_id(), date=now_ms(), **extra
        )
        self.stats.delivered += 1
        await user.receive(received)
        return {"message_id": received.message_id, "date": received.date}

    async def _send_message(self, bot: BotState, p: Params) -> Any:
        user = self._chat(bot, p)
        raw = _length("text", p.text("text") or "")
        mode = p.text("parse_mode")
        if mode is not None and mode not in _PARSE_MODES:
            raise bad_request("parse_mode must be markdown or html")
        return await self._deliver(bot, user, "text", plain_text(raw, mode), raw=raw)

    async def _send_photo(self, bot: BotState, p: Params) -> Any:
        user = self._chat(bot, p)
        photo = p.required("photo")
        if not _URL.match(photo):
            raise bad_request("photo must be an image URL")
        caption = p.text("caption")
        if caption is not None:
            _length("caption", caption)
        return await self._deliver(bot, user, "photo", caption or "", raw=caption, photo=photo)

    async def _send_sticker(self, bot: BotState, p: Params) -> Any:
        user = self._chat(bot, p)
        return await self._deliver(bot, user, "sticker", "", sticker=p.required("sticker"))

    async def _send_chat_action(self, bot: BotState, p: Params) -> Any:
        self._chat(bot, p)
        if p.text("action") not in _CHAT_ACTIONS:
            raise bad_request("action must be typing or upload_photo")
        return None

    # -- webhook ------------------------------------------------------------------------------

    def _start_delivery(self, bot: BotState) -> None:
        task = self._deliverers.get(bot.token)
        if self._session is not None and (task is None or task.done()):
            self._deliverers[bot.token] = asyncio.create_task(self._deliver_events(bot))

    async def _deliver_events(self, bot: BotState) -> None:
        """POST queued events to the webhook in order; an event leaves the queue once a POST
        is answered 2xx or its attempts are spent (then it is counted as dropped)."""
        while True:
            async with bot.cond:
                await bot.cond.wait_for(lambda: bool(bot.events) or bot.closing)
                if bot.closing:
                    return
                event = bot.events[0]
            delivered = await self._post(bot, event)
            if not delivered:
                self.stats.webhook_dropped += 1
            async with bot.cond:
                if bot.events and bot.events[0] is event:
                    bot.events.pop(0)

    async def _post(self, bot: BotState, event: dict[str, Any]) -> bool:
        assert self._session is not None
        body = {"ok": True, "result": event} if self.webhook_wrapped else event
        headers = {
            "Content-Type": "application/json",
            "X-Bot-Api-Secret-Token": bot.webhook_secret,
        }
        delay = self.webhook_retry_delay
        for attempt in range(1, self.webhook_attempts + 1):
            self.stats.webhook_posts += 1
            try:
                async with self._session.post(
                    bot.webhook_url,
                    data=json.dumps(body, ensure_ascii=False).encode(),
                    headers=headers,
                    timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
                ) as response:
                    if 200 <= response.status < 300:
                        return True
            except (aiohttp.ClientError, TimeoutError):
                pass
            self.stats.webhook_failures += 1
            if attempt < self.webhook_attempts:
                await asyncio.sleep(delay)
                delay *= 2
        return False

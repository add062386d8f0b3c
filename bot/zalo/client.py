"""An async client for the Zalo Bot API (`bot-api.zaloplatforms.com`), over httpx.

The platform is a small Telegram-like HTTP API: every method is a POST of JSON to
`/bot<TOKEN>/<method>`, answered `{"ok": true, "result": …}` or `{"ok": false,
"error_code": …, "description": …}`. Shapes follow the official docs (bot.zaloplatforms.com/
docs, API pages of 10/12/2025, webhook and error pages of 6/8/2025); where they are silent the
choice closest to the Telegram Bot API is made, and said where it is made.

The token sits in every URL, so it is masked in every exception this module raises, and the
client never logs a URL. httpx's own request lines hold it too: give the token to
`bot.logging_setup.configure_logging` (its `others`) when the channel is wired in.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import quote

import httpx

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://bot-api.zaloplatforms.com"
#: sendMessage's text and sendPhoto's caption: "from 1 to 2000 characters".
TEXT_LIMIT = 2000
#: setWebhook's secret_token: "from 8 to 256 characters".
SECRET_LENGTHS = range(8, 257)
#: getUpdates' wait when none is asked for (the docs' default), in seconds.
POLL_TIMEOUT_S = 30.0
#: How much longer than the long poll httpx waits, so the server's own 408 arrives first.
POLL_SLACK_S = 10.0
REQUEST_TIMEOUT_S = 15.0

#: getUpdates found no event within its timeout ("Request timeout" in the error table).
NO_UPDATES = 408
#: "Quota exceeded"; the docs publish neither the limits nor a wait to honour.
QUOTA_EXCEEDED = 429
#: Errors of a method sent to a chat that mean this person cannot be messaged now. The error
#: table names none for it: 404 "Not found" is the one that fits an unknown or gone chat id.
#: 403 is documented as an internal server error (not Telegram's "bot was blocked by the
#: user"), so it stays an ordinary, retryable error.
UNREACHABLE_CODES = frozenset({404})
#: Ids are 20 hex digits (users, chats, messages) or 19 decimal ones (the bot); anything far
#: longer is not an id, and would only bloat the de-duplicator and the database.
MAX_ID_LENGTH = 128
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ZaloError(Exception):
    """A call Zalo refused, or that got no usable answer, with Zalo's own code and words.

    `error_code` is None when no answer came (network failure, timeout, a body that is not
    the API's JSON).
    """

    def __init__(self, method: str, error_code: int | None, description: str) -> None:
        self.method = method
        self.error_code = error_code
        self.description = description
        code = "no answer" if error_code is None else f"error {error_code}"
        super().__init__(f"Zalo {method}: {code}: {description}")


class ZaloRetryAfter(ZaloError):
    """429: slow down. `retry_after` is the wait in seconds when Zalo gave one, else None."""

    def __init__(self, method: str, description: str, retry_after: float | None) -> None:
        super().__init__(method, QUOTA_EXCEEDED, description)
        self.retry_after = retry_after


class ZaloUnreachable(ZaloError):
    """The chat cannot be messaged: no retries until the person writes again."""


class ZaloTextRefused(ValueError):
    """Refused before sending: Zalo takes 1 to 2,000 characters; retrying cannot help."""


class ZaloEventError(ValueError):
    """A body that is not a Zalo message event (or a getUpdates answer that is none)."""


class EventKind(StrEnum):
    TEXT = "message.text.received"
    IMAGE = "message.image.received"
    STICKER = "message.sticker.received"
    #: Also sent instead of the content for people whose data the law protects (minors…).
    UNSUPPORTED = "message.unsupported.received"


_KINDS = {kind.value: kind for kind in EventKind}


@dataclass(frozen=True, slots=True)
class ZaloEvent:
    """One message a Zalo user sent the bot."""

    #: The event_name as sent (an unknown one is kept here, with kind UNSUPPORTED).
    name: str
    kind: EventKind
    message_id: str
    chat_id: str
    sender_id: str
    sender_name: str
    date: datetime
    text: str | None = None
    image_url: str | None = None
    caption: str | None = None
    sticker: str | None = None
    #: "PRIVATE"; "GROUP" once Zalo opens groups to bots (announced "coming soon").
    chat_type: str = "PRIVATE"

    @property
    def dedup_key(self) -> str:
        """What a repeated delivery of this event shares with the first one."""
        return f"{self.name}:{self.message_id}"


@dataclass(frozen=True, slots=True)
class ZaloBot:
    id: str
    name: str
    account_type: str | None
    can_join_groups: bool


@dataclass(frozen=True, slots=True)
class ZaloSent:
    """What Zalo says of a message it accepted; a missing field is None rather than an error,
    since the message went out and must not be sent again."""

    message_id: str | None
    date: datetime | None


@dataclass(frozen=True, slots=True)
class ZaloWebhookInfo:
    """The webhook Zalo posts events to; url "" when none is set (long polling)."""

    url: str
    updated_at: datetime | None


def zalo_length(text: str) -> int:
    """The length Zalo's limit is checked against, counted in UTF-16 code units.

    The docs say "characters" without saying which; the server runs on Java, whose strings
    count UTF-16 units, so an emoji outside the BMP counts two. Counting so never lets
    through a text Zalo would refuse.
    """
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def parse_event(body: Mapping[str, Any] | str | bytes) -> ZaloEvent:
    """The event in a webhook body or a getUpdates result, wrapped or bare.

    The webhook docs wrap it as {"ok": true, "result": {"event_name", "message"}}, some
    deliveries come bare ({"event_name", "message"}), and the getUpdates sample has no
    event_name at all: then the kind is told from the content.
    """
    data = _json_body(body)
    if data.get("ok") is False:
        raise ZaloEventError("an error answer, not an event")
    result = data.get("result")
    if "message" not in data and isinstance(result, Mapping):
        data = result
    message = data.get("message")
    if not isinstance(message, Mapping):
        raise ZaloEventError("no message in the event")
    chat = _mapping(message.get("chat"), "chat")
    sender = _mapping(message.get("from"), "from")
    photo = _text(message.get("photo")) or _text(message.get("photo_url"))
    sticker = _text(message.get("sticker"))
    text = _text(message.get("text"))
    name = data.get("event_name")
    if name is None:
        kind = _kind_from_content(text, photo, sticker)
        name = kind.value
    elif isinstance(name, str) and 0 < len(name) <= MAX_ID_LENGTH:
        kind = _KINDS.get(name, EventKind.UNSUPPORTED)
    else:
        raise ZaloEventError("event_name is not a short string")
    return ZaloEvent(
        name=name,
        kind=kind,
        message_id=_id(message.get("message_id"), "message_id"),
        chat_id=_id(chat.get("id"), "chat.id"),
        sender_id=_id(sender.get("id"), "from.id"),
        # The webhook docs say display_name; the getUpdates sample says first_name.
        sender_name=_text(sender.get("display_name")) or _text(sender.get("first_name")) or "",
        date=_event_date(message.get("date")),
        text=text,
        image_url=photo,
        caption=_text(message.get("caption")),
        sticker=sticker,
        chat_type=_text(chat.get("chat_type")) or "PRIVATE",
    )


class ZaloClient:
    """The Zalo Bot API's methods as coroutines returning dataclasses, raising ZaloError.

    Pass `client` to share an httpx.AsyncClient (or to test with httpx.MockTransport); a
    client made here is closed by `aclose`.
    """

    def __init__(
        self,
        token: str,
        base_url: str = DEFAULT_BASE_URL,
        client: httpx.AsyncClient | None = None,
    ) -> None:
        if not token or any(char.isspace() or char == "/" for char in token):
            raise ValueError("a Zalo bot token is one word, '<bot id>:<secret>'")
        self._token = token
        self.base_url = base_url.rstrip("/")
        self._prefix = f"{self.base_url}/bot{token}/"
        self._owns_http = client is None
        self._http = client if client is not None else httpx.AsyncClient()

    def __repr__(self) -> str:
        return f"ZaloClient(base_url={self.base_url!r})"

    async def __aenter__(self) -> ZaloClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()

    async def get_me(self) -> ZaloBot:
        result = _mapping_result("getMe", await self._call("getMe", {}))
        bot_id = result.get("id")
        return ZaloBot(
            id=str(bot_id) if isinstance(bot_id, str | int) else "",
            # The docs answer account_name; older bots' answers carry name.
            name=_text(result.get("account_name")) or _text(result.get("name")) or "",
            account_type=_text(result.get("account_type")),
            can_join_groups=result.get("can_join_groups") is True,
        )

    # `timeout` is getUpdates' own parameter, the wait asked of the server, hence its name.
    async def get_updates(self, timeout: float = POLL_TIMEOUT_S) -> ZaloEvent | None:  # noqa: ASYNC109
        """Waits up to `timeout` seconds for the next event: ONE event, or None when none came.

        There is no offset: Zalo hands each event out once. The docs type `timeout` as a
        string of seconds, so it is sent as one.
        """
        params = {"timeout": str(max(0, round(timeout)))}
        try:
            result = await self._call("getUpdates", params, wait_s=timeout + POLL_SLACK_S)
        except ZaloError as exc:
            if exc.error_code == NO_UPDATES:
                return None
            raise
        if not result:
            return None
        if not isinstance(result, Mapping):
            raise ZaloError("getUpdates", None, "the answer holds no event")
        try:
            return parse_event(result)
        except ZaloEventError as exc:
            raise ZaloError("getUpdates", None, f"the answer holds no event ({exc})") from None

    async def set_webhook(self, url: str, secret_token: str) -> ZaloWebhookInfo:
        """Zalo then POSTs each event to `url` with `secret_token` in X-Bot-Api-Secret-Token,
        and getUpdates stops working until delete_webhook."""
        if len(secret_token) not in SECRET_LENGTHS:
            raise ValueError("Zalo takes a webhook secret of 8 to 256 characters")
        result = await self._call("setWebhook", {"url": url, "secret_token": secret_token})
        return _webhook_info("setWebhook", result)

    async def delete_webhook(self) -> ZaloWebhookInfo:
        return _webhook_info("deleteWebhook", await self._call("deleteWebhook", {}))

    async def get_webhook_info(self) -> ZaloWebhookInfo:
        return _webhook_info("getWebhookInfo", await self._call("getWebhookInfo", {}))

    async def send_message(self, chat_id: str, text: str) -> ZaloSent:
        _check_text("sendMessage", "text", text)
        return _sent(await self._call("sendMessage", {"chat_id": chat_id, "text": text}))

    async def send_photo(self, chat_id: str, url: str, caption: str | None = None) -> ZaloSent:
        """A photo by its URL (the API takes no upload); an empty caption is left out, since
        Zalo takes 1 to 2,000 characters there too."""
        params = {"chat_id": chat_id, "photo": url}
        if caption:
            _check_text("sendPhoto", "caption", caption)
            params["caption"] = caption
        return _sent(await self._call("sendPhoto", params))

    async def send_sticker(self, chat_id: str, sticker: str) -> ZaloSent:
        """`sticker` is an id from stickers.zaloapp.com."""
        return _sent(await self._call("sendSticker", {"chat_id": chat_id, "sticker": sticker}))

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> None:
        """Shows "typing…"; the only action Zalo offers yet ("upload_photo" is announced)."""
        await self._call("sendChatAction", {"chat_id": chat_id, "action": action})

    async def _call(
        self, method: str, params: dict[str, str], *, wait_s: float = REQUEST_TIMEOUT_S
    ) -> Any:
        """The call's `result`, or the ZaloError its answer means (never showing the token)."""
        try:
            response = await self._http.post(self._prefix + method, json=params, timeout=wait_s)
        except httpx.TransportError as exc:
            # Chained exceptions would print the request (and its URL) in a traceback.
            reason = self._redact(f"{exc.__class__.__name__}: {exc}".rstrip(": "))
            raise ZaloError(method, None, reason) from None
        data = _json_answer(response)
        log.debug("zalo %s: HTTP %s", method, response.status_code)
        if data is not None and response.is_success and data.get("ok") is True:
            return data.get("result")
        if data is None and response.is_success:
            raise ZaloError(method, None, f"HTTP {response.status_code}, not the API's JSON")
        fields = data or {}
        code = _int(fields.get("error_code"))
        if code is None and not response.is_success:
            code = response.status_code
        description = fields.get("description") or response.reason_phrase or "no description"
        description = self._redact(str(description))
        if code == QUOTA_EXCEEDED:
            raise ZaloRetryAfter(method, description, _retry_after(fields, response))
        # Only the API's own answer says so: a proxy's HTML 404 is a misrouted request.
        if code in UNREACHABLE_CODES and "chat_id" in params and data is not None:
            raise ZaloUnreachable(method, code, description)
        raise ZaloError(method, code, description)

    def _redact(self, text: str) -> str:
        for form in (self._token, quote(self._token, safe="")):
            text = text.replace(form, "<token>")
        return text


def _json_body(body: Mapping[str, Any] | str | bytes) -> Mapping[str, Any]:
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except (ValueError, RecursionError):
            raise ZaloEventError("the body is not JSON") from None
    if not isinstance(body, Mapping):
        raise ZaloEventError("the body is not a JSON object")
    return body


def _json_answer(response: httpx.Response) -> Mapping[str, Any] | None:
    try:
        data = response.json()
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, Mapping) else None


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ZaloEventError(f"{field} is missing")
    return value


def _mapping_result(method: str, result: object) -> Mapping[str, Any]:
    if not isinstance(result, Mapping):
        raise ZaloError(method, None, "the answer has no result object")
    return result


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _id(value: object, field: str) -> str:
    """Ids stay strings: hex ids may start with 0, decimal ones exceed a float's precision."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_ID_LENGTH:
        raise ZaloEventError(f"{field} is not an id")
    return value


def _ms_date(value: object) -> datetime | None:
    """A date in milliseconds since the epoch (the docs' samples: 13 digits), as aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        # Whole milliseconds stay exact: no trip through a float of seconds.
        milliseconds = value if isinstance(value, int) else float(value)
        return _EPOCH + timedelta(milliseconds=milliseconds)
    except (ValueError, OverflowError):
        return None


def _event_date(value: object) -> datetime:
    date = _ms_date(value)
    if date is None:
        raise ZaloEventError("date is not a time in milliseconds")
    return date


def _kind_from_content(text: str | None, photo: str | None, sticker: str | None) -> EventKind:
    if photo:
        return EventKind.IMAGE
    if sticker:
        return EventKind.STICKER
    return EventKind.TEXT if text is not None else EventKind.UNSUPPORTED


def _check_text(method: str, field: str, text: str) -> None:
    length = zalo_length(text)
    if not 1 <= length <= TEXT_LIMIT:
        raise ZaloTextRefused(
            f"Zalo {method}: the {field} has {length:,} characters; Zalo takes 1 to "
            f"{TEXT_LIMIT:,} (split it first)"
        )


def _sent(result: object) -> ZaloSent:
    fields = result if isinstance(result, Mapping) else {}
    message_id = fields.get("message_id")
    return ZaloSent(
        message_id=str(message_id) if isinstance(message_id, str | int) else None,
        date=_ms_date(fields.get("date")),
    )


def _webhook_info(method: str, result: object) -> ZaloWebhookInfo:
    fields = _mapping_result(method, result)
    url = fields.get("url")
    return ZaloWebhookInfo(
        url=url if isinstance(url, str) else "",
        updated_at=_ms_date(fields.get("updated_at")),
    )


def _retry_after(data: Mapping[str, Any], response: httpx.Response) -> float | None:
    """The wait Zalo asks for, if it gives one. The docs mention none; the Telegram form
    (parameters.retry_after), a top-level retry_after and an HTTP Retry-After header of
    seconds are read, in that order."""
    parameters = data.get("parameters")
    candidates = [
        parameters.get("retry_after") if isinstance(parameters, Mapping) else None,
        data.get("retry_after"),
        response.headers.get("Retry-After"),
    ]
    for candidate in candidates:
        if isinstance(candidate, bool) or not isinstance(candidate, int | float | str):
            continue
        try:
            seconds = float(candidate)
        except ValueError:
            continue
        if 0 <= seconds < float("inf"):
            return seconds
    return None

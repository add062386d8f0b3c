"""The Zalo Bot API client against a scripted server (httpx.MockTransport, no network): the
requests it makes, what each answer becomes, the token kept out of errors and logs; the
event parser, the webhook's secret check and its de-duplicator."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.logging_setup import RedactingFormatter
from bot.zalo.client import (
    POLL_SLACK_S,
    EventKind,
    ZaloBot,
    ZaloClient,
    ZaloError,
    ZaloEvent,
    ZaloEventError,
    ZaloRetryAfter,
    ZaloSent,
    ZaloTextRefused,
    ZaloUnreachable,
    ZaloWebhookInfo,
    parse_event,
    zalo_length,
)
from bot.zalo.webhook import SECRET_HEADER, RecentEvents, secret_ok

TOKEN = "1459232241454765289:kLq0-Zx_9fYtR2mWvB7nHs4dEaUcJgPo"
BASE = "https://zalo.test"
CHAT = "e4ea2cd5189df1c3a88c"

Answer = httpx.Response | Exception


class FakeZalo:
    """Answers each request with the next scripted answer and remembers the requests."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.answers: list[Answer] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def body(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.requests[-1].content)
        return data


@pytest.fixture
async def server() -> AsyncIterator[tuple[ZaloClient, FakeZalo]]:
    fake = FakeZalo()
    async with httpx.AsyncClient(transport=httpx.MockTransport(fake)) as http:
        yield ZaloClient(TOKEN, base_url=BASE + "/", client=http), fake


def ok(result: object = None) -> httpx.Response:
    body: dict[str, object] = {"ok": True}
    if result is not None:
        body["result"] = result
    return httpx.Response(200, json=body)


def refused(
    code: int, description: str, status: int | None = None, **extra: object
) -> httpx.Response:
    body = {"ok": False, "error_code": code, "description": description, **extra}
    return httpx.Response(code if status is None else status, json=body)


# -- requests -------------------------------------------------------------------------------

Call = Callable[[ZaloClient], Awaitable[object]]
CALLS: list[tuple[str, Call, dict[str, str]]] = [
    ("getMe", lambda c: c.get_me(), {}),
    ("getUpdates", lambda c: c.get_updates(timeout=25), {"timeout": "25"}),
    (
        "setWebhook",
        lambda c: c.set_webhook("https://dao-tao.example.vn/zalo", "bi-mat-2026"),
        {"url": "https://dao-tao.example.vn/zalo", "secret_token": "bi-mat-2026"},
    ),
    ("deleteWebhook", lambda c: c.delete_webhook(), {}),
    ("getWebhookInfo", lambda c: c.get_webhook_info(), {}),
    (
        "sendMessage",
        lambda c: c.send_message(CHAT, "Chào đồng chí"),
        {"chat_id": CHAT, "text": "Chào đồng chí"},
    ),
    (
        "sendPhoto",
        lambda c: c.send_photo(CHAT, "https://dao-tao.example.vn/f/qr.png", "Mã điểm danh"),
        {
            "chat_id": CHAT,
            "photo": "https://dao-tao.example.vn/f/qr.png",
            "caption": "Mã điểm danh",
        },
    ),
    (
        "sendPhoto",
        lambda c: c.send_photo(CHAT, "https://dao-tao.example.vn/f/qr.png", ""),
        {"chat_id": CHAT, "photo": "https://dao-tao.example.vn/f/qr.png"},
    ),
    (
        "sendSticker",
        lambda c: c.send_sticker(CHAT, "0e078a2fb66a5f34067b"),
        {"chat_id": CHAT, "sticker": "0e078a2fb66a5f34067b"},
    ),
    (
        "sendChatAction",
        lambda c: c.send_chat_action(CHAT),
        {"chat_id": CHAT, "action": "typing"},
    ),
]


@pytest.mark.parametrize(("method", "call", "params"), CALLS, ids=[c[0] for c in CALLS])
async def test_each_method_posts_its_parameters_as_json_to_its_url(
    server: tuple[ZaloClient, FakeZalo], method: str, call: Call, params: dict[str, str]
) -> None:
    client, fake = server
    fake.answers.append(ok({}))
    await call(client)
    request = fake.requests[-1]
    assert request.method == "POST"
    assert str(request.url) == f"{BASE}/bot{TOKEN}/{method}"
    assert request.headers["content-type"] == "application/json"
    assert fake.body() == params


async def test_the_long_poll_is_given_longer_than_it_asks_the_server_to_wait(
    server: tuple[ZaloClient, FakeZalo],
) -> None:
    client, fake = server
    fake.answers.append(refused(408, "Request timeout"))
    assert await client.get_updates(timeout=20) is None
    assert fake.requests[-1].extensions["timeout"]["read"] == 20 + POLL_SLACK_S


# -- answers ----------------------------------------------------------------------------------


async def test_the_documented_answers_become_dataclasses(
    server: tuple[ZaloClient, FakeZalo],
) -> None:
    client, fake = server
    sent = {"message_id": "82599fa32f56d00e8941", "date": 1749632637199}
    done = ZaloSent("82599fa32f56d00e8941", datetime(2025, 6, 11, 9, 3, 57, 199000, tzinfo=UTC))
    fake.answers += [
        ok({"id": "1459232241454765289", "account_name": "bot.VDKyGxQvc",
            "account_type": "BASIC", "can_join_groups": False}),
        ok(sent),
        ok(sent),
        ok(sent),
        ok(),  # sendChatAction answers {"ok": true} only
        ok({"url": "https://dao-tao.example.vn/zalo", "updated_at": 1749538250568}),
        ok({"url": "", "updated_at": 1749538250568}),
    ]  # fmt: skip
    assert await client.get_me() == ZaloBot("1459232241454765289", "bot.VDKyGxQvc", "BASIC", False)
    assert await client.send_message(CHAT, "Lịch học tuần này") == done
    assert await client.send_photo(CHAT, "https://x.example/p.png") == done
    assert await client.send_sticker(CHAT, "0e078a2fb66a5f34067b") == done
    await client.send_chat_action(CHAT)
    assert len(fake.requests) == 5
    updated = datetime(2025, 6, 10, 6, 50, 50, 568000, tzinfo=UTC)
    webhook = ZaloWebhookInfo("https://dao-tao.example.vn/zalo", updated)
    assert await client.get_webhook_info() == webhook
    assert await client.delete_webhook() == ZaloWebhookInfo("", updated)


async def test_a_send_whose_answer_lacks_its_id_still_counts_as_sent(
    server: tuple[ZaloClient, FakeZalo],
) -> None:
    client, fake = server
    fake.answers.append(ok({"date": "not a date"}))
    assert await client.send_message(CHAT, "Nhắc lịch học") == ZaloSent(None, None)


async def test_get_updates_returns_the_one_event_of_the_documented_sample(
    server: tuple[ZaloClient, FakeZalo],
) -> None:
    client, fake = server
    fake.answers.append(ok({"message": {
        "chat": {"id": CHAT, "chat_type": "PRIVATE"},
        "text": "Xin chào",
        "message_id": "16f6366b3f02645a3d15",
        "date": 1766619597466,
        "from": {"id": CHAT, "first_name": "Nguyen Van A"},
    }}))  # fmt: skip
    event = await client.get_updates()
    assert event == ZaloEvent(
        name="message.text.received",
        kind=EventKind.TEXT,
        message_id="16f6366b3f02645a3d15",
        chat_id=CHAT,
        sender_id=CHAT,
        sender_name="Nguyen Van A",
        date=datetime(2025, 12, 24, 23, 39, 57, 466000, tzinfo=UTC),
        text="Xin chào",
    )
    assert fake.body() == {"timeout": "30"}


@pytest.mark.parametrize(
    "answer",
    [
        refused(408, "Request timeout"),
        refused(408, "Request timeout", status=200),
        httpx.Response(408, text="<html>Request Timeout</html>"),
        ok(),
        ok({}),
    ],
    ids=["http-408", "ok-false-408", "408-not-json", "no-result", "empty-result"],
)
async def test_get_updates_is_none_when_no_event_came(
    server: tuple[ZaloClient, FakeZalo], answer: httpx.Response
) -> None:
    client, fake = server
    fake.answers.append(answer)
    assert await client.get_updates(timeout=1) is None


@pytest.mark.parametrize(
    "result", [["not", "an", "event"], {"event_name": "message.text.received"}]
)
async def test_get_updates_with_something_else_than_an_event_is_an_error(
    server: tuple[ZaloClient, FakeZalo], result: object
) -> None:
    client, fake = server
    fake.answers.append(ok(result))
    with pytest.raises(ZaloError) as caught:
        await client.get_updates(timeout=1)
    assert caught.value.error_code is None and caught.value.method == "getUpdates"


# -- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "code", "description"),
    [
        (refused(401, "Unauthorized"), 401, "Unauthorized"),
        (refused(400, "Bad request"), 400, "Bad request"),
        # Documented as "Internal server error", not as a blocked bot: retryable, not unreachable.
        (refused(403, "Internal server error"), 403, "Internal server error"),
        (refused(401, "Unauthorized", status=200), 401, "Unauthorized"),
        (httpx.Response(502, text="<html>Bad Gateway</html>"), 502, "Bad Gateway"),
        (
            httpx.Response(200, text="<html>maintenance</html>"),
            None,
            "HTTP 200, not the API's JSON",
        ),
        (httpx.Response(500, json={"ok": False}), 500, "Internal Server Error"),
    ],
    ids=["401", "400", "403", "401-in-200", "502-html", "200-html", "500-bare"],
)
async def test_a_refusal_carries_its_code_and_description(
    server: tuple[ZaloClient, FakeZalo], answer: httpx.Response, code: int | None, description: str
) -> None:
    client, fake = server
    fake.answers.append(answer)
    with pytest.raises(ZaloError) as caught:
        await client.send_message(CHAT, "Thông báo lớp học")
    error = caught.value
    assert type(error) is ZaloError
    assert (error.method, error.error_code, error.description) == ("sendMessage", code, description)
    assert description in str(error)


async def test_not_found_on_a_chat_means_the_person_cannot_be_messaged(
    server: tuple[ZaloClient, FakeZalo],
) -> None:
    client, fake = server
    fake.answers += [
        refused(404, "Not found"),
        refused(404, "Not found"),
        httpx.Response(404, text="<html>nginx</html>"),
    ]
    with pytest.raises(ZaloUnreachable) as caught:
        await client.send_photo(CHAT, "https://x.example/p.png")
    assert caught.value.error_code == 404
    with pytest.raises(ZaloError) as other:  # not about a chat: an ordinary error
        await client.get_webhook_info()
    assert type(other.value) is ZaloError and other.value.error_code == 404
    with pytest.raises(ZaloError) as proxy:  # not Zalo's answer: a misrouted request
        await client.send_message(CHAT, "Nhắc lịch học")
    assert type(proxy.value) is ZaloError and proxy.value.error_code == 404


@pytest.mark.parametrize(
    ("answer", "wait"),
    [
        (refused(429, "Quota exceeded"), None),
        (refused(429, "Quota exceeded", parameters={"retry_after": 7}), 7.0),
        (refused(429, "Quota exceeded", retry_after="3.5"), 3.5),
        (httpx.Response(429, headers={"Retry-After": "12"}, json={"ok": False}), 12.0),
        (httpx.Response(429, headers={"Retry-After": "soon"}, text="slow down"), None),
        (refused(429, "Quota exceeded", parameters={"retry_after": -1}), None),
        (refused(429, "Quota exceeded", status=200, retry_after=True), None),
    ],
    ids=["plain", "parameters", "top-level", "header", "bad-header", "negative", "bool"],
)
async def test_a_quota_error_says_how_long_to_wait_when_zalo_does(
    server: tuple[ZaloClient, FakeZalo], answer: httpx.Response, wait: float | None
) -> None:
    client, fake = server
    fake.answers.append(answer)
    with pytest.raises(ZaloRetryAfter) as caught:
        await client.send_message(CHAT, "Nhắc lịch học")
    assert caught.value.error_code == 429
    assert caught.value.retry_after == wait


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError(f"cannot connect to {BASE}/bot{TOKEN}/sendMessage"),
        httpx.ConnectError(f"cannot connect to /bot{TOKEN.replace(':', '%3A')}/sendMessage"),
        httpx.ReadTimeout(""),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
    ids=["connect", "connect-quoted", "timeout", "protocol"],
)
async def test_no_answer_is_an_error_without_code_and_without_the_token(
    server: tuple[ZaloClient, FakeZalo], failure: Exception
) -> None:
    client, fake = server
    fake.answers.append(failure)
    with pytest.raises(ZaloError) as caught:
        await client.send_message(CHAT, "Nhắc lịch học")
    error = caught.value
    assert error.error_code is None
    assert error.description.startswith(type(failure).__name__)
    assert TOKEN not in str(error) and "kLq0" not in str(error)
    assert error.__cause__ is None and error.__suppress_context__


async def test_the_token_stays_out_of_errors_and_of_the_log(
    server: tuple[ZaloClient, FakeZalo], caplog: pytest.LogCaptureFixture
) -> None:
    client, fake = server
    assert TOKEN not in repr(client)
    fake.answers += [ok({}), refused(401, f"token {TOKEN} is not valid")]
    caplog.set_level(logging.DEBUG)
    await client.get_me()
    with pytest.raises(ZaloError) as caught:
        await client.get_me()
    assert TOKEN not in str(caught.value) and "token <token> is not valid" in str(caught.value)
    # Our own lines never hold a URL; httpx's do, and the formatter masks them when told.
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("bot.zalo")]
    assert ours and not any(TOKEN in line for line in ours)
    httpx_lines = [r for r in caplog.records if r.name == "httpx"]
    assert any(TOKEN in r.getMessage() for r in httpx_lines)
    formatter = RedactingFormatter("%(message)s", "123:telegram", [TOKEN])
    assert not any(TOKEN in formatter.format(r) for r in httpx_lines)


def test_a_token_that_is_not_one_word_is_refused() -> None:
    for token in ("", " 123:abc", "123:abc\n", "123 :abc", "123/abc"):
        with pytest.raises(ValueError):
            ZaloClient(token)


async def test_a_shared_http_client_is_left_open() -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(FakeZalo())) as http:
        async with ZaloClient(TOKEN, client=http):
            pass
        assert not http.is_closed


# -- limits checked before sending ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a" * 2000,
        "Đ" * 2000,
        "😀" * 1000,  # outside the BMP: two UTF-16 units each, as Java counts
        "e\u0301" * 1000,  # combining accents count apart
    ],
    ids=["ascii", "vietnamese", "emoji", "combining"],
)
async def test_texts_up_to_the_limit_go_out(server: tuple[ZaloClient, FakeZalo], text: str) -> None:
    client, fake = server
    fake.answers.append(ok({}))
    await client.send_message(CHAT, text)
    assert fake.body()["text"] == text


@pytest.mark.parametrize(
    "text",
    ["", "a" * 2001, "😀" * 1001, "a" * 1999 + "😀", "\u202eĐăng ký" * 400],
    ids=["empty", "2001", "emoji", "ascii-then-emoji", "rtl"],
)
async def test_texts_zalo_would_refuse_are_refused_before_sending(
    server: tuple[ZaloClient, FakeZalo], text: str
) -> None:
    client, fake = server
    with pytest.raises(ZaloTextRefused, match=r"takes 1 to 2,000"):
        await client.send_message(CHAT, text)
    with pytest.raises(ZaloTextRefused, match=r"caption"):
        await client.send_photo(CHAT, "https://x.example/p.png", text or "a" * 2001)
    assert fake.requests == []


def test_lengths_are_counted_in_utf16_units() -> None:
    assert zalo_length("Chào đồng chí") == 13
    assert zalo_length("😀a") == 3
    assert zalo_length("\ud800") == 1  # a lone surrogate does not break the count


async def test_a_webhook_secret_outside_8_to_256_characters_is_refused_before_sending(
    server: tuple[ZaloClient, FakeZalo],
) -> None:
    client, fake = server
    for secret in ("1234567", "x" * 257):
        with pytest.raises(ValueError, match="8 to 256"):
            await client.set_webhook("https://dao-tao.example.vn/zalo", secret)
    assert fake.requests == []


# -- events -----------------------------------------------------------------------------------


def message(**fields: object) -> dict[str, object]:
    """The webhook docs' sample message, with some fields changed."""
    base: dict[str, object] = {
        "from": {"id": "6ede9afa66b88fe6d6a9", "display_name": "Ted", "is_bot": False},
        "chat": {"id": "6ede9afa66b88fe6d6a9", "chat_type": "PRIVATE"},
        "text": "Xin chào",
        "message_id": "2d758cb5e222177a4e35",
        "date": 1750316131602,
    }
    return {**base, **fields}


SAMPLE_DATE = datetime(2025, 6, 19, 6, 55, 31, 602000, tzinfo=UTC)


def test_a_wrapped_and_a_bare_webhook_body_give_the_same_event() -> None:
    bare = {"event_name": "message.text.received", "message": message()}
    wrapped = {"ok": True, "result": bare}
    expected = ZaloEvent(
        name="message.text.received",
        kind=EventKind.TEXT,
        message_id="2d758cb5e222177a4e35",
        chat_id="6ede9afa66b88fe6d6a9",
        sender_id="6ede9afa66b88fe6d6a9",
        sender_name="Ted",
        date=SAMPLE_DATE,
        text="Xin chào",
    )
    assert parse_event(wrapped) == expected
    assert parse_event(bare) == expected
    assert parse_event(json.dumps(wrapped, ensure_ascii=False)) == expected
    assert parse_event(json.dumps(bare).encode()) == expected
    assert expected.dedup_key == "message.text.received:2d758cb5e222177a4e35"


@pytest.mark.parametrize(
    ("name", "fields", "kind", "expected"),
    [
        ("message.text.received", {}, EventKind.TEXT, {"text": "Xin chào"}),
        (
            "message.image.received",
            {"text": None, "photo": "https://f.zdn.vn/a.jpg", "caption": "Giấy mời"},
            EventKind.IMAGE,
            {"image_url": "https://f.zdn.vn/a.jpg", "caption": "Giấy mời"},
        ),
        (
            "message.image.received",
            {"text": None, "photo_url": "https://f.zdn.vn/b.jpg"},
            EventKind.IMAGE,
            {"image_url": "https://f.zdn.vn/b.jpg"},
        ),
        (
            "message.sticker.received",
            {"text": None, "sticker": "0e078a2fb66a5f34067b", "url": "https://s.zdn.vn/1.png"},
            EventKind.STICKER,
            {"sticker": "0e078a2fb66a5f34067b"},
        ),
        ("message.unsupported.received", {"text": None}, EventKind.UNSUPPORTED, {}),
        ("message.voice.received", {"text": None, "voice_url": "https://v.zdn.vn/a.aac"},
         EventKind.UNSUPPORTED, {}),
        ("user.follow", {}, EventKind.UNSUPPORTED, {"text": "Xin chào"}),
    ],
    ids=["text", "image", "image-photo_url", "sticker", "unsupported", "voice", "unknown"],
)  # fmt: skip
def test_each_event_kind(
    name: str, fields: dict[str, object], kind: EventKind, expected: dict[str, str]
) -> None:
    event = parse_event({"ok": True, "result": {"event_name": name, "message": message(**fields)}})
    assert (event.name, event.kind) == (name, kind)  # an unknown name is kept as sent
    content = {"text": event.text, "image_url": event.image_url, "caption": event.caption,
               "sticker": event.sticker}  # fmt: skip
    assert {k: v for k, v in content.items() if v is not None} == expected


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        ({}, EventKind.TEXT),
        ({"text": None, "photo": "https://f.zdn.vn/a.jpg"}, EventKind.IMAGE),
        ({"text": None, "sticker": "0e078a2fb66a5f34067b"}, EventKind.STICKER),
        ({"text": None}, EventKind.UNSUPPORTED),
    ],
)
def test_without_an_event_name_the_kind_is_told_from_the_content(
    fields: dict[str, object], kind: EventKind
) -> None:
    event = parse_event({"ok": True, "result": {"message": message(**fields)}})
    assert (event.name, event.kind) == (kind.value, kind)


def test_ids_stay_strings_and_dates_are_exact_utc_milliseconds() -> None:
    event = parse_event({"event_name": "message.text.received", "message": message(
        message_id="00000000000000000001",
        chat={"id": "0e078a2fb66a5f34067b", "chat_type": "GROUP"},
        **{"from": {"id": 7245000000000000001, "display_name": "Lò Văn Páo"}},
        date="1750316131602",
    )})  # fmt: skip
    assert event.message_id == "00000000000000000001"
    assert event.chat_id == "0e078a2fb66a5f34067b" and event.chat_type == "GROUP"
    assert event.sender_id == "7245000000000000001"
    assert event.sender_name == "Lò Văn Páo"
    assert event.date == SAMPLE_DATE and event.date.tzinfo is UTC
    assert parse_event({"message": message(date=0)}).date == datetime(1970, 1, 1, tzinfo=UTC)


def test_odd_and_huge_texts_arrive_unchanged() -> None:
    text = "\u202bمرحبا\u202c Đăng ký lớp 🇻🇳 e\u0301\u0323 \x00 " * 5000
    event = parse_event(json.dumps({"event_name": "message.text.received",
                                    "message": message(text=text)}))  # fmt: skip
    assert event.text == text


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe not json",
        "{",
        "[]",
        "[" * 100_000,
        {"ok": False, "error_code": 401, "description": "Unauthorized"},
        {"ok": True, "result": {"event_name": "message.text.received"}},
        {"event_name": "message.text.received", "message": "Xin chào"},
        {"message": message(chat=None)},
        {"message": message(**{"from": "Ted"})},
        {"message": message(message_id=None)},
        {"message": message(message_id="  ")},
        {"message": message(message_id="a" * 129)},
        {"message": message(chat={"id": True})},
        {"message": message(date=None)},
        {"message": message(date="hôm qua")},
        {"message": message(date=10**20)},
        {"message": message(date=float("nan"))},
        {"event_name": 12, "message": message()},
        {"event_name": "x" * 129, "message": message()},
    ],
)
def test_a_body_that_is_no_message_event_is_refused_clearly(body: object) -> None:
    with pytest.raises(ZaloEventError):
        parse_event(body)  # type: ignore[arg-type]


# -- the webhook ------------------------------------------------------------------------------


def test_only_the_configured_secret_passes() -> None:
    secret = "bi-mat-2026-ZALO"
    assert SECRET_HEADER == "X-Bot-Api-Secret-Token"
    assert secret_ok(secret, secret)
    for received in (None, "", "bi-mat-2026", secret + " ", secret.lower(), "bí-mật-2026-ZALO",
                     "\udcff" + secret):  # fmt: skip
        assert not secret_ok(received, secret)
    assert not secret_ok("", "")  # no secret configured: nothing is Zalo's


def test_a_redelivered_event_is_dropped_within_the_window() -> None:
    now = [0.0]
    recent = RecentEvents(size=100, window_s=60, clock=lambda: now[0])
    key = "message.text.received:2d758cb5e222177a4e35"
    assert recent.first_time(key)
    now[0] = 59.0
    assert not recent.first_time(key)
    assert recent.first_time("message.image.received:2d758cb5e222177a4e35")
    now[0] = 60.0
    assert recent.first_time(key)  # forgotten after the window
    now[0] = 500.0
    assert recent.first_time("message.text.received:ffff") and len(recent) == 1


def test_the_de_duplicator_keeps_at_most_size_keys_dropping_the_oldest() -> None:
    recent = RecentEvents(size=3, window_s=3600, clock=lambda: 0.0)
    for n in range(5):
        assert recent.first_time(f"message.text.received:{n:020x}")
    assert len(recent) == 3
    assert not recent.first_time(f"message.text.received:{4:020x}")
    assert recent.first_time(f"message.text.received:{0:020x}")  # pushed out, so new again


def test_a_de_duplicator_without_room_or_window_is_refused() -> None:
    for size, window in ((0, 60.0), (10, 0.0)):
        with pytest.raises(ValueError):
            RecentEvents(size=size, window_s=window)

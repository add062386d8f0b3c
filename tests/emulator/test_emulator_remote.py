"""Users in another process: /_emulator/updates (texts, taps, documents) and /_emulator/inbox,
and RemoteUser over them.

A real PTB echo Application polls the emulator throughout, so what goes in through HTTP is
exactly what a bot receives and what comes out is what it really sent.
"""

from __future__ import annotations

import asyncio
import base64
import time
from typing import Any

import httpx
import pytest
from telegram.ext import Application

from tools.emulator import ApiError, BotApiEmulator, BotMessage, RemoteEmulator, server
from tools.emulator.users import Attachment, InlineButton, ReplyButton


async def _inject(client: httpx.AsyncClient, token: str, text: str, **user: Any) -> dict:
    body = {"token": token, "user": {"id": 4001, "first_name": "Hoa", **user}, "text": text}
    response = await client.post("/_emulator/updates", json=body)
    assert response.status_code == 200, response.text
    result: dict = response.json()["result"]
    return result


async def _inbox(client: httpx.AsyncClient, token: str, **params: Any) -> httpx.Response:
    return await client.get("/_emulator/inbox", params={"token": token, **params})


@pytest.fixture
async def client(emu: BotApiEmulator) -> Any:
    async with httpx.AsyncClient(base_url=emu.url, timeout=10) as http:
        yield http


async def test_injected_message_reaches_the_bot_and_its_reply_the_inbox(
    emu: BotApiEmulator, app: Application, client: httpx.AsyncClient
) -> None:
    sent = await _inject(client, emu.token, "/start", last_name="Trần", language_code=None)
    # Built by ScriptedUser.send: the command entity, the user, the private chat.
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert sent["from"] == {"id": 4001, "is_bot": False, "first_name": "Hoa", "last_name": "Trần"}
    assert sent["chat"] == {"id": 4001, "type": "private", "first_name": "Hoa", "last_name": "Trần"}

    body = (await _inbox(client, emu.token, chat_id=4001, after=0, timeout=5)).json()["result"]
    [greeting] = body["events"]
    assert body["next"] == greeting["seq"] == 1
    assert greeting["message_id"] == sent["message_id"] + 1
    assert greeting["text"] == "Chào bạn!" and greeting["html"] == "<b>Chào</b> bạn!"
    assert [b["text"] for row in greeting["buttons"] for b in row] == ["Có", "Không"]

    # An edit keeps its message id: the cursor counts events, so it is still seen as new.
    await emu.bot().users[4001].tap("Có")
    body = (await _inbox(client, emu.token, chat_id=4001, after=1, timeout=5)).json()["result"]
    [edit] = body["events"]
    assert (edit["seq"], edit["message_id"], edit["edited"]) == (2, greeting["message_id"], True)
    assert edit["text"] == "Đã chọn: yes" and body["next"] == 2


async def test_inbox_long_polls_until_a_reply_and_stops_at_its_timeout(
    emu: BotApiEmulator, app: Application, client: httpx.AsyncClient
) -> None:
    await _inject(client, emu.token, "một")
    assert (await _inbox(client, emu.token, chat_id=4001, timeout=5)).json()["result"]["next"] == 1

    started = time.monotonic()
    empty = (await _inbox(client, emu.token, chat_id=4001, after=1, timeout=0.2)).json()
    assert empty["result"] == {"events": [], "next": 1}
    assert 0.15 < time.monotonic() - started < 2

    waiting = asyncio.create_task(_inbox(client, emu.token, chat_id=4001, after=1, timeout=5))
    await asyncio.sleep(0.1)
    assert not waiting.done()
    await _inject(client, emu.token, "hai")
    [echo] = (await asyncio.wait_for(waiting, 2)).json()["result"]["events"]
    assert echo["text"] == "hai" and echo["seq"] == 2


async def test_bad_requests_get_telegram_style_errors(
    emu: BotApiEmulator, client: httpx.AsyncClient
) -> None:
    async def error(response: httpx.Response) -> tuple[int, str]:
        body = response.json()
        assert not body["ok"] and body["error_code"] == response.status_code
        return response.status_code, body["description"]

    post = client.post
    assert await error(await post("/_emulator/updates", json={"text": "x"})) == (
        400,
        "Bad Request: field 'user' is missing",
    )
    no_text = await post("/_emulator/updates", json={"user": {"id": 1}, "text": ""})
    assert await error(no_text) == (400, "Bad Request: text must be a non-empty string")
    unknown = await _inbox(client, emu.token, chat_id=999)
    assert await error(unknown) == (400, "Bad Request: chat not found")
    assert (await error(await _inbox(client, emu.token)))[1] == (
        "Bad Request: parameter 'chat_id' is missing"
    )
    emu.user(5)
    past_end = await _inbox(client, emu.token, chat_id=5, after=3)
    assert await error(past_end) == (400, "Bad Request: after=3 is past the 0 events")


async def test_tokens_keep_their_chats_and_queues_apart(
    emu: BotApiEmulator, client: httpx.AsyncClient
) -> None:
    await _inject(client, "111:first", "cho bot một")
    await _inject(client, "222:second", "cho bot hai")
    first, second = emu.bot("111:first"), emu.bot("222:second")
    assert [u["message"]["text"] for u in first.updates] == ["cho bot một"]
    assert [u["message"]["text"] for u in second.updates] == ["cho bot hai"]
    assert emu.bot().updates == []  # the default token's bot saw nothing


async def test_remote_user_converses_with_the_bot(emu: BotApiEmulator, app: Application) -> None:
    async with RemoteEmulator(emu.url, emu.token) as remote:
        assert remote.base_url == emu.base_url and remote.base_file_url == emu.base_file_url
        hoa = remote.user(4002, first_name="Hoa", language_code=None)
        with pytest.raises(ApiError, match="chat not found"):
            await hoa.next_message(0.1)  # the server learns of the chat with the first message
        sent = await hoa.send("Xin chào")
        assert emu.bot().users[4002].language_code is None
        reply = await hoa.next_message(5)
        assert reply.text == "Xin chào" and reply.message_id == sent["message_id"] + 1
        with pytest.raises(TimeoutError, match="received so far: #2 'Xin chào'"):
            await hoa.next_message(0.2)
        await hoa.send("/start")
        assert (await hoa.next_message(5)).labels == ["Có", "Không"]
        assert len(hoa.inbox) == 2


async def test_stopping_the_emulator_ends_a_pending_inbox_read() -> None:
    emulator = BotApiEmulator()
    await emulator.start()
    try:
        emulator.user(6)
        async with httpx.AsyncClient(base_url=emulator.url, timeout=10) as http:
            read = asyncio.create_task(_inbox(http, emulator.token, chat_id=6, timeout=20))
            await asyncio.sleep(0.1)
            started = time.monotonic()
            await emulator.stop()
            assert (await asyncio.wait_for(read, 3)).json()["result"]["events"] == []
            # Well under aiohttp's 1 s shutdown timeout: the read was woken, not cancelled.
            assert time.monotonic() - started < 0.5
    finally:
        await emulator.stop()


def test_bot_message_json_round_trip() -> None:
    message = BotMessage(
        message_id=7,
        text=None,
        html="<i>tệp</i>",
        buttons=[[InlineButton("Mở", url="https://example.org"), InlineButton("Có", "yes")]],
        reply_keyboard=[[ReplyButton("Gửi số", request_contact=True)]],
        remove_keyboard=False,
        document=Attachment("bảng.xlsx", b"\x00\xffPK", "application/vnd.ms-excel"),
        photo=b"\x89PNG",
        caption="tệp",
        edited=True,
    )
    assert BotMessage.from_json({"seq": 3, **message.to_json()}) == message


async def test_remote_user_taps_an_inline_button(emu: BotApiEmulator, app: Application) -> None:
    async with RemoteEmulator(emu.url, emu.token) as remote:
        hoa = remote.user(4003, first_name="Hoa")
        await hoa.send("/start")
        offer = await hoa.next_message(5)
        yes = offer.buttons[0][0]
        assert yes.callback_data is not None
        query_id = await hoa.tap_data(yes.callback_data, offer.message_id)
        edited = await hoa.next_message(5)
        assert edited.edited and edited.message_id == offer.message_id
        assert query_id in emu.bot().users[4003].answer_of  # the bot answered this very tap


def _document_body(token: str, **document: Any) -> dict[str, Any]:
    return {"token": token, "user": {"id": 4004, "first_name": "Hoa"}, "document": document}


async def test_injected_document_reaches_the_bot_which_downloads_the_same_bytes(
    emu: BotApiEmulator, app: Application, client: httpx.AsyncClient
) -> None:
    content = bytes(range(256)) * 3
    body = _document_body(
        emu.token,
        file_name="bảng kê.xlsx",
        mime_type="application/vnd.ms-excel",
        content_base64=base64.b64encode(content).decode(),
    )
    response = await client.post("/_emulator/updates", json={**body, "caption": "Danh sách"})
    assert response.status_code == 200, response.text
    sent = response.json()["result"]
    # Built by ScriptedUser.upload: the document as Telegram describes it, and the caption.
    assert sent["document"]["file_name"] == "bảng kê.xlsx"
    assert sent["document"]["mime_type"] == "application/vnd.ms-excel"
    assert sent["document"]["file_size"] == len(content) and sent["caption"] == "Danh sách"

    # The echo bot getFile-s and downloads the document, then sends it back reversed.
    reply = (await _inbox(client, emu.token, chat_id=4004, timeout=5)).json()["result"]
    [event] = reply["events"]
    echoed = BotMessage.from_json(event)
    assert echoed.caption == f"{len(content)} bytes"
    assert echoed.document is not None and echoed.document.content == content[::-1]


async def test_remote_user_uploads_a_document(emu: BotApiEmulator, app: Application) -> None:
    async with RemoteEmulator(emu.url, emu.token) as remote:
        hoa = remote.user(4005, first_name="Hoa")
        sent = await hoa.upload("ghi-chú.txt", "Tệp nhỏ".encode(), "text/plain")
        assert sent["document"]["mime_type"] == "text/plain" and "caption" not in sent
        reply = await hoa.next_message(5)
        assert reply.document is not None
        assert reply.document.content == "Tệp nhỏ".encode()[::-1]
        await hoa.upload("trống.bin", b"\x00", caption="một byte")
        assert (await hoa.next_message(5)).caption == "1 bytes"


@pytest.mark.parametrize(
    ("document", "description"),
    [
        ({"content_base64": "AAAA"}, "field 'document.file_name' is missing"),
        ({"file_name": "a.xlsx"}, "field 'document.content_base64' is missing"),
        ({"file_name": " ", "content_base64": "AAAA"}, "document.file_name must be a non-empty"),
        ({"file_name": "a.xlsx", "content_base64": "AA*A"}, "is not valid base64"),
        ({"file_name": "a.xlsx", "content_base64": "AAA"}, "is not valid base64"),
        ({"file_name": "a.xlsx", "content_base64": ""}, "document is empty"),
        ({"file_name": "a.xlsx", "content_base64": 12}, "content_base64 must be a string"),
        ({"file_name": "a", "mime_type": 3, "content_base64": "AA=="}, "mime_type must be"),
    ],
)
async def test_bad_documents_are_refused_and_reach_no_bot(
    emu: BotApiEmulator, client: httpx.AsyncClient, document: dict[str, Any], description: str
) -> None:
    response = await client.post("/_emulator/updates", json=_document_body(emu.token, **document))
    body = response.json()
    assert response.status_code == 400 and not body["ok"]
    assert body["description"].startswith("Bad Request: ") and description in body["description"]
    assert emu.bot().updates == [] and 4004 not in emu.bot().users


async def test_a_document_over_the_download_limit_is_refused(
    emu: BotApiEmulator, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "_DOWNLOAD_LIMIT", 1024)
    post = client.post
    for size, status in ((1025, 400), (4096, 400), (1024, 200)):
        encoded = base64.b64encode(b"x" * size).decode()
        body = _document_body(emu.token, file_name="to.bin", content_base64=encoded)
        response = await post("/_emulator/updates", json=body)
        assert response.status_code == status, (size, response.text)
        if status == 400:
            assert "larger than 1024 bytes" in response.json()["description"]
            assert emu.bot().updates == []
    assert (await post("/_emulator/updates", json={**body, "caption": 5})).json()[
        "description"
    ] == "Bad Request: caption must be a string"
    [update] = emu.bot().updates  # only the document at the limit
    assert update["message"]["document"]["file_size"] == 1024

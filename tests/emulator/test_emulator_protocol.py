"""The emulator's Bot API over raw HTTP: long polling, validation, commands, files, faults."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from tools.emulator import BotApiEmulator
from tools.emulator.entities import EntityParseError, parse_html

from .conftest import Api


async def test_get_me_methods_and_404(emu: BotApiEmulator, api: Api) -> None:
    me = await api.ok("getMe")
    assert me["id"] == 123456789 and me["is_bot"] and me["username"] == "cadre_demo_bot"
    response = await api.client.get(f"/bot{api.token}/GETME")  # case-insensitive, GET too
    assert response.json()["result"]["id"] == 123456789
    odd_token = Api(api.client, "token-without-id")
    assert (await odd_token.ok("getMe"))["id"] == (await odd_token.ok("getMe"))["id"] != 123456789
    assert await api.error("sendSticker", chat_id=1) == (404, "Not Found")
    assert emu.stats.methods["getMe"] == 4


async def test_long_poll_wakes_on_update(emu: BotApiEmulator, api: Api) -> None:
    lan = emu.user(7)
    started = time.monotonic()
    poll = asyncio.create_task(api.ok("getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await lan.send("hello")
    updates = await asyncio.wait_for(poll, 1)
    assert time.monotonic() - started < 1
    message = updates[0]["message"]
    assert message["text"] == "hello" and message["from"]["id"] == 7
    assert message["chat"] == {"id": 7, "type": "private", "first_name": "Lan"}
    empty_started = time.monotonic()
    assert await api.ok("getUpdates", offset=updates[0]["update_id"] + 1, timeout=0.3) == []
    assert time.monotonic() - empty_started >= 0.25


async def test_offsets_limit_and_negative_offset(emu: BotApiEmulator, api: Api) -> None:
    lan = emu.user(7)
    for text in "abcd":
        await lan.send(text)
    updates = await api.ok("getUpdates", limit=2)
    assert [u["message"]["text"] for u in updates] == ["a", "b"]
    first = updates[0]["update_id"]
    again = await api.ok("getUpdates", offset=first + 1)
    assert [u["message"]["text"] for u in again] == ["b", "c", "d"]
    assert [u["message"]["text"] for u in await api.ok("getUpdates", offset=-1)] == ["d"]
    assert [u["message"]["text"] for u in await api.ok("getUpdates")] == ["d"]  # rest forgotten


async def test_allowed_updates_and_conflict(emu: BotApiEmulator, api: Api) -> None:
    lan = emu.user(7)
    await api.ok("getUpdates", allowed_updates=["callback_query"])
    await lan.send("ignored")
    assert await api.ok("getUpdates") == []
    first = asyncio.create_task(api.raw("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    await api.ok("getUpdates")
    response = await asyncio.wait_for(first, 1)
    assert response.status_code == 409 and "terminated by other getUpdates" in response.text


async def test_send_message_html_and_validation(emu: BotApiEmulator, api: Api) -> None:
    emu.user(7)
    sent = await api.ok(
        "sendMessage",
        chat_id=7,
        text="  <b>Đăng ký</b> &amp; <i>học</i> 👍 ",
        parse_mode="HTML",
        reply_markup={"inline_keyboard": [[{"text": "OK", "callback_data": "ok"}]]},
    )
    assert sent["text"] == "Đăng ký & học 👍"
    assert sent["entities"] == [
        {"type": "bold", "offset": 0, "length": 7},
        {"type": "italic", "offset": 10, "length": 3},
    ]
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "ok"
    assert sent["from"]["is_bot"] and sent["chat"]["id"] == 7

    async def bad(**params: object) -> str:
        code, description = await api.error("sendMessage", **{"chat_id": 7, **params})
        assert code == 400
        return description

    assert await bad(text=" ") == "Bad Request: message text is empty"
    assert await bad(text="<b></b>", parse_mode="HTML") == "Bad Request: message text is empty"
    assert await bad(text="😀" * 2049) == "Bad Request: message is too long"  # 4098 UTF-16
    await api.ok("sendMessage", chat_id=7, text="😀" * 2048)  # exactly 4096 is fine
    assert await bad(text="<b>x", parse_mode="HTML") == (
        "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\""
    )
    assert 'Unsupported start tag "foo" at byte offset 0' in await bad(
        text="<foo>x</foo>", parse_mode="HTML"
    )
    assert "can't parse entities" in await bad(text="1 < 2", parse_mode="HTML")
    assert "can't parse entities" in await bad(text="Q&A", parse_mode="HTML")
    data65 = {"inline_keyboard": [[{"text": "x", "callback_data": "é" * 32 + "a"}]]}
    assert await bad(text="x", reply_markup=data65) == "Bad Request: BUTTON_DATA_INVALID"
    no_text = {"inline_keyboard": [[{"text": "", "callback_data": "a"}]]}
    assert "Text must be non-empty" in await bad(text="x", reply_markup=no_text)
    plain = {"inline_keyboard": [[{"text": "x"}]]}
    assert "text buttons are unallowed" in await bad(text="x", reply_markup=plain)
    assert await bad(text="x", reply_parameters={"message_id": 99}) == (
        "Bad Request: message to be replied not found"
    )
    code, description = await api.error("sendMessage", chat_id=8, text="x")
    assert (code, description) == (400, "Bad Request: chat not found")


def test_html_parser_details() -> None:
    text, entities = parse_html('<a href="https://x.vn/?a=1&amp;b=2">link</a> &#128512;&#x41;')
    assert text == "link 😀A"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 4, "url": "https://x.vn/?a=1&b=2"}
    ]
    text, entities = parse_html('<pre><code class="language-python">x</code></pre>')
    assert entities == [{"type": "pre", "offset": 0, "length": 1, "language": "python"}]
    _, entities = parse_html(
        '<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>'
    )
    assert [e["type"] for e in entities] == ["spoiler", "expandable_blockquote"]
    for bad, message in [
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("é</b>", "Unexpected end tag at byte offset 2"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
        ("x<b", "Unclosed start tag at byte offset 1"),
    ]:
        with pytest.raises(EntityParseError, match=message):
            parse_html(bad)


async def test_edit_delete_and_callback_answers(emu: BotApiEmulator, api: Api) -> None:
    lan = emu.user(7)
    keyboard = {"inline_keyboard": [[{"text": "Tiếp", "callback_data": "next"}]]}
    sent = await api.ok("sendMessage", chat_id=7, text="Câu 1", reply_markup=keyboard)
    ids = {"chat_id": 7, "message_id": sent["message_id"]}
    assert (await api.error("editMessageText", **ids, text="Câu 1", reply_markup=keyboard))[
        1
    ].startswith("Bad Request: message is not modified: specified new message content")
    edited = await api.ok("editMessageText", **ids, text="Câu 1", reply_markup=None)
    assert "reply_markup" not in edited and edited["edit_date"]
    assert await api.error("editMessageText", chat_id=7, message_id=99, text="x") == (
        400,
        "Bad Request: message to edit not found",
    )
    await api.ok("editMessageReplyMarkup", **ids, reply_markup=keyboard)
    assert lan.last is not None and lan.last.labels == ["Tiếp"]

    query_id = await lan.tap("Tiếp")
    update = (await api.ok("getUpdates"))[-1]["callback_query"]
    assert update["id"] == query_id and update["data"] == "next"
    assert update["message"]["message_id"] == sent["message_id"]
    await api.ok("answerCallbackQuery", callback_query_id=query_id, text="Đúng!", show_alert=True)
    assert lan.callback_answers == ["Đúng!"]
    too_old = "Bad Request: query is too old and response timeout expired or query ID is invalid"
    assert await api.error("answerCallbackQuery", callback_query_id=query_id) == (400, too_old)
    emu.callback_ttl = 0
    stale = await lan.tap_data("next", message_id=12345)
    assert (await api.ok("getUpdates"))[-1]["callback_query"]["message"]["date"] == 0
    assert await api.error("answerCallbackQuery", callback_query_id=stale) == (400, too_old)

    await api.ok("deleteMessage", **ids)
    assert await api.error("deleteMessage", **ids) == (
        400,
        "Bad Request: message to delete not found",
    )
    events = [await lan.next_message() for _ in range(4)]
    assert [(e.edited, e.deleted) for e in events] == [
        (False, False),
        (True, False),
        (True, False),
        (False, True),
    ]
    assert lan.last is None
    with pytest.raises(TimeoutError, match="received so far: #1 'Câu 1'"):
        await lan.next_message(timeout=0.05)


async def test_commands_per_scope(emu: BotApiEmulator, api: Api) -> None:
    emu.user(7)
    emu.user(8)
    emu.add_chat(-100)
    default = [{"command": "start", "description": "Bắt đầu"}]
    private = [{"command": "help", "description": "Trợ giúp"}]
    admin = [{"command": "report", "description": "Báo cáo"}]
    english = [{"command": "help", "description": "Help"}]
    await api.ok("setMyCommands", commands=default)
    await api.ok("setMyCommands", commands=private, scope={"type": "all_private_chats"})
    await api.ok(
        "setMyCommands", commands=english, scope={"type": "all_private_chats"}, language_code="en"
    )
    await api.ok("setMyCommands", commands=admin, scope={"type": "chat", "chat_id": 8})
    assert await api.ok("getMyCommands", scope={"type": "chat", "chat_id": 8}) == admin
    assert await api.ok("getMyCommands", scope={"type": "all_group_chats"}) == []
    assert emu.commands_for(None, 8) == admin
    assert emu.commands_for(emu.token, 7) == private
    assert emu.commands_for(emu.token, 7, "en") == english
    assert emu.commands_for(emu.token, -100) == default
    await api.ok("deleteMyCommands", scope={"type": "chat", "chat_id": 8})
    assert emu.commands_for(None, 8, "vi") == private
    assert await api.error("setMyCommands", commands=[{"command": "Bad!", "description": "x"}])
    assert await api.error(
        "setMyCommands", commands=default, scope={"type": "chat", "chat_id": 555}
    ) == (400, "Bad Request: chat not found")
    await api.ok("setMyDescription", description="Bot đào tạo cán bộ")
    assert await api.ok("getMyDescription", language_code="en") == {
        "description": "Bot đào tạo cán bộ"
    }


async def test_upload_download_roundtrip(emu: BotApiEmulator, api: Api) -> None:
    lan = emu.user(7)
    content = b"%PDF-1.4 tai lieu" * 100
    response = await api.client.post(
        f"/bot{api.token}/sendDocument",
        data={"chat_id": "7", "caption": "<b>Tài liệu</b>", "parse_mode": "HTML"},
        files={"document": ("tai_lieu.pdf", content, "application/pdf")},
    )
    document = response.json()["result"]["document"]
    assert document["file_name"] == "tai_lieu.pdf" and document["file_size"] == len(content)
    received = await lan.next_message()
    assert received.caption == "Tài liệu" and received.document is not None
    assert received.document.content == content
    file = await api.ok("getFile", file_id=document["file_id"])
    download = await api.client.get(f"/file/bot{api.token}/{file['file_path']}")
    assert download.content == content
    again = await api.ok("sendDocument", chat_id=7, document=document["file_id"])
    assert again["document"]["file_unique_id"] == document["file_unique_id"]
    photo = await api.client.post(
        f"/bot{api.token}/sendPhoto",
        data={"chat_id": "7", "photo": "attach://pic"},
        files={"pic": ("p.jpg", b"\xff\xd8jpeg", "image/jpeg")},
    )
    assert photo.json()["result"]["photo"][0]["width"] > 0
    assert (await lan.next_message()).document is not None
    assert (await lan.next_message()).photo == b"\xff\xd8jpeg"
    assert await api.error("sendDocument", chat_id=7, document="nope") == (
        400,
        "Bad Request: wrong file identifier/HTTP URL specified",
    )
    assert await api.error("sendDocument", chat_id=7, caption="x" * 1025, document="x") == (
        400,
        "Bad Request: message caption is too long",
    )
    upload = await lan.upload("ds.csv", b"a,b\n1,2\n", "text/csv")
    user_file = await api.ok("getFile", file_id=upload["document"]["file_id"])
    download = await api.client.get(f"/file/bot{api.token}/{user_file['file_path']}")
    assert download.content == b"a,b\n1,2\n"


async def test_edit_message_media_replaces_the_photo_and_caption(
    emu: BotApiEmulator, api: Api
) -> None:
    lan = emu.user(7)
    sent = await api.client.post(
        f"/bot{api.token}/sendPhoto",
        data={"chat_id": "7", "caption": "<b>Mã</b> 111 111", "parse_mode": "HTML"},
        files={"photo": ("qr.png", b"\x89PNG first", "image/png")},
    )
    ids = {"chat_id": "7", "message_id": str(sent.json()["result"]["message_id"])}
    media = {"type": "photo", "media": "attach://qr", "caption": "<b>Mã</b> 222 222",
             "parse_mode": "HTML"}  # fmt: skip
    edited = await api.client.post(
        f"/bot{api.token}/editMessageMedia",
        data={**ids, "media": json.dumps(media)},
        files={"qr": ("qr.png", b"\x89PNG second", "image/png")},
    )
    result = edited.json()["result"]
    assert result["caption"] == "Mã 222 222" and result["edit_date"]
    assert result["caption_entities"][0]["type"] == "bold"
    await lan.next_message()
    shown = await lan.next_message()
    assert shown.edited and shown.photo == b"\x89PNG second" and shown.caption == "Mã 222 222"
    same = {**media, "media": result["photo"][-1]["file_id"]}
    assert (await api.error("editMessageMedia", **ids, media=json.dumps(same)))[1].startswith(
        "Bad Request: message is not modified"
    )
    text = await api.ok("sendMessage", chat_id=7, text="chữ")
    assert await api.error(
        "editMessageMedia", chat_id=7, message_id=text["message_id"], media=json.dumps(same)
    ) == (400, "Bad Request: there is no media in the message to edit")
    assert await api.error("editMessageMedia", **ids, media="[]") == (
        400,
        "Bad Request: can't parse InputMedia JSON object",
    )


async def test_rate_limits(emu: BotApiEmulator, api: Api) -> None:
    for user_id in (1, 2, 3):
        emu.user(user_id)
    emu.add_chat(-5)
    emu.faults.configure(overall_per_s=2)
    await api.ok("sendMessage", chat_id=1, text="a")
    await api.ok("sendChatAction", chat_id=1, action="typing")  # not a send method
    await api.ok("sendMessage", chat_id=2, text="b")
    response = await api.raw("sendMessage", chat_id=3, text="c")
    assert response.status_code == 429
    assert response.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 1",
        "parameters": {"retry_after": 1},
    }
    emu.faults.configure(overall_per_s=None, private_chat_per_s=1, group_chat_per_min=2)
    await api.ok("sendMessage", chat_id=3, text="c")
    assert (await api.raw("sendMessage", chat_id=3, text="d")).status_code == 429
    await api.ok("sendMessage", chat_id=-5, text="g1")
    await api.ok("sendMessage", chat_id=-5, text="g2")
    group = (await api.raw("sendMessage", chat_id=-5, text="g3")).json()
    assert group["error_code"] == 429 and 55 <= group["parameters"]["retry_after"] <= 60
    assert emu.stats.rate_limited == 3
    assert [d.text for d in emu.delivered(emu.token)] == ["a", "b", "c", "g1", "g2"]


async def test_blocked_deactivated_and_config_endpoints(emu: BotApiEmulator, api: Api) -> None:
    lan = emu.user(7)
    emu.user(8)
    await lan.block()
    assert await api.error("sendMessage", chat_id=7, text="x") == (
        403,
        "Forbidden: bot was blocked by the user",
    )
    update = (await api.ok("getUpdates"))[-1]["my_chat_member"]
    assert update["new_chat_member"]["status"] == "kicked"
    config = await api.client.post("/_emulator/config", json={"deactivated": [8]})
    assert config.json()["result"]["deactivated"] == [8]
    assert await api.error("sendMessage", chat_id=8, text="x") == (
        403,
        "Forbidden: user is deactivated",
    )
    bad = await api.client.post("/_emulator/config", json={"nonsense": 1})
    assert bad.status_code == 400
    await api.client.post(
        "/_emulator/config", json={"deactivated": [], "lost_answer": {"every_nth": 1}}
    )
    with pytest.raises(httpx.RemoteProtocolError):
        await api.raw("sendMessage", chat_id=8, text="lost")
    stats = (await api.client.get("/_emulator/stats", params={"log": "1"})).json()["result"]
    assert stats["lost_answers"] == 1 and stats["delivered"] == 1
    assert stats["deliveries"][0]["text"] == "lost"
    assert stats["methods"]["sendMessage"] == 3


async def test_seeded_faults_are_reproducible(emu: BotApiEmulator, api: Api) -> None:
    emu.user(7)

    async def outcomes() -> list[int]:
        emu.faults.configure(server_error={"probability": 0.5, "seed": 42})
        results = []
        for _ in range(12):
            results.append((await api.raw("sendMessage", chat_id=7, text="x")).status_code)
        return results

    first = await outcomes()
    assert first == await outcomes()
    assert set(first) == {200, 502}
    assert json.loads((await api.raw("getMe")).text)["ok"]  # faults never hit other methods

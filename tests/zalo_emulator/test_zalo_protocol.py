"""The Zalo emulator over raw HTTP: long polling, limits, tokens, webhook, users and faults."""

from __future__ import annotations

import asyncio
import re
import time

import httpx
import pytest

from tools.zalo_emulator import RemoteZaloEmulator, ZaloBotApiEmulator, ZaloError

from .conftest import Api, Receiver

HEX20 = re.compile(r"[0-9a-f]{20}")


async def test_get_me_bad_token_and_unknown_method(zemu: ZaloBotApiEmulator, api: Api) -> None:
    me = await api.ok("getMe")
    assert me == {
        "id": "1459232241454765289",
        "account_name": me["account_name"],
        "account_type": "BASIC",
        "can_join_groups": False,
    }
    response = await api.client.get(f"/bot{api.token}/getMe")  # GET works too
    assert response.json()["result"]["id"] == me["id"]
    assert await Api(api.client, "1:WRONG").error("getMe") == (401, "Unauthorized")
    assert await api.error("getme") == (404, "Not Found")  # names are case-sensitive
    assert await api.error("editMessageText", chat_id="x") == (404, "Not Found")
    refused = zemu.stats.to_dict()["refused"]
    assert [r["method"] for r in refused] == ["getMe", "getme", "editMessageText"]


async def test_one_event_per_poll_in_documented_shape(zemu: ZaloBotApiEmulator, api: Api) -> None:
    lan = zemu.user("Lan")
    before = int(time.time() * 1000)
    await lan.send("xin chào")
    await lan.send("/start")
    first = await api.ok("getUpdates", timeout=1)
    assert first["event_name"] == "message.text.received"
    message = first["message"]
    assert message["from"] == {"id": lan.id, "display_name": "Lan", "is_bot": False}
    assert message["chat"] == {"id": lan.id, "chat_type": "PRIVATE"}
    assert message["text"] == "xin chào" and HEX20.fullmatch(message["message_id"])
    assert HEX20.fullmatch(lan.id) and before <= message["date"] <= before + 5000
    second = await api.ok("getUpdates", timeout="1")  # the docs' table says String
    assert second["message"]["text"] == "/start"
    assert second["message"]["message_id"] != message["message_id"]


async def test_poll_waits_then_408(zemu: ZaloBotApiEmulator, api: Api) -> None:
    started = time.monotonic()
    assert await api.error("getUpdates", timeout=0.3) == (408, "Request timeout")
    assert time.monotonic() - started >= 0.25
    lan = zemu.user()
    poll = asyncio.create_task(api.ok("getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    assert not poll.done()
    await lan.send_image("https://example.com/a.jpg", "ảnh lớp")
    event = await asyncio.wait_for(poll, 1)
    assert event["event_name"] == "message.image.received"
    assert event["message"]["photo"] == "https://example.com/a.jpg"
    assert event["message"]["caption"] == "ảnh lớp"
    assert await api.error("getUpdates", timeout="soon") == (
        400,
        "Bad Request: timeout must be a number of seconds",
    )
    assert zemu.stats.to_dict()["refused"] == [
        {"method": "getUpdates", "description": "Bad Request: timeout must be a number of seconds"}
    ]


async def test_newer_poll_ends_older_with_409(zemu: ZaloBotApiEmulator, api: Api) -> None:
    first = asyncio.create_task(api.raw("getUpdates", timeout=5))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(api.ok("getUpdates", timeout=5))
    assert (await asyncio.wait_for(first, 1)).status_code == 409
    await zemu.user().send("hi")
    assert (await asyncio.wait_for(second, 1))["message"]["text"] == "hi"
    assert zemu.stats.refused == []


async def test_send_message_limits_and_plain_text(zemu: ZaloBotApiEmulator, api: Api) -> None:
    lan = zemu.user()
    assert await api.error("sendMessage", chat_id=lan.id, text="x") == (
        400,
        "Bad Request: chat not found",  # the user has not written to the bot yet
    )
    await lan.send("hi")
    sent = await api.ok("sendMessage", chat_id=lan.id, text="đ" * 2000)
    assert HEX20.fullmatch(sent["message_id"]) and sent["date"] > 10**12
    assert await lan.next_message() == "đ" * 2000
    too_long = "Bad Request: text must be 1 to 2000 characters"
    assert await api.error("sendMessage", chat_id=lan.id, text="đ" * 2001) == (400, too_long)
    assert await api.error("sendMessage", chat_id=lan.id, text="👍" * 1001) == (400, too_long)
    assert await api.error("sendMessage", chat_id=lan.id, text="") == (400, too_long)
    assert await api.error("sendMessage", chat_id="ffff", text="a") == (
        400,
        "Bad Request: chat not found",
    )
    await api.ok("sendMessage", chat_id=lan.id, text="<b>Đăng ký</b> &amp; học", parse_mode="html")
    received = await lan.next_event()
    assert received.text == "Đăng ký & học" and received.raw == "<b>Đăng ký</b> &amp; học"
    assert (await api.error("sendMessage", chat_id=lan.id, text="a", parse_mode="HTML"))[0] == 400
    await lan.no_message(0.05)
    assert len(zemu.stats.refused) == 6 and zemu.stats.delivered == 2


async def test_photo_sticker_and_chat_action(zemu: ZaloBotApiEmulator, api: Api) -> None:
    lan = zemu.user()
    await lan.send_sticker()
    event = await api.ok("getUpdates", timeout=1)
    assert event["event_name"] == "message.sticker.received" and event["message"]["sticker"]
    await api.ok("sendPhoto", chat_id=lan.id, photo="https://x.test/p.png", caption="Lịch học")
    photo = await lan.next_event()
    assert (photo.kind, photo.text, photo.photo) == ("photo", "Lịch học", "https://x.test/p.png")
    assert (await api.error("sendPhoto", chat_id=lan.id, photo="file.png"))[0] == 400
    assert (await api.error("sendPhoto", chat_id=lan.id, photo="https://x/p", caption=""))[0] == 400
    await api.ok("sendSticker", chat_id=lan.id, sticker="abc")
    assert (await lan.next_event()).sticker == "abc"
    response = await api.raw("sendChatAction", chat_id=lan.id, action="typing")
    assert response.json() == {"ok": True}
    assert (await api.error("sendChatAction", chat_id=lan.id, action="dancing"))[0] == 400


async def test_webhook_wrapped_with_secret_and_retries(
    zemu: ZaloBotApiEmulator, api: Api, receiver: Receiver
) -> None:
    lan = zemu.user()
    assert (await api.error("setWebhook", url=receiver.url, secret_token="short"))[0] == 400
    assert (await api.error("setWebhook", url="ftp://x", secret_token="s" * 8))[0] == 400
    info = await api.ok("setWebhook", url=receiver.url, secret_token="bí-mật-123")
    assert info["url"] == receiver.url and info["updated_at"] > 10**12
    assert (await api.ok("getWebhookInfo"))["url"] == receiver.url
    assert await api.error("getUpdates", timeout=0) == (
        409,
        "Conflict: can't use getUpdates while webhook is active; use deleteWebhook",
    )
    receiver.fail = 2
    event = await lan.send("chào")
    for _ in range(100):
        if len(receiver.bodies) == 3:
            break
        await asyncio.sleep(0.02)
    assert receiver.bodies == [{"ok": True, "result": event}] * 3
    assert receiver.secrets == ["bí-mật-123"] * 3
    stats = zemu.stats
    assert (stats.webhook_posts, stats.webhook_failures, stats.webhook_dropped) == (3, 2, 0)


async def test_webhook_bare_gives_up_and_delete_restores_polling(receiver: Receiver) -> None:
    emulator = ZaloBotApiEmulator(webhook_wrapped=False, webhook_retry_delay=0.01)
    async with emulator as zemu, httpx.AsyncClient(base_url=emulator.url, timeout=5) as client:
        api = Api(client, zemu.token)
        lan = zemu.user()
        await api.ok("setWebhook", url=receiver.url, secret_token="12345678")
        receiver.fail = 3
        dropped = await lan.send("mất")
        kept = await lan.send("còn")
        for _ in range(100):
            if len(receiver.bodies) == 4:
                break
            await asyncio.sleep(0.02)
        assert receiver.bodies == [dropped] * 3 + [kept]  # bare events, in order
        assert zemu.stats.webhook_dropped == 1
        deleted = await api.ok("deleteWebhook")
        assert deleted["url"] == "" and (await api.ok("getWebhookInfo"))["url"] == ""
        await lan.send("poll")
        assert (await api.ok("getUpdates", timeout=1))["message"]["text"] == "poll"


async def test_faults_429_plain_and_with_hint_and_slow(zemu: ZaloBotApiEmulator, api: Api) -> None:
    lan = zemu.user()
    await lan.send("hi")
    zemu.faults.configure(chat_per_s=1)
    await api.ok("sendMessage", chat_id=lan.id, text="1")
    response = await api.raw("sendMessage", chat_id=lan.id, text="2")
    assert response.status_code == 429 and "Retry-After" not in response.headers
    assert response.json() == {"ok": False, "error_code": 429, "description": "Quota exceeded"}
    config = await api.client.post(
        "/_emulator/config",
        json={"chat_per_s": None, "retry_after": True, "quota": {"every_nth": 2}},
    )
    assert config.json()["result"]["quota"]["every_nth"] == 2
    await api.ok("sendMessage", chat_id=lan.id, text="3")
    hinted = await api.raw("sendMessage", chat_id=lan.id, text="4")
    assert hinted.status_code == 429 and hinted.headers["Retry-After"] == "1"
    assert hinted.json()["parameters"] == {"retry_after": 1}
    zemu.faults.configure(quota={}, slow={"every_nth": 1}, slow_s=0.2)
    started = time.monotonic()
    await api.ok("sendMessage", chat_id=lan.id, text="5")
    assert time.monotonic() - started >= 0.2
    zemu.faults.configure(slow={}, server_error={"every_nth": 1})
    assert (await api.error("sendMessage", chat_id=lan.id, text="6"))[0] == 500
    stats = (await api.client.get("/_emulator/stats")).json()["result"]
    assert (stats["rate_limited"], stats["slowed"], stats["server_errors"]) == (2, 1, 1)
    assert stats["refused"] == [] and stats["delivered"] == 3
    bad = await api.client.post("/_emulator/config", json={"nonsense": 1})
    assert bad.status_code == 400


async def test_control_endpoints_inject_and_inbox(zemu: ZaloBotApiEmulator, api: Api) -> None:
    user = {"id": "a1b2c3d4e5f6a7b8c9d0", "display_name": "Minh"}
    injected = await api.client.post("/_emulator/messages", json={"user": user, "text": "ping"})
    event = injected.json()["result"]
    assert event["message"]["from"]["display_name"] == "Minh"
    assert (await api.ok("getUpdates", timeout=1)) == event
    inbox = asyncio.create_task(
        api.client.get("/_emulator/inbox", params={"chat_id": user["id"], "timeout": 2})
    )
    await asyncio.sleep(0.05)
    await api.ok("sendMessage", chat_id=user["id"], text="pong")
    result = (await asyncio.wait_for(inbox, 1)).json()["result"]
    assert [e["text"] for e in result["events"]] == ["pong"] and result["next"] == 1
    for body in ({"user": user}, {"user": user, "text": ""}, {"token": "no", "text": "a"}):
        assert (await api.client.post("/_emulator/messages", json=body)).status_code == 400
    unsupported = await api.client.post(
        "/_emulator/messages", json={"user": user, "unsupported": True}
    )
    assert unsupported.json()["result"]["event_name"] == "message.unsupported.received"
    missing = await api.client.get("/_emulator/inbox", params={"chat_id": "nobody"})
    assert missing.status_code == 400


async def test_remote_user_over_http(zemu: ZaloBotApiEmulator, api: Api) -> None:
    async with RemoteZaloEmulator(zemu.url, zemu.token) as remote:
        minh = remote.user("0123456789abcdef0123", "Minh")
        with pytest.raises(ZaloError):  # the chat is unknown before its first message
            await minh.next_message(0.1)
        await minh.send("menu")
        await minh.send_image("https://x.test/a.jpg", "thẻ")
        await minh.send_sticker()
        events = [await api.ok("getUpdates", timeout=1) for _ in range(3)]
        assert [e["event_name"].split(".")[1] for e in events] == ["text", "image", "sticker"]
        assert events[0]["message"]["from"]["id"] == minh.id
        await api.ok("sendMessage", chat_id=minh.id, text="**Menu**", parse_mode="markdown")
        await api.ok("sendPhoto", chat_id=minh.id, photo="https://x.test/qr.png")
        assert await minh.next_message() == "Menu"
        photo = await minh.next_event()
        assert (photo.kind, photo.photo, photo.text) == ("photo", "https://x.test/qr.png", "")
        with pytest.raises(TimeoutError):
            await minh.next_message(0.1)

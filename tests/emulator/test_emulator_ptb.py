"""The real PTB Application against the emulator, driven by scripted users."""

from __future__ import annotations

import asyncio

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter
from telegram.ext import Application

from tools.emulator import BotApiEmulator


async def test_echo_and_command_entity(emu: BotApiEmulator, app: Application) -> None:
    lan = emu.user(1001)
    sent = await lan.send("Xin chào 👋")
    reply = await lan.expect("Xin chào 👋")
    assert reply.text == "Xin chào 👋" and not reply.edited
    assert reply.message_id == sent["message_id"] + 1
    command = await lan.send("/start@cadre_demo_bot hi")
    assert command["entities"] == [{"type": "bot_command", "offset": 0, "length": 21}]
    assert (await lan.next_message()).text == "Chào bạn!"
    await lan.no_message(within=0.2)


async def test_inline_button_callback_and_edit(emu: BotApiEmulator, app: Application) -> None:
    lan = emu.user(1002)
    await lan.send("/start")
    greeting = await lan.expect("Chào bạn!")
    assert greeting.html == "<b>Chào</b> bạn!"
    assert [[b.text for b in row] for row in greeting.buttons] == [["Có"], ["Không"]]
    await lan.tap("Có")
    assert await lan.next_answer() == "Bạn chọn yes"
    edited = await lan.next_message()
    assert edited.edited and edited.text == "Đã chọn: yes" and edited.buttons == []
    assert lan.last == edited and lan.callback_answers == ["Bạn chọn yes"]
    with pytest.raises(AssertionError, match="no inline button 'Có'"):
        await lan.tap("Có", timeout=0.1)


async def test_tap_lists_available_buttons(emu: BotApiEmulator, app: Application) -> None:
    lan = emu.user(1003)
    await lan.send("/start")
    with pytest.raises(AssertionError, match=r"available: \['Có', 'Không'\]"):
        await lan.tap("Hủy", timeout=0.5)
    await lan.tap("Khô")  # substring match
    assert (await lan.expect("Đã chọn")).text == "Đã chọn: no"


async def test_reply_keyboard_contact(emu: BotApiEmulator, app: Application) -> None:
    lan = emu.user(1004, phone="84912345678")
    await lan.send("/phone")
    asked = await lan.expect("Số điện thoại?")
    assert asked.reply_keyboard is not None and asked.reply_keyboard[0][0].request_contact
    await lan.press("Gửi số điện thoại")
    answer = await lan.expect("Số: 84912345678 (của bạn)")
    assert answer.remove_keyboard and lan.keyboard is None
    await lan.share_contact(phone="+84900000001", user_id=2222, first_name="Minh")
    await lan.expect("người khác")


async def test_document_roundtrip(emu: BotApiEmulator, app: Application) -> None:
    lan = emu.user(1005)
    payload = bytes(range(256)) * 40
    await lan.upload("bao_cao.pdf", payload, "application/pdf", caption="Báo cáo")
    reply = await lan.expect("10240 bytes")
    assert reply.document is not None
    assert reply.document.file_name == "reversed.bin"
    assert reply.document.content == payload[::-1]


async def test_block_sends_my_chat_member_and_forbidden(
    emu: BotApiEmulator, app: Application
) -> None:
    lan = emu.user(1006)
    await lan.block()
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await app.bot.send_message(lan.id, "Nhắc lịch học")
    await lan.unblock()
    await app.bot.send_message(lan.id, "Nhắc lịch học")
    await lan.expect("Nhắc lịch học")
    for _ in range(50):
        if len(app.bot_data.get("member", [])) == 2:
            break
        await asyncio.sleep(0.02)
    assert app.bot_data["member"] == ["kicked", "member"]


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # RetryAfter
async def test_ptb_error_mapping(emu: BotApiEmulator) -> None:
    lan = emu.user(1007)
    async with Bot(emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url) as bot:
        with pytest.raises(BadRequest, match="Chat not found"):
            await bot.send_message(999, "x")
        emu.faults.configure(server_error={"every_nth": 1})
        with pytest.raises(NetworkError, match="Bad Gateway"):
            await bot.send_message(lan.id, "a")
        emu.faults.configure(server_error={}, drop={"every_nth": 1})
        with pytest.raises(NetworkError):
            await bot.send_message(lan.id, "b")
        emu.faults.configure(drop={}, lost_answer={"every_nth": 1})
        with pytest.raises(NetworkError):
            await bot.send_message(lan.id, "c")
        emu.faults.configure(lost_answer={}, private_chat_per_s=1)
        await bot.send_message(lan.id, "d")
        with pytest.raises(RetryAfter, match="Retry in 1 "):
            await bot.send_message(lan.id, "e")
    # Only the lost answer ("c") and "d" took effect.
    assert [d.text for d in emu.delivered()] == ["c", "d"]
    assert [(await lan.next_message()).text for _ in range(2)] == ["c", "d"]
    stats = emu.stats.to_dict()
    assert (stats["server_errors"], stats["dropped"], stats["lost_answers"]) == (1, 1, 1)
    assert stats["rate_limited"] == 1

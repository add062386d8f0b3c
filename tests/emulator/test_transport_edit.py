"""The Telegram transport replaces a message it sent earlier when a payload asks it to: the
buttons go, an edit that changes nothing is done, and a message gone is not retried."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram.ext import ExtBot

from bot.app.rate_limiter import SharedRateLimiter
from bot.app.transport import TelegramTransport
from bot.channels import Channel
from bot.delivery.model import OutboxMessage, Rejected, Sent
from bot.delivery.pacing import ChatSpacing, PriorityPacer
from tools.emulator import BotApiEmulator


def _row(chat_id: int, payload: dict[str, object]) -> OutboxMessage:
    return OutboxMessage(1, "k", chat_id, None, "leave_request", payload, datetime.now(UTC), 0)


async def test_an_edit_replaces_the_message_and_a_repeat_or_a_lost_message_is_final(
    emu: BotApiEmulator,
) -> None:
    user = emu.user(5001)
    buttons = [[{"key": "leave.approve", "data": "lv.do:1:1"}]]
    limiter = SharedRateLimiter(PriorityPacer(100), ChatSpacing(100))
    async with ExtBot(
        emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, rate_limiter=limiter
    ) as bot:
        transport = TelegramTransport(bot)
        first = await transport(_row(5001, {"text": "Đơn xin nghỉ", "buttons": buttons}))
        assert isinstance(first, Sent) and first.message_id is not None
        assert (await user.expect("Đơn xin nghỉ")).labels == ["✅ Đồng ý"]

        edit = {"chat_id": 5001, "message_id": first.message_id}
        closed = {"text": "Đơn xin nghỉ: đã quyết định", "edit": edit}
        assert await transport(_row(5001, closed)) == Sent(first.message_id)
        edited = await user.expect("đã quyết định")
        assert edited.edited and edited.buttons == []
        # Sent again (a retry after a crash): nothing left to change, and nothing to retry.
        assert await transport(_row(5001, closed)) == Sent(first.message_id)
        lost = {"text": "x", "edit": {"chat_id": 5001, "message_id": 999}}
        assert isinstance(await transport(_row(5001, lost)), Rejected)


async def test_a_message_for_zalo_is_worded_for_zalo(emu: BotApiEmulator) -> None:
    """The transport that reaches Zalo (through the bridge, here the emulator) renders the
    catalog's Zalo wording: no button to tap, a number to reply with."""
    user = emu.user(5002)
    payload = {"key": "catalog.expired"}
    limiter = SharedRateLimiter(PriorityPacer(100), ChatSpacing(100))
    async with ExtBot(
        emu.token, base_url=emu.base_url, base_file_url=emu.base_file_url, rate_limiter=limiter
    ) as bot:
        await TelegramTransport(bot)(_row(5002, payload))
        assert "Bấm nút" in (await user.expect("danh sách lớp mới nhất")).text
        await TelegramTransport(bot, channel=Channel.ZALO)(_row(5002, payload))
        on_zalo = await user.expect("Trả lời số thứ tự")
        assert "Bấm" not in on_zalo.text

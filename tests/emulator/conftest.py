"""Fixtures: a running emulator, a raw HTTP client for it and a real PTB echo application."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from tools.emulator import BotApiEmulator


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    async with BotApiEmulator() as emulator:
        yield emulator


class Api:
    """Calls the emulator the way PTB does: form fields, nested values JSON-encoded."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def raw(self, method: str, **params: Any) -> httpx.Response:
        data = {
            k: v if isinstance(v, str) else json.dumps(v)
            for k, v in params.items()
            if v is not None
        }
        return await self.client.post(f"/bot{self.token}/{method}", data=data)

    async def ok(self, method: str, **params: Any) -> Any:
        response = await self.raw(method, **params)
        body = response.json()
        assert response.status_code == 200 and body["ok"], body
        return body["result"]

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        response = await self.raw(method, **params)
        body = response.json()
        assert not body["ok"] and body["error_code"] == response.status_code, body
        return response.status_code, body["description"]


@pytest.fixture
async def api(emu: BotApiEmulator) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=emu.url, timeout=10) as client:
        yield Api(client, emu.token)


async def _start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    buttons = [[InlineKeyboardButton("Có", callback_data="yes")]]
    buttons.append([InlineKeyboardButton("Không", callback_data="no")])
    await update.effective_message.reply_text(
        "<b>Chào</b> bạn!", parse_mode="HTML", reply_markup=InlineKeyboardMarkup(buttons)
    )


async def _ask_phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    keyboard = [[KeyboardButton("Gửi số điện thoại", request_contact=True)], ["Bỏ qua"]]
    await update.effective_message.reply_text(
        "Số điện thoại?", reply_markup=ReplyKeyboardMarkup(keyboard, one_time_keyboard=True)
    )


async def _contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    contact = update.effective_message.contact
    mine = contact.user_id == update.effective_user.id
    await update.effective_message.reply_text(
        f"Số: {contact.phone_number} ({'của bạn' if mine else 'người khác'})",
        reply_markup=ReplyKeyboardRemove(),
    )


async def _button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer(f"Bạn chọn {query.data}")
    await query.edit_message_text(f"Đã chọn: {query.data}")


async def _document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    document = update.effective_message.document
    content = await (await context.bot.get_file(document.file_id)).download_as_bytearray()
    await update.effective_message.reply_document(
        bytes(reversed(content)), filename="reversed.bin", caption=f"{len(content)} bytes"
    )


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


async def _member(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("member", []).append(update.my_chat_member.new_chat_member.status)


@pytest.fixture
async def app(emu: BotApiEmulator) -> AsyncIterator[Application]:
    application = (
        ApplicationBuilder()
        .token(emu.token)
        .base_url(emu.base_url)
        .base_file_url(emu.base_file_url)
        .build()
    )
    application.add_handler(CommandHandler("start", _start))
    application.add_handler(CommandHandler("phone", _ask_phone))
    application.add_handler(MessageHandler(filters.CONTACT, _contact))
    application.add_handler(CallbackQueryHandler(_button))
    application.add_handler(MessageHandler(filters.Document.ALL, _document))
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, _echo))
    application.add_handler(ChatMemberHandler(_member, ChatMemberHandler.MY_CHAT_MEMBER))
    await application.initialize()
    await application.start()
    await application.updater.start_polling(
        poll_interval=0, timeout=1, allowed_updates=Update.ALL_TYPES
    )
    yield application
    await application.updater.stop()
    await application.stop()
    await application.shutdown()

"""Sends one outbox message through Telegram and says what happened, in the engine's terms."""

from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup
from telegram import error as tg
from telegram.ext import ExtBot

from bot.app.rate_limiter import PACED
from bot.app.telegram_errors import retry_after_seconds
from bot.channels import Channel, channel_of
from bot.delivery.model import (
    OutboxMessage,
    Outcome,
    Rejected,
    RetryAfter,
    Sent,
    Transient,
    Unreachable,
)
from bot.i18n import DEFAULT_OFFICE, DEFAULT_TIMEZONE, Office, Raw, Texts, texts
from handlers.ui import main_keyboard_markup

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup
UNREACHABLE_BAD_REQUESTS = ("chat not found", "user not found", "peer_id_invalid")
NOT_MODIFIED = "message is not modified"


def render_text(payload: dict[str, Any], texts: Texts) -> str:
    """A catalog text in the recipient's language; a value given as {"key": ..., "params":
    ...} (a role's name, an optional note's line) is itself a catalog text in that language."""
    if "key" not in payload:
        return str(payload.get("text", ""))
    params = {name: _param(value, texts) for name, value in payload.get("params", {}).items()}
    return texts(payload["key"], **params)


def _param(value: Any, texts: Texts) -> Any:
    """A parameter as the catalog fills it in: a nested text (itself with parameters), a
    list of them (one per line), a moment, or a plain value."""
    if isinstance(value, list):
        return Raw("\n".join(_param(item, texts) for item in value))
    if isinstance(value, dict) and "key" in value:
        params = {name: _param(v, texts) for name, v in value.get("params", {}).items()}
        return Raw(texts(value["key"], **params))
    if isinstance(value, dict) and "moment" in value:  # shown in the reader's zone and style
        return datetime.fromisoformat(value["moment"])
    return value


def render_buttons(payload: dict[str, Any], texts: Texts) -> ReplyMarkup | None:
    """The queued buttons, whose data is an action packed by the producer (bot/actions);
    or a main keyboard, given as its commands."""
    if "keyboard" in payload:
        return main_keyboard_markup([texts(f"menu.{name}") for name in payload["keyboard"]])
    rows = payload.get("buttons")
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    texts(b["key"]) if "key" in b else b["text"], callback_data=b["data"]
                )
                for b in row
            ]
            for row in rows
        ]
    )


class TelegramTransport:
    def __init__(
        self,
        bot: ExtBot[Any],
        default_language: str = "vi",
        tz: tzinfo = DEFAULT_TIMEZONE,
        office: Office = DEFAULT_OFFICE,
        channel: Channel = Channel.TELEGRAM,
    ) -> None:
        self.bot = bot
        #: The channel `bot` reaches; a Zalo account's own number is Zalo's whatever the bot.
        self.channel = channel
        self.default_language = default_language
        self.tz = tz
        self.office = office

    async def __call__(self, message: OutboxMessage) -> Outcome:
        zalo = Channel.ZALO in (self.channel, channel_of(message.chat_id))
        rendering = texts(
            message.language or self.default_language, self.tz, self.office,
            Channel.ZALO if zalo else Channel.TELEGRAM,
        )  # fmt: skip
        payload = message.payload
        try:
            edit = payload.get("edit")
            document = payload.get("document")
            if edit:
                return await self._edit(edit, payload, rendering)
            if document:
                source = document.get("file_id") or Path(document["path"])
                sent = await self.bot.send_document(
                    message.chat_id, source, filename=document.get("filename"),
                    caption=render_text(payload, rendering) or None,
                    reply_markup=render_buttons(payload, rendering), rate_limit_args=PACED,
                )  # fmt: skip
            else:
                sent = await self.bot.send_message(
                    message.chat_id, render_text(payload, rendering),
                    reply_markup=render_buttons(payload, rendering), rate_limit_args=PACED,
                )  # fmt: skip
        except tg.RetryAfter as exc:
            return RetryAfter(retry_after_seconds(exc))
        except tg.Forbidden as exc:
            return Unreachable(str(exc))
        except tg.BadRequest as exc:
            if any(marker in str(exc).lower() for marker in UNREACHABLE_BAD_REQUESTS):
                return Unreachable(str(exc))
            return Rejected(str(exc))
        except (tg.TimedOut, tg.NetworkError) as exc:
            return Transient(f"{exc.__class__.__name__}: {exc}")
        except OSError as exc:  # a document file that vanished
            return Rejected(f"{exc.__class__.__name__}")
        return Sent(sent.message_id)

    async def _edit(
        self, edit: dict[str, Any], payload: dict[str, Any], rendering: Texts
    ) -> Outcome:
        """Replaces a message sent earlier (a request someone else has decided); buttons not
        given are removed. An edit that changes nothing has nothing left to do."""
        markup = render_buttons(payload, rendering)
        try:
            await self.bot.edit_message_text(
                render_text(payload, rendering), chat_id=edit["chat_id"],
                message_id=edit["message_id"], rate_limit_args=PACED,
                reply_markup=markup if isinstance(markup, InlineKeyboardMarkup) else None,
            )  # fmt: skip
        except tg.BadRequest as exc:
            if NOT_MODIFIED not in str(exc).lower():
                raise
        return Sent(edit["message_id"])

"""PTB's rate-limiter hook, backed by the pacer the outbox sender shares.

Replies to people take the next free slot ahead of outbox messages; the outbox sender paces
itself on the same pacer and marks its calls so they are not paced twice. A 429 pauses
everyone for the server's retry_after, and a reply is retried after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.app.telegram_errors import retry_after_seconds
from bot.delivery.pacing import INTERACTIVE, ChatSpacing, PriorityPacer

log = logging.getLogger(__name__)

#: Bot API methods that count against the message limits.
PACED_ENDPOINTS = frozenset(
    {
        "sendMessage", "sendDocument", "sendPhoto", "sendMediaGroup", "sendVideo",
        "sendAudio", "sendVoice", "sendLocation", "sendContact", "sendPoll", "copyMessage",
        "forwardMessage", "editMessageText", "editMessageCaption", "editMessageReplyMarkup",
        "editMessageMedia",
    }
)  # fmt: skip

#: Passed as `rate_limit_args` by the outbox sender, which has already waited its turn.
PACED = {"paced": True}


class SharedRateLimiter(BaseRateLimiter[dict[str, Any]]):
    def __init__(self, pacer: PriorityPacer, spacing: ChatSpacing, max_retries: int = 2) -> None:
        self.pacer = pacer
        self.spacing = spacing
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """The pacer needs no set-up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[Any]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: dict[str, Any] | None,
    ) -> bool | dict[str, Any] | list[Any]:
        if endpoint not in PACED_ENDPOINTS:
            return await callback(*args, **kwargs)
        paced = bool(rate_limit_args and rate_limit_args.get("paced"))
        for attempt in range(self.max_retries + 1):
            if not paced or attempt:
                await self.pacer.acquire(INTERACTIVE)
            chat_id = data.get("chat_id")
            if isinstance(chat_id, int) and not paced:
                self.spacing.sent(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                seconds = retry_after_seconds(exc)
                self.pacer.pause(seconds)
                if paced or attempt == self.max_retries:
                    raise
                log.warning("429 on %s: waiting %.1fs before retrying", endpoint, seconds)
                await asyncio.sleep(seconds)
        raise AssertionError("unreachable")

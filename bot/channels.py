"""The messengers a person may use, and how their account ids are told apart.

The application sees every account as a Telegram user id. Telegram's ids have at most 52
significant bits; a Zalo account is given a number at or above 2**53 (and below BIGINT's
2**63), so the two can never be taken for each other, in a table or in a log.
"""

from __future__ import annotations

import hashlib
from enum import StrEnum
from typing import Final

ZALO_ID_BASE: Final = 2**53
ZALO_ID_SPAN: Final = 2**52


class Channel(StrEnum):
    TELEGRAM = "telegram"
    ZALO = "zalo"


class NotifyVia(StrEnum):
    """Where a person on both messengers gets the bot's messages (people.notify_via, whose
    NULL is BOTH: joining a Zalo account changes nothing until they choose)."""

    BOTH = "both"
    TELEGRAM = "telegram"
    ZALO = "zalo"


def channel_of(chat_id: int) -> Channel:
    """Which messenger an account id (as the application sees it) belongs to."""
    return Channel.ZALO if chat_id >= ZALO_ID_BASE else Channel.TELEGRAM


def first_number(zalo_id: str) -> int:
    """Where a Zalo id's number is looked for first: 52 bits of its SHA-256 above the base,
    so the same id gets the same number everywhere unless it clashed with another."""
    digest = hashlib.sha256(zalo_id.encode()).digest()
    return ZALO_ID_BASE + int.from_bytes(digest[:8], "big") % ZALO_ID_SPAN


def next_number(number: int) -> int:
    """The number tried after a clash."""
    return ZALO_ID_BASE + (number - ZALO_ID_BASE + 1) % ZALO_ID_SPAN

"""Excused-absence requests as plain rules: when a learner may ask, and what a reason may be."""

from __future__ import annotations

import unicodedata
from datetime import datetime, timedelta

from bot.attendance import LEAVE_AFTER
from bot.errors import InvalidInput

#: How far ahead the sessions a learner may ask leave for are listed.
LEAVE_AHEAD = timedelta(days=60)
REASON_MIN = 3
REASON_MAX = 300
#: Joins the parts of one emoji (a family, a flag): allowed in a reason typed on a phone.
_ZERO_WIDTH_JOINER = "\u200d"
#: Control, format, surrogate, private-use and unassigned characters: not a reason's words.
_ODD = {"Cc", "Cf", "Cs", "Co", "Cn"}


def clean_reason(raw: str) -> str:
    """The reason as stored: one line, spaces collapsed; refused if it is too short, too long
    or made of invisible or odd characters (a copied control code, a bidirectional override)."""
    if len(raw) > 4 * REASON_MAX:  # huge text: no need to look at it closely
        raise InvalidInput("leave.reason_length", min=REASON_MIN, max=REASON_MAX, length=len(raw))
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if any(unicodedata.category(c) in _ODD and c != _ZERO_WIDTH_JOINER for c in text):
        raise InvalidInput("leave.reason_chars")
    if not REASON_MIN <= len(text) <= REASON_MAX:
        raise InvalidInput("leave.reason_length", min=REASON_MIN, max=REASON_MAX, length=len(text))
    if not any(c.isalpha() for c in text):
        raise InvalidInput("leave.reason_chars")
    return text


def may_ask(starts_at: datetime, now: datetime) -> bool:
    """Leave is asked before a session or until a day after it began."""
    return now <= starts_at + LEAVE_AFTER

"""Checks on what people type, shared by every channel. Each failure names a catalog key."""

from __future__ import annotations

import unicodedata
from datetime import date

from bot.errors import InvalidInput

NAME_MAX = 80
TITLE_MAX = 100
NOTE_MAX = 300
_NAME_PUNCT = {" ", "-", "'"}
_TITLE_PUNCT = {" ", "-", "'", ",", ".", "/", "(", ")", "&"}


def clean_full_name(raw: str) -> str:
    """'  nguyễn   thị  phương ' → 'Nguyễn Thị Phương'.

    Checked in the order a person can act on: what the characters are (digits, emoji), then
    that there are a family and a given name, then the length.
    """
    text = " ".join(unicodedata.normalize("NFC", raw).split())
    if any(not (c.isalpha() or c in _NAME_PUNCT) for c in text):
        raise InvalidInput("error.name_chars")
    if len(text.split()) < 2:
        raise InvalidInput("error.name_words")
    if len(text) > NAME_MAX:
        raise InvalidInput("error.name_length", max=NAME_MAX, length=len(text))
    return " ".join(word[:1].upper() + word[1:].lower() for word in text.split())


def clean_title(raw: str) -> str:
    """A position typed by hand: one line of plain words, as long as a title reasonably is."""
    text = " ".join(plain_text(unicodedata.normalize("NFC", raw)).split())
    if not 2 <= len(text) <= TITLE_MAX:
        raise InvalidInput("error.title_length", max=TITLE_MAX, length=len(text))
    if any(not (c.isalnum() or c in _TITLE_PUNCT) for c in text):
        raise InvalidInput("error.title_chars")
    if sum(c.isalpha() for c in text) < 2:  # "123" is not a position
        raise InvalidInput("error.title_letters")
    return text[:1].upper() + text[1:]


def clean_note(raw: str) -> str:
    """A short note to a person: plain text within a length that fits in a notice."""
    text = " ".join(without_controls(raw).split())
    if len(text) > NOTE_MAX:
        raise InvalidInput("error.note_length", max=NOTE_MAX, length=len(text))
    return text


def lacks_diacritics(name: str) -> bool:
    """'Nguyen Thi Phuong': most Vietnamese names have marks, so this is worth a question."""
    return name.isascii()


def parse_birth_year(raw: str, today: date | None = None) -> int:
    """A four-digit year giving an age between 18 and 75: the working life of a cadre."""
    this_year = (today or date.today()).year
    low, high = this_year - 75, this_year - 18
    text = unicodedata.normalize("NFKC", raw).strip()
    if not (text.isascii() and text.isdigit() and len(text) == 4) or not low <= int(text) <= high:
        raise InvalidInput("error.birth_year", low=low, high=high)
    return int(text)


def plain_text(raw: str) -> str:
    """Text to search with, without invisible characters (a NUL byte, which PostgreSQL
    refuses in text; bidirectional overrides and zero-width marks)."""
    return "".join(c for c in raw if unicodedata.category(c) not in _INVISIBLE_CATEGORIES)


def without_controls(raw: str) -> str:
    """Text to send, without control characters but its line breaks and tabs (emoji
    sequences keep their joiners)."""
    return "".join(c for c in raw if c in "\n\t" or unicodedata.category(c) != "Cc")


def telegram_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut between words with "…" ("Sở Dân tộc và Tôn giáo"
    becomes "Sở Dân tộc và…", never "Sở Dân tộc và Tô")."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    if " " in cut and not text[limit - 1].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;·—-") + "…"

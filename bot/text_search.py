"""Folding Vietnamese text for search: people type names without diacritics."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import TypeVar

V = TypeVar("V")

_EXTRA = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    """'Nguyễn Thị Đào' → 'nguyen thi dao': no diacritics, lower case, single spaces.

    NFD strips the tone and vowel marks; đ/Đ is a separate letter in Unicode, not a
    d with a combining mark, so it needs its own mapping.
    """
    decomposed = unicodedata.normalize("NFD", text.translate(_EXTRA))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def compact(text: str) -> str:
    """'H'Mông' → 'hmong': folded, and nothing but letters and digits, so the spellings of
    a name with apostrophes, hyphens or spaces all meet."""
    return "".join(c for c in fold(text) if c.isalnum())


def label_words(text: str) -> str:
    """'✅ Đúng, giữ nguyên' → 'dung giu nguyen': folded words, without emoji or signs."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def label_forms(label: str) -> set[str]:
    """The ways a button's label may be typed back: whole, without its emoji and signs,
    without a note in brackets ("Khác (tự nhập)"), and each of its alternatives
    ("Không có / Bỏ qua")."""
    bare = re.sub(r"\([^)]*\)", " ", label)
    parts = (label_words(part) for part in bare.split("/"))
    forms = {label_words(label), label_words(bare), *parts}
    forms.discard("")
    return forms


def typed_choice(text: str, offered: Iterable[tuple[str, V]]) -> V | None:
    """The value of the button whose label was typed, if any: people on phones type "nữ"
    or "bỏ qua" as often as they tap."""
    typed = label_words(text)
    if not typed:
        return None
    return next((value for label, value in offered if typed in label_forms(label)), None)

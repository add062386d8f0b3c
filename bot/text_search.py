"""Folding Vietnamese text for search: people type names without diacritics."""

from __future__ import annotations

import unicodedata

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

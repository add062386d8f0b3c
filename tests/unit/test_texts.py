"""Message catalogs: complete in both languages, valid Telegram HTML, safe with any input."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

from bot.i18n import LANGUAGES, catalog, t
from tools.emulator.entities import parse_html

ROOT = Path(__file__).resolve().parents[2]


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    vi = catalog("vi")
    for lang in LANGUAGES:
        other = catalog(lang)
        assert set(other) == set(vi), lang
        for key, text in vi.items():
            assert _fields(other[key]) == _fields(text), key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_is_valid_telegram_html(lang: str) -> None:
    for key, template in catalog(lang).items():
        filled = template.format(**dict.fromkeys(_fields(template), "x"))
        parse_html(filled)  # raises on what Telegram would refuse
        assert 0 < len(filled) <= 4096, key


def test_every_key_the_code_uses_exists() -> None:
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for folder in ("bot", "handlers")
        for p in (ROOT / folder).rglob("*.py")
        if "emulator" not in p.parts and "sandbox" not in p.parts
    )
    sections = {key.split(".")[0] for key in catalog("vi")}
    used = {
        key for key in re.findall(r"\"([a-z_]+\.[a-z_]+)\"", code) if key.split(".")[0] in sections
    }
    missing = sorted(k for k in used if k not in catalog("vi") and k != "onboarding.welcome")
    assert missing == []


def test_values_are_escaped_so_input_cannot_inject_markup() -> None:
    text = t("vi", "onboarding.welcome_back", name="<b>Lan</b> & </i>")
    plain, _ = parse_html(text)
    assert "<b>Lan</b> & </i>" in plain


def test_unknown_language_falls_back_to_vietnamese() -> None:
    assert t("fr", "button.cancel") == t("vi", "button.cancel")

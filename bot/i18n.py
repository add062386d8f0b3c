"""Message catalogs: every text a person reads, in Vietnamese (default) and English.

Catalogs are TOML files under bot/locales; keys are dotted ("onboarding.welcome"). Values are
HTML for Telegram's parse_mode; the values filled in are escaped here, so a name like
"<b>" can never break a message or inject markup.
"""

from __future__ import annotations

import html
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

LOCALES = Path(__file__).parent / "locales"
LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(language: str) -> dict[str, str]:
    with (LOCALES / f"{language}.toml").open("rb") as fh:
        return _flatten(tomllib.load(fh))


def _escape(value: Any) -> Any:
    if isinstance(value, Raw):
        return str(value)
    return html.escape(value, quote=False) if isinstance(value, str) else value


class Raw(str):
    """Marks already-rendered HTML (another catalog text) so it is not escaped twice."""

    __slots__ = ()


def t(language: str | None, key: str, /, **params: Any) -> str:
    """The text for `key` in `language`, falling back to Vietnamese, then to the key itself."""
    lang = language if language in LANGUAGES else DEFAULT_LANGUAGE
    template = catalog(lang).get(key) or catalog(DEFAULT_LANGUAGE).get(key)
    if template is None:
        return key
    return template.format(**{k: _escape(v) for k, v in params.items()}) if params else template

"""Message catalogs and the formatting of what goes into them, per language.

Every text a person reads lives in `bot/locales/<language>.toml` under a dotted key
("onboarding.notice"). Values are Telegram HTML with `{name}` or `{name:spec}` fields; each
value filled in is escaped, so a name like "<b>" can never break a message or inject markup.
Specs format values the way the language writes them (Babel, CLDR data):

    {count:number}   2.668 (vi) · 2,668 (en)         {share:percent}  62,5% · 62.5%
    {day:date}       05/03/2026                      {at:time}        08:30
    {at:datetime}    08:30 05/03/2026                {phone:phone}    0912 345 678
    {day:day}        Thứ Năm, 05/03/2026             {day:short}      05/03

Times are shown in the configured time zone. A text whose wording depends on a number is a
TOML table of CLDR plural categories, chosen by the `count` value:
`[x.found] one = "Found {count} person" other = "Found {count:number} people"`.
A key missing from a catalog raises `MissingText`: the catalog tests find it first.
"""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_decimal, format_percent

from bot.channels import Channel
from bot.phones import format_phone


@dataclass(frozen=True, slots=True)
class LanguageSpec:
    """How one language is written: its CLDR locale and the plural forms its texts need."""

    locale: str
    #: Vietnamese nouns do not change with number, so one form ("other") serves every count.
    plurals: tuple[str, ...]


#: The one list of languages the bot speaks; the first is the default. Each needs a catalog.
LANGUAGES: Final[Mapping[str, LanguageSpec]] = {
    "vi": LanguageSpec("vi", ("other",)),
    # British English writes dates day first, as everyone in Vietnam reads them.
    "en": LanguageSpec("en_GB", ("one", "other")),
}
DEFAULT_LANGUAGE: Final = "vi"
DEFAULT_TIMEZONE: Final = ZoneInfo("Asia/Ho_Chi_Minh")
LOCALES = Path(__file__).parent / "locales"
PLURAL_CATEGORIES = frozenset({"zero", "one", "two", "few", "many", "other"})
#: The catalog section whose texts replace, key for key, the ones a Zalo user would misread:
#: Zalo has no buttons to tap, no contact to share, no files to open (`[on_zalo.onboarding]
#: ask_contact = ...` is what a Zalo user reads for `onboarding.ask_contact`).
ZALO_SECTION: Final = "on_zalo."

Template = str | dict[str, str]


class MissingText(KeyError):
    """A key the code asks for is not in the catalog: a bug, caught by the catalog tests."""


class Raw(str):
    """Marks already-rendered HTML (another catalog text) so it is not escaped twice."""

    __slots__ = ()


def _is_plural(value: object) -> bool:
    return isinstance(value, dict) and "other" in value and set(value) <= PLURAL_CATEGORIES


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Template]:
    flat: dict[str, Template] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if _is_plural(value):
            flat[name] = {category: str(text) for category, text in value.items()}
        elif isinstance(value, dict):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = str(value)
    return flat


@cache
def catalog(language: str) -> dict[str, Template]:
    with (LOCALES / f"{language}.toml").open("rb") as fh:
        return _flatten(tomllib.load(fh))


@cache
def channel_overrides(language: str, channel: Channel) -> dict[str, Template]:
    """The texts worded for `channel` instead of the base ones, by the base key."""
    if channel is not Channel.ZALO:
        return {}
    flat = catalog(language)
    return {k.removeprefix(ZALO_SECTION): v for k, v in flat.items() if k.startswith(ZALO_SECTION)}


def language_or_default(language: str | None) -> str:
    return language if language is not None and language in LANGUAGES else DEFAULT_LANGUAGE


class _Formatter(string.Formatter):
    """str.format with the specs above; every value is HTML-escaped after formatting."""

    def __init__(self, locale: Locale, tz: tzinfo) -> None:
        self.locale = locale
        self.tz = tz

    def format_field(self, value: Any, format_spec: str) -> str:
        text = self._format(value, format_spec)
        return text if isinstance(value, Raw) else html.escape(text, quote=False)

    def _format(self, value: Any, spec: str) -> str:
        match spec:
            case "number":
                return format_decimal(value, locale=self.locale)
            case "percent":  # a share between 0 and 1, to one decimal as reports write it
                # Half up, as Excel rounds: 0.8125 reads 81,3% in the chat and the workbook.
                share = Decimal(str(value)).quantize(Decimal("0.001"), ROUND_HALF_UP)
                return format_percent(share, "#,##0.0%", locale=self.locale)
            case "date":
                return format_date(_local_day(value, self.tz), "dd/MM/yyyy", locale=self.locale)
            case "day":  # a day in a timetable, with its weekday
                return format_date(
                    _local_day(value, self.tz), "EEEE, dd/MM/yyyy", locale=self.locale
                )
            case "short":  # within a year everyone knows
                return format_date(_local_day(value, self.tz), "dd/MM", locale=self.locale)
            case "time":
                return format_time(value.astimezone(self.tz), "HH:mm", locale=self.locale)
            case "datetime":
                moment = value.astimezone(self.tz)
                return format_datetime(moment, "HH:mm dd/MM/yyyy", locale=self.locale)
            case "phone":
                return format_phone(value)
        return format(value, spec)


def _local_day(value: date | datetime, tz: tzinfo) -> date:
    return value.astimezone(tz).date() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class Office:
    """The one office people are told to contact (OFFICE_NAME, OFFICE_PHONE): `{office}`."""

    name: str = "Phòng Quản lý đào tạo, Trường Chính trị tỉnh"
    phone: str = ""

    def __str__(self) -> str:
        return f"{self.name} ({format_phone(self.phone)})" if self.phone else self.name


DEFAULT_OFFICE = Office()


class Texts:
    """The catalog of one language, rendering in one time zone: what adapters speak with."""

    def __init__(
        self,
        language: str | None,
        tz: tzinfo = DEFAULT_TIMEZONE,
        office: Office = DEFAULT_OFFICE,
        channel: Channel = Channel.TELEGRAM,
    ) -> None:
        self.language = language_or_default(language)
        self.channel = channel
        self._overrides = channel_overrides(self.language, channel)
        spec = LANGUAGES[self.language]
        self._plurals = spec.plurals
        self._locale = Locale.parse(spec.locale)
        self._formatter = _Formatter(self._locale, tz)
        self._office = str(office)

    def __call__(self, key: str, /, **params: Any) -> str:
        template = self._overrides.get(key) or catalog(self.language).get(key)
        if template is None:
            raise MissingText(f"{key!r} is not in the {self.language} catalog")
        if isinstance(template, dict):
            template = template[self._plural(params["count"])]
        return self.format(template, **params)

    def format(self, template: str, /, **params: Any) -> str:
        """Fills a template with the specs above, escaping every value; `{office}` is
        always at hand."""
        if "{" not in template:
            return template
        return self._formatter.format(template, **{"office": self._office, **params})

    def _plural(self, count: float) -> str:
        category = self._locale.plural_form(count)
        return category if category in self._plurals else "other"


@cache
def texts(
    language: str | None,
    tz: tzinfo = DEFAULT_TIMEZONE,
    office: Office = DEFAULT_OFFICE,
    channel: Channel = Channel.TELEGRAM,
) -> Texts:
    """The shared `Texts` of a language, zone, office and channel (built once: CLDR data is
    parsed then)."""
    return Texts(language, tz, office, channel)


def t(language: str | None, key: str, /, **params: Any) -> str:
    """One text in `language` (the default for an unknown one), in the default time zone."""
    return texts(language)(key, **params)

"""Settings read from the environment and `.env`, validated once at start."""

from __future__ import annotations

import re
from datetime import time
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from bot.digests import DEFAULT_AT, DigestSchedule, parse_month_day, parse_weekday
from bot.i18n import DEFAULT_OFFICE, LANGUAGES, Office
from bot.office_reminders import DEFAULT_CALENDAR, OfficeHours, ReportEntry, parse_calendar
from bot.phones import normalize_phone
from bot.reminders import QuietHours

TELEGRAM_API = "https://api.telegram.org/bot"
TELEGRAM_FILE_API = "https://api.telegram.org/file/bot"
ZALO_API = "https://bot-api.zaloplatforms.com"


class Settings(BaseSettings):
    """Everything the operator may set; see `.env.example` for each variable's meaning."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    bot_token: SecretStr | None = None
    telegram_base_url: str = TELEGRAM_API
    telegram_base_file_url: str = TELEGRAM_FILE_API
    database_url: str = "sqlite+aiosqlite:///data/bot.db"
    # NoDecode: pydantic-settings would otherwise parse the value as JSON ("1,2" fails).
    admin_ids: Annotated[frozenset[int], NoDecode] = frozenset()
    timezone: str = "Asia/Ho_Chi_Minh"
    # The one office people are told to contact, in every text that says "contact ...".
    office_name: str = Field(default=DEFAULT_OFFICE.name, min_length=1, max_length=200)
    office_phone: str = ""
    default_language: str = "vi"
    log_level: str = "INFO"
    # Delivery limits (Telegram: ~30 messages/s overall, ~1/s per chat).
    send_rate_per_s: float = Field(default=25.0, gt=0)
    send_rate_per_chat_s: float = Field(default=1.0, gt=0)
    send_group_per_min: float = Field(default=20.0, gt=0)
    send_in_flight: int = Field(default=8, ge=1, le=100)
    # The evening-before reminder goes out at this local hour (HH:MM).
    reminder_evening: time = time(19, 0)
    # Quiet hours (local) of everyone who has not chosen their own in /settings.
    quiet_hours: str = "21:30-06:00"
    # The periodic reports administrators are reminded of (bot/office_reminders.py).
    report_reminders: str = DEFAULT_CALENDAR
    # The local hours in which administrators get their reminders; equal times: none.
    office_reminder_hours: str = "08:00-20:00"
    # Progress reports count a cadre as young below this age (the seeds: under 35).
    young_cadre_under: int = Field(default=35, ge=18, le=70)
    # Progress digests (bot/digests.py): the administrators' weekday ("mon" … "sun", "t2" …
    # "cn") or "off", the unit heads' day of the month (1–28) or "off", their local time, and
    # the folder their workbooks wait in until sent (empty: beside the SQLite database).
    digest_weekly: str = "mon"
    digest_monthly: str = "1"
    digest_at: time = DEFAULT_AT
    digest_dir: str = ""
    # An enrolment waiting for its unit head's approval gives its seat back after this many
    # days (or at the class's enrolment deadline, if sooner).
    approval_days: int = Field(default=3, ge=1, le=30)
    # The host in the UIDs of calendar files' events (session-12@host); empty: the bot's
    # username. Set it once and keep it: another host makes phones see new events.
    calendar_host: str = Field(default="", max_length=100, pattern=r"^[A-Za-z0-9._-]*$")
    # Zalo (bot/zalo): the bot's token from Zalo Bot Manager (empty: no Zalo), the platform.
    zalo_bot_token: SecretStr | None = None
    zalo_base_url: str = ZALO_API
    # The address the public reaches this bot's own small web server at, behind nginx
    # (https://bot.example.gov.vn): Zalo's webhook and the files sent to Zalo users are
    # served under it. Empty: Zalo is long-polled and files are not sent as links.
    public_base_url: str = Field(default="", pattern=r"^(https?://[^\s/]+(/[^\s]*)?)?$")
    # Where that web server listens (nginx forwards to it).
    public_port: int = Field(default=8088, ge=1, le=65535)
    # The secret Zalo sends back with each webhook call (8 to 256 letters, digits, _ or -).
    zalo_webhook_secret: SecretStr | None = None
    # Zalo publishes no limits: these are cautious and can be raised once measured.
    zalo_send_rate_per_s: float = Field(default=10.0, gt=0)
    zalo_send_rate_per_chat_s: float = Field(default=1.0, gt=0)

    @field_validator("admin_ids", mode="before")
    @classmethod
    def _split_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",")]
            return frozenset(int(p) for p in parts if p)
        if isinstance(value, int):
            return frozenset({value})
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("default_language")
    @classmethod
    def _known_language(cls, value: str) -> str:
        if value not in LANGUAGES:
            raise ValueError("must be one of " + ", ".join(repr(lang) for lang in LANGUAGES))
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value.upper()

    @field_validator("office_reminder_hours")
    @classmethod
    def _office_hours(cls, value: str) -> str:
        return str(OfficeHours.parse(value))

    @property
    def office_hours(self) -> OfficeHours:
        return OfficeHours.parse(self.office_reminder_hours)

    @field_validator("report_reminders")
    @classmethod
    def _report_calendar(cls, value: str) -> str:
        parse_calendar(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://host/db")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str) -> str:
        return str(QuietHours.parse(value))

    @property
    def quiet(self) -> QuietHours:
        return QuietHours.parse(self.quiet_hours)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def report_calendar(self) -> tuple[ReportEntry, ...]:
        return parse_calendar(self.report_reminders)

    @property
    def office(self) -> Office:
        phone = normalize_phone(self.office_phone) if self.office_phone else None
        return Office(self.office_name, phone or self.office_phone)

    @property
    def token(self) -> str | None:
        return self.bot_token.get_secret_value() if self.bot_token else None

    @property
    def zalo_token(self) -> str | None:
        return self.zalo_bot_token.get_secret_value() if self.zalo_bot_token else None

    @property
    def webhook_secret(self) -> str | None:
        return self.zalo_webhook_secret.get_secret_value() if self.zalo_webhook_secret else None

    @field_validator("zalo_webhook_secret")
    @classmethod
    def _webhook_secret(cls, value: SecretStr | None) -> SecretStr | None:
        secret = value.get_secret_value() if value is not None else ""
        if secret and not re.fullmatch(r"[A-Za-z0-9_-]{8,256}", secret):
            raise ValueError("8 to 256 letters, digits, _ or -")
        return value

    @field_validator("digest_weekly", mode="before")
    @classmethod
    def _digest_weekday(cls, value: object) -> str:
        text = str(value).strip().lower()
        parse_weekday(text)
        return text

    @field_validator("digest_monthly", mode="before")
    @classmethod
    def _digest_month_day(cls, value: object) -> str:
        text = str(value).strip().lower()
        parse_month_day(text)
        return text

    @property
    def digest_schedule(self) -> DigestSchedule:
        return DigestSchedule(
            parse_weekday(self.digest_weekly), parse_month_day(self.digest_monthly), self.digest_at
        )

    @property
    def digest_folder(self) -> Path:
        """DIGEST_DIR, else `digests` beside the SQLite database (the sandbox keeps its own),
        else data/digests."""
        if self.digest_dir:
            return Path(self.digest_dir)
        prefix = "sqlite+aiosqlite:///"
        database = self.database_url.removeprefix(prefix).split("?")[0]
        if self.database_url.startswith(prefix) and database and ":memory:" not in database:
            return Path(database).parent / "digests"
        return Path("data/digests")


def describe_error(exc: Exception) -> str:
    """One line naming the variable at fault, for an operator, without a traceback."""
    errors = getattr(exc, "errors", None)
    if callable(errors):
        first = errors()[0]
        name = str(first["loc"][0]).upper() if first.get("loc") else "setting"
        return f"Invalid setting {name}: {first['msg']}"
    return f"Invalid setting: {exc}"

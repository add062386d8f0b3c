"""Logging that never writes the bot token or a person's data."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
#: Vietnamese phone numbers as they may appear in a library's message or a traceback.
_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)\d{9,10}(?!\d)")
#: The Bot API's fields that carry what a person is called or wrote, as a library prints
#: them: JSON ("first_name": "…"), a dict ('text': '…') or an object's repr (title='…').
_PERSONAL_FIELD = re.compile(
    r"""(?P<key>\b(?:first_name|last_name|username|full_name|phone_number|vcard|text|caption"""
    r"""|question|title|address|bio|email)\b['"]?\s*[:=]\s*)"""
    r"""(?P<quote>['"])(?:\\.|(?!(?P=quote)).)*(?P=quote)"""
)


class RedactingFormatter(logging.Formatter):
    """Masks the token, anything shaped like one, phone numbers and the fields of an update
    that name a person or hold what they wrote, in the whole formatted record (the bot's own
    lines never hold personal data; a library's might, e.g. PTB printing a raw update).

    httpx logs full request URLs (which hold the token) and PTB puts the token in some
    exception texts, so the mask applies to messages and tracebacks alike.
    """

    def __init__(self, fmt: str, token: str | None, others: Iterable[str] = ()) -> None:
        super().__init__(fmt)
        self.token = token
        #: Other channels' tokens (Zalo's), masked the same way whatever their shape.
        self.others = tuple(secret for secret in others if secret)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in (self.token, *self.others):
            if secret:
                text = text.replace(secret, "<token>")
        text = _PERSONAL_FIELD.sub(r"\g<key>\g<quote><redacted>\g<quote>", text)
        return _PHONE.sub("<phone>", _TOKEN.sub("<token>", text))


def configure_logging(level: str, token: str | None, others: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(LOG_FORMAT, token, others))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in (
        "httpx", "httpcore", "apscheduler", "aiosqlite", "alembic.runtime.plugins", "fontTools",
    ):  # fmt: skip
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # PTB's DEBUG output prints whole updates (names, phone numbers, texts): never below INFO.
    logging.getLogger("telegram").setLevel(max(root.level, logging.INFO))

"""A class's deep link: an opaque token, so a poster or a Zalo message names the class
without telling its id, and the office can revoke it when the link spreads too far."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

#: Bytes of randomness in a token: 12 bytes are 16 URL-safe characters (96 bits), which
#: nobody guesses, and the whole payload "c-<token>" stays far below Telegram's 64.
TOKEN_BYTES = 12
TOKEN_LENGTH = 16
_TOKEN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")
#: The deep-link destination of a class (bot/deeplinks.py).
DESTINATION = "c"


@dataclass(frozen=True, slots=True)
class ClassLink:
    """One token of a class; a revoked one leads nowhere, and a class has one live at most."""

    id: int
    class_id: int
    token: str
    created_by: int | None
    created_at: datetime
    revoked_by: int | None = None
    revoked_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.revoked_at is None


def new_token() -> str:
    """A fresh token from the OS's random source, not derived from anything about the class."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token(text: str) -> bool:
    """Whether `text` could be a token at all (anything else is not looked up)."""
    return bool(_TOKEN.fullmatch(text))


def payload(token: str) -> str:
    """What follows /start: "c-<token>"."""
    return f"{DESTINATION}-{token}"


def link_url(bot_username: str, token: str) -> str:
    return f"https://t.me/{bot_username}?start={payload(token)}"

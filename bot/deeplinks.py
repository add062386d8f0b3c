"""`/start <payload>` deep links: validated, then routed to a destination by name."""

from __future__ import annotations

import re
from dataclasses import dataclass

_PAYLOAD = re.compile(r"[A-Za-z0-9_-]{1,64}")

#: Destinations a link may point to; later features add theirs (a class, a session).
#: "ci-<session>_<code>" is a session's check-in, scanned off the projector.
#: "c-<token>" is a class, from its poster or a message in a Zalo group (bot/class_links.py).
DESTINATIONS = ("profile", "mydata", "help", "ci", "c")


@dataclass(frozen=True, slots=True)
class DeepLink:
    destination: str
    argument: str = ""


def parse_payload(payload: str | None) -> DeepLink | None:
    """'profile' or 'ci-42_123456' → DeepLink; anything malformed or unknown → None."""
    if not payload or not _PAYLOAD.fullmatch(payload):
        return None
    destination, _, argument = payload.partition("-")
    if destination not in DESTINATIONS:
        return None
    return DeepLink(destination, argument)

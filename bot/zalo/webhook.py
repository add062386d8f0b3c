"""What the Zalo webhook endpoint decides before it handles an event: is the request Zalo's,
and is the event new. Pure, so the endpoint can answer fast and process after answering."""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable

#: Zalo echoes setWebhook's secret_token in this header on every delivery.
SECRET_HEADER = "X-Bot-Api-Secret-Token"


def secret_ok(received: str | None, expected: str) -> bool:
    """True only for the configured secret, compared in constant time so that how long the
    answer takes tells nothing about how much of a guess was right. No secret configured
    means no request is Zalo's."""
    if not expected or received is None:
        return False
    return hmac.compare_digest(_bytes(received), _bytes(expected))


def _bytes(text: str) -> bytes:
    # compare_digest refuses str with non-ASCII characters; a header may hold any.
    return text.encode("utf-8", "surrogateescape")


class RecentEvents:
    """The keys (`event_name:message_id`) of the events handled lately, to drop redeliveries.

    A webhook delivery Zalo thinks failed (slow answer, network cut) comes again. At most
    `size` keys are kept, each for `window_s` seconds, so memory stays bounded whatever
    arrives; the oldest go first.
    """

    def __init__(
        self,
        size: int = 10_000,
        window_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if size < 1 or window_s <= 0:
            raise ValueError("RecentEvents needs room for one key and a positive window")
        self.size = size
        self.window_s = window_s
        self._clock = clock
        # Insertion order is arrival order: the first key is always the oldest.
        self._seen: dict[str, float] = {}

    def __len__(self) -> int:
        return len(self._seen)

    def first_time(self, key: str) -> bool:
        """True the first time a key is offered within the window (and remembers it)."""
        now = self._clock()
        while self._seen:
            oldest = next(iter(self._seen))
            if now - self._seen[oldest] < self.window_s:
                break
            del self._seen[oldest]
        if key in self._seen:
            return False
        self._seen[key] = now
        if len(self._seen) > self.size:
            del self._seen[next(iter(self._seen))]
        return True

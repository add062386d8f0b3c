"""How far each multi-part delivery to Zalo got, so that a retry resumes where it stopped.

One Bot API call can become several Zalo calls: a text over 2,000 characters goes in parts, a
photo with a long caption as the photo and then the text. When Zalo refuses a later part
(429, a network cut), the application sees the call fail and sends the whole message again;
the parts Zalo already showed must not come twice. The count of parts delivered is kept per
(Zalo user, content) for a while, bounded in size.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

#: A retry comes within minutes (the outbox backs off at most a few); kept longer than that.
KEEP_S = 3600.0
KEEP_AT_MOST = 2_000


def content_key(zalo_id: str, *parts: str) -> str:
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()
    return f"{zalo_id}:{digest}"


class PartsSent:
    def __init__(
        self,
        keep_s: float = KEEP_S,
        size: int = KEEP_AT_MOST,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keep_s = keep_s
        self.size = size
        self._clock = clock
        self._sent: dict[str, tuple[int, float]] = {}  # key -> (parts sent, when)

    def done(self, key: str) -> int:
        """How many parts of this content an earlier, unfinished attempt delivered."""
        entry = self._sent.get(key)
        if entry is None or self._clock() - entry[1] > self.keep_s:
            return 0
        return entry[0]

    def advance(self, key: str, count: int) -> None:
        self._sent.pop(key, None)
        self._sent[key] = (count, self._clock())
        while len(self._sent) > self.size:
            del self._sent[next(iter(self._sent))]

    def finish(self, key: str) -> None:
        """Delivered whole: the same content sent later is a new message."""
        self._sent.pop(key, None)

    def __len__(self) -> int:
        return len(self._sent)

"""Rate limits, injected faults and counters of the Zalo emulator.

Zalo publishes no rate limits and documents 429 only as "Quota exceeded", without a wait
hint; the limits here are off by default and the Telegram-like `retry_after` hint is opt-in,
so the bridge can be tested against both a plain 429 and one that says how long to wait.
"""

from __future__ import annotations

import math
from collections import Counter, deque
from dataclasses import dataclass, field, fields
from typing import Any

from tools.emulator.faults import FaultSpec

SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendSticker", "sendChatAction"})
_SPECS = ("quota", "server_error", "slow")


@dataclass
class ZaloFaults:
    """Limits (None = off) and injected faults of send methods; change with `configure`.

    overall_per_s / chat_per_s: sends per bot / per chat in any 1-second window, beyond which
    the emulator answers 429. quota: a 429 injected regardless of pace. retry_after: whether a
    429 carries `parameters.retry_after` and a Retry-After header (the docs mention none).
    server_error answers 500; slow delays the answer by slow_s seconds.
    """

    overall_per_s: int | None = None
    chat_per_s: int | None = None
    retry_after: bool = False
    quota: FaultSpec = field(default_factory=FaultSpec)
    server_error: FaultSpec = field(default_factory=FaultSpec)
    slow: FaultSpec = field(default_factory=FaultSpec)
    slow_s: float = 0.0
    _windows: dict[str | None, deque[float]] = field(init=False, default_factory=dict, repr=False)

    def configure(self, **changes: Any) -> None:
        """Apply JSON-style changes, e.g. quota={"every_nth": 2}, retry_after=true."""
        known = {f.name for f in fields(self) if f.init}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault setting {name!r}")
            if name in _SPECS and isinstance(value, dict):
                value = FaultSpec(**value)
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        data.update({name: getattr(self, name).to_dict() for name in _SPECS})
        return data

    def wait_needed(self, chat_id: str | None, now: float) -> int | None:
        """Seconds to wait if this send breaks a limit; otherwise record it and return None."""
        checks = [(None, self.overall_per_s), (chat_id, self.chat_per_s)]
        active = [(key, limit) for key, limit in checks if limit is not None]
        wait = 0.0
        for key, limit in active:
            times = self._windows.setdefault(key, deque())
            while times and now - times[0] >= 1.0:
                times.popleft()
            if len(times) >= limit:
                wait = max(wait, 1.0 - (now - times[0]))
        if wait > 0:
            return max(1, math.ceil(wait))
        for key, _ in active:
            self._windows[key].append(now)
        return None


@dataclass
class ZaloStats:
    """Counters kept by the emulator; `to_dict` feeds GET /_emulator/stats."""

    methods: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    server_errors: int = 0
    slowed: int = 0
    delivered: int = 0
    webhook_posts: int = 0
    webhook_failures: int = 0
    webhook_dropped: int = 0
    #: (method, description) of every request refused: each one the bot should not have made.
    refused: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "methods": dict(self.methods),
            "rate_limited": self.rate_limited,
            "server_errors": self.server_errors,
            "slowed": self.slowed,
            "delivered": self.delivered,
            "webhook_posts": self.webhook_posts,
            "webhook_failures": self.webhook_failures,
            "webhook_dropped": self.webhook_dropped,
            "refused": [{"method": m, "description": d} for m, d in self.refused],
        }

"""Rate limits, fault injection and counters for the emulator.

Everything here applies to "send" methods only, so that tests and benchmarks can check how the
bot copes with Telegram's flood control and an unreliable network without real Telegram.
"""

from __future__ import annotations

import math
import random
from collections import Counter, deque
from dataclasses import asdict, dataclass, field, fields
from typing import Any

SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendDocument",
        "sendPhoto",
        "editMessageText",
        "editMessageCaption",
        "editMessageReplyMarkup",
    }
)


@dataclass
class FaultSpec:
    """When a fault fires: every N-th send call and/or with a seeded probability."""

    probability: float = 0.0
    every_nth: int | None = None
    seed: int | None = None
    _rng: random.Random = field(init=False, repr=False, compare=False)
    _calls: int = field(init=False, default=0, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)

    def fire(self) -> bool:
        """Count one send call and say whether the fault hits it."""
        self._calls += 1
        if self.every_nth and self._calls % self.every_nth == 0:
            return True
        return self.probability > 0 and self._rng.random() < self.probability

    def to_dict(self) -> dict[str, Any]:
        return {"probability": self.probability, "every_nth": self.every_nth, "seed": self.seed}


_SPECS = ("server_error", "drop", "lost_answer")
_SETS = ("blocked", "deactivated")


@dataclass
class Faults:
    """Limits (None = off) and injected faults; change at run time with `configure`.

    overall_per_s: sends per bot in any 1-second window; private_chat_per_s: sends per private
    chat in any 1-second window; group_chat_per_min: sends per group (negative id) per minute.
    server_error answers 502, drop closes the connection before acting, lost_answer acts (the
    message is delivered) and then closes the connection. blocked/deactivated hold chat ids
    that get 403 for every bot.
    """

    overall_per_s: int | None = None
    private_chat_per_s: int | None = None
    group_chat_per_min: int | None = None
    server_error: FaultSpec = field(default_factory=FaultSpec)
    drop: FaultSpec = field(default_factory=FaultSpec)
    lost_answer: FaultSpec = field(default_factory=FaultSpec)
    blocked: set[int] = field(default_factory=set)
    deactivated: set[int] = field(default_factory=set)
    _windows: dict[tuple[int, int | None], deque[float]] = field(
        init=False, default_factory=dict, repr=False
    )

    @classmethod
    def telegram_limits(cls) -> Faults:
        """Telegram's documented limits: 30/s overall, 1/s per chat, 20/min per group."""
        return cls(overall_per_s=30, private_chat_per_s=1, group_chat_per_min=20)

    def configure(self, **changes: Any) -> None:
        """Apply JSON-style changes, e.g. drop={"every_nth": 3}, blocked=[42]."""
        known = {f.name for f in fields(self) if f.init}
        for name, value in changes.items():
            if name not in known:
                raise ValueError(f"unknown fault setting {name!r}")
            if name in _SPECS and isinstance(value, dict):
                value = FaultSpec(**value)
            elif name in _SETS:
                value = {int(v) for v in value}
            setattr(self, name, value)

    def to_dict(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        data.update({name: getattr(self, name).to_dict() for name in _SPECS})
        data.update({name: sorted(getattr(self, name)) for name in _SETS})
        return data

    def retry_after(self, bot_id: int, chat_id: int | None, now: float) -> int | None:
        """Seconds to wait if this send breaks a limit; otherwise record it and return None."""
        checks: list[tuple[tuple[int, int | None], int | None, float]] = [
            ((bot_id, None), self.overall_per_s, 1.0)
        ]
        if chat_id is not None and chat_id < 0:
            checks.append(((bot_id, chat_id), self.group_chat_per_min, 60.0))
        elif chat_id is not None:
            checks.append(((bot_id, chat_id), self.private_chat_per_s, 1.0))
        wait = 0.0
        for key, limit, window in checks:
            if limit is None:
                continue
            times = self._windows.setdefault(key, deque())
            while times and now - times[0] >= window:
                times.popleft()
            if len(times) >= limit:
                wait = max(wait, window - (now - times[0]))
        if wait > 0:
            return max(1, math.ceil(wait))
        for key, limit, _ in checks:
            if limit is not None:
                self._windows[key].append(now)
        return None


@dataclass(frozen=True)
class Delivery:
    """One message that reached its chat, as a benchmark counts it."""

    chat_id: int
    message_id: int
    text: str
    monotonic: float
    wall: float
    token: str


@dataclass
class Stats:
    """Counters kept by the emulator; `to_dict` feeds GET /_emulator/stats."""

    methods: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    server_errors: int = 0
    dropped: int = 0
    lost_answers: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    #: (method, description) of every request the emulator refused as Telegram would:
    #: each one is a request the bot should not have made.
    refused: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self, with_log: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "methods": dict(self.methods),
            "rate_limited": self.rate_limited,
            "server_errors": self.server_errors,
            "dropped": self.dropped,
            "lost_answers": self.lost_answers,
            "delivered": len(self.deliveries),
            "refused": len(self.refused),
        }
        if with_log:
            data["deliveries"] = [asdict(d) for d in self.deliveries]
        return data

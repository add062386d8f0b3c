"""The time, from one place: services ask a clock, so tests can set it instead of sleeping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock that moves only when told to: for tests of anything that depends on time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock needs an aware time")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class OffsetClock:
    """The system clock, ahead by an offset: the offline sandbox's clock, which a person moves
    (`:clock +2h`) to watch reminders fall due instead of waiting for them.

    It moves forward only, or back to the real time (`reset`). Whatever was done at a moved
    time stays done: the reminder ledger, enrolments, messages held for quiet hours until a
    release time. A clock moved back would replay hours those were decided in, so a person
    would see nothing arrive where they expect reminders, and held messages would wait for a
    time already seen. Returning to the real time is the one way back, and says so.
    """

    def __init__(self, offset: timedelta = timedelta(0)) -> None:
        if offset < timedelta(0):
            raise ValueError("the clock moves forward only")
        self._offset = offset

    @property
    def offset(self) -> timedelta:
        """How far ahead of the real time it is."""
        return self._offset

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def advance(self, delta: timedelta) -> None:
        if delta <= timedelta(0):
            raise ValueError("the clock moves forward only")
        self._offset += delta

    def reset(self) -> None:
        """Back to the real time."""
        self._offset = timedelta(0)

"""Queueing what the bot sends on its own initiative so that nobody is woken at night."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery.model import NewMessage
from bot.i18n import DEFAULT_TIMEZONE
from bot.reminders import ReminderPrefs
from storage.repositories.outbox import OutboxRepository
from storage.repositories.reminders import ReminderRepository


async def queue_or_hold(
    conn: AsyncConnection,
    messages: Sequence[NewMessage],
    *,
    now: datetime,
    tz: tzinfo,
    defaults: ReminderPrefs,
    urgent: bool = False,
) -> int:
    """Queues the messages, in the caller's transaction; those whose recipient is in quiet
    hours now are held until the hours end, unless `urgent` (a change to a session today).
    Returns how many were held."""
    if not messages:
        return 0
    repo = ReminderRepository(conn)
    prefs = await repo.prefs((m.person_id for m in messages if m.person_id is not None), defaults)
    held: list[tuple[NewMessage, datetime]] = []
    ready: list[NewMessage] = []
    for message in messages:
        person = prefs.get(message.person_id) if message.person_id is not None else None
        quiet = (person or defaults).quiet
        if not urgent and quiet.holds(now, tz):
            held.append((message, quiet.release(now, tz)))
        else:
            ready.append(message)
    await OutboxRepository(conn).add(ready)
    await repo.hold(held)
    return len(held)


@dataclass(frozen=True, slots=True)
class Quiet:
    """What decides quiet hours for a service that queues news: the province's zone and the
    settings of people who never chose their own (QUIET_HOURS)."""

    tz: tzinfo = DEFAULT_TIMEZONE
    defaults: ReminderPrefs = field(default_factory=ReminderPrefs)

    async def queue(
        self, conn: AsyncConnection, messages: Sequence[NewMessage], now: datetime
    ) -> int:
        """Queues them, holding those for people in their quiet hours (see queue_or_hold)."""
        return await queue_or_hold(conn, messages, now=now, tz=self.tz, defaults=self.defaults)

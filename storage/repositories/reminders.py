"""Reminder settings, the ledger of reminders decided, and messages held for quiet hours."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, time
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery.model import NewMessage
from bot.reminders import Lead, QuietHours, ReminderPrefs, ReminderState
from bot.training import (
    ClassFormat,
    ClassStatus,
    EnrolmentStatus,
    Place,
    SessionStatus,
    session_place,
)
from storage.links import SENDABLE
from storage.repositories.outbox import OutboxRepository, _insert
from storage.schema import (
    class_lecturers,
    class_sessions,
    classes,
    enrolments,
    held_messages,
    people,
    reminder_log,
    reminder_mutes,
    reminder_settings,
)
from storage.types import UTCDateTime, utcnow

_CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class Recipient:
    """One person to remind of one session: what the reminder says and since when it exists."""

    session_id: int
    class_id: int
    class_code: str
    class_name: str
    number: int
    starts_at: datetime
    ends_at: datetime
    topic: str | None
    place: Place
    person_id: int
    chat_id: int
    teaching: bool
    #: When the reminder came to exist: the enrolment, or the session's time being set.
    since: datetime


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def _time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


_KNOWN_LEADS = frozenset(lead.value for lead in Lead)


@lru_cache(maxsize=1024)
def _stored_prefs(enabled: bool, leads: str, quiet_from: int, quiet_until: int) -> ReminderPrefs:
    """Settings as stored, made once per distinct row: a pass reads thousands of people's,
    most of them alike (ReminderPrefs is frozen, so they can share it)."""
    return ReminderPrefs(
        enabled=enabled,
        leads=tuple(Lead(part) for part in leads.split(",") if part in _KNOWN_LEADS),
        quiet=QuietHours(_time(quiet_from), _time(quiet_until)),
    )


class ReminderRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- settings ----------------------------------------------------------------------------

    async def prefs(
        self, person_ids: Iterable[int], defaults: ReminderPrefs
    ) -> dict[int, ReminderPrefs]:
        """Everyone's settings, `defaults` for those who never chose."""
        ids = sorted(set(person_ids))
        found: dict[int, ReminderPrefs] = {pid: defaults for pid in ids}
        mutes: dict[int, set[int]] = {}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            for row in await self.conn.execute(
                sa.select(reminder_mutes).where(reminder_mutes.c.person_id.in_(chunk))
            ):
                mutes.setdefault(row.person_id, set()).add(row.class_id)
            settings = reminder_settings.c
            for person_id, chosen_at, *stored in await self.conn.execute(
                sa.select(
                    settings.person_id, settings.leads_at, settings.enabled, settings.leads,
                    settings.quiet_from, settings.quiet_until,
                ).where(settings.person_id.in_(chunk))
            ):  # fmt: skip
                found[person_id] = _stored_prefs(*stored)
                if chosen_at is not None:
                    found[person_id] = replace(found[person_id], chosen_at=chosen_at)
        for pid, muted in mutes.items():
            found[pid] = replace(found[pid], muted_classes=frozenset(muted))
        return found

    async def save_prefs(self, person_id: int, prefs: ReminderPrefs, at: datetime) -> None:
        values = {
            "enabled": prefs.enabled,
            "leads": ",".join(lead.value for lead in prefs.leads),
            "quiet_from": _minutes(prefs.quiet.start),
            "quiet_until": _minutes(prefs.quiet.end),
            "leads_at": prefs.chosen_at,
            "updated_at": at,
        }
        statement = _insert(self.conn, reminder_settings).values(person_id=person_id, **values)
        await self.conn.execute(
            statement.on_conflict_do_update(index_elements=["person_id"], set_=values)
        )

    async def mute(self, person_id: int, class_id: int, muted: bool, at: datetime) -> None:
        if muted:
            statement = _insert(self.conn, reminder_mutes).values(
                person_id=person_id, class_id=class_id, at=at
            )
            await self.conn.execute(statement.on_conflict_do_nothing())
        else:
            await self.conn.execute(
                reminder_mutes.delete().where(
                    reminder_mutes.c.person_id == person_id, reminder_mutes.c.class_id == class_id
                )
            )

    # --- what is due -------------------------------------------------------------------------

    async def recipients(self, after: datetime, until: datetime) -> list[Recipient]:
        """Who is to be reminded of the scheduled sessions starting in (after, until]: the
        enrolled learners (not the waitlist) and the session's lecturer (else the class's),
        if they are on Telegram.

        The sessions are read first, then their people: thousands of people share a few
        sessions, and a row per person carrying its session's columns costs more to read
        than the rest of a pass."""
        sessions = await self._sessions(after, until)
        if not sessions:
            return []
        in_window = class_sessions.c.id.in_(list(sessions))
        reachable = list(SENDABLE)  # consent withdrawn: no messages at all
        learners = sa.select(
            class_sessions.c.id.label("session_id"),
            people.c.id.label("person_id"),
            people.c.telegram_id,
            sa.literal(False).label("teaching"),
            enrolments.c.updated_at.label("enrolled_at"),
        ).select_from(
            class_sessions.join(
                enrolments,
                sa.and_(
                    enrolments.c.class_id == class_sessions.c.class_id,
                    enrolments.c.status == EnrolmentStatus.ENROLLED.value,
                ),
            ).join(people, people.c.id == enrolments.c.person_id)
        )
        own_lecturer = sa.select(
            class_sessions.c.id, people.c.id, people.c.telegram_id, sa.literal(True), sa.null()
        ).select_from(class_sessions.join(people, people.c.id == class_sessions.c.lecturer_id))
        class_lecturer = sa.select(
            class_sessions.c.id, people.c.id, people.c.telegram_id, sa.literal(True), sa.null()
        ).select_from(
            class_sessions.join(
                class_lecturers, class_lecturers.c.class_id == class_sessions.c.class_id
            ).join(people, people.c.id == class_lecturers.c.person_id)
        )
        query = sa.union_all(
            learners.where(in_window, *reachable),
            own_lecturer.where(in_window, *reachable),
            class_lecturer.where(in_window, *reachable, class_sessions.c.lecturer_id.is_(None)),
        )
        found: dict[tuple[int, int], Recipient] = {}
        stamp = UTCDateTime()
        for session_id, person_id, chat_id, teaching, enrolled in await self.conn.execute(query):
            key = (session_id, person_id)
            if key in found and not teaching:
                continue  # a lecturer who also enrolled is reminded as the lecturer
            s = sessions[session_id]
            # A union's columns lose their types on SQLite: times come back as text.
            enrolled_at = _aware(stamp, enrolled, self.conn)
            found[key] = Recipient(
                session_id=session_id, class_id=s.class_id, class_code=s.code,
                class_name=s.name, number=s.number, starts_at=s.starts_at, ends_at=s.ends_at,
                topic=s.topic,
                place=session_place(s.room, s.link, ClassFormat(s.format), s.location,
                                    s.meeting_link),
                person_id=person_id, chat_id=chat_id, teaching=bool(teaching),
                since=max(s.timed_at, enrolled_at) if enrolled_at else s.timed_at,
            )  # fmt: skip
        return list(found.values())

    async def _sessions(self, after: datetime, until: datetime) -> dict[int, Any]:
        """The scheduled sessions starting in (after, until] of classes not cancelled, with
        what a reminder says of them, by id."""
        earlier = class_sessions.alias("earlier")
        number = (
            sa.select(sa.func.count())
            .where(
                earlier.c.class_id == class_sessions.c.class_id,
                earlier.c.status == SessionStatus.SCHEDULED.value,
                earlier.c.starts_at <= class_sessions.c.starts_at,
            )
            .correlate(class_sessions)
            .scalar_subquery()
        )
        timed_at = sa.func.coalesce(class_sessions.c.timed_at, class_sessions.c.created_at)
        query = (
            sa.select(
                class_sessions.c.id,
                class_sessions.c.class_id,
                classes.c.code,
                classes.c.name,
                classes.c.format,
                number.label("number"),
                class_sessions.c.starts_at,
                class_sessions.c.ends_at,
                class_sessions.c.topic,
                class_sessions.c.room,
                class_sessions.c.link,
                classes.c.location,
                classes.c.meeting_link,
                sa.type_coerce(timed_at, UTCDateTime()).label("timed_at"),
            )
            .select_from(class_sessions.join(classes, classes.c.id == class_sessions.c.class_id))
            .where(
                class_sessions.c.status == SessionStatus.SCHEDULED.value,
                class_sessions.c.starts_at > after,
                class_sessions.c.starts_at <= until,
                classes.c.status != ClassStatus.CANCELLED.value,
            )
        )
        return {row.id: row for row in await self.conn.execute(query)}

    async def lecturers(self, class_id: int) -> list[tuple[int, int | None]]:
        """(person, chat) of everyone teaching the class, named on it or on a session."""
        on_sessions = sa.select(class_sessions.c.lecturer_id).where(
            class_sessions.c.class_id == class_id, class_sessions.c.lecturer_id.is_not(None)
        )
        on_class = sa.select(class_lecturers.c.person_id).where(
            class_lecturers.c.class_id == class_id
        )
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id, people.c.consent_at).where(
                sa.or_(people.c.id.in_(on_sessions), people.c.id.in_(on_class))
            )
        )
        return [(r.id, r.telegram_id if r.consent_at else None) for r in rows]

    async def handled(
        self, session_ids: Iterable[int]
    ) -> dict[tuple[int, int, datetime], set[Lead]]:
        """The leads already decided, by (session, person, the session's start then)."""
        ids = sorted(set(session_ids))
        found: dict[tuple[int, int, datetime], set[Lead]] = {}
        for start in range(0, len(ids), _CHUNK):
            rows = await self.conn.execute(
                sa.select(
                    reminder_log.c.session_id,
                    reminder_log.c.person_id,
                    reminder_log.c.starts_at,
                    reminder_log.c.lead,
                ).where(reminder_log.c.session_id.in_(ids[start : start + _CHUNK]))
            )
            for row in rows:
                key = (row.session_id, row.person_id, row.starts_at)
                found.setdefault(key, set()).add(Lead(row.lead))
        return found

    async def record(
        self, decided: Sequence[tuple[Recipient, Lead, ReminderState]], at: datetime
    ) -> None:
        """Writes decisions; one already written (another pass, another process) is kept."""
        rows = [
            {"session_id": r.session_id, "person_id": r.person_id, "lead": lead.value,
             "starts_at": r.starts_at, "state": state.value, "at": at}
            for r, lead, state in decided
        ]  # fmt: skip
        statement = _insert(self.conn, reminder_log).on_conflict_do_nothing()
        for start in range(0, len(rows), _CHUNK):
            await self.conn.execute(statement, rows[start : start + _CHUNK])

    async def counts(self, session_id: int) -> dict[ReminderState, int]:
        rows = await self.conn.execute(
            sa.select(reminder_log.c.state, sa.func.count())
            .where(reminder_log.c.session_id == session_id)
            .group_by(reminder_log.c.state)
        )
        return {ReminderState(state): count for state, count in rows}

    # --- quiet hours -------------------------------------------------------------------------

    async def hold(self, messages: Sequence[tuple[NewMessage, datetime]]) -> None:
        """Keeps messages until their release time; a dedup key already held is skipped."""
        now = utcnow()
        rows = [
            {"dedup_key": m.dedup_key, "chat_id": m.chat_id, "person_id": m.person_id,
             "batch_id": m.batch_id, "kind": m.kind, "payload": m.payload,
             "release_at": release_at, "created_at": now}
            for m, release_at in messages
        ]  # fmt: skip
        statement = _insert(self.conn, held_messages).on_conflict_do_nothing(
            index_elements=["dedup_key"]
        )
        for start in range(0, len(rows), _CHUNK):
            await self.conn.execute(statement, rows[start : start + _CHUNK])

    async def release(self, now: datetime, limit: int = 5_000) -> int:
        """Moves the held messages whose time has come to the outbox; returns how many."""
        rows = (
            await self.conn.execute(
                sa.select(held_messages)
                .where(held_messages.c.release_at <= now)
                .order_by(held_messages.c.release_at, held_messages.c.id)
                .limit(limit)
            )
        ).all()
        if not rows:
            return 0
        await OutboxRepository(self.conn).add(
            [
                NewMessage(dedup_key=r.dedup_key, chat_id=r.chat_id, person_id=r.person_id,
                           kind=r.kind, payload=r.payload, batch_id=r.batch_id)
                for r in rows
            ]
        )  # fmt: skip
        await self.conn.execute(
            held_messages.delete().where(held_messages.c.id.in_([r.id for r in rows]))
        )
        return len(rows)

    async def drop_held(self, person_id: int) -> None:
        """Forgets what was held for someone who withdrew consent: it must never go out."""
        await self.conn.execute(
            held_messages.delete().where(held_messages.c.person_id == person_id)
        )

    async def reschedule(self, person_id: int, release_at: datetime) -> None:
        """One person's held messages released at a new time (their quiet hours changed)."""
        await self.conn.execute(
            held_messages.update()
            .where(held_messages.c.person_id == person_id)
            .values(release_at=release_at)
        )

    async def next_release(self) -> datetime | None:
        value: Any = (
            await self.conn.execute(sa.select(sa.func.min(held_messages.c.release_at)))
        ).scalar()
        return _aware(UTCDateTime(), value, self.conn)


def _aware(column: UTCDateTime, value: Any, conn: AsyncConnection) -> datetime | None:
    """A time read past the column type (a union, an aggregate) made aware UTC again."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    result: datetime | None = column.process_result_value(value, conn.dialect)
    return result

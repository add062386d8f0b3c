"""Reminders to the training office, made by the reminder pass in its transaction.

Each kind is one digest a day to every administrator, made by the first pass within the
office's hours (bot/office_reminders.OfficeHours) that finds something to say; its outbox key names
the kind, the day and the person, so passes repeated in any number of processes, or after a
restart, make it once. Nothing is kept in memory: what is due is read from the classes and
sessions each time, and the keys already queued (or held for quiet hours) say what was done.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import Action, ClassAdminCard, SessionAttendance, ShowPlans
from bot.attendance import CLOSE_AFTER
from bot.delivery.model import NewMessage
from bot.domain import MessageKind
from bot.office_reminders import (
    DEADLINE_DAYS,
    DEFAULT_OFFICE_HOURS,
    LISTED,
    SESSION_DAYS,
    DueReport,
    Gap,
    OfficeHours,
    ReportEntry,
    deadline_near,
    gaps,
    reports_due,
    session_near,
)
from bot.reminders import ReminderPrefs
from bot.services.notices import moment, notice
from bot.services.quiet import queue_or_hold
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.office import OfficeRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.roles import RoleRepository

#: The daily digests, in the order they are made.
DIGESTS = (
    MessageKind.OFFICE_DEADLINE,
    MessageKind.OFFICE_SESSIONS,
    MessageKind.OFFICE_UNCLOSED,
    MessageKind.OFFICE_ATTENDANCE,
)
#: Sessions whose attendance nobody took are listed for this many days after they end.
UNTAKEN_DAYS = 7
#: What a session lacks, in words: one text for each combination, so it reads naturally.
LACKS = {
    (Gap.LECTURER,): "office.lacks_lecturer",
    (Gap.ROOM,): "office.lacks_room",
    (Gap.LINK,): "office.lacks_link",
    (Gap.LECTURER, Gap.ROOM): "office.lacks_lecturer_room",
    (Gap.LECTURER, Gap.LINK): "office.lacks_lecturer_link",
    (Gap.ROOM, Gap.LINK): "office.lacks_room_link",
    (Gap.LECTURER, Gap.ROOM, Gap.LINK): "office.lacks_all",
}
#: The reports the catalogs name (bot/office_reminders.DEFAULT_CALENDAR uses them); any other
#: name in the calendar is shown as the operator wrote it.
REPORT_NAMES = {
    "six_month": "office.report_six_month",
    "year_end": "office.report_year_end",
    "annual": "office.report_annual",
}
BUTTONS_PER_ROW = 3
TITLE_MAX = 200
#: One line of a digest (a nested catalog text), the class it is about (or the session, for
#: sessions whose attendance was not taken), and its button's label.
Item = tuple[dict[str, Any], int, str]


@dataclass(frozen=True, slots=True)
class Digest:
    """One message to every administrator: its text, its class buttons, its batch title."""

    kind: MessageKind
    key: str  # the outbox key but for the person
    text_key: str
    params: dict[str, Any]
    title: str
    buttons: list[list[dict[str, str]]] = field(default_factory=list)


class OfficeReminders:
    def __init__(
        self,
        tz: tzinfo,
        superadmin_ids: frozenset[int],
        calendar: Sequence[ReportEntry] = (),
        hours: OfficeHours = DEFAULT_OFFICE_HOURS,
    ) -> None:
        self.tz = tz
        self.superadmin_ids = superadmin_ids
        self.calendar = tuple(calendar)
        self.hours = hours

    async def run(self, conn: AsyncConnection, now: datetime, defaults: ReminderPrefs) -> int:
        """Queues today's digests not yet made, in the caller's transaction; held for an
        administrator's quiet hours (`defaults` for one who never chose), never urgent.
        Returns how many messages."""
        today = self.hours.day(now, self.tz)
        if today is None:
            return 0
        admins = await RoleRepository(conn).admins(self.superadmin_ids)
        if not admins:
            return 0
        reports = reports_due(self.calendar, today)
        wanted = [f"{kind.value}:{today.isoformat()}" for kind in DIGESTS]
        wanted += [report_key(r) for r in reports]
        repo = OfficeRepository(conn)
        known = await repo.known_keys(f"{key}:{pid}" for key in wanted for pid, _ in admins)
        pending = {key for key in wanted if any(f"{key}:{pid}" not in known for pid, _ in admins)}
        if not pending:
            return 0  # every pass of the day after the first: one query
        digests: list[Digest] = []
        for kind in DIGESTS:
            if f"{kind.value}:{today.isoformat()}" in pending:
                found = await self._digest(repo, kind, now, today)
                digests += [found] if found else []
        digests += [self._report(r) for r in reports if report_key(r) in pending]
        queued = 0
        outbox = OutboxRepository(conn)
        for digest in digests:
            fresh = [(pid, chat) for pid, chat in admins if f"{digest.key}:{pid}" not in known]
            batch = await outbox.new_batch(digest.kind.value, digest.title, None, len(fresh))
            messages = [_message(digest, pid, chat, batch) for pid, chat in fresh]
            await queue_or_hold(conn, messages, now=now, tz=self.tz, defaults=defaults)
            queued += len(messages)
        return queued

    async def _digest(
        self, repo: OfficeRepository, kind: MessageKind, now: datetime, today: date
    ) -> Digest | None:
        key = f"{kind.value}:{today.isoformat()}"
        if kind is MessageKind.OFFICE_DEADLINE:
            return _grouped(kind, key, "office.deadline", "office.more_classes",
                            await self._deadlines(repo, now), days=DEADLINE_DAYS)  # fmt: skip
        if kind is MessageKind.OFFICE_SESSIONS:
            return _grouped(kind, key, "office.sessions", "office.more_sessions",
                            await self._sessions(repo, now), days=SESSION_DAYS)  # fmt: skip
        if kind is MessageKind.OFFICE_ATTENDANCE:
            return _grouped(kind, key, "office.untaken", "office.more_sessions",
                            await self._untaken(repo, now), card=_session_card)  # fmt: skip
        return _grouped(kind, key, "office.unclosed", "office.more_classes",
                        await self._unclosed(repo, now))  # fmt: skip

    # Each kind's items: (the line, as a nested catalog text; the class; its code). The
    # repositories read a generous window in UTC; the local days are counted by the rules.

    async def _deadlines(self, repo: OfficeRepository, now: datetime) -> list[Item]:
        found = await repo.deadlines(now, now + timedelta(days=DEADLINE_DAYS + 2))
        return [
            ({"key": "office.deadline_item", "params": {
                "code": d.code, "name": d.name, "deadline": moment(d.deadline),
                "enrolled": d.enrolled, "capacity": d.capacity}}, d.class_id, d.code)
            for d in found
            if deadline_near(d.deadline, now, self.tz)
        ]  # fmt: skip

    async def _sessions(self, repo: OfficeRepository, now: datetime) -> list[Item]:
        items: list[Item] = []
        for s in await repo.sessions_lacking(now, now + timedelta(days=SESSION_DAYS + 2)):
            missing = gaps(s.format, has_lecturer=s.has_lecturer, room=s.room, link=s.link)
            if missing and session_near(s.starts_at, now, self.tz):
                items.append(({"key": "office.session_item", "params": {
                    "code": s.code, "at": moment(s.starts_at),
                    "lacks": {"key": LACKS[missing]}}}, s.class_id, s.code))  # fmt: skip
        return items

    async def _unclosed(self, repo: OfficeRepository, now: datetime) -> list[Item]:
        return [
            ({"key": "office.unclosed_item", "params": {
                "code": c.code, "name": c.name, "ended": moment(c.ended_at)}}, c.class_id, c.code)
            for c in await repo.unclosed(now)
        ]  # fmt: skip

    async def _untaken(self, repo: OfficeRepository, now: datetime) -> list[Item]:
        """Sessions that ended without any attendance taken: not closed by the periodic pass
        (that would mark the whole class absent), for someone to take the roll or close."""
        found = await AttendanceRepository(repo.conn).untaken(
            now - CLOSE_AFTER, since=now - timedelta(days=UNTAKEN_DAYS)
        )
        return [
            ({"key": "office.untaken_item", "params": {
                "code": s.class_code, "at": moment(s.starts_at),
                "lecturer": s.lecturer or "—"}},
             s.session_id, f"{s.class_code} {s.starts_at.astimezone(self.tz):%d/%m}")
            for s in found
        ]  # fmt: skip

    def _report(self, due: DueReport) -> Digest:
        name = due.entry.report
        report: Any = {"key": REPORT_NAMES[name]} if name in REPORT_NAMES else name
        deadline: Any = ""
        title = f"{due.reminded_on:%d/%m/%Y}"
        if due.deadline is not None:
            noon = datetime.combine(due.deadline, time(12), self.tz)
            deadline = {"key": "office.report_deadline", "params": {"day": moment(noon)}}
            title += f" → {due.deadline:%d/%m/%Y}"
        if name not in REPORT_NAMES:
            title = f"{name} · {title}"
        return Digest(
            MessageKind.OFFICE_REPORT,
            report_key(due),
            "office.report",
            {"report": report, "deadline": deadline},
            title[:TITLE_MAX],
            [[{"key": "office.plans_button", "data": ShowPlans(fresh=True).pack()}]],
        )


def report_key(due: DueReport) -> str:
    """The outbox key of a report reminder but for the person: the reminder day is in it, so
    one missed and sent the day after is not sent again."""
    return f"{MessageKind.OFFICE_REPORT.value}:{due.entry.tag}:{due.reminded_on.isoformat()}"


def _class_card(class_id: int) -> Action:
    return ClassAdminCard(class_id, fresh=True)


def _session_card(session_id: int) -> Action:
    return SessionAttendance(session_id, fresh=True)


def _grouped(
    kind: MessageKind,
    key: str,
    text_key: str,
    more_key: str,
    items: Sequence[Item],
    card: Callable[[int], Action] = _class_card,
    **extra: Any,
) -> Digest | None:
    """A digest of up to LISTED items, "and K more", with a button to each class listed (or
    to what `card` opens for each item's id)."""
    if not items:
        return None
    shown = items[:LISTED]
    left = len(items) - len(shown)
    more: Any = {"key": more_key, "params": {"count": left}} if left else ""
    classes: dict[int, str] = {}
    for _, item_id, label in shown:
        classes.setdefault(item_id, label)
    cards: list[tuple[str, Action]] = [(label, card(i)) for i, label in classes.items()]
    buttons = [
        [{"text": code, "data": act.pack()} for code, act in cards[i : i + BUTTONS_PER_ROW]]
        for i in range(0, len(cards), BUTTONS_PER_ROW)
    ]
    title = ", ".join(classes.values())
    params = {"items": [item for item, _, _ in shown], "more": more, **extra}
    return Digest(kind, key, text_key, params, title[:TITLE_MAX], buttons)


def _message(digest: Digest, person_id: int, chat_id: int, batch: int) -> NewMessage:
    message = notice(
        digest.kind, f"{digest.key}:{person_id}", chat_id=chat_id, person_id=person_id,
        text_key=digest.text_key, params=digest.params, batch_id=batch,
    )  # fmt: skip
    if not digest.buttons:
        return message
    return replace(message, payload={**message.payload, "buttons": digest.buttons})

"""Sessions from the office's timetable: a row per session, found again by its class and start.
They are added as the class's session dialogue adds them (the class's first start and last
end kept, not to a cancelled or finished class, none in the past); a changed end, place or
lecturer updates a session still to come. The learners of a class hear of what changed, new
sessions included, through the class's change notices."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.dates import parse_day, parse_time
from bot.domain import AuditAction, Role
from bot.errors import Conflict, DomainError
from bot.imports.cells import PROGRESS_EVERY, RowReader, duplicates, link, note_changes, place
from bot.imports.model import Column, ImportKind, Outcome, Progress, RowError, SourceRow
from bot.services.planning import (
    SESSIONS_MAX,
    check_changeable,
    check_not_past,
    clean_code,
    clean_name,
)
from bot.training import ClassEventKind, ClassStatus, NewSession, Session
from storage.repositories.audit import AuditRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.training_import import SavedClass, TrainingImportRepository

TOPIC_MAX = 300
#: What `class_sessions.room` holds.
ROOM_MAX = 200


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    class_code: str
    starts_at: datetime
    ends_at: datetime
    topic: str | None
    room: str | None
    link: str | None
    lecturer: str | None


@dataclass(frozen=True, slots=True)
class _Slot:
    """A session in a class's day, from the file (`number`) or saved (`number` None)."""

    starts_at: datetime
    ends_at: datetime
    number: int | None


class SessionImporter:
    kind: ImportKind = ImportKind.SESSIONS
    columns: Sequence[Column] = (
        Column("class", required=True, example="CV.2026.01"),
        Column("date", required=True, example="02/03/2026"),
        Column("start", required=True, example="07:30"),
        Column("end", required=True, example="11:00"),
        Column("topic", example="Chuyên đề 1: Nhà nước pháp quyền"),
        Column("room", example=""),
        Column("link", example=""),
        Column("lecturer", example=""),
    )

    def __init__(self, clock: Clock, tz: tzinfo) -> None:
        self.clock = clock
        self.tz = tz

    async def run(
        self,
        conn: AsyncConnection,
        rows: Sequence[SourceRow],
        *,
        save: bool,
        actor_telegram_id: int | None,
        progress: Progress,
    ) -> Outcome:
        outcome = Outcome(self.kind, rows=len(rows))
        now = self.clock.now()
        today = now.astimezone(self.tz).date()
        found: list[_Row] = []
        #: Rows with a bad cell, and their class's code: the class is still looked for.
        unread: list[tuple[int, str]] = []
        for done, source in enumerate(rows, 1):
            read = RowReader(source)
            checked = self._read(read, today)
            outcome.errors += read.errors
            if checked is not None:
                found.append(checked)
            elif code := _quiet_code(read.text("class")):
                unread.append((source.number, code))
            if done % PROGRESS_EVERY == 0:
                await progress(done)
        repeated = duplicates([(r.number, (r.class_code, r.starts_at)) for r in found])
        for number, first in repeated.items():
            outcome.errors.append(
                RowError(number, "start", "import.error.cell.duplicate", {"first": first})
            )
        found = [r for r in found if r.number not in repeated]
        imports = TrainingImportRepository(conn)
        codes = [*(r.class_code for r in found), *(code for _, code in unread)]
        if save:  # read what is saved once no one else can change it
            await imports.lock_classes(codes)
        classes = await imports.classes_by_code(codes)
        for number, code in unread:
            if code not in classes:
                outcome.errors.append(RowError(number, "class",
                                               "import.error.session.class_unknown",
                                               {"code": code}))  # fmt: skip
        staff = await imports.staff_ids(r.lecturer for r in found if r.lecturer)
        lecturers = frozenset(await RoleRepository(conn).holders(Role.LECTURER))
        saved = await ClassRepository(conn).sessions_of(
            [c.training_class.id for c in classes.values()]
        )
        # A saved session by its class and start; a scheduled one before a cancelled one.
        by_start = {(x.class_id, x.starts_at): x for xs in saved.values()
                    for x in sorted(xs, key=lambda x: not x.cancelled)}  # fmt: skip
        adds: dict[int, list[tuple[_Row, NewSession]]] = defaultdict(list)
        updates: list[tuple[_Row, Session, dict[str, Any]]] = []
        slots: dict[int, list[_Slot]] = defaultdict(list)
        for row in found:
            c = classes.get(row.class_code)
            if c is None:
                outcome.errors.append(RowError(row.number, "class",
                                               "import.error.session.class_unknown",
                                               {"code": row.class_code}))  # fmt: skip
                continue
            lecturer_id = self._lecturer(outcome, row, staff, lecturers)
            class_id = c.training_class.id
            error = _closed(c)
            same = by_start.get((class_id, row.starts_at))
            try:
                if error is not None:
                    raise error
                if same is None:
                    check_not_past(row.starts_at, now, self.tz)
                elif same.cancelled:
                    raise Conflict("planning.session_cancelled")
            except DomainError as refused:
                outcome.errors.append(RowError.of(row.number, "class" if error else "date",
                                                  refused))  # fmt: skip
                continue
            if lecturer_id == 0:
                continue
            slots[class_id].append(_Slot(row.starts_at, row.ends_at, row.number))
            new = NewSession(row.starts_at, row.ends_at, row.topic, lecturer_id, row.room,
                             row.link)  # fmt: skip
            if same is None:
                adds[class_id].append((row, new))
                outcome.added += 1
                continue
            values = _changes(same, new)
            if values:
                try:
                    check_changeable(same, now)
                except DomainError as refused:
                    outcome.errors.append(RowError.of(row.number, "date", refused))
                    continue
                outcome.changed += 1
                updates.append((row, same, values))
                note_changes(outcome, row.number, [
                    (_COLUMN[name], *self._shown(same, row, name, value))
                    for name, value in values.items()
                ])  # fmt: skip
            else:
                outcome.unchanged += 1
        for rows_added in adds.values():
            if len(rows_added) > SESSIONS_MAX:
                outcome.errors.append(RowError(rows_added[SESSIONS_MAX][0].number, "class",
                                               "planning.too_many_sessions",
                                               {"max": SESSIONS_MAX}))  # fmt: skip
        self._overlaps(outcome, slots, saved)
        if save and outcome.clean:
            by_id = {c.training_class.id: c for c in classes.values()}
            await self._save(conn, by_id, adds, updates, actor_telegram_id, now)
            outcome.saved = True
        outcome.errors.sort(key=lambda e: e.row)
        return outcome

    def _read(self, read: RowReader, today: date) -> _Row | None:
        code = read.read("class", clean_code, required=True)
        day = read.read("date", lambda raw: parse_day(raw, today.year), required=True)
        start = read.read("start", parse_time, required=True)
        end = read.read("end", parse_time, required=True)
        topic = read.read("topic", lambda raw: clean_name(raw, TOPIC_MAX))
        room = read.read("room", lambda raw: place(raw, ROOM_MAX))
        meeting_link = read.read("link", link)
        named = read.staff("lecturer")
        if len(named) > 1:
            read.fail("lecturer", "import.error.session.one_lecturer")
        lecturer = named[0] if named else None
        if start is not None and end is not None and end <= start:
            read.fail("end", "import.error.session.end_before_start",
                      start=start.strftime("%H:%M"), end=end.strftime("%H:%M"))  # fmt: skip
        if read.errors:
            return None
        assert code and day and start and end
        return _Row(
            read.row.number, code, datetime.combine(day, start, self.tz),
            datetime.combine(day, end, self.tz), topic, room, meeting_link, lecturer,
        )  # fmt: skip

    def _shown(self, saved: Session, row: _Row, name: str, value: object) -> tuple[object, object]:
        """A change as the office reads it: times of day, the lecturer's name and code."""
        if name == "ends_at":
            return (saved.ends_at.astimezone(self.tz).strftime("%H:%M"),
                    row.ends_at.strftime("%H:%M"))  # fmt: skip
        if name == "lecturer_id":
            return saved.lecturer_name, row.lecturer
        return getattr(saved, name), value

    @staticmethod
    def _lecturer(
        outcome: Outcome, row: _Row, staff: dict[str, int], lecturers: frozenset[int]
    ) -> int | None:
        """The session's lecturer: None when none is named, 0 when the one named is not."""
        if row.lecturer is None:
            return None
        person_id = staff.get(row.lecturer)
        if person_id is None or person_id not in lecturers:
            key = (
                "import.error.cell.staff_unknown"
                if person_id is None
                else "import.error.cell.not_lecturer"
            )
            outcome.errors.append(RowError(row.number, "lecturer", key, {"code": row.lecturer}))
            return 0
        return person_id

    @staticmethod
    def _overlaps(
        outcome: Outcome, slots: dict[int, list[_Slot]], saved: dict[int, list[Session]]
    ) -> None:
        """Sessions of one class may not overlap, in the file or with those saved (a saved
        session the file speaks of is taken as the file has it)."""
        for class_id, from_file in slots.items():
            starts = {s.starts_at for s in from_file}
            others = [
                _Slot(s.starts_at, s.ends_at, None)
                for s in saved.get(class_id, [])
                if not s.cancelled and s.starts_at not in starts
            ]
            ordered = sorted([*from_file, *others], key=lambda s: (s.starts_at, s.ends_at))
            latest: _Slot | None = None
            for slot in ordered:
                if latest is not None and slot.starts_at < latest.ends_at:
                    row, other = (slot, latest) if slot.number is not None else (latest, slot)
                    assert row.number is not None
                    outcome.errors.append(RowError(row.number, "start",
                                                   "import.error.session.overlap",
                                                   {"start": other.starts_at,
                                                    "end": other.ends_at}))  # fmt: skip
                if latest is None or slot.ends_at > latest.ends_at:
                    latest = slot

    async def _save(
        self,
        conn: AsyncConnection,
        classes: dict[int, SavedClass],
        adds: dict[int, list[tuple[_Row, NewSession]]],
        updates: Sequence[tuple[_Row, Session, dict[str, Any]]],
        actor: int | None,
        now: datetime,
    ) -> None:
        repo, audit = ClassRepository(conn), AuditRepository(conn)
        for class_id, added in adds.items():
            await repo.add_sessions(class_id, [new for _, new in added], at=now)
            await audit.record(AuditAction.SESSIONS_ADDED, actor=actor, class_id=class_id,
                               count=len(added), source="import")  # fmt: skip
            c = classes[class_id].training_class
            if c.enrolled or c.waiting:
                starts = {new.starts_at for _, new in added}
                for session in await repo.sessions(class_id):
                    if session.starts_at in starts:
                        await repo.record_event(
                            class_id, ClassEventKind.SESSION_ADDED, session_id=session.id,
                            after=_state(session), actor=actor, at=now,
                        )  # fmt: skip
        for _, session, values in updates:
            await self._update(repo, audit, session, values, actor, now)

    @staticmethod
    async def _update(
        repo: ClassRepository,
        audit: AuditRepository,
        session: Session,
        values: dict[str, Any],
        actor: int | None,
        now: datetime,
    ) -> None:
        """One saved session brought to the file's end, place, topic and lecturer; its
        people hear of a new end or place as when it is changed in the chat."""
        await repo.update_session(session.id, at=now, **values)
        class_id = session.class_id
        if "ends_at" in values:
            await repo.refresh_span(class_id)
            before = {"starts_at": session.starts_at.isoformat(),
                      "ends_at": session.ends_at.isoformat()}  # fmt: skip
            after = {"starts_at": session.starts_at.isoformat(),
                     "ends_at": values["ends_at"].isoformat()}  # fmt: skip
            await repo.record_event(class_id, ClassEventKind.SESSION_MOVED,
                                    session_id=session.id, before=before, after=after,
                                    actor=actor, at=now)  # fmt: skip
            await audit.record(AuditAction.SESSION_MOVED, actor=actor, class_id=class_id,
                               session_id=session.id, before=before, after=after,
                               source="import")  # fmt: skip
        if "room" in values or "link" in values:
            was = {"starts_at": session.starts_at.isoformat(), "room": session.room,
                   "link": session.link}  # fmt: skip
            now_at = {"room": values.get("room", session.room),
                      "link": values.get("link", session.link)}  # fmt: skip
            await repo.record_event(class_id, ClassEventKind.SESSION_PLACE,
                                    session_id=session.id, before=was, after=now_at,
                                    actor=actor, at=now)  # fmt: skip
            await audit.record(AuditAction.SESSION_PLACE, actor=actor, class_id=class_id,
                               session_id=session.id, before=was, after=now_at,
                               source="import")  # fmt: skip
        rest = {k: v for k, v in values.items() if k in ("topic", "lecturer_id")}
        if rest:
            await audit.record(
                AuditAction.CLASS_SAVED, actor=actor, class_id=class_id, session_id=session.id,
                source="import",
                changes={k: {"before": getattr(session, k), "after": v} for k, v in rest.items()},
            )  # fmt: skip


#: A session's field → the column of the file it comes from.
_COLUMN = {"ends_at": "end", "topic": "topic", "lecturer_id": "lecturer", "room": "room",
           "link": "link"}  # fmt: skip


def _changes(saved: Session, new: NewSession) -> dict[str, Any]:
    return {
        name: getattr(new, name) for name in _COLUMN if getattr(new, name) != getattr(saved, name)
    }


def _quiet_code(raw: str) -> str | None:
    """A class code read again for the lookup alone: a bad one was reported already."""
    try:
        return clean_code(raw)
    except DomainError:
        return None


def _closed(c: SavedClass) -> DomainError | None:
    """Sessions are not added to a cancelled or finished class, as in the chat."""
    status = c.training_class.status
    if status is ClassStatus.CANCELLED:
        return Conflict("planning.already_cancelled")
    if status is ClassStatus.FINISHED:
        return Conflict("planning.already_finished")
    return None


def _state(session: Session) -> dict[str, Any]:
    return {"starts_at": session.starts_at.isoformat(), "ends_at": session.ends_at.isoformat(),
            "room": session.room, "link": session.link}  # fmt: skip

"""Self check-in: a lecturer opens it and shows a code that changes every minute (with its QR
deep link) on the projector; learners type the code, scan it, or, at an online session, tap
the button of its reminder. Each refusal says why and changes nothing.

A typed code is matched against every open check-in in memory (the windows are cached for a
moment), so that a hall of 150 checking in within a minute costs one read and one write each.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import (
    CHECKIN_EARLY,
    EXPIRED_WITHIN,
    CodeAge,
    Mark,
    MarkSource,
    arrival_mark,
    checkin_code,
    checkin_window,
    clean_code,
    code_age,
    minute_of,
    new_secret,
)
from bot.clock import Clock
from bot.domain import Actor, AuditAction, Person, Role
from bot.errors import Conflict, DomainError, InvalidInput, NotFound, PermissionDenied
from bot.reminders import local_day
from bot.services.access import registered
from bot.services.attendance import require_teacher
from bot.training import ClassFormat, Place, Session, TrainingClass, session_place
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository, OpenCheckin
from storage.repositories.audit import AuditRepository
from storage.repositories.checkins import CheckinRepository, SessionOfClass
from storage.repositories.classes import ClassRepository

#: Open check-ins are read again after this long (a stop in another process shows by then).
WINDOWS_FOR_S = 2.0
#: A deep link's payload: "ci-<session>_<code>" (the parser splits on the first "-").
LINK_DESTINATION = "ci"
#: What the lecturer's list shows: sessions of today, and earlier ones not yet closed.
UNCLOSED_BACK = timedelta(days=1)
#: How far back a lecturer's list of past sessions goes.
RECENT = timedelta(days=30)
RAW_MAX = 100  # typed text looked at: a code is six digits, with a space or two


def link_payload(session_id: int, code: str) -> str:
    return f"{LINK_DESTINATION}-{session_id}_{code}"


def parse_link(argument: str) -> tuple[int, str]:
    """The session and code of a deep link's argument; InvalidInput if it is not one."""
    session, _, code = argument.partition("_")
    if not session.isdigit() or len(session) > 18 or clean_code(code) != code:
        raise InvalidInput("checkin.bad_link")
    return int(session), code


class CheckinStatus(StrEnum):
    """Where a session's self check-in is, as its lecturer sees it."""

    NOT_OPENED = "not_opened"
    OPEN = "open"
    STOPPED = "stopped"
    OVER = "over"  # the session has ended (or its attendance closed)


@dataclass(frozen=True, slots=True)
class CheckedIn:
    """A learner's check-in, recorded."""

    session_id: int
    class_code: str
    class_name: str
    starts_at: datetime
    mark: Mark
    at: datetime


@dataclass(frozen=True, slots=True)
class Projector:
    """What the projector shows of one open check-in: the code of the minute and its link."""

    session: Session
    class_code: str
    class_name: str
    code: str
    payload: str
    minute: int
    #: Check-in ends with the session, unless the lecturer stops it first.
    ends_at: datetime
    chat_id: int | None = None
    message_id: int | None = None
    #: Check-in is over: the projector shows that instead of a code.
    ended: bool = False

    @property
    def changes_at(self) -> datetime:
        """When the next code replaces this one."""
        return datetime.fromtimestamp((self.minute + 1) * 60, self.ends_at.tzinfo)


@dataclass(frozen=True, slots=True)
class AttendanceCard:
    """A session's attendance so far, for its lecturer or an administrator."""

    session: Session
    training_class: TrainingClass
    place: Place
    status: CheckinStatus
    counts: dict[Mark, int]
    expected: int  # learners enrolled in the class
    closed: bool

    @property
    def marked(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True, slots=True)
class TaughtSession:
    """A line of the lecturer's /attendance list."""

    session: Session
    class_code: str
    class_name: str
    status: CheckinStatus
    #: Its attendance is closed; or, over, nobody took it (no check-in, no roll call).
    closed: bool = False
    untaken: bool = False


@dataclass(frozen=True, slots=True)
class _Window:
    """An open check-in, with its class's names."""

    checkin: OpenCheckin
    class_code: str
    class_name: str

    @property
    def session_id(self) -> int:
        return self.checkin.state.session_id

    @property
    def class_id(self) -> int:
        return self.checkin.class_id


@dataclass
class _Windows:
    """The open check-ins as last read, and the codes of their last half hour by code."""

    read_at: float = -1e9
    minute: int = -1
    windows: tuple[_Window, ...] = ()
    codes: dict[str, list[tuple[_Window, CodeAge]]] | None = None


def _status(state_secret: str | None, stopped: datetime | None, over: bool) -> CheckinStatus:
    if over:
        return CheckinStatus.OVER
    if state_secret is None:
        return CheckinStatus.NOT_OPENED
    return CheckinStatus.STOPPED if stopped is not None else CheckinStatus.OPEN


def _over(s: SessionOfClass, now: datetime) -> bool:
    return s.session.ends_at <= now or s.state.closed_at is not None


#: Refusals that count as a guess: a code that is no code of the learner's session now.
GUESSES = frozenset({"checkin.wrong_code", "checkin.expired"})
#: After this many such refusals within GUESS_WINDOW, typed codes wait for the window's end.
GUESS_LIMIT = 5
GUESS_WINDOW = timedelta(minutes=10)
_GUESSERS_MAX = 10_000


class _Guesses:
    """Wrong codes per learner, in this process's memory: enough to make guessing one of a
    million codes hopeless, and forgotten by a restart, which does no harm."""

    def __init__(self) -> None:
        self._missed: dict[int, list[datetime]] = {}

    def check(self, person_id: int, now: datetime) -> None:
        recent = [t for t in self._missed.get(person_id, []) if t > now - GUESS_WINDOW]
        self._missed[person_id] = recent
        if len(recent) >= GUESS_LIMIT:
            raise Conflict("checkin.too_many", until=recent[0] + GUESS_WINDOW)

    def missed(self, person_id: int, now: datetime) -> None:
        if len(self._missed) >= _GUESSERS_MAX:
            self._missed.clear()
        self._missed.setdefault(person_id, []).append(now)


class CheckinService:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self._cache = _Windows()
        self._reading = asyncio.Lock()
        self._guesses = _Guesses()
        #: Called once a check-in is stopped: the runtime updates its projector at once.
        self.on_stop: Callable[[], None] = lambda: None

    # --- the lecturer's side -----------------------------------------------------------------

    async def teaching_today(self, actor: Actor) -> list[TaughtSession]:
        """The sessions the person teaches (administrators: all) from today's start to its
        end, and earlier ones not yet closed, up to a day back."""
        now = self.clock.now()
        start = datetime.combine(local_day(now, self.tz), datetime.min.time(), self.tz)
        return await self._taught(actor, start, now - UNCLOSED_BACK, start + timedelta(days=1))

    async def taught_recently(self, actor: Actor) -> list[TaughtSession]:
        """The sessions the person taught (administrators: all) over the last RECENT days,
        newest first: to take a forgotten roll call, or to correct one."""
        now = self.clock.now()
        found = await self._taught(actor, now - RECENT, now - RECENT, now, newest_first=True)
        return [t for t in found if t.session.ends_at <= now]

    async def _taught(
        self, actor: Actor, since: datetime, unclosed_since: datetime, until: datetime,
        *, newest_first: bool = False,
    ) -> list[TaughtSession]:  # fmt: skip
        if not (actor.is_admin or (actor.person is not None and actor.has(Role.LECTURER))):
            raise PermissionDenied()
        now = self.clock.now()
        whose = None if actor.is_admin else actor.person.id if actor.person else None
        async with self.db.read() as conn:
            found = await CheckinRepository(conn).teaching(
                whose, since, unclosed_since, until, newest_first=newest_first
            )
        return [
            TaughtSession(s.session, s.class_code, s.class_name,
                          _status(s.state.secret, s.state.stopped_at, _over(s, now)),
                          closed=s.state.closed_at is not None,
                          untaken=_over(s, now) and s.state.secret is None
                          and s.state.saved_at is None)
            for s in found
        ]  # fmt: skip

    async def card(self, actor: Actor, session_id: int) -> AttendanceCard:
        now = self.clock.now()
        async with self.db.read() as conn:
            found = await _taught_session(conn, actor, session_id)
            training_class = await ClassRepository(conn).get(found.session.class_id)
            marks = await AttendanceRepository(conn).marks(session_id)
        counts = dict.fromkeys(Mark, 0)
        for row in marks.values():
            counts[row.mark] += 1
        s = found.session
        place = session_place(s.room, s.link, training_class.format, training_class.location,
                              training_class.meeting_link)  # fmt: skip
        return AttendanceCard(
            s, training_class, place,
            _status(found.state.secret, found.state.stopped_at, _over(found, now)),
            counts, training_class.enrolled, found.state.closed_at is not None,
        )  # fmt: skip

    async def open(self, actor: Actor, session_id: int) -> Projector:
        """Opens self check-in (a check-in already open keeps its secret: the projector is
        shown again with the same codes). From CHECKIN_EARLY before the start to the end."""
        now = self.clock.now()
        async with self.db.write() as conn:
            found = await _taught_session(conn, actor, session_id)
            s = found.session
            if s.cancelled or found.class_cancelled:
                raise Conflict("checkin.session_cancelled")
            if _over(found, now):
                raise Conflict("checkin.open_over", end=s.ends_at)
            if now < s.starts_at - CHECKIN_EARLY:
                raise Conflict("checkin.open_too_early", start=s.starts_at,
                               opens=s.starts_at - CHECKIN_EARLY)  # fmt: skip
            secret = found.state.secret or new_secret()
            values: dict[str, object] = {"secret": secret, "stopped_at": None}
            if found.state.secret is None or found.state.stopped_at is not None:
                values |= {"opened_at": now, "opened_by": actor.person.id if actor.person else None}
            await AttendanceRepository(conn).update_state(session_id, **values)
            await AuditRepository(conn).record(
                AuditAction.CHECKIN_OPENED, actor=actor.telegram_id, session_id=session_id,
                class_id=s.class_id, reopened=found.state.secret is not None,
            )  # fmt: skip
        self._forget()
        return self._projector(found, secret, now)

    async def set_projector(
        self, session_id: int, chat_id: int | None, message_id: int | None
    ) -> None:
        """The message showing the code (None: no longer shown), which the rotation edits."""
        async with self.db.write() as conn:
            await AttendanceRepository(conn).update_state(
                session_id, projector_chat_id=chat_id, projector_message_id=message_id
            )

    async def stop(self, actor: Actor, session_id: int) -> None:
        """Ends self check-in before the session does; marks taken stay."""
        now = self.clock.now()
        async with self.db.write() as conn:
            found = await _taught_session(conn, actor, session_id)
            if found.state.secret is None or found.state.stopped_at is not None:
                raise Conflict("checkin.not_running")
            await AttendanceRepository(conn).update_state(session_id, stopped_at=now)
        self._forget()
        self.on_stop()

    async def projectors(self, now: datetime) -> list[Projector]:
        """Every projector message on a screen: open ones with the code of `now`'s minute,
        and those whose check-in is over (stopped, ended, cancelled), to be told so."""
        async with self.db.read() as conn:
            shown = await CheckinRepository(conn).projectors()
        found = []
        for s in shown:
            state = s.state
            assert state.secret is not None
            ended = (
                state.stopped_at is not None or _over(s, now) or s.session.cancelled
                or s.class_cancelled
            )  # fmt: skip
            found.append(self._projector(s, state.secret, now, ended=ended))
        return found

    def _projector(
        self, s: SessionOfClass, secret: str, now: datetime, *, ended: bool = False
    ) -> Projector:
        minute = minute_of(now)
        code = checkin_code(secret, minute)
        return Projector(
            s.session, s.class_code, s.class_name, code, link_payload(s.session.id, code),
            minute, s.session.ends_at, s.state.projector_chat_id, s.state.projector_message_id,
            ended,
        )  # fmt: skip

    # --- the learner's side ------------------------------------------------------------------

    async def by_code(self, actor: Actor, raw: str) -> CheckedIn:
        """A typed code: matched against every open check-in, the learner's own first. A
        learner who keeps typing wrong codes is made to wait: six digits can be guessed."""
        person = _learner(actor)
        now = self.clock.now()
        self._guesses.check(person.id, now)
        try:
            return await self._by_code(person, raw, now)
        except DomainError as refused:
            if refused.key in GUESSES:
                self._guesses.missed(person.id, now)
            raise

    async def _by_code(self, person: Person, raw: str, now: datetime) -> CheckedIn:
        code = clean_code(raw[:RAW_MAX])
        if code is None:
            raise InvalidInput("checkin.not_a_code")
        windows, matches = await self._match(code, now)
        if not matches:
            raise await self._unmatched(code, now)
        async with self.db.write() as conn:
            mine = await CheckinRepository(conn).enrolled_in(
                person.id, {w.class_id for w in windows}
            )
            own = [(w, age) for w, age in matches if w.class_id in mine]
            if not own:
                window = matches[0][0]
                if any(w.class_id in mine for w in windows):
                    raise InvalidInput("checkin.other_session", class_name=window.class_name,
                                       code=window.class_code)  # fmt: skip
                raise PermissionDenied("checkin.not_enrolled", class_name=window.class_name,
                                       code=window.class_code)  # fmt: skip
            valid = [(w, age) for w, age in own if age.valid]
            if not valid:
                raise InvalidInput("checkin.expired")
            window = min(valid, key=lambda m: m[1] is not CodeAge.CURRENT)[0]
            c = window.checkin
            return await _record(
                conn, person, window.session_id, c.class_id, c.starts_at, c.late_after,
                MarkSource.CODE, now, (window.class_code, window.class_name),
            )  # fmt: skip

    async def by_link(self, actor: Actor, session_id: int, code: str) -> CheckedIn:
        """A scanned QR code: its session is known, the code must be this minute's or the
        previous one's."""
        person = _learner(actor)
        now = self.clock.now()
        async with self.db.write() as conn:
            found = await self._checkable(conn, person, session_id, now)
            state = found.state
            if state.secret is None:
                raise Conflict("checkin.not_open")
            if state.stopped_at is not None:
                raise Conflict("checkin.stopped", at=state.stopped_at)
            age = code_age(state.secret, code, now)
            if age is CodeAge.WRONG:
                raise InvalidInput("checkin.wrong_link")
            if not age.valid:
                raise InvalidInput("checkin.expired")
            return await _record(
                conn, person, session_id, found.session.class_id, found.session.starts_at,
                found.late_after, MarkSource.LINK, now, (found.class_code, found.class_name),
            )  # fmt: skip

    async def by_button(self, actor: Actor, session_id: int) -> CheckedIn:
        """The check-in button of an online (or blended) session's reminder: from
        CHECKIN_EARLY before the start until the end, with no code."""
        person = _learner(actor)
        now = self.clock.now()
        async with self.db.write() as conn:
            found = await self._checkable(conn, person, session_id, now)
            s = found.session
            c = await ClassRepository(conn).get(s.class_id)
            place = session_place(s.room, s.link, c.format, c.location, c.meeting_link)
            if place.format is ClassFormat.ON_SITE:
                raise InvalidInput("checkin.on_site")
            opens, _ = checkin_window(s.starts_at, s.ends_at)
            if now < opens:
                raise Conflict("checkin.not_yet", opens=opens)
            if found.state.stopped_at is not None:
                raise Conflict("checkin.stopped", at=found.state.stopped_at)
            return await _record(
                conn, person, session_id, s.class_id, s.starts_at, found.late_after,
                MarkSource.BUTTON, now, (found.class_code, found.class_name),
            )  # fmt: skip

    async def _checkable(
        self, conn: AsyncConnection, person: Person, session_id: int, now: datetime
    ) -> SessionOfClass:
        """The session, if the learner is enrolled and it is neither off nor over."""
        found = await CheckinRepository(conn).session(session_id)
        if found is None:
            raise NotFound("error.session_unknown")
        if not await CheckinRepository(conn).enrolled_in(person.id, {found.session.class_id}):
            raise PermissionDenied("checkin.not_enrolled", class_name=found.class_name,
                                   code=found.class_code)  # fmt: skip
        _check_not_over(found, now)
        return found

    async def _match(
        self, code: str, now: datetime
    ) -> tuple[tuple[_Window, ...], list[tuple[_Window, CodeAge]]]:
        """The open check-ins, and those the code is one of (freshly read if none matched,
        so that a check-in opened a moment ago is seen)."""
        cache = await self._windows(now, fresh=False)
        matches = self._still_open(cache, code, now)
        if not matches:
            cache = await self._windows(now, fresh=True)
            matches = self._still_open(cache, code, now)
        return cache.windows, matches

    @staticmethod
    def _still_open(cache: _Windows, code: str, now: datetime) -> list[tuple[_Window, CodeAge]]:
        assert cache.codes is not None
        return [(w, age) for w, age in cache.codes.get(code, []) if w.checkin.ends_at > now]

    async def _windows(self, now: datetime, *, fresh: bool) -> _Windows:
        minute = minute_of(now)
        cache = self._cache
        if (
            not fresh
            and time.monotonic() - cache.read_at < WINDOWS_FOR_S
            and cache.minute == minute
        ):
            return cache
        async with self._reading:
            if self._cache is not cache and self._cache.minute == minute:
                return self._cache  # another check-in read them meanwhile
            read_at = time.monotonic()
            async with self.db.read() as conn:
                opened = await AttendanceRepository(conn).open_checkins(now)
                names = await CheckinRepository(conn).names({c.class_id for c in opened})
            windows = tuple(_Window(c, *names[c.class_id]) for c in opened)
            codes: dict[str, list[tuple[_Window, CodeAge]]] = defaultdict(list)
            for w in windows:
                assert w.checkin.state.secret is not None
                for back in range(EXPIRED_WITHIN + 1):
                    age = (
                        CodeAge.CURRENT
                        if back == 0
                        else CodeAge.GRACE
                        if back == 1
                        else CodeAge.EXPIRED
                    )
                    codes[checkin_code(w.checkin.state.secret, minute - back)].append((w, age))
            self._cache = _Windows(read_at, minute, windows, dict(codes))
            return self._cache

    def _forget(self) -> None:
        """A check-in opened or stopped here: the next code reads the windows again."""
        self._cache = _Windows()

    async def _unmatched(self, code: str, now: datetime) -> InvalidInput | Conflict:
        """Why a code matches no open check-in: it was of one stopped or ended within the
        half hour a code is recognised, or it is simply wrong (a typo)."""
        since = now - timedelta(minutes=EXPIRED_WITHIN + 1)
        async with self.db.read() as conn:
            recent = await CheckinRepository(conn).recent(since)
        for s in recent:
            assert s.state.secret is not None
            if code_age(s.state.secret, code, now) is CodeAge.WRONG:
                continue
            try:
                _check_not_over(s, now)
            except Conflict as exc:
                return exc
            if s.state.stopped_at is not None:
                return Conflict("checkin.stopped", at=s.state.stopped_at)
        return InvalidInput("checkin.wrong_code", code=code)


def _learner(actor: Actor) -> Person:
    if actor.person is None:
        raise PermissionDenied("checkin.not_registered")
    return registered(actor)


def _check_not_over(s: SessionOfClass, now: datetime) -> None:
    if s.session.cancelled or s.class_cancelled:
        raise Conflict("checkin.session_cancelled")
    if s.state.closed_at is not None:
        raise Conflict("checkin.closed")
    if s.session.ends_at <= now:
        raise Conflict("checkin.over", end=s.session.ends_at)


async def _record(
    conn: AsyncConnection,
    person: Person,
    session_id: int,
    class_id: int,
    starts_at: datetime,
    late_after: int,
    source: MarkSource,
    now: datetime,
    names: tuple[str, str],
) -> CheckedIn:
    """The first check-in wins; a second one says when the first was, and with which mark."""
    repo = AttendanceRepository(conn)
    mark = arrival_mark(starts_at, now, late_after)
    if not await repo.check_in(session_id, class_id, person.id, mark, source, now):
        earlier = await repo.mark_of(session_id, person.id)
        assert earlier is not None
        raise Conflict(f"checkin.already_{earlier.mark.value}",
                       at=earlier.checked_in_at or earlier.at)  # fmt: skip
    return CheckedIn(session_id, names[0], names[1], starts_at, mark, now)


async def _taught_session(conn: AsyncConnection, actor: Actor, session_id: int) -> SessionOfClass:
    """The session, if it exists and the actor teaches it (or is an administrator)."""
    found = await CheckinRepository(conn).session(session_id)
    if found is None:
        raise NotFound("error.session_unknown")
    await require_teacher(conn, actor, found.session)
    return found

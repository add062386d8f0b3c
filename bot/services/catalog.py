"""What a cadre sees of classes: the catalog of those open to them, a class's card, and
timetables (their own, what a lecturer teaches, which of a head's staff are enrolled)."""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, replace
from datetime import datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.domain import Actor
from bot.errors import InvalidInput, NotFound
from bot.services.access import registered, staff_scope
from bot.services.enrolment import learner_of
from bot.text_search import fold
from bot.training import (
    ACTIVE_ENROLMENT,
    Audience,
    CatalogFilter,
    CatalogPage,
    ClassFormat,
    ClassKind,
    Enrolment,
    EnrolmentStatus,
    PriorityGroup,
    Session,
    StaffEnrolment,
    TimetableEntry,
    TrainingClass,
)
from bot.validation import plain_text
from storage.database import Database
from storage.repositories.catalog_views import CatalogViewRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.code_lists import CodeListRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.reminders import ReminderRepository
from storage.repositories.units import UnitRepository

PAGE_SIZE = 6
VIEW_TTL = timedelta(days=7)
QUERY_MAX = 60
FILTERS = ("kind", "month", "format")


@dataclass(frozen=True, slots=True)
class AudienceNames:
    """Who a class is for, in names people read (the groups are named by the catalogs)."""

    units: list[str]
    grades: list[str]
    titles: list[str]
    groups: tuple[PriorityGroup, ...]


@dataclass(frozen=True, slots=True)
class ClassCard:
    """A class as one cadre sees it: its sessions, who it is for, and their own place in it."""

    training_class: TrainingClass
    sessions: list[Session]
    enrolment: Enrolment | None
    audience: AudienceNames
    #: Whether the cadre teaches the class (named on it or on one of its sessions).
    teaches: bool = False

    @property
    def shows_link(self) -> bool:
        """The meeting link is for the class's enrolled learners and lecturers only."""
        enrolled = self.enrolment is not None and self.enrolment.status is EnrolmentStatus.ENROLLED
        return enrolled or self.teaches


@dataclass(frozen=True, slots=True)
class CatalogView:
    """One page of a cadre's catalog view, with what the list shows of each class."""

    filter: CatalogFilter
    page: CatalogPage
    sessions: dict[int, list[Session]]
    enrolments: dict[int, Enrolment]


class CatalogService:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz

    # --- views --------------------------------------------------------------------------------

    async def new_view(self, actor: Actor, query: str = "") -> str:
        """A fresh view of the catalog (searching `query`, if given); returns its key."""
        registered(actor)
        view = CatalogFilter(query=self.clean_query(query) if query else "")
        key = secrets.token_urlsafe(6)
        now = self.clock.now()
        async with self.db.write() as conn:
            await CatalogViewRepository(conn).add(
                key, actor.telegram_id, _dump(view), now, now + VIEW_TTL
            )
        return key

    async def view(self, actor: Actor, key: str) -> CatalogFilter:
        """The view behind a button; NotFound("catalog.expired") once it is gone."""
        async with self.db.read() as conn:
            return await self._view(conn, actor, key)

    async def _view(self, conn: AsyncConnection, actor: Actor, key: str) -> CatalogFilter:
        state = await CatalogViewRepository(conn).get(key, actor.telegram_id, self.clock.now())
        if state is None:
            raise NotFound("catalog.expired")
        return _load(state)

    async def set_filter(self, actor: Actor, key: str, field: str, value: str) -> CatalogFilter:
        """Narrows (or, with "", widens) one filter; the view returns to its first page."""
        view = await self.view(actor, key)
        changes: dict[str, Any]
        if field == "kind":
            changes = {"kind": ClassKind(value) if value else None}
        elif field == "format":
            changes = {"format": ClassFormat(value) if value else None}
        elif field == "month":
            if value and not (value.isdigit() and 1 <= int(value) <= 12):
                raise InvalidInput()
            changes = {"month": int(value) if value else None}
        elif field == "full":
            changes = {"include_full": value == "1"}
        elif field == "query":
            changes = {"query": self.clean_query(value) if value else ""}
        elif field == "clear":
            changes = {"kind": None, "format": None, "month": None, "query": ""}
        else:
            raise InvalidInput()
        return await self._save(actor, key, replace(view, page=0, **changes))

    async def page(self, actor: Actor, key: str, page: int | None = None) -> CatalogView:
        """A page of the view (its current one, unless `page`), the sessions of its classes
        and the cadre's enrolments: one read, as a cadre pages through on a slow network."""
        person = registered(actor)
        if page is not None:
            view = await self.view(actor, key)
            if page != view.page:
                await self._save(actor, key, replace(view, page=max(0, page)))
        now = self.clock.now()
        async with self.db.read() as conn:
            view = await self._view(conn, actor, key)
            learner = await learner_of(conn, person, now.astimezone(self.tz).year)
            repo = ClassRepository(conn)
            found, total, full = await repo.catalog(
                learner, view, now, PAGE_SIZE, self._month_range(view.month)
            )
            sessions = await repo.sessions_of([c.id for c in found])
            mine = await EnrolmentRepository(conn).of_person(person.id)
        return CatalogView(
            view, CatalogPage(found, total, view.page, PAGE_SIZE, full), sessions, mine
        )

    def clean_query(self, raw: str) -> str:
        """Words to search for, folded; refuses one that cannot find anything."""
        folded = " ".join(fold(plain_text(raw)[:QUERY_MAX]).split())
        if len(folded) < 2:
            raise InvalidInput("catalog.query_short")
        return folded

    async def _save(self, actor: Actor, key: str, view: CatalogFilter) -> CatalogFilter:
        async with self.db.write() as conn:
            await CatalogViewRepository(conn).put(key, _dump(view), self.clock.now() + VIEW_TTL)
        return view

    def month_year(self, month: int) -> int:
        """The year a month filter means: this year's, or next year's once it has passed."""
        today = self.clock.now().astimezone(self.tz).date()
        return today.year + (1 if month < today.month else 0)

    def _month_range(self, month: int | None) -> tuple[datetime, datetime] | None:
        if month is None:
            return None
        year = self.month_year(month)
        start = datetime(year, month, 1, tzinfo=self.tz)
        end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=self.tz)
        return start, end

    async def purge(self) -> int:
        async with self.db.write() as conn:
            return await CatalogViewRepository(conn).purge(self.clock.now())

    # --- a class ------------------------------------------------------------------------------

    async def card(self, actor: Actor, class_id: int) -> ClassCard:
        person = registered(actor)
        async with self.db.read() as conn:
            repo = ClassRepository(conn)
            training_class = await repo.get(class_id)
            sessions = await repo.sessions(class_id)
            enrolment = await EnrolmentRepository(conn).of(class_id, person.id)
            audience = await _audience_names(conn, training_class.audience)
            lecturers = await ReminderRepository(conn).lecturers(class_id)
        if enrolment is not None and enrolment.status not in ACTIVE_ENROLMENT:
            enrolment = None  # withdrawn: they may enrol again
        teaches = any(person_id == person.id for person_id, _ in lecturers)
        return ClassCard(training_class, sessions, enrolment, audience, teaches)

    # --- timetables ---------------------------------------------------------------------------

    async def timetable(
        self, actor: Actor, span: str, *, teaching: bool = False
    ) -> list[TimetableEntry]:
        """The sessions of today, of the coming seven days, or all to come."""
        person = registered(actor)
        now = self.clock.now()
        local = now.astimezone(self.tz)
        midnight = datetime.combine(local.date(), time(0), self.tz)
        until = {
            "today": midnight + timedelta(days=1),
            "week": midnight + timedelta(days=7),
            "all": None,
        }
        if span not in until:
            raise InvalidInput()
        since = midnight if span == "today" else now
        async with self.db.read() as conn:
            return await ClassRepository(conn).timetable(
                person.id, since, until[span], teaching=teaching
            )

    async def staff_enrolments(self, actor: Actor) -> list[StaffEnrolment]:
        """Who of a unit head's staff is enrolled or waiting in a class not yet over."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            return await EnrolmentRepository(conn).of_staff(scope, self.clock.now())


async def _audience_names(conn: AsyncConnection, audience: Audience) -> AudienceNames:
    codes = CodeListRepository(conn)
    units = await UnitRepository(conn).labels(audience.unit_ids)
    return AudienceNames(
        units=[units[i] for i in audience.unit_ids if i in units],
        grades=[(await codes.get("grade", i)).name for i in audience.grade_ids],
        titles=[(await codes.get("title", i)).name for i in audience.title_ids],
        groups=audience.groups,
    )


def _dump(view: CatalogFilter) -> dict[str, Any]:
    return {k: (v.value if hasattr(v, "value") else v) for k, v in asdict(view).items()}


def _load(state: dict[str, Any]) -> CatalogFilter:
    try:
        return CatalogFilter(
            kind=ClassKind(state["kind"]) if state.get("kind") else None,
            month=state.get("month"),
            format=ClassFormat(state["format"]) if state.get("format") else None,
            query=str(state.get("query", "")),
            include_full=bool(state.get("include_full", False)),
            page=int(state.get("page", 0)),
        )
    except (ValueError, KeyError) as exc:
        raise NotFound("catalog.expired") from exc

"""How classes and sessions read on a phone: list lines, the card, timetable lines."""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import tzinfo

from bot.i18n import Raw, Texts
from bot.places import Text
from bot.services.catalog import AudienceNames, ClassCard
from bot.timetable import TimetableSummary, summarise
from bot.training import (
    ClassFormat,
    EnrolmentStatus,
    Place,
    Session,
    TimetableEntry,
    TrainingClass,
    session_place,
)
from bot.validation import shorten, telegram_length
from handlers.class_labels import GROUP, KIND, parts_label, weekdays_label

PLACE_SHOWN = 60  # characters of a place in a list line


def summary_text(texts: Texts, summary: TimetableSummary | None) -> str:
    """ "10 buổi, sáng thứ 2–6, 03/03–14/03"."""
    if summary is None:
        return texts("catalog.no_sessions")
    return texts(
        "catalog.summary",
        count=summary.sessions,
        parts=parts_label(texts, summary.parts),
        days=weekdays_label(texts, summary.weekdays),
        first=summary.first,
        last=summary.last,
    )


def place_text(texts: Texts, training_class: TrainingClass, *, shows_link: bool) -> str:
    """Where it happens: the place, "online" (with the link for enrolled learners), or both."""
    online = texts("catalog.online")
    if (
        training_class.format is not ClassFormat.ON_SITE
        and shows_link
        and training_class.meeting_link
    ):
        online = texts("catalog.online_link", link=training_class.meeting_link)
    place = training_class.location or "—"
    if training_class.format is ClassFormat.ONLINE:
        return online
    if training_class.format is ClassFormat.BLENDED:
        return texts("catalog.blended", place=place, online=Raw(online))
    return texts("catalog.on_site", place=place)


def seats_text(texts: Texts, training_class: TrainingClass) -> str:
    if training_class.full:
        return texts("catalog.full", waiting=training_class.waiting)
    return texts(
        "catalog.seats_left", count=training_class.seats_left, capacity=training_class.capacity
    )


def list_line(
    texts: Texts,
    number: int,
    training_class: TrainingClass,
    sessions: Sequence[Session],
    tz: tzinfo,
    status: EnrolmentStatus | None,
) -> str:
    """One class of the catalog: number, name and code, then its timetable, place and seats."""
    mark = texts(f"catalog.mark_{status.value}") if status else ""
    place = shorten(training_class.location or "", PLACE_SHOWN)
    where = texts("catalog.online") if training_class.format is ClassFormat.ONLINE else place
    return texts(
        "catalog.line",
        number=number,
        name=training_class.name,
        code=training_class.code,
        mark=mark,
        summary=summary_text(texts, summarise(sessions, tz)),
        place=where or "—",
        seats=Raw(seats_text(texts, training_class)),
    )


def audience_text(texts: Texts, names: AudienceNames) -> str:
    parts = [
        *(texts("catalog.audience_unit", unit=u) for u in names.units),
        *names.grades,
        *names.titles,
        *(texts(GROUP[g]) for g in names.groups),
    ]
    return "; ".join(parts) if parts else texts("catalog.audience_all")


def card_text(texts: Texts, card: ClassCard, tz: tzinfo) -> str:
    c = card.training_class
    lines = [
        texts(
            "catalog.card",
            name=c.name,
            code=c.code,
            programme=c.programme.name,
            kind=texts(KIND[c.kind]),
            summary=summary_text(texts, summarise(card.sessions, tz)),
            place=Raw(place_text(texts, c, shows_link=card.shows_link)),
            seats=Raw(seats_text(texts, c)),
            audience=audience_text(texts, card.audience),
        ),
    ]
    if c.lecturers:
        lines.append(texts("catalog.lecturers", names=", ".join(c.lecturers)))
    if c.organiser:
        lines.append(texts("catalog.organiser", organiser=c.organiser))
    if c.enrol_deadline is not None:
        lines.append(texts("catalog.deadline", deadline=c.enrol_deadline))
    if c.requires_approval:
        lines.append(texts("catalog.needs_approval"))
    if card.enrolment is not None and card.enrolment.status is EnrolmentStatus.ENROLLED:
        lines.append(texts("catalog.you_enrolled"))
    elif card.enrolment is not None and card.enrolment.status is EnrolmentStatus.PENDING:
        lines.append(texts("catalog.you_pending", until=card.enrolment.expires_at))
    elif card.enrolment is not None and card.enrolment.status is EnrolmentStatus.WAITLISTED:
        lines.append(texts("catalog.you_wait", position=card.enrolment.position))
    if c.cancelled_reason:
        lines.append(texts("catalog.cancelled", reason=c.cancelled_reason))
    return "\n".join(lines)


def words(texts: Texts, text: Text) -> Raw:
    """A catalog text given as a key and its values (bot/places.py), in the reader's words,
    ready to go into another text."""
    return Raw(texts(text["key"], **text.get("params", {})))


def session_line(
    texts: Texts, session: Session, place: Place, *, shows_link: bool, heading: str = ""
) -> str:
    """ "• 07:30–11:00 · topic · lecturer · room · 💻 link", marked when moved or cancelled."""
    plain = (heading, session.topic, session.lecturer_name, place.room)
    details = [html.escape(d, quote=False) for d in plain if d]
    if place.format is not ClassFormat.ON_SITE and not session.cancelled:
        link = place.link if shows_link else None
        details.append(texts("schedule.link", link=link) if link else texts("schedule.online"))
    line = texts(
        "schedule.session" if details else "schedule.session_bare",
        start=session.starts_at,
        end=session.ends_at,
        details=Raw(" · ".join(details)),
    )
    if session.cancelled:
        line += " " + texts("schedule.cancelled")
    elif session.moved_from is not None:
        line += "\n" + texts("schedule.moved", was=session.moved_from)
    return line


def entry_line(texts: Texts, entry: TimetableEntry) -> str:
    """A session in someone's timetable: with its class, and where (or the link)."""
    session = entry.session
    place = session_place(
        session.room, session.link, entry.format, entry.location, entry.meeting_link
    )
    heading = f"{entry.class_name} ({entry.class_code})"
    if entry.pending_until is not None:  # no meeting link before the seat is approved
        heading += " " + texts("schedule.pending", until=entry.pending_until)
    return session_line(
        texts, session, place, shows_link=entry.pending_until is None, heading=heading
    )


def by_day(texts: Texts, sessions: Sequence[tuple[Session, str]], tz: tzinfo, budget: int) -> str:
    """Lines grouped under each day's heading, cut to `budget` characters as Telegram counts
    them, with how many more there are."""
    lines: list[str] = []
    day = None
    shown = 0
    for session, line in sessions:
        local = session.starts_at.astimezone(tz).date()
        block = ([texts("schedule.day", day=local)] if local != day else []) + [line]
        cost = sum(telegram_length(b) + 1 for b in block)
        if cost > budget:
            break
        budget -= cost
        lines += block
        day = local
        shown += 1
    if shown < len(sessions):
        lines.append(texts("schedule.more", count=len(sessions) - shown))
    return "\n".join(lines)

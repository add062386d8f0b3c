"""What a training record says in words, shared by the chat, the PDF and the workbook: the
catalogs' texts as plain text (files have no HTML), a class's dates, result and figures."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

from bot.domain import Person
from bot.i18n import Texts
from bot.training import ClassStatus, EnrolmentStatus
from bot.training_record import ClassRecord, RecordYear, SessionMark

_TAG = re.compile(r"<[^>]*>")
ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}


def plain(texts: Texts, key: str, /, **params: Any) -> str:
    """A catalog text without its markup: values are escaped, so every "<" opens a tag."""
    return html.unescape(_TAG.sub("", texts(key, **params)))


def position(person: Person) -> str | None:
    """The person's position, from the list or as they typed it."""
    return person.title.name if person.title else person.title_other


def grade(texts: Texts, person: Person) -> str | None:
    """A civil servant's grade, or a public employee's professional title and rank."""
    if person.grade:
        return person.grade.name
    if person.professional_title:
        rank = ROMAN.get(person.professional_rank or 0)
        title = person.professional_title.name
        return plain(texts, "record.professional", title=title, rank=rank) if rank else title
    return None


def dates(texts: Texts, record: ClassRecord) -> str:
    """ "01/12/2025 – 04/12/2025", one day alone, or a dash before the class has sessions."""
    if record.starts_at is None or record.ends_at is None:
        return "—"
    first, last = (
        plain(texts, "record.day", at=record.starts_at),
        plain(texts, "record.day", at=record.ends_at),
    )
    return first if first == last else f"{first} – {last}"


def hours(texts: Texts, value: float) -> str:
    return plain(texts, "record.hours", hours=round(value, 1))


def result(texts: Texts, record: ClassRecord, now: datetime) -> str:
    """The outcome; otherwise why there is none yet (learning, awaiting it, left, cancelled)."""
    if record.outcome is not None:
        outcome = plain(texts, f"record.outcome.{record.outcome.value}")
        return plain(texts, "record.overridden", outcome=outcome) if record.override else outcome
    if record.enrolment is not EnrolmentStatus.ENROLLED:
        return plain(texts, "record.left")
    if record.status is ClassStatus.CANCELLED:
        return plain(texts, "record.cancelled")
    if record.status is ClassStatus.FINISHED or (record.ends_at and record.ends_at <= now):
        return plain(texts, "record.awaiting")
    if record.starts_at is None or record.starts_at > now:
        return plain(texts, "record.upcoming")
    return plain(texts, "record.learning")


def session_state(texts: Texts, session: SessionMark) -> str:
    """The mark, or "not marked yet" for a session held, or "to come"."""
    if session.mark is not None:
        return plain(texts, f"attendance.mark.{session.mark.value}")
    return plain(texts, "record.unmarked" if session.held else "record.to_come")


def year_totals(texts: Texts, year: RecordYear) -> str:
    """A year's figures; a year of completions from before the bot only has how many."""
    if not year.classes:
        return plain(texts, "record.totals_imported", completed=len(year.imported))
    return plain(
        texts, "record.totals", classes=year.class_count, attended=year.attended,
        held=year.held, hours=round(year.hours, 1), completed=year.completed,
    )  # fmt: skip

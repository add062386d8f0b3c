"""A class's list as a workbook to print: a cover (the class, its figures, who made the file
and when), then a sheet per section, each with a bold frozen header repeated on every printed
page, landscape and fitted to the page's width. Phones only when the reader may see them."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import tzinfo

from bot.class_lists import GROUP_ORDER, ClassList, ClassListEntry, ListSection
from bot.i18n import Texts
from bot.phones import format_phone
from bot.record_labels import ROMAN, plain
from bot.report_workbook import Book, Column, Cover, Kind, Rows, Value
from bot.training import ClassFormat, EnrolmentStatus, PriorityGroup

A4 = 9  # XlsxWriter's paper code

SECTION_NAMES = {
    ListSection.ENROLLED: "class_list.section_enrolled",
    ListSection.PENDING: "class_list.section_pending",
    ListSection.WAITING: "class_list.section_waiting",
    ListSection.DECLINED: "class_list.section_declined",
    ListSection.OTHER: "class_list.section_other",
}
STATUS_NAMES = {
    EnrolmentStatus.ENROLLED: "class_list.status_enrolled",
    EnrolmentStatus.WAITLISTED: "class_list.status_waitlisted",
    EnrolmentStatus.PENDING: "class_list.status_pending",
    EnrolmentStatus.DECLINED: "class_list.status_declined",
    EnrolmentStatus.REJECTED: "class_list.status_rejected",
    EnrolmentStatus.EXPIRED: "class_list.status_expired",
    EnrolmentStatus.WITHDRAWN: "class_list.status_withdrawn",
    EnrolmentStatus.CANCELLED: "class_list.status_cancelled",
}
GROUP_COLUMNS = {
    PriorityGroup.YOUNG: "class_list.column_young",
    PriorityGroup.WOMEN: "class_list.column_women",
    PriorityGroup.MINORITY: "class_list.column_minority",
    PriorityGroup.SOURCE_POOL: "class_list.column_source_pool",
}


def file_name(code: str) -> str:
    return f"danh-sach-{code}.xlsx"


def workbook(texts: Texts, shown: ClassList, tz: tzinfo) -> bytes:
    """The whole workbook, in memory (a class holds hundreds of people, not millions)."""
    target = io.BytesIO()
    book = Book(target, tz)
    try:
        book.cover(_cover(texts, shown))
        columns = _columns(texts, shown.phones)
        for section in ListSection:
            rows = book.sheet(plain(texts, SECTION_NAMES[section]), columns)
            _printable(rows)
            for number, entry in enumerate(shown.section(section), 1):
                rows.append(_row(texts, shown, number, entry))
        book.close()
    except BaseException:
        book.discard()
        raise
    return target.getvalue()


def _printable(rows: Rows) -> None:
    sheet = rows.sheet
    sheet.set_landscape()
    sheet.set_paper(A4)
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)


def _cover(texts: Texts, shown: ClassList) -> Cover:
    c = shown.training_class
    counts = shown.counts()
    dash = "—"
    dates = dash
    if c.starts_at and c.ends_at:
        dates = plain(texts, "class_list.dates", first=c.starts_at, last=c.ends_at)
    place = plain(texts, "class_list.online") if c.format is ClassFormat.ONLINE else c.location
    lines: list[tuple[str, Value]] = [
        (plain(texts, "class_list.cover_class"), c.name),
        (plain(texts, "class_list.cover_code"), c.code),
        (plain(texts, "class_list.cover_dates"), dates),
        (plain(texts, "class_list.cover_place"), place or dash),
        (plain(texts, "class_list.cover_capacity"), c.capacity),
        *((plain(texts, SECTION_NAMES[s]), counts[s]) for s in ListSection),
        (plain(texts, "class_list.cover_scope"),
         plain(texts, "class_list.scope_whole" if shown.whole else "class_list.scope_staff")),
        (plain(texts, "class_list.cover_generated_at"), shown.generated_at),
        (plain(texts, "class_list.cover_generated_by"),
         shown.generated_by or plain(texts, "class_list.by_office")),
    ]  # fmt: skip
    return Cover(
        plain(texts, "class_list.cover_sheet"),
        lines,
        title=plain(texts, "class_list.cover_title", code=c.code),
    )


def _columns(texts: Texts, phones: bool) -> list[Column]:
    columns = [
        Column(plain(texts, "class_list.column_no"), 5, Kind.INT),
        Column(plain(texts, "class_list.column_name"), 26),
        Column(plain(texts, "class_list.column_unit"), 30),
        Column(plain(texts, "class_list.column_position"), 28),
        Column(plain(texts, "class_list.column_gender"), 8),
        Column(plain(texts, "class_list.column_birth_year"), 8, Kind.INT),
        Column(plain(texts, "class_list.column_ethnicity"), 10),
        *(Column(plain(texts, GROUP_COLUMNS[g]), 9) for g in GROUP_ORDER),
    ]
    if phones:
        columns.append(Column(plain(texts, "class_list.column_phone"), 14))
    columns += [
        Column(plain(texts, "class_list.column_status"), 14),
        Column(plain(texts, "class_list.column_registered"), 12, Kind.DATE),
        Column(plain(texts, "class_list.column_note"), 40),
    ]
    return columns


def position_and_grade(texts: Texts, entry: ClassListEntry) -> str | None:
    """ "Phó Chủ tịch UBND · Chuyên viên": the position, then the grade or professional title."""
    grade = entry.grade
    if grade is None and entry.professional_title:
        rank = ROMAN.get(entry.professional_rank or 0)
        grade = entry.professional_title
        if rank:
            grade = plain(texts, "record.professional", title=grade, rank=rank)
    return " · ".join(part for part in (entry.title, grade) if part) or None


def note(texts: Texts, entry: ClassListEntry) -> str | None:
    """Why and until when: the place on the waitlist, the end of a pending hold, the reason
    given, who nominated the person."""
    parts: list[str] = []
    if entry.position is not None:
        parts.append(plain(texts, "class_list.note_position", position=entry.position))
    if entry.status is EnrolmentStatus.PENDING and entry.expires_at is not None:
        parts.append(plain(texts, "class_list.note_until", until=entry.expires_at))
    if entry.reason:
        parts.append(plain(texts, "class_list.note_reason", reason=entry.reason))
    if entry.nominated_by:
        parts.append(plain(texts, "class_list.note_nominated", name=entry.nominated_by))
    return "; ".join(parts) or None


def _row(texts: Texts, shown: ClassList, number: int, entry: ClassListEntry) -> Sequence[Value]:
    groups = shown.groups(entry)
    values: list[Value] = [
        number,
        entry.name,
        entry.unit_label,
        position_and_grade(texts, entry),
        plain(texts, f"gender.{entry.gender.value}") if entry.gender else None,
        entry.birth_year,
        entry.ethnicity,
        *("x" if g in groups else None for g in GROUP_ORDER),
    ]
    if shown.phones:
        values.append(format_phone(entry.phone) if entry.phone else None)  # as the chat shows
    values += [
        plain(texts, STATUS_NAMES[entry.status]),
        entry.registered_at,
        note(texts, entry),
    ]
    return values

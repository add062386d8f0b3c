"""A class's list in the chat: the figures of each section, a legend of the priority-group
marks, then numbered lines ("1. Nguyễn Thị Phương — Xã A (Huyện B) · 🌱👩"), cut into pages
that each fit in one message."""

from __future__ import annotations

from bot.class_list_xlsx import SECTION_NAMES
from bot.class_lists import GROUP_ORDER, ON_SCREEN, ClassList, ClassListEntry, ListSection
from bot.i18n import Texts
from bot.training import EnrolmentStatus, PriorityGroup
from bot.validation import telegram_length

#: What a page's lines may take (Telegram takes 4096; the heading and the page number fit in
#: the rest, whatever the class's name).
PAGE_BUDGET = 3300

MARKS = {
    PriorityGroup.YOUNG: "🌱",
    PriorityGroup.WOMEN: "👩",
    PriorityGroup.MINORITY: "🏔",
    PriorityGroup.SOURCE_POOL: "⭐",
}


def marks(shown: ClassList, entry: ClassListEntry) -> str:
    groups = shown.groups(entry)
    return "".join(MARKS[g] for g in GROUP_ORDER if g in groups)


def line(texts: Texts, shown: ClassList, number: int, entry: ClassListEntry) -> str:
    """One person: number, name, unit, then their marks and what the section needs said."""
    text = texts("class_list.line", n=number, name=entry.name, unit=entry.unit_label or "—")
    if found := marks(shown, entry):
        text += texts("class_list.line_marks", marks=found)
    if entry.status is EnrolmentStatus.PENDING and entry.expires_at is not None:
        text += texts("class_list.line_until", until=entry.expires_at)
    if entry.reason:
        text += texts("class_list.line_reason", reason=entry.reason)
    if entry.nominated_by:
        text += texts("class_list.line_nominated", name=entry.nominated_by)
    return text


def heading(texts: Texts, shown: ClassList) -> str:
    c = shown.training_class
    counts = shown.counts()
    figures = {s.value: counts[s] for s in ON_SCREEN}
    lines = [
        texts("class_list.heading", code=c.code, name=c.name),
        texts("class_list.scope_whole_line" if shown.whole else "class_list.scope_staff_line"),
        texts(
            "class_list.counts_whole" if shown.whole else "class_list.counts_staff",
            capacity=c.capacity,
            **figures,
        ),
        texts(
            "class_list.legend",
            under=shown.young_under,
            **{g.value: MARKS[g] for g in GROUP_ORDER},
        ),
    ]
    return "\n".join(lines)


def _body_lines(texts: Texts, shown: ClassList) -> list[tuple[str, str | None]]:
    """Each section's title (with its count), then its people numbered from 1; each person's
    line comes with the section's name, to head a page that continues the section."""
    found: list[tuple[str, str | None]] = []
    for section in ON_SCREEN:
        people = shown.section(section)
        if not people:
            continue
        name = texts(SECTION_NAMES[section])
        found.append((texts("class_list.section_title", section=name, count=len(people)), None))
        for number, entry in enumerate(people, 1):
            # On the waitlist the number is the place in it, which a head's staff keep.
            place = entry.position if section is ListSection.WAITING else None
            found.append((line(texts, shown, place or number, entry), name))
    return found


def pages(texts: Texts, shown: ClassList) -> list[str]:
    """The list cut into messages: the heading on each, then as many lines as fit, with the
    page number when there is more than one."""
    head = heading(texts, shown)
    body = _body_lines(texts, shown)
    if not body:
        return [head + "\n\n" + texts("class_list.empty")]
    chunks: list[list[str]] = [[]]
    used = 0
    for text, section in body:
        cost = telegram_length(text) + 2
        if chunks[-1] and used + cost > PAGE_BUDGET:
            chunks.append([])
            used = 0
        if not chunks[-1] and section is not None:
            continued = texts("class_list.section_continued", section=section)
            chunks[-1].append(continued)
            used += telegram_length(continued) + 2
        elif chunks[-1] and section is None:
            chunks[-1].append("")  # a blank line before each section's title
        chunks[-1].append(text)
        used += cost
    total = len(chunks)
    result = []
    for number, chunk in enumerate(chunks, 1):
        text = head + "\n\n" + "\n".join(chunk)
        if total > 1:
            text += "\n\n" + texts("class_list.page", page=number, pages=total)
        result.append(text)
    return result

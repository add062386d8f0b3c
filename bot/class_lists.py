"""A class's list as the office, its lecturers and unit heads read it: who is in which section,
in the order lists are read out, with the priority groups each person belongs to. Plain data
and pure rules; the repository fills it, the text and the workbook render it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.domain import Gender
from bot.text_search import fold
from bot.training import (
    YOUNG_UNDER,
    EnrolmentStatus,
    PriorityGroup,
    TrainingClass,
    priority_groups,
)


class ListSection(StrEnum):
    """The parts of a class's list, in the order they are shown."""

    ENROLLED = "enrolled"
    PENDING = "pending"  # waiting for the unit head's approval
    WAITING = "waiting"  # on the waitlist, by position
    DECLINED = "declined"  # declined a nomination
    OTHER = "other"  # rejected, expired, withdrawn, cancelled: the workbook only


SECTION_OF = {
    EnrolmentStatus.ENROLLED: ListSection.ENROLLED,
    EnrolmentStatus.PENDING: ListSection.PENDING,
    EnrolmentStatus.WAITLISTED: ListSection.WAITING,
    EnrolmentStatus.DECLINED: ListSection.DECLINED,
    EnrolmentStatus.REJECTED: ListSection.OTHER,
    EnrolmentStatus.EXPIRED: ListSection.OTHER,
    EnrolmentStatus.WITHDRAWN: ListSection.OTHER,
    EnrolmentStatus.CANCELLED: ListSection.OTHER,
}
#: The sections the chat shows; the others are in the workbook only.
ON_SCREEN = (ListSection.ENROLLED, ListSection.PENDING, ListSection.WAITING, ListSection.DECLINED)
#: The order of the priority groups wherever they are shown as marks or columns.
GROUP_ORDER = (
    PriorityGroup.YOUNG,
    PriorityGroup.WOMEN,
    PriorityGroup.MINORITY,
    PriorityGroup.SOURCE_POOL,
)


@dataclass(frozen=True, slots=True)
class ClassListEntry:
    """One person's enrolment in a class, with what the list shows of them."""

    person_id: int
    name: str
    status: EnrolmentStatus
    registered_at: datetime
    changed_at: datetime
    unit: str | None = None
    #: The name of the unit above, unless that is the province itself.
    unit_parent: str | None = None
    title: str | None = None  # the position, from the list or as typed
    grade: str | None = None  # a civil servant's grade
    professional_title: str | None = None  # a public employee's, with its rank
    professional_rank: int | None = None
    gender: Gender | None = None
    birth_year: int | None = None
    ethnicity: str | None = None
    ethnicity_code: str | None = None
    source_pool: bool = False
    phone: str | None = None
    #: On the waitlist: the place in it (1 = next), counted over the whole class.
    position: int | None = None
    #: Pending: the seat is held until then.
    expires_at: datetime | None = None
    #: Declined or rejected: why.
    reason: str | None = None
    nominated_by: str | None = None

    @property
    def section(self) -> ListSection:
        return SECTION_OF[self.status]

    @property
    def unit_label(self) -> str | None:
        """ "Xã A (Huyện B)": many units share a name."""
        if self.unit and self.unit_parent:
            return f"{self.unit} ({self.unit_parent})"
        return self.unit


@dataclass(frozen=True, slots=True)
class ClassList:
    """A class's list as one reader may see it: everyone (administrators, its lecturers) or
    a unit head's staff only; phones for administrators only."""

    training_class: TrainingClass
    entries: Sequence[ClassListEntry]
    whole: bool
    phones: bool
    #: The year the priority groups are counted in, and the young-cadre age limit.
    year: int
    generated_at: datetime
    #: Who asked for it (None: a super-administrator without a profile).
    generated_by: str | None
    young_under: int = YOUNG_UNDER

    def section(self, section: ListSection) -> list[ClassListEntry]:
        return [e for e in self.entries if e.section is section]

    def counts(self) -> dict[ListSection, int]:
        found = dict.fromkeys(ListSection, 0)
        for entry in self.entries:
            found[entry.section] += 1
        return found

    def groups(self, entry: ClassListEntry) -> frozenset[PriorityGroup]:
        return priority_groups(
            year=self.year,
            birth_year=entry.birth_year,
            female=entry.gender is Gender.FEMALE,
            ethnicity_code=entry.ethnicity_code,
            source_pool=entry.source_pool,
            young_under=self.young_under,
        )


def name_key(name: str) -> tuple[str, str]:
    """Vietnamese lists go by the given name (the last word), then the whole name."""
    folded = fold(name)
    return (folded.rsplit(" ", 1)[-1], folded)


def ordered(entries: Sequence[ClassListEntry]) -> list[ClassListEntry]:
    """Section by section; the enrolled and those who declined by given name, those pending
    by the end of their hold (the first to lapse first), the waitlist by position, the rest
    by status then name."""
    sections = list(ListSection)

    def key(e: ClassListEntry) -> tuple[object, ...]:
        rank = sections.index(e.section)
        if e.section is ListSection.WAITING:
            return (rank, e.position or 0, "", name_key(e.name))
        if e.section is ListSection.PENDING:
            until = e.expires_at.isoformat() if e.expires_at else "~"
            return (rank, 0, until, name_key(e.name))
        if e.section is ListSection.OTHER:
            return (rank, 0, e.status.value, name_key(e.name))
        return (rank, 0, "", name_key(e.name))

    return sorted(entries, key=key)

"""Plain data the services hand to adapters: no framework types, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.attendance import AttendanceEntry, LeaveEntry, ResultEntry
from bot.channels import Channel, channel_of


class Role(StrEnum):
    LEARNER = "learner"
    LECTURER = "lecturer"
    UNIT_HEAD = "unit_head"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


#: Roles that administrators can grant in the chat (super-administrators come from ADMIN_IDS).
GRANTABLE_ROLES = (Role.LECTURER, Role.UNIT_HEAD, Role.ADMIN)


class AuditAction(StrEnum):
    """What the audit log records; each has a name in the catalogs (audit.<value>)."""

    SELF_REGISTERED = "self_registered"
    LINKED_BY_CONTACT = "linked_by_contact"
    LINKED_BY_TYPED_PHONE = "linked_by_typed_phone"
    ZALO_JOINED = "zalo_joined"
    TYPED_LINK_REFUSED = "typed_link_refused"
    PROFILE_EDITED = "profile_edited"
    PHONE_CHANGED = "phone_changed"
    PROFILE_VERIFIED = "profile_verified"
    PROFILE_REJECTED = "profile_rejected"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    SOURCE_POOL_SET = "source_pool_set"
    ROLE_GRANTED = "role_granted"
    ROLE_REVOKED = "role_revoked"
    PROFILE_MERGED = "profile_merged"
    ANNOUNCEMENT = "announcement"
    DEMO_SEED = "demo_seed"
    PLAN_SAVED = "plan_saved"
    PLAN_APPROVED = "plan_approved"
    PLAN_TARGETS_SET = "plan_targets_set"
    PROGRAMME_SAVED = "programme_saved"
    CLASS_SAVED = "class_saved"
    CLASS_CANCELLED = "class_cancelled"
    CLASS_CLOSED = "class_closed"
    CAPACITY_CHANGED = "capacity_changed"
    SESSIONS_ADDED = "sessions_added"
    SESSION_MOVED = "session_moved"
    SESSION_CANCELLED = "session_cancelled"
    SESSION_PLACE = "session_place"
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    WITHDRAWN = "withdrawn"
    PROMOTED = "promoted"
    DUPLICATE_ALLOWED = "duplicate_allowed"
    CHECKIN_OPENED = "checkin_opened"
    ROLL_CALL_SAVED = "roll_call_saved"
    ATTENDANCE_CORRECTED = "attendance_corrected"
    LEAVE_DECIDED = "leave_decided"
    RESULT_RECORDED = "result_recorded"
    RESULT_OVERRIDE = "result_override"
    AUDIT_EXPORTED = "audit_exported"
    CLASS_LINK_CREATED = "class_link_created"
    CLASS_LINK_REVOKED = "class_link_revoked"
    CLASS_LIST_EXPORTED = "class_list_exported"
    IMPORT_SAVED = "import_saved"
    NOMINATED = "nominated"
    NOMINATION_DECLINED = "nomination_declined"
    APPROVAL_REQUIRED = "approval_required"
    ENROLMENT_APPROVED = "enrolment_approved"
    ENROLMENT_REJECTED = "enrolment_rejected"
    ENROLMENT_EXPIRED = "enrolment_expired"
    APPROVAL_DROPPED = "approval_dropped"


class MessageKind(StrEnum):
    """What the bot sends on its own initiative; each has a name in the catalogs."""

    VERIFY_REQUEST = "verify_request"
    PROFILE_VERIFIED = "profile_verified"
    PROFILE_REJECTED = "profile_rejected"
    ANNOUNCEMENT = "announcement"
    ROLE_CHANGED = "role_changed"
    PROFILE_MERGED = "profile_merged"
    SOURCE_POOL_CHANGED = "source_pool_changed"
    CLASS_CANCELLED = "class_cancelled"
    WAITLIST_PROMOTED = "waitlist_promoted"
    REMINDER = "reminder"
    CLASS_CHANGED = "class_changed"
    # The training office's own reminders (bot/services/office_reminders.py).
    OFFICE_DEADLINE = "office_deadline"
    OFFICE_SESSIONS = "office_sessions"
    OFFICE_UNCLOSED = "office_unclosed"
    OFFICE_REPORT = "office_report"
    OFFICE_ATTENDANCE = "office_attendance"
    ATTENDANCE_WARNING = "attendance_warning"
    LEAVE_REQUEST = "leave_request"
    LEAVE_DECIDED = "leave_decided"
    # Progress digests (bot/services/digests.py).
    DIGEST_WEEKLY = "digest_weekly"
    DIGEST_MONTHLY = "digest_monthly"
    # Nominations by unit heads (bot/services/nomination.py).
    NOMINATED = "nominated"
    NOMINATION_DECLINED = "nomination_declined"
    # Approval of enrolments by the unit head (bot/services/approval.py).
    APPROVAL_REQUEST = "approval_request"
    APPROVAL_DECIDED = "approval_decided"
    APPROVAL_REMINDER = "approval_reminder"
    # A one-time code for joining a Zalo account to a person on Telegram (zalo_link).
    ZALO_LINK_CODE = "zalo_link_code"
    # Told on Telegram that a Zalo account now uses the person's profile too (zalo_link).
    ZALO_JOINED = "zalo_joined"


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


class Employment(StrEnum):
    """What kind of public servant a person is, which decides how their rank is expressed."""

    CAN_BO = "can_bo"  # elected or appointed to a term
    CONG_CHUC = "cong_chuc"  # civil servant: a grade (ngạch)
    VIEN_CHUC = "vien_chuc"  # public employee: a professional title and its rank


class PersonSource(StrEnum):
    ROSTER = "roster"  # the province's own list: the office keeps it
    SELF = "self"  # declared by the cadre, confirmed by a unit head


class ProfileField(StrEnum):
    """What a cadre may change in a self-declared profile (roster data is the office's)."""

    FULL_NAME = "name"
    UNIT = "unit"
    TITLE = "title"
    GENDER = "gender"
    BIRTH_YEAR = "birth_year"
    ETHNICITY = "ethnicity"


class ReturnReason(StrEnum):
    """Why a unit head sends a self-declared profile back to its cadre."""

    NOT_IN_UNIT = "not_in_unit"  # the cadre chooses their unit again
    DUPLICATE = "duplicate"  # the cadre has another record: the office sorts it out
    WRONG_DETAILS = "wrong_details"  # the cadre corrects the profile


class NavOp(StrEnum):
    """The moves every dialogue offers besides answering its current step."""

    BACK = "back"
    CANCEL = "cancel"
    EDIT = "edit"  # change one answer from a summary, then return to it


@dataclass(frozen=True, slots=True)
class CodeItem:
    """An entry of a code list: unit, title, grade or ethnic group."""

    id: int
    code: str
    name: str


def unit_label(name: str, parent_name: str | None) -> str:
    """'Văn phòng Sở — Sở Nội vụ': many units share a name (every department has an office)."""
    return f"{name} — {parent_name}" if parent_name else name


@dataclass(frozen=True, slots=True)
class UnitRef:
    """A unit as people see it. `parent_name` is that of the unit above, unless that is the
    province itself (which tells nothing apart)."""

    id: int
    code: str
    name: str
    parent_name: str | None = None

    @property
    def label(self) -> str:
        return unit_label(self.name, self.parent_name)


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    name: str
    parent_id: int | None
    kind: str
    parent_name: str | None = None

    @property
    def label(self) -> str:
        return unit_label(self.name, self.parent_name)


@dataclass(frozen=True, slots=True)
class OtherTitle:
    """A position not in the list, as the cadre typed it; the unit head sees it to confirm."""

    text: str


@dataclass(frozen=True, slots=True)
class UnitScope:
    """The units someone answers for: the whole province, or the subtrees under some units.

    It travels as the roots only; the storage layer expands the subtrees inside its queries.
    """

    roots: tuple[int, ...] | None

    @classmethod
    def province(cls) -> UnitScope:
        return cls(None)

    @property
    def is_province(self) -> bool:
        return self.roots is None


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    full_name: str
    source: PersonSource
    verified: bool
    source_pool: bool
    unit: UnitRef | None = None
    title: CodeItem | None = None
    grade: CodeItem | None = None
    ethnicity: CodeItem | None = None
    gender: Gender | None = None
    birth_year: int | None = None
    phone: str | None = None
    telegram_id: int | None = None
    language: str | None = None
    consent_at: datetime | None = None
    title_other: str | None = None
    returned_reason: ReturnReason | None = None
    returned_note: str | None = None
    employment: Employment | None = None
    professional_title: CodeItem | None = None
    professional_rank: int | None = None

    @property
    def awaits_decision(self) -> bool:
        """Self-declared and waiting for a unit head: not yet confirmed, not sent back, and
        its cadre still here."""
        return (
            not self.verified
            and self.unit is not None
            and self.returned_reason is None
            and not self.withdrawn
        )

    @property
    def decided(self) -> bool:
        """Confirmed or returned: a change to it goes back to the heads as a correction."""
        return self.verified or self.returned_reason is not None

    @property
    def withdrawn(self) -> bool:
        """A self-declared profile whose cadre withdrew consent: kept for the records it is
        in, but nobody answers for it any more (a roster record is the office's)."""
        return not self.from_roster and self.telegram_id is None

    @property
    def from_roster(self) -> bool:
        return self.source is PersonSource.ROSTER

    @property
    def typed_link(self) -> bool:
        """A roster record claimed on Zalo by typing its phone number, which proves nothing:
        unconfirmed until a unit head says it is the right person (or that it is not)."""
        return (
            self.from_roster
            and not self.verified
            and self.telegram_id is not None
            and channel_of(self.telegram_id) is Channel.ZALO
        )


@dataclass(frozen=True, slots=True)
class RoleGrant:
    role: Role
    unit: UnitRef | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever sent an update: their Telegram id, their profile if linked, and their roles."""

    telegram_id: int
    person: Person | None = None
    grants: tuple[RoleGrant, ...] = ()
    is_superadmin: bool = False

    @property
    def roles(self) -> frozenset[Role]:
        found = {g.role for g in self.grants}
        if self.is_superadmin:
            found |= {Role.SUPERADMIN, Role.ADMIN}
        return frozenset(found)

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def headed_unit_ids(self) -> tuple[int, ...]:
        return tuple(g.unit.id for g in self.grants if g.role is Role.UNIT_HEAD and g.unit)

    @property
    def scope(self) -> UnitScope:
        """The units this person answers for: the province, or the units they head."""
        return UnitScope.province() if self.is_admin else UnitScope(self.headed_unit_ids)


@dataclass(frozen=True, slots=True)
class NewProfile:
    """What a cadre without a roster record declares about themselves. Ethnicity may be
    left out: it is sensitive data."""

    full_name: str
    unit_id: int
    gender: Gender
    birth_year: int
    ethnicity_id: int | None = None
    title: int | OtherTitle | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a longer list of people, and where it stands in the whole."""

    people: list[Person]
    total: int
    number: int  # from 0
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A person to add: from the roster (the office's list) or self-declared."""

    full_name: str
    source: PersonSource
    unit_id: int | None
    verified: bool
    title_id: int | None = None
    grade_id: int | None = None
    ethnicity_id: int | None = None
    gender: Gender | None = None
    birth_year: int | None = None
    phone: str | None = None
    source_pool: bool = False
    title_other: str | None = None
    telegram_id: int | None = None
    language: str | None = None
    consent_at: datetime | None = None
    employment: Employment | None = None
    professional_title_id: int | None = None
    professional_rank: int | None = None


@dataclass(frozen=True, slots=True)
class NewUnit:
    code: str
    name: str
    parent_id: int | None
    kind: str


@dataclass(frozen=True, slots=True)
class Consent:
    notice_version: str
    given_at: datetime
    withdrawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class HeldRole:
    role: Role
    unit: UnitRef | None
    granted_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    action: str
    details: dict[str, object]
    actor_telegram_id: int | None = None


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A message the bot sent (or was to send) a person on its own initiative."""

    kind: str
    created_at: datetime
    state: str
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Everything stored about one person, for /mydata: the record, consents, roles, the
    audit entries about them and those of what they did, and the messages sent to them."""

    person: Person
    consents: list[Consent] = field(default_factory=list)
    roles: list[HeldRole] = field(default_factory=list)
    audit: list[AuditEntry] = field(default_factory=list)
    messages: list[MessageRecord] = field(default_factory=list)
    #: The names of the units the audit entries refer to by id.
    unit_labels: dict[int, str] = field(default_factory=dict)
    attendance: list[AttendanceEntry] = field(default_factory=list)
    leave: list[LeaveEntry] = field(default_factory=list)
    results: list[ResultEntry] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class DialogueState:
    """Where a person is in a dialogue: its step, the steps behind it, and its draft.

    `draft` is the dialogue's typed draft in JSON form; `return_to` is the summary step to go
    back to after changing one answer from it. `run` names this run of the dialogue and
    `asked` counts the questions asked in it: together they tell the buttons of the latest
    question from those of any earlier one.
    """

    telegram_id: int
    dialogue: str
    step: str
    history: tuple[str, ...]
    draft: dict[str, Any]
    updated_at: datetime
    expires_at: datetime
    return_to: str | None = None
    run: str = ""
    asked: int = 0

    @property
    def token(self) -> str:
        """What the buttons of the question now on screen carry."""
        return f"{self.run}.{self.asked}"

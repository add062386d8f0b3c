"""Button data: what a tap asks for, as typed actions packed into Telegram's callback_data.

An action is a frozen dataclass registered under a short wire code: `OpenPerson(42)` packs
to "person:42". Services put actions on the buttons of the messages they queue; handlers
route on them and receive them typed. The packed form is stored in outbox rows and sits
under messages already sent, so it is a contract:

- a code is never renamed or reused (a test pins them all); a changed meaning gets a new code;
- fields are only ever appended, with a default, so older buttons still unpack;
- anything that does not unpack (a forged tap, a button from a retired version) is refused
  with `InvalidAction`, and the person is told the button has expired.

Fields may be int, bool, str (letters, digits, `_`, `.`, `-`) or a StrEnum; the packed
form must fit Telegram's 64 bytes.
"""

from __future__ import annotations

import dataclasses
import re
import typing
from collections.abc import Callable
from enum import StrEnum
from typing import Any, ClassVar, Self, TypeVar

from bot.attendance import Outcome
from bot.audit_log import PeriodPreset
from bot.channels import NotifyVia
from bot.domain import MessageKind, NavOp, ProfileField, ReturnReason, Role
from bot.reminders import Lead
from bot.report import ReportView
from bot.text_search import fold
from bot.training_record import RecordFormat

SEPARATOR = ":"
MAX_BYTES = 64
_CODE = re.compile(r"[a-z][a-z0-9_.]*")
_TEXT = r"[A-Za-z0-9_.\-]*"
_INT = r"-?\d{1,18}"


class InvalidAction(ValueError):
    """The data does not unpack into any known action."""


class Action:
    """Base of every action; subclasses are declared with `@action(code)`."""

    code: ClassVar[str]
    #: A tap that leaves an open dialogue where it is (choosing the language mid-way).
    keeps_dialogue: ClassVar[bool] = False
    _fields: ClassVar[tuple[dataclasses.Field[Any], ...]]
    _types: ClassVar[dict[str, Any]]
    _pattern: ClassVar[re.Pattern[str]]

    def pack(self) -> str:
        values = [getattr(self, field.name) for field in self._fields]
        while values and values[-1] == self._fields[len(values) - 1].default:
            values.pop()  # a trailing default is implied, as for buttons packed before it
        fields = self._fields[: len(values)]
        encoded = [_encode(self._types[f.name], v) for f, v in zip(fields, values, strict=True)]
        data = SEPARATOR.join([self.code, *encoded])
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"{data!r} exceeds Telegram's {MAX_BYTES}-byte callback_data")
        return data

    @classmethod
    def matches(cls, data: object) -> bool:
        """For PTB's CallbackQueryHandler `pattern`: this action, well formed."""
        if not isinstance(data, str):
            return False
        try:
            return isinstance(unpack(data), cls)
        except InvalidAction:
            return False

    @classmethod
    def unpack(cls, data: str) -> Self:
        found = unpack(data)
        if not isinstance(found, cls):
            raise InvalidAction(data)
        return found


_REGISTRY: dict[str, type[Action]] = {}
A = TypeVar("A", bound=Action)


def action(code: str) -> Callable[[type[A]], type[A]]:
    """Registers a class as an action with a wire code that must never change."""

    def register(cls: type[A]) -> type[A]:
        if not _CODE.fullmatch(code) or code in _REGISTRY:
            raise ValueError(f"action code {code!r} is malformed or taken")
        if not (dataclasses.is_dataclass(cls) and cls.__dataclass_params__.frozen):
            raise TypeError(f"{cls.__name__} must be a frozen dataclass")
        cls.code = code
        cls._fields = dataclasses.fields(cls)
        cls._types = typing.get_type_hints(cls)
        cls._pattern = _pattern(code, cls._fields, cls._types)
        _REGISTRY[code] = cls
        return cls

    return register


def search_key(query: str) -> str:
    """A typed search as button data can carry it: folded (the search ignores diacritics
    anyway), words joined by dots, at most 30 characters."""
    words = re.sub(r"[^a-z0-9 ]", " ", fold(query)).split()
    return ".".join(words)[:30].strip(".")


def search_words(key: str) -> str:
    return key.replace(".", " ")


def registered() -> dict[str, type[Action]]:
    """Every action by its code: the wire contract the tests pin."""
    return dict(_REGISTRY)


def unpack(data: str) -> Action:
    """The action packed into `data`; InvalidAction if it is unknown or malformed."""
    code, *values = data.split(SEPARATOR)
    cls = _REGISTRY.get(code)
    if cls is None or not cls._pattern.fullmatch(data):
        return _legacy(data)
    kwargs = {
        field.name: _decode(cls._types[field.name], value)
        for field, value in zip(cls._fields, values, strict=False)
    }
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InvalidAction(data) from exc


def _legacy(data: str) -> Action:
    """Buttons the first release put on the notices it sent (a unit head's "open the
    profile", a cadre's "choose the unit"), before actions had wire codes: they stay in
    chats for months and keep working."""
    if found := re.fullmatch(r"ad:p:(\d{1,18})", data):
        return OpenPerson(int(found[1]))
    if data == "pf:edit:unit_id":
        return EditProfile(ProfileField.UNIT)
    raise InvalidAction(data)


def _pattern(
    code: str, fields: tuple[dataclasses.Field[Any], ...], types: dict[str, Any]
) -> re.Pattern[str]:
    """The exact shape of the packed data; fields with defaults may be missing at the end."""
    regex = re.escape(code)
    closing = ""
    for field in fields:
        part = SEPARATOR + _field_regex(types[field.name])
        has_default = (
            field.default is not dataclasses.MISSING
            or field.default_factory is not dataclasses.MISSING
        )
        if has_default:
            regex += f"(?:{part}"
            closing += ")?"
        else:
            if closing:
                raise TypeError(f"{code}: a field without a default follows one with a default")
            regex += part
    return re.compile(regex + closing)


def _field_regex(kind: Any) -> str:
    if kind is bool:
        return "[01]"
    if kind is int:
        return _INT
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return "(?:" + "|".join(re.escape(member.value) for member in kind) + ")"
    if kind is str:
        return _TEXT
    raise TypeError(f"an action field cannot be of type {kind!r}")


def _encode(kind: Any, value: Any) -> str:
    if kind is bool:
        return "1" if value else "0"
    text = str(value.value if isinstance(value, StrEnum) else value)
    if not re.fullmatch(_field_regex(kind), text):
        raise ValueError(f"{text!r} cannot travel in button data")
    return text


def _decode(kind: Any, text: str) -> Any:
    if kind is bool:
        return text == "1"
    if kind is int:
        return int(text)
    if isinstance(kind, type) and issubclass(kind, StrEnum):
        return kind(text)
    return text


# --- the actions ------------------------------------------------------------------------------
# Codes are the wire contract: never rename one (tests/unit/test_actions.py pins them).


@action("person")
@dataclasses.dataclass(frozen=True, slots=True)
class OpenPerson(Action):
    """A staff member opens a person's card; from another card (`back`), it leads back."""

    person_id: int
    back: int = 0


@action("people")
@dataclasses.dataclass(frozen=True, slots=True)
class PeoplePage(Action):
    """A page of people search results: the query as `search_key`, optionally one unit."""

    query: str
    unit_id: int
    page: int


@action("people.unit")
@dataclasses.dataclass(frozen=True, slots=True)
class NarrowPeopleByUnit(Action):
    query: str


@action("pending")
@dataclasses.dataclass(frozen=True, slots=True)
class PendingPage(Action):
    page: int


@action("verify")
@dataclasses.dataclass(frozen=True, slots=True)
class VerifyPerson(Action):
    person_id: int


@action("verify.notme")
@dataclasses.dataclass(frozen=True, slots=True)
class RefuseTypedLink(Action):
    """A unit head says whoever typed this roster record's phone number on Zalo is not its
    cadre: the link is undone. Unconfirmed, it asks first."""

    person_id: int
    confirmed: bool = False


@action("return")
@dataclasses.dataclass(frozen=True, slots=True)
class ReturnPerson(Action):
    """A unit head says a self-declared cadre is not in their unit."""

    person_id: int


@action("return.why")
@dataclasses.dataclass(frozen=True, slots=True)
class ReturnPersonFor(Action):
    """The reason chosen for returning a profile; a note may follow."""

    person_id: int
    reason: ReturnReason


@action("merge")
@dataclasses.dataclass(frozen=True, slots=True)
class MergeProfile(Action):
    """An administrator merges a self-declared profile into the record it duplicates;
    unconfirmed, it asks first."""

    duplicate_id: int
    keeper_id: int
    confirmed: bool = False


@action("pool")
@dataclasses.dataclass(frozen=True, slots=True)
class SetSourcePool(Action):
    """The wanted state, not a toggle: a double tap changes nothing. Unconfirmed, it asks
    first."""

    person_id: int
    member: bool
    confirmed: bool = False


@action("role")
@dataclasses.dataclass(frozen=True, slots=True)
class SetRole(Action):
    """The wanted state, not a toggle: a double tap changes nothing. Unconfirmed, it asks
    first."""

    person_id: int
    role: Role
    held: bool
    confirmed: bool = False


@action("profile")
@dataclasses.dataclass(frozen=True, slots=True)
class ShowProfile(Action):
    pass


@action("edit")
@dataclasses.dataclass(frozen=True, slots=True)
class EditProfile(Action):
    """A cadre changes one field of their self-declared profile."""

    field: ProfileField


@action("claim")
@dataclasses.dataclass(frozen=True, slots=True)
class ClaimRecord(Action):
    """ "This roster record is me": the phone of one's self-declared profile found it."""

    person_id: int


@action("phone")
@dataclasses.dataclass(frozen=True, slots=True)
class AskPhone(Action):
    """A cadre adds or changes the phone of a self-declared profile."""


@action("mydata")
@dataclasses.dataclass(frozen=True, slots=True)
class SendMyData(Action):
    pass


@action("lang")
@dataclasses.dataclass(frozen=True, slots=True)
class ChooseLanguage(Action):
    keeps_dialogue = True


@action("setlang")
@dataclasses.dataclass(frozen=True, slots=True)
class SetLanguage(Action):
    keeps_dialogue = True

    language: str


@action("withdraw")
@dataclasses.dataclass(frozen=True, slots=True)
class AskWithdrawal(Action):
    pass


@action("withdraw.yes")
@dataclasses.dataclass(frozen=True, slots=True)
class ConfirmWithdrawal(Action):
    pass


@action("withdraw.no")
@dataclasses.dataclass(frozen=True, slots=True)
class KeepConsent(Action):
    pass


@action("delivery")
@dataclasses.dataclass(frozen=True, slots=True)
class RefreshDeliveryReport(Action):
    """Shows a batch's delivery report; `shown` is the digest of the report on screen, so a
    refresh that would change nothing says so (Telegram refuses an edit that changes nothing)."""

    batch_id: int
    shown: str = ""


@action("dlg")
@dataclasses.dataclass(frozen=True, slots=True)
class DialogueChoice(Action):
    """An answer offered under a question of a dialogue; valid while that question is the
    latest one asked (`token`, see DialogueState.token)."""

    dialogue: str
    token: str
    value: str


@action("nav")
@dataclasses.dataclass(frozen=True, slots=True)
class DialogueNav(Action):
    """Back, Cancel, or "change this answer" (`target`) under a question of a dialogue."""

    dialogue: str
    token: str
    op: NavOp
    target: str = ""


# --- classes, enrolment, timetable -----------------------------------------------------------


@action("cat")
@dataclasses.dataclass(frozen=True, slots=True)
class BrowseCatalog(Action):
    """A page of a cadre's catalog view; the view (filters, search) is kept on the server
    under `view` (see CatalogService), since 64 bytes cannot hold it."""

    view: str
    page: int = 0


@action("cat.f")
@dataclasses.dataclass(frozen=True, slots=True)
class CatalogFilterMenu(Action):
    """The choices of one filter of a catalog view (kind, month, format)."""

    view: str
    field: str


@action("cat.set")
@dataclasses.dataclass(frozen=True, slots=True)
class CatalogSetFilter(Action):
    """Narrows a view: `field` to `value` ("" for any); the view goes back to its first page."""

    view: str
    field: str
    value: str = ""


@action("cat.q")
@dataclasses.dataclass(frozen=True, slots=True)
class CatalogSearch(Action):
    """Asks for words to search the names and codes of classes."""

    view: str = ""


@action("class")
@dataclasses.dataclass(frozen=True, slots=True)
class OpenClass(Action):
    """A class's card; `view` is the catalog view it was opened from (its Back button)."""

    class_id: int
    view: str = ""


@action("class.tt")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassTimetable(Action):
    class_id: int
    view: str = ""
    #: From a reminder or notice: answer in a new message, so the reminder stays readable.
    fresh: bool = False


@action("enrol")
@dataclasses.dataclass(frozen=True, slots=True)
class Enrol(Action):
    """Enrol (or join the waitlist): unconfirmed, it shows what it means first; confirmed
    with `clashes_seen` when that showed clashes with the cadre's timetable."""

    class_id: int
    confirmed: bool = False
    clashes_seen: bool = False
    view: str = ""


@action("unenrol")
@dataclasses.dataclass(frozen=True, slots=True)
class Withdraw(Action):
    """Leave a class or its waitlist: unconfirmed, it asks first."""

    class_id: int
    confirmed: bool = False
    view: str = ""


@action("sched")
@dataclasses.dataclass(frozen=True, slots=True)
class ShowSchedule(Action):
    """A timetable: the cadre's own ("today", "week", "all"), what they teach (`teaching`),
    or, for a unit head, which of their staff are enrolled ("staff")."""

    span: str = "week"
    teaching: bool = False


@action("class.list")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassRoster(Action):
    """An administrator's list of a class's learners and waitlist."""

    class_id: int


@action("class.cancel")
@dataclasses.dataclass(frozen=True, slots=True)
class CancelClass(Action):
    """Cancel a class: unconfirmed, it asks first (learners and waitlist are told)."""

    class_id: int
    confirmed: bool = False


# --- the training office: plans, programmes, classes -------------------------------------------


@action("plans")
@dataclasses.dataclass(frozen=True, slots=True)
class ShowPlans(Action):
    """The yearly plans, with their targets and buttons; `fresh` (from a reminder) in a new
    message, the reminder kept."""

    fresh: bool = False


@action("plan.new")
@dataclasses.dataclass(frozen=True, slots=True)
class NewPlanDialogue(Action):
    """Starts the dialogue that creates a plan."""


@action("plan.approve")
@dataclasses.dataclass(frozen=True, slots=True)
class ApprovePlan(Action):
    plan_id: int


@action("plan.targets")
@dataclasses.dataclass(frozen=True, slots=True)
class ChangeTargets(Action):
    plan_id: int


@action("plan.classes")
@dataclasses.dataclass(frozen=True, slots=True)
class PlanClasses(Action):
    plan_id: int


@action("prog.new")
@dataclasses.dataclass(frozen=True, slots=True)
class NewProgrammeDialogue(Action):
    """Starts the dialogue that adds a programme."""


@action("class.admin")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassAdminCard(Action):
    """A class as administrators manage it; `fresh` (from a reminder listing several) in a
    new message, the list kept."""

    class_id: int
    fresh: bool = False


@action("class.open")
@dataclasses.dataclass(frozen=True, slots=True)
class OpenEnrolment(Action):
    """A planned class opens for enrolment."""

    class_id: int


@action("class.cap")
@dataclasses.dataclass(frozen=True, slots=True)
class ChangeCapacity(Action):
    class_id: int


@action("class.addsess")
@dataclasses.dataclass(frozen=True, slots=True)
class AddSessions(Action):
    class_id: int


@action("class.sessions")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassSessions(Action):
    """The coming sessions of a class, to choose one to move or cancel."""

    class_id: int


@action("sess")
@dataclasses.dataclass(frozen=True, slots=True)
class PickSession(Action):
    session_id: int


@action("sess.move")
@dataclasses.dataclass(frozen=True, slots=True)
class MoveSession(Action):
    session_id: int


@action("sess.place")
@dataclasses.dataclass(frozen=True, slots=True)
class ChangeSessionPlace(Action):
    """Give one session a room or a meeting link of its own (switch it online), or send it
    back to its class's place."""

    session_id: int


@action("sess.cancel")
@dataclasses.dataclass(frozen=True, slots=True)
class CancelSession(Action):
    """Cancel one session: unconfirmed, it asks first."""

    session_id: int
    confirmed: bool = False


@action("class.repeat")
@dataclasses.dataclass(frozen=True, slots=True)
class AllowRepeat(Action):
    """Let one person take this class despite earlier training on the same content."""

    class_id: int


@action("rem")
@dataclasses.dataclass(frozen=True, slots=True)
class ReminderSettings(Action):
    """The reminder settings screen (/settings)."""


@action("rem.on")
@dataclasses.dataclass(frozen=True, slots=True)
class SwitchReminders(Action):
    enabled: bool


@action("rem.lead")
@dataclasses.dataclass(frozen=True, slots=True)
class ToggleLead(Action):
    """A lead ticked (`chosen`) or unticked: the state wanted, not a flip, so a second tap
    or a tap on an older screen does what its label said."""

    lead: Lead
    chosen: bool = True


@action("rem.via")
@dataclasses.dataclass(frozen=True, slots=True)
class ChooseNotifyVia(Action):
    """Where a person on both Telegram and Zalo gets their messages."""

    via: NotifyVia


@action("rem.quiet")
@dataclasses.dataclass(frozen=True, slots=True)
class ChangeQuietHours(Action):
    """Starts the dialogue that asks for new quiet hours."""


@action("rem.classes")
@dataclasses.dataclass(frozen=True, slots=True)
class ReminderClasses(Action):
    page: int = 0


@action("rem.mute")
@dataclasses.dataclass(frozen=True, slots=True)
class MuteClass(Action):
    """Reminders of one class off (`muted`), or back on; tapped under a reminder, or in the
    list of one's classes (`listed`), which is shown again."""

    class_id: int
    muted: bool = True
    listed: bool = False


@action("class.close")
@dataclasses.dataclass(frozen=True, slots=True)
class CloseClass(Action):
    """Close a class whose last session has ended: unconfirmed, it asks first."""

    class_id: int
    confirmed: bool = False


@action("dlv.kinds")
@dataclasses.dataclass(frozen=True, slots=True)
class DeliveryKinds(Action):
    """What the bot sent on its own in the last days, kind by kind."""


@action("dlv.kind")
@dataclasses.dataclass(frozen=True, slots=True)
class DeliveryKindReport(Action):
    """One kind of those: its figures and the cadres it could not reach, by unit."""

    kind: MessageKind


@action("att")
@dataclasses.dataclass(frozen=True, slots=True)
class SessionAttendance(Action):
    """A session's attendance card for its lecturer or an administrator: check-in, roll call;
    `fresh`: as a new message (from a reminder, whose list stays). A roll call in progress
    stays open under it."""

    keeps_dialogue = True

    session_id: int
    fresh: bool = False


@action("roll")
@dataclasses.dataclass(frozen=True, slots=True)
class RollCall(Action):
    """The roll call of a session, at a page of its class list; tapped while that roll call
    is open, it goes back to it."""

    keeps_dialogue = True

    session_id: int
    page: int = 0


@action("class.rules")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassRules(Action):
    """Change a class's attendance rules: when a check-in is late, what completion needs."""

    class_id: int


@action("res")
@dataclasses.dataclass(frozen=True, slots=True)
class ResultsSheet(Action):
    """A class's learners with their attendance and results, at a page (administrators)."""

    class_id: int
    page: int = 0


@action("res.pick")
@dataclasses.dataclass(frozen=True, slots=True)
class PickResult(Action):
    """One learner of the results sheet: the outcomes to choose from."""

    class_id: int
    person_id: int
    page: int = 0


@action("res.set")
@dataclasses.dataclass(frozen=True, slots=True)
class SetResult(Action):
    """Record a learner's outcome; `override` completes one below the threshold (confirmed)."""

    class_id: int
    person_id: int
    outcome: Outcome
    override: bool = False
    page: int = 0


@action("res.tpl")
@dataclasses.dataclass(frozen=True, slots=True)
class ResultsTemplate(Action):
    """Send the class's results workbook to fill in."""

    class_id: int


@action("res.file")
@dataclasses.dataclass(frozen=True, slots=True)
class SendResultsFile(Action):
    """Wait for the filled results workbook of the class."""

    class_id: int


@action("lv")
@dataclasses.dataclass(frozen=True, slots=True)
class AskLeave(Action):
    """A learner starts an excused-absence request (from their timetable)."""


@action("lv.do")
@dataclasses.dataclass(frozen=True, slots=True)
class DecideLeave(Action):
    """A decider approves or rejects an excused-absence request (from its own message, or
    from the list of those waiting: `listed`, which is shown again)."""

    request_id: int
    approve: bool
    listed: bool = False


@action("ci.open")
@dataclasses.dataclass(frozen=True, slots=True)
class OpenCheckin(Action):
    """Opens a session's self check-in and shows its code and QR for the projector."""

    session_id: int


@action("ci.stop")
@dataclasses.dataclass(frozen=True, slots=True)
class StopCheckin(Action):
    """Ends a session's self check-in before the session does."""

    session_id: int


@action("ci")
@dataclasses.dataclass(frozen=True, slots=True)
class CheckIn(Action):
    """A learner checks in to an online session from its reminder, without a code."""

    session_id: int


@action("rec")
@dataclasses.dataclass(frozen=True, slots=True)
class ShowRecord(Action):
    """A cadre's training record: one's own (0), or a person's from their card (the server
    checks the reach again on every tap)."""

    person_id: int = 0


@action("rec.class")
@dataclasses.dataclass(frozen=True, slots=True)
class RecordClass(Action):
    """One class of a training record: each session with its mark, and the standing."""

    class_id: int
    person_id: int = 0


@action("rec.file")
@dataclasses.dataclass(frozen=True, slots=True)
class DownloadRecord(Action):
    """A training record sent as a file (PDF or workbook)."""

    fmt: RecordFormat
    person_id: int = 0


@action("att.list")
@dataclasses.dataclass(frozen=True, slots=True)
class AttendanceList(Action):
    """A lecturer's sessions to take attendance of: today's, or the past month's (`past`)."""

    past: bool = False


@action("lv.list")
@dataclasses.dataclass(frozen=True, slots=True)
class PendingLeave(Action):
    """The excused-absence requests waiting for this lecturer (or the office) to decide."""


@action("rp")
@dataclasses.dataclass(frozen=True, slots=True)
class ReportPeriods(Action):
    """The progress report's choice of periods."""


@action("rp.show")
@dataclasses.dataclass(frozen=True, slots=True)
class ShowReport(Action):
    """One view of the progress report of a period (its token, bot.report.Period.token)."""

    period: str
    view: ReportView = ReportView.OVERVIEW


@action("rp.dates")
@dataclasses.dataclass(frozen=True, slots=True)
class TypeReportDates(Action):
    """The progress report of dates the staff member types."""


@action("rp.xlsx")
@dataclasses.dataclass(frozen=True, slots=True)
class ReportWorkbook(Action):
    """The progress report of a period as one workbook, every breakdown a sheet."""

    period: str


@action("rp.chart")
@dataclasses.dataclass(frozen=True, slots=True)
class ReportChart(Action):
    """The chart of one view of the progress report."""

    period: str
    view: ReportView = ReportView.OVERVIEW


@action("rp.person")
@dataclasses.dataclass(frozen=True, slots=True)
class ReportPerson(Action):
    """From the progress report: find a person, whose card opens their training record."""


@action("aud")
@dataclasses.dataclass(frozen=True, slots=True)
class ShowAuditLog(Action):
    """A page of the audit log: a period (days as 20261001), optionally a person (0: anyone)
    and a kind of action ("": all). The server checks the administrator on every tap."""

    first: int
    last: int
    person_id: int = 0
    kind: str = ""
    page: int = 0


@action("aud.when")
@dataclasses.dataclass(frozen=True, slots=True)
class AuditPeriods(Action):
    """The periods to choose from, keeping the person and the kind."""

    first: int
    last: int
    person_id: int = 0
    kind: str = ""


@action("aud.pre")
@dataclasses.dataclass(frozen=True, slots=True)
class AuditPreset(Action):
    """A period named by a button (this month, …), counted from the day it is tapped."""

    preset: PeriodPreset
    person_id: int = 0
    kind: str = ""


@action("aud.type")
@dataclasses.dataclass(frozen=True, slots=True)
class TypeAuditPeriod(Action):
    """Asks for the days of the period, typed."""

    person_id: int = 0
    kind: str = ""


@action("aud.who")
@dataclasses.dataclass(frozen=True, slots=True)
class PickAuditPerson(Action):
    """Asks for a person's name, to narrow the log to what concerns them."""

    first: int
    last: int
    kind: str = ""


@action("aud.kinds")
@dataclasses.dataclass(frozen=True, slots=True)
class AuditKinds(Action):
    """The kinds of action in the period, to narrow the log to one."""

    first: int
    last: int
    person_id: int = 0


@action("aud.xlsx")
@dataclasses.dataclass(frozen=True, slots=True)
class ExportAuditLog(Action):
    """The entries of the view as a workbook."""

    first: int
    last: int
    person_id: int = 0
    kind: str = ""


@action("rp.class")
@dataclasses.dataclass(frozen=True, slots=True)
class ReportClass(Action):
    """One class in detail, from the progress report of a period (to come back to)."""

    period: str
    class_id: int


@action("cal.mine")
@dataclasses.dataclass(frozen=True, slots=True)
class MyCalendarFile(Action):
    """The learner's sessions as a calendar file (.ics) for their phone."""


@action("cal.class")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassCalendarFile(Action):
    """One class's sessions as a calendar file, for a learner of that class."""

    class_id: int


@action("clink")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassLinks(Action):
    """A class's deep link for posters and Zalo groups (made on the first ask)."""

    class_id: int


@action("clink.poster")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassPoster(Action):
    """The printable poster with the class's QR code, and the link to paste."""

    class_id: int


@action("clink.revoke")
@dataclasses.dataclass(frozen=True, slots=True)
class RevokeClassLink(Action):
    """Revoke link `link_id` of the class: unconfirmed, it asks first."""

    class_id: int
    link_id: int
    confirmed: bool = False


@action("clink.new")
@dataclasses.dataclass(frozen=True, slots=True)
class RenewClassLink(Action):
    """A new link in place of `link_id` (0: none is live); unconfirmed, it asks first."""

    class_id: int
    link_id: int = 0
    confirmed: bool = False


@action("cl")
@dataclasses.dataclass(frozen=True, slots=True)
class ShowClassList(Action):
    """A page of a class's list (administrators, its lecturers, unit heads for their staff:
    the server checks on every tap)."""

    class_id: int
    page: int = 0


@action("nom")
@dataclasses.dataclass(frozen=True, slots=True)
class NominateStaff(Action):
    """A unit head starts choosing staff of their units to send to a class (cử đi học); with
    no class, a page of the classes open to choose one from."""

    class_id: int
    page: int = 0


@action("cl.xlsx")
@dataclasses.dataclass(frozen=True, slots=True)
class ClassListWorkbook(Action):
    """A class's list as a workbook to print."""

    class_id: int


@action("nom.no")
@dataclasses.dataclass(frozen=True, slots=True)
class DeclineNomination(Action):
    """A nominee declines the class they were nominated to (a reason is asked)."""

    class_id: int


@action("nom.list")
@dataclasses.dataclass(frozen=True, slots=True)
class NominatedStaff(Action):
    """A unit head's staff in one class (or, with no class, in every class not over)."""

    class_id: int = 0
    page: int = 0


@action("ap.yes")
@dataclasses.dataclass(frozen=True, slots=True)
class ApproveEnrolment(Action):
    """A decider approves an enrolment waiting for approval: from the request itself, or
    from the list of those waiting (`listed`, which is shown again)."""

    enrolment_id: int
    listed: bool = False


@action("ap.no")
@dataclasses.dataclass(frozen=True, slots=True)
class RejectEnrolment(Action):
    """A decider means to reject an enrolment: a short reason is asked first (or none)."""

    enrolment_id: int
    listed: bool = False


@action("ap.list")
@dataclasses.dataclass(frozen=True, slots=True)
class PendingApprovals(Action):
    """The enrolments waiting for this decider's approval; `fresh`: in a new message (from a
    reminder, which stays)."""

    fresh: bool = False


@action("class.approval")
@dataclasses.dataclass(frozen=True, slots=True)
class SetApprovalRequired(Action):
    """An administrator turns on (or off) the unit head's approval of a class's enrolments:
    the wanted state, so a second tap on an old card changes nothing."""

    class_id: int
    required: bool

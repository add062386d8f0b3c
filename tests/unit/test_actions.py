"""Button data: typed, packed in one place, and a stable contract with messages already sent."""

from __future__ import annotations

import dataclasses

import pytest

from bot.actions import (
    MAX_BYTES,
    Action,
    DialogueChoice,
    DialogueNav,
    EditProfile,
    InvalidAction,
    OpenPerson,
    SetRole,
    SetSourcePool,
    ShowReport,
    action,
    registered,
    unpack,
)
from bot.domain import NavOp, ProfileField, Role
from bot.report import ReportView

#: The wire codes of every action. Buttons under messages already sent (and queued in the
#: outbox) carry these: a code must never be renamed or reused. Add new ones at the end.
WIRE_CODES = {
    "person": "OpenPerson",
    "verify": "VerifyPerson",
    "return": "ReturnPerson",
    "pool": "SetSourcePool",
    "role": "SetRole",
    "profile": "ShowProfile",
    "edit": "EditProfile",
    "mydata": "SendMyData",
    "lang": "ChooseLanguage",
    "setlang": "SetLanguage",
    "withdraw": "AskWithdrawal",
    "withdraw.yes": "ConfirmWithdrawal",
    "withdraw.no": "KeepConsent",
    "delivery": "RefreshDeliveryReport",
    "dlg": "DialogueChoice",
    "nav": "DialogueNav",
    "phone": "AskPhone",
    "people": "PeoplePage",
    "people.unit": "NarrowPeopleByUnit",
    "pending": "PendingPage",
    "return.why": "ReturnPersonFor",
    "merge": "MergeProfile",
    "claim": "ClaimRecord",
    "cat": "BrowseCatalog",
    "cat.f": "CatalogFilterMenu",
    "cat.set": "CatalogSetFilter",
    "cat.q": "CatalogSearch",
    "class": "OpenClass",
    "class.tt": "ClassTimetable",
    "enrol": "Enrol",
    "unenrol": "Withdraw",
    "sched": "ShowSchedule",
    "class.list": "ClassRoster",
    "class.cancel": "CancelClass",
    "plans": "ShowPlans",
    "plan.new": "NewPlanDialogue",
    "plan.approve": "ApprovePlan",
    "plan.targets": "ChangeTargets",
    "plan.classes": "PlanClasses",
    "prog.new": "NewProgrammeDialogue",
    "class.admin": "ClassAdminCard",
    "class.open": "OpenEnrolment",
    "class.cap": "ChangeCapacity",
    "class.addsess": "AddSessions",
    "class.sessions": "ClassSessions",
    "sess": "PickSession",
    "sess.move": "MoveSession",
    "sess.cancel": "CancelSession",
    "sess.place": "ChangeSessionPlace",
    "class.repeat": "AllowRepeat",
    "rem": "ReminderSettings",
    "rem.on": "SwitchReminders",
    "rem.lead": "ToggleLead",
    "rem.via": "ChooseNotifyVia",
    "rem.quiet": "ChangeQuietHours",
    "rem.classes": "ReminderClasses",
    "rem.mute": "MuteClass",
    "class.close": "CloseClass",
    "dlv.kinds": "DeliveryKinds",
    "dlv.kind": "DeliveryKindReport",
    "att": "SessionAttendance",
    "roll": "RollCall",
    "class.rules": "ClassRules",
    "att.list": "AttendanceList",
    "lv.list": "PendingLeave",
    "res": "ResultsSheet",
    "res.pick": "PickResult",
    "res.set": "SetResult",
    "res.tpl": "ResultsTemplate",
    "res.file": "SendResultsFile",
    "lv": "AskLeave",
    "lv.do": "DecideLeave",
    "ci.open": "OpenCheckin",
    "ci.stop": "StopCheckin",
    "ci": "CheckIn",
    "rec": "ShowRecord",
    "rec.class": "RecordClass",
    "rec.file": "DownloadRecord",
    "rp": "ReportPeriods",
    "rp.show": "ShowReport",
    "rp.dates": "TypeReportDates",
    "rp.xlsx": "ReportWorkbook",
    "rp.chart": "ReportChart",
    "rp.person": "ReportPerson",
    "aud": "ShowAuditLog",
    "aud.when": "AuditPeriods",
    "aud.pre": "AuditPreset",
    "aud.type": "TypeAuditPeriod",
    "aud.who": "PickAuditPerson",
    "aud.kinds": "AuditKinds",
    "aud.xlsx": "ExportAuditLog",
    "rp.class": "ReportClass",
    "cal.mine": "MyCalendarFile",
    "cal.class": "ClassCalendarFile",
    "clink": "ClassLinks",
    "clink.poster": "ClassPoster",
    "clink.revoke": "RevokeClassLink",
    "clink.new": "RenewClassLink",
    "cl": "ShowClassList",
    "cl.xlsx": "ClassListWorkbook",
    "nom": "NominateStaff",
    "nom.no": "DeclineNomination",
    "nom.list": "NominatedStaff",
    "ap.yes": "ApproveEnrolment",
    "ap.no": "RejectEnrolment",
    "ap.list": "PendingApprovals",
    "class.approval": "SetApprovalRequired",
    "verify.notme": "RefuseTypedLink",
}


def test_the_wire_codes_never_change() -> None:
    assert {code: cls.__name__ for code, cls in registered().items()} == WIRE_CODES


@pytest.mark.parametrize(
    ("tapped", "data"),
    [
        (OpenPerson(42), "person:42"),
        (OpenPerson(42, back=7), "person:42:7"),
        (SetSourcePool(7, True), "pool:7:1"),
        (SetRole(7, Role.UNIT_HEAD, False), "role:7:unit_head:0"),
        (EditProfile(ProfileField.UNIT), "edit:unit"),
        (DialogueChoice("onboarding", "unit", "12"), "dlg:onboarding:unit:12"),
        (
            DialogueNav("onboarding", "review", NavOp.EDIT, "name"),
            "nav:onboarding:review:edit:name",
        ),
        (ShowReport("d20260105.20261231", ReportView.ATTENDANCE), "rp.show:d20260105.20261231:a"),
    ],
)
def test_actions_pack_and_unpack_to_the_same_value(tapped: Action, data: str) -> None:
    assert tapped.pack() == data
    assert unpack(data) == tapped
    assert type(tapped).matches(data)


@pytest.mark.parametrize(
    "data",
    [
        "",
        "person",
        "person:",
        "person:abc",
        "person:1:2:3",
        "person:" + "9" * 40,
        "role:7:king:1",
        "pool:7:2",
        "edit:phone",
        "ad:v:5",  # the first release's form, for a button no notice carried
        "nobody:1",
        "person:1\n",
        "dlg:onboarding:unit:1:2",
        "ａｂｃ",
    ],
)
def test_anything_else_is_refused(data: str) -> None:
    with pytest.raises(InvalidAction):
        unpack(data)
    assert not OpenPerson.matches(data)


def test_the_buttons_the_first_release_sent_in_notices_still_work() -> None:
    assert unpack("ad:p:17") == OpenPerson(17)
    assert OpenPerson.matches("ad:p:17")
    assert unpack("pf:edit:unit_id") == EditProfile(ProfileField.UNIT)
    assert not OpenPerson.matches("ad:p:17\n")


def test_an_action_of_another_kind_does_not_unpack_as_this_one() -> None:
    with pytest.raises(InvalidAction):
        OpenPerson.unpack(SetSourcePool(1, True).pack())


def test_a_field_appended_with_a_default_keeps_older_buttons_working() -> None:
    assert unpack("nav:announce:preview:cancel") == DialogueNav("announce", "preview", NavOp.CANCEL)


def test_data_that_cannot_travel_is_a_bug_found_when_packing() -> None:
    with pytest.raises(ValueError, match="cannot travel"):
        DialogueChoice("onboarding", "unit", "a:b").pack()
    with pytest.raises(ValueError, match="64-byte"):
        DialogueChoice("d" * 30, "s" * 30, "v").pack()
    assert len(DialogueNav("onboarding", "ethnicity", NavOp.EDIT, "birth_year").pack()) <= MAX_BYTES


def test_codes_are_unique_and_actions_must_be_frozen() -> None:
    with pytest.raises(ValueError, match="taken"):

        @action("person")
        @dataclasses.dataclass(frozen=True)
        class Duplicate(Action):
            person_id: int

    with pytest.raises(TypeError, match="frozen"):

        @action("mutable.test")
        @dataclasses.dataclass
        class Mutable(Action):
            person_id: int

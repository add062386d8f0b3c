"""Message catalogs: complete in every language, used by the code, valid Telegram HTML, safe
with any input, and formatted the way each language writes numbers, dates and plurals."""

from __future__ import annotations

import ast
import re
import string
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.attendance import LeaveStatus, Mark, MarkSource, Outcome, WarningLevel
from bot.audience import AudienceKind
from bot.audit_log import PeriodPreset
from bot.channels import Channel
from bot.clock import SystemClock
from bot.domain import (
    GRANTABLE_ROLES,
    AuditAction,
    Employment,
    Gender,
    MessageKind,
    ProfileField,
    ReturnReason,
)
from bot.i18n import (
    DEFAULT_TIMEZONE,
    LANGUAGES,
    ZALO_SECTION,
    MissingText,
    Template,
    Texts,
    catalog,
    channel_overrides,
    t,
)
from bot.imports.kinds import importers
from bot.imports.roster import UNIT_KINDS
from bot.menus import LEARNER_COMMANDS, MAIN_KEYBOARD, STAFF_COMMANDS
from bot.results_workbook import Column
from bot.services.catalog import FILTERS
from bot.services.checkin import CheckinStatus
from bot.training import ACTIVE_ENROLMENT, ClassKind, ClassStatus, PriorityGroup
from handlers.schedule import SPANS
from storage.schema import OUTBOX_STATES
from tools.emulator.entities import parse_html

ROOT = Path(__file__).resolve().parents[2]
KEY = re.compile(r"[a-z_]+(\.[a-z0-9_]+)+")
FAMILY = re.compile(r"[a-z_]+\.[a-z_]*")
IMPORTERS = importers(SystemClock(), DEFAULT_TIMEZONE)

#: Keys the code builds from a value (f"gender.{g}"): each family lists all its members.
DYNAMIC = {
    "gender.": {f"gender.{g.value}" for g in Gender},
    "role.": {f"role.{r.value}" for r in GRANTABLE_ROLES},
    "language.name_": {f"language.name_{lang}" for lang in LANGUAGES},
    "fields.edit_": {f"fields.edit_{f.value}" for f in ProfileField},
    "command.": {
        f"command.{name}"
        for name in {*LEARNER_COMMANDS, *(c for cs in STAFF_COMMANDS.values() for c in cs)}
    },
    "error.": {f"error.{kind}_unknown" for kind in ("title", "ethnicity")},
    "menu.": {f"menu.{name}" for name in MAIN_KEYBOARD},
    "audit.": {f"audit.{action.value}" for action in AuditAction},
    "message_kind.": {f"message_kind.{kind.value}" for kind in MessageKind},
    "delivery_state.": {f"delivery_state.{state}" for state in OUTBOX_STATES},
    "admin.reason_": {f"admin.reason_{reason.value}" for reason in ReturnReason},
    "notice.returned_": {f"notice.returned_{reason.value}" for reason in ReturnReason},
    "profile.employment_": {f"profile.employment_{kind.value}" for kind in Employment},
    "catalog.mark_": {f"catalog.mark_{s.value}" for s in ACTIVE_ENROLMENT},
    "catalog.choose_": {f"catalog.choose_{field}" for field in FILTERS},
    "schedule.heading_": {
        f"schedule.heading_{kind}_{span}" for kind in ("mine", "teaching") for span in SPANS
    },
    "schedule.empty_": {f"schedule.empty_{kind}" for kind in ("mine", "teaching")},
    "schedule.span_": {f"schedule.span_{span}" for span in SPANS},
    "schedule.staff_": {f"schedule.staff_{s.value}" for s in ACTIVE_ENROLMENT},
    "attendance.warning_": {
        f"attendance.warning_{level.value}_{to}"
        for level in WarningLevel
        for to in ("learner", "head")
    },
    "attendance.mark.": {f"attendance.mark.{m.value}" for m in Mark},
    "mydata.source_": {f"mydata.source_{s.value}" for s in MarkSource},
    "mydata.leave_": {f"mydata.leave_{s.value}" for s in LeaveStatus},
    "leave.mine_": {f"leave.mine_{s.value}" for s in LeaveStatus},
    "results.outcome.": {f"results.outcome.{o.value}" for o in Outcome},
    "results.column.": {f"results.column.{c.value}" for c in Column},
    "checkin.status_": {f"checkin.status_{s.value}" for s in CheckinStatus},
    "checkin.list_heading_": {f"checkin.list_heading_{k}" for k in ("today", "past")},
    "checkin.list_empty_": {f"checkin.list_empty_{k}" for k in ("today", "past")},
    "checkin.already_": {f"checkin.already_{m.value}" for m in Mark},
    "checkin.done_": {f"checkin.done_{m.value}" for m in Mark if m.attended},
    "record.outcome.": {f"record.outcome.{o.value}" for o in Outcome},
    "training.kind_": {f"training.kind_{k.value}" for k in ClassKind},
    "roll.entry.": {f"roll.entry.{m.value}" for m in Mark} | {"roll.entry.unmarked"},
    "training.group_": {f"training.group_{g.value}" for g in PriorityGroup},
    "report.period_h": {"report.period_h1", "report.period_h2"},
    "report.level_": {f"report.level_{level.value}" for level in WarningLevel},
    "training.status_": {f"training.status_{s.value}" for s in ClassStatus},
    "audit_log.preset_": {f"audit_log.preset_{p.value}" for p in PeriodPreset},
    "announce.pick_": {f"announce.pick_{k.value}" for k in AudienceKind},
    "delivery.to_": {f"delivery.to_{k.value}" for k in AudienceKind},
    "import.col.": {
        f"import.col.{k.value}.{c.key}" for k, i in IMPORTERS.items() for c in i.columns
    },
    "import.help.": {
        f"import.help.{k.value}.{c.key}" for k, i in IMPORTERS.items() for c in i.columns
    },
    "import.kind.": {f"import.kind.{k.value}" for k in IMPORTERS},
    "import.sheet.": {f"import.sheet.{k.value}" for k in IMPORTERS},
    "import.file_name.": {f"import.file_name.{k.value}" for k in IMPORTERS},
    "import.key_note.": {f"import.key_note.{k.value}" for k in IMPORTERS},
    "nomination.blocked_": {f"nomination.blocked_{s.value}" for s in ACTIVE_ENROLMENT},
    "nomination.status_": {
        f"nomination.status_{s}"
        for s in ("nominated", "enrolled", "waitlisted", "pending", "declined")
    },
    "import.unit_kind.": {f"import.unit_kind.{k}" for k in UNIT_KINDS},
}
SAMPLE = {"number": 2668, "percent": 0.625, "date": date(2026, 3, 5), "phone": "+84912345678"}


def _variants(template: Template) -> list[str]:
    return list(template.values()) if isinstance(template, dict) else [template]


def _fields(template: Template) -> dict[str, str]:
    return {
        name: spec
        for text in _variants(template)
        for _, name, spec, _ in string.Formatter().parse(text)
        if name
    }


def _filled(text: str) -> dict[str, object]:
    moment = datetime(2026, 3, 5, 1, 30, tzinfo=UTC)
    values: dict[str, object] = {}
    for _, name, spec, _ in string.Formatter().parse(text):
        if name:
            moments = ("time", "datetime", "date", "day", "short")  # a moment serves them all
            values[name] = moment if spec in moments else SAMPLE.get(spec or "", "x")
    return values


def _code_keys() -> tuple[set[str], set[str]]:
    """String constants in the application that name a catalog key, and the prefixes of the
    keys built with f-strings."""
    sections = {key.split(".")[0] for key in catalog("vi")}
    literal: set[str] = set()
    prefixes: set[str] = set()
    for folder in ("bot", "handlers", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            if "migrations" in path.parts:  # history: they name keys of earlier releases
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            parts = {
                id(v) for n in ast.walk(tree) if isinstance(n, ast.JoinedStr) for v in n.values
            }
            for node in ast.walk(tree):
                if id(node) in parts:
                    continue
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if KEY.fullmatch(node.value) and node.value.split(".")[0] in sections:
                        literal.add(node.value)
                elif isinstance(node, ast.JoinedStr) and node.values:
                    head = node.values[0]
                    if isinstance(head, ast.Constant) and FAMILY.fullmatch(str(head.value)):
                        prefixes.add(str(head.value))
    return literal, prefixes


def test_every_language_has_the_same_keys_and_placeholders() -> None:
    vi = catalog("vi")
    for lang in LANGUAGES:
        other = catalog(lang)
        assert set(other) == set(vi), lang
        for key, template in vi.items():
            assert _fields(other[key]) == _fields(template), (lang, key)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_plural_texts_have_every_form_the_language_needs(lang: str) -> None:
    for key, template in catalog(lang).items():
        if isinstance(template, dict):
            assert set(LANGUAGES[lang].plurals) <= set(template), (lang, key)
            assert "count" in _fields(template), key


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_is_valid_telegram_html(lang: str) -> None:
    texts = Texts(lang)
    for key, template in catalog(lang).items():
        counts = (1, 2, 2668) if isinstance(template, dict) else (None,)
        for count in counts:
            params = {
                name: value for v in _variants(template) for name, value in _filled(v).items()
            }
            if count is not None:
                params["count"] = count
            filled = texts(key, **params)
            parse_html(filled)  # raises on what Telegram would refuse
            assert 0 < len(filled) <= 4096, key


def test_every_key_the_code_uses_exists_and_every_text_is_used() -> None:
    literal, prefixes = _code_keys()
    unknown_families = prefixes - set(DYNAMIC)
    assert unknown_families == set(), "list the members of these key families in DYNAMIC"
    used = literal | {key for members in DYNAMIC.values() for key in members}
    keys = {key for key in catalog("vi") if not key.startswith(ZALO_SECTION)}
    assert sorted(used - keys) == []
    assert sorted(keys - used) == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_zalo_wordings_replace_texts_that_exist_and_fill_in_the_same_values(lang: str) -> None:
    base = catalog(lang)
    overrides = channel_overrides(lang, Channel.ZALO)
    assert overrides, lang
    for key, template in overrides.items():
        assert key in base and not key.startswith(ZALO_SECTION), (lang, key)
        assert set(_fields(template)) <= set(_fields(base[key])) | {"office"}, (lang, key)
        assert isinstance(template, dict) == isinstance(base[key], dict), (lang, key)


#: Words that send a reader to a button or a keyboard, which Zalo does not have.
TAPPING = {
    "vi": re.compile(r"bấm|nút|chạm|bàn phím", re.IGNORECASE),
    "en": re.compile(r"\btap|button|keyboard", re.IGNORECASE),
}
#: Texts a cadre meets on Zalo whose base wording says to tap, to share a contact, or
#: speaks of Telegram: each has its Zalo wording.
ZALO_WORDED = (
    "onboarding.ask_contact",
    "onboarding.retry_contact",
    "onboarding.phone_invalid",
    "onboarding.next_steps",
    "onboarding.welcome_back",
    "profile.ask_phone",
    "profile.typed_phone",
    "profile.withdraw_confirm",
    "language.keyboard",
    "dialogue.stale",
    "help.use_menu",
    "help.in_dialogue",
    "error.already_registered",
    "error.stale_button",
    "error.quiet_same",
    "notice.waitlist_promoted",
    "notice.role_granted_menu",
    "enrol.done",
    "enrol.nominated_decline",
    "catalog.expired",
    "change.notice",
    "reminder.muted",
    "reminder.settings_on",
    "reminder.settings_no_leads",
    "reminder.classes_intro",
    "reminder.quiet_ask",
    "notify_via.line",
    "leave.sent_nobody",
    "calendar.empty_mine",
    "calendar.empty_class",
    "nomination.told",
    "approval.told_approved",
)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_zalo_user_is_never_told_to_tap_a_button(lang: str) -> None:
    overrides = channel_overrides(lang, Channel.ZALO)
    assert sorted(set(ZALO_WORDED) - set(overrides)) == []
    for key, template in overrides.items():
        for text in _variants(template):
            assert not TAPPING[lang].search(text), (lang, key)


def test_a_zalo_user_reads_the_zalo_wording_and_a_telegram_user_the_base_one() -> None:
    [key, *_] = channel_overrides("vi", Channel.ZALO)
    on_zalo = Texts("vi", channel=Channel.ZALO)
    assert on_zalo(key) != Texts("vi")(key) == t("vi", key)
    assert on_zalo("button.cancel") == t("vi", "button.cancel")  # no override: the base
    assert channel_overrides("vi", Channel.TELEGRAM) == {}


def test_values_are_escaped_so_input_cannot_inject_markup() -> None:
    text = t("vi", "onboarding.welcome_back", name="<b>Lan</b> & </i>")
    plain, _ = parse_html(text)
    assert "<b>Lan</b> & </i>" in plain


def test_a_missing_text_is_an_error_not_a_key_shown_to_a_person() -> None:
    with pytest.raises(MissingText):
        t("vi", "onboarding.no_such_text")


def test_unknown_language_falls_back_to_vietnamese() -> None:
    assert t("fr", "button.cancel") == t("vi", "button.cancel")


def test_numbers_percents_and_dates_are_written_the_way_each_language_writes_them() -> None:
    vi, en = Texts("vi"), Texts("en")
    cases = {
        "{n:number}": ({"n": 2668}, "2.668", "2,668"),
        "{p:percent}": ({"p": 0.625}, "62,5%", "62.5%"),
        "{d:date}": ({"d": date(2026, 3, 5)}, "05/03/2026", "05/03/2026"),
        # 23:30 UTC is 06:30 the next morning in Vietnam.
        "{at:datetime}": (
            {"at": datetime(2026, 3, 4, 23, 30, tzinfo=UTC)},
            "06:30 05/03/2026",
            "06:30 05/03/2026",
        ),
        "{phone:phone}": ({"phone": "+84912345678"}, "0912 345 678", "0912 345 678"),
    }
    for template, (params, in_vi, in_en) in cases.items():
        assert vi.format(template, **params) == in_vi
        assert en.format(template, **params) == in_en


def test_plural_forms_follow_the_count() -> None:
    en = Texts("en")
    assert en("admin.pending_list", count=1).startswith("1 profile awaits")
    assert en("admin.pending_list", count=2668).startswith("2,668 profiles await")
    assert Texts("vi")("admin.pending_list", count=1).startswith("Có 1 hồ sơ")

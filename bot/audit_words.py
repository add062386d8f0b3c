"""Audit entries in words: what was done and what it recorded, not the codes and ids they are
stored with. One wording for a person's own history (/mydata) and the office's audit log."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from bot.audit_log import AuditLine
from bot.domain import GRANTABLE_ROLES, AuditAction, ProfileField, ReturnReason
from bot.i18n import Texts
from bot.imports.model import ImportKind
from bot.record_labels import plain

#: The labels of what audit entries record (their other details are internal ids).
DETAIL_LABELS = {
    "field": "mydata.detail_field",
    "reason": "mydata.detail_reason",
    "role": "mydata.detail_role",
    "unit_id": "mydata.detail_unit_id",
    "flag": "mydata.detail_flag",
    "merged_name": "mydata.detail_merged_name",
    "recipients": "mydata.detail_recipients",
    "class_id": "mydata.detail_class_id",
    "since": "mydata.detail_since",
    "until": "mydata.detail_until",
    "kind": "mydata.detail_kind",
    "entries": "mydata.detail_entries",
    "import_kind": "mydata.detail_import_kind",
}
FIELD_LABELS = {
    ProfileField.FULL_NAME: "mydata.full_name",
    ProfileField.UNIT: "mydata.unit",
    ProfileField.TITLE: "mydata.title",
    ProfileField.GENDER: "mydata.gender",
    ProfileField.BIRTH_YEAR: "mydata.birth_year",
    ProfileField.ETHNICITY: "mydata.ethnicity",
}

_ACTIONS = frozenset(a.value for a in AuditAction)
_REASONS = frozenset(r.value for r in ReturnReason)
_ROLES = frozenset(r.value for r in GRANTABLE_ROLES)
_IMPORT_KINDS = frozenset(k.value for k in ImportKind)


@dataclass(frozen=True, slots=True)
class DetailNames:
    """How the units and classes that entries refer to by id are called; a class not given
    here is left out of the words (a person's own history does not name them)."""

    units: Mapping[int, str] = field(default_factory=dict)
    classes: Mapping[int, str] = field(default_factory=dict)


def who(texts: Texts, line: AuditLine) -> str:
    """Who made the change: their name, the system, or an account no longer linked."""
    if line.actor_name:
        return line.actor_name
    if line.actor_telegram_id is None:
        return plain(texts, "audit_log.system")
    return plain(texts, "audit_log.account", id=line.actor_telegram_id)


def action_name(texts: Texts, action: str) -> str:
    """What an entry's action is called; one no longer known, as stored."""
    return texts(f"audit.{action}") if action in _ACTIONS else action


def details_text(texts: Texts, details: Mapping[str, object], names: DetailNames) -> str:
    """What an audit entry records, in words ("Thông tin: Đơn vị; Lý do: Không thuộc đơn
    vị"), not the codes and ids it is stored with."""
    parts = []
    for key, value in details.items():
        if key == "kind" and value in _IMPORT_KINDS:  # an import saved before it had its key
            key = "import_kind"
        label = DETAIL_LABELS.get(key)
        if label is None or value is None:
            continue
        worded = _detail_value(texts, key, value, names)
        if worded is not None:
            parts.append(f"{texts(label)}: {worded}")
    return "; ".join(parts)


def _detail_value(texts: Texts, key: str, value: object, names: DetailNames) -> str | None:
    match key, value:
        case "field", str() if value in FIELD_LABELS:
            return texts(FIELD_LABELS[ProfileField(value)])
        case "reason", str() if value in _REASONS:
            return texts(f"admin.reason_{value}")
        case "role", str() if value in _ROLES:
            return texts(f"role.{value}")
        case "unit_id", int():
            return names.units.get(value, "—")
        case "class_id", int():
            return names.classes.get(value)
        case "flag", bool():
            return texts("mydata.yes" if value else "mydata.no")
        case "kind", str():
            return action_name(texts, value)
        case "import_kind", str() if value in _IMPORT_KINDS:
            return texts(f"import.kind.{value}")
        case "since" | "until", str():
            return _day(texts, value)
        case _:
            return str(value)


def _day(texts: Texts, value: str) -> str:
    try:
        return texts.format("{day:date}", day=date.fromisoformat(value))
    except ValueError:
        return value

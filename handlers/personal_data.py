"""/mydata as people read it (a workbook in their language and local time) and as machines
read it (JSON, times in UTC)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.audit_words import DetailNames, action_name, details_text
from bot.domain import PersonalData
from bot.i18n import Texts
from handlers.ui import ROMAN, kind_name

DATE_TIME = "dd/mm/yyyy hh:mm"
WIDTH_MAX = 60


def workbook(texts: Texts, data: PersonalData, tz: tzinfo) -> bytes:
    """One sheet per kind of data, headers in bold and frozen, times in the local zone."""
    book = Workbook()
    profile = book.active
    assert profile is not None
    dash = "—"

    def local(moment: datetime | None) -> datetime | None:
        # Excel has no time zones: the local wall-clock time, as the person lives it.
        return moment.astimezone(tz).replace(tzinfo=None) if moment else None

    _fill(
        profile,
        texts("mydata.sheet_profile"),
        [texts("mydata.field"), texts("mydata.value")],
        _profile_rows(texts, data, local),
    )
    _fill(
        book.create_sheet(),
        texts("mydata.sheet_consents"),
        [texts("mydata.notice_version"), texts("mydata.given_at"), texts("mydata.withdrawn_at")],
        [[c.notice_version, local(c.given_at), local(c.withdrawn_at) or dash]
         for c in data.consents],
    )  # fmt: skip
    _fill(
        book.create_sheet(),
        texts("mydata.sheet_roles"),
        [texts("mydata.role"), texts("mydata.unit"), texts("mydata.granted_at")],
        [[texts(f"role.{r.role.value}"), r.unit.label if r.unit else dash, local(r.granted_at)]
         for r in data.roles],
    )  # fmt: skip
    names = DetailNames(units=data.unit_labels)
    _fill(
        book.create_sheet(),
        texts("mydata.sheet_history"),
        [texts("mydata.at"), texts("mydata.action"), texts("mydata.details")],
        [
            [local(a.at), action_name(texts, a.action), details_text(texts, a.details, names)]
            for a in data.audit
        ],
    )
    _fill(
        book.create_sheet(),
        texts("mydata.sheet_messages"),
        [texts("mydata.kind"), texts("mydata.created_at"), texts("mydata.state"),
         texts("mydata.sent_at")],
        [[kind_name(texts, m.kind), local(m.created_at), texts(f"delivery_state.{m.state}"),
          local(m.sent_at) or dash] for m in data.messages],
    )  # fmt: skip
    _fill(
        book.create_sheet(),
        texts("mydata.sheet_attendance"),
        [texts("mydata.class"), texts("mydata.session"), texts("mydata.mark"),
         texts("mydata.mark_source"), texts("mydata.checked_in_at")],
        [[f"{a.class_code} · {a.class_name}", local(a.starts_at),
          texts(f"attendance.mark.{a.mark.value}"), texts(f"mydata.source_{a.source.value}"),
          local(a.checked_in_at) or dash] for a in data.attendance],
    )  # fmt: skip
    _fill(
        book.create_sheet(),
        texts("mydata.sheet_leave"),
        [texts("mydata.class"), texts("mydata.session"), texts("mydata.reason"),
         texts("mydata.leave_status"), texts("mydata.asked_at"), texts("mydata.decided_at")],
        [[r.class_code, local(r.starts_at), r.reason, texts(f"mydata.leave_{r.status.value}"),
          local(r.asked_at), local(r.decided_at) or dash] for r in data.leave],
    )  # fmt: skip
    _fill(
        book.create_sheet(),
        texts("mydata.sheet_results"),
        [texts("mydata.class"), texts("mydata.outcome"), texts("mydata.recorded_at")],
        [[f"{r.class_code} · {r.class_name}",
          texts(f"record.outcome.{r.outcome.value}")
          + (texts("mydata.override") if r.override else ""),
          local(r.recorded_at)] for r in data.results],
    )  # fmt: skip
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _profile_rows(
    texts: Texts, data: PersonalData, local: Callable[[datetime | None], datetime | None]
) -> list[list[Any]]:
    person, dash = data.person, "—"
    title = person.title.name if person.title else person.title_other
    gender = texts(f"gender.{person.gender.value}") if person.gender else dash
    language = texts(f"language.name_{person.language}") if person.language else dash
    source = "profile.source_roster" if person.from_roster else "profile.source_self"
    status = "profile.verified" if person.verified else "profile.unverified"
    kind = person.employment
    employment = texts(f"profile.employment_{kind.value}") if kind else dash
    professional = person.professional_title.name if person.professional_title else None
    return [
        [texts("mydata.full_name"), person.full_name],
        [texts("mydata.unit"), person.unit.label if person.unit else dash],
        [texts("mydata.title"), title or dash],
        [texts("mydata.employment"), employment],
        [texts("mydata.grade"), person.grade.name if person.grade else dash],
        [texts("mydata.professional_title"), professional or dash],
        [texts("mydata.professional_rank"), ROMAN.get(person.professional_rank or 0, dash)],
        [texts("mydata.gender"), gender],
        [texts("mydata.birth_year"), person.birth_year or dash],
        [texts("mydata.ethnicity"), person.ethnicity.name if person.ethnicity else dash],
        [texts("mydata.phone"), texts.format("{phone:phone}", phone=person.phone or dash)],
        [texts("mydata.telegram"), person.telegram_id or dash],
        [texts("mydata.language"), language],
        [texts("mydata.source"), texts(source)],
        [texts("mydata.status"), texts(status)],
        [texts("mydata.source_pool"), texts("mydata.yes" if person.source_pool else "mydata.no")],
        [texts("mydata.consent_at"), local(person.consent_at) or dash],
    ]


def _fill(sheet: Worksheet, title: str, header: list[str], rows: Sequence[Sequence[Any]]) -> None:
    sheet.title = title[:31]  # Excel's limit
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for row in rows:
        sheet.append(list(row))
    for column, cells in enumerate(sheet.iter_cols(), start=1):
        widest = max((len(str(c.value)) for c in cells if c.value is not None), default=8)
        sheet.column_dimensions[get_column_letter(column)].width = min(WIDTH_MAX, widest + 2)
        for c in cells:
            if isinstance(c.value, datetime):
                c.number_format = DATE_TIME


def machine_json(data: PersonalData) -> bytes:
    """The same, for machines: plain keys, times in UTC (ISO 8601)."""

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else value

    person = data.person
    document = {
        "full_name": person.full_name,
        "source": person.source.value,
        "verified": person.verified,
        "unit": person.unit.label if person.unit else None,
        "title": person.title.name if person.title else person.title_other,
        "employment": person.employment.value if person.employment else None,
        "grade": person.grade.name if person.grade else None,
        "professional_title": person.professional_title.name if person.professional_title else None,
        "professional_rank": person.professional_rank,
        "gender": person.gender.value if person.gender else None,
        "birth_year": person.birth_year,
        "ethnicity": person.ethnicity.name if person.ethnicity else None,
        "phone": person.phone,
        "telegram_id": person.telegram_id,
        "language": person.language,
        "source_pool": person.source_pool,
        "consent_at": plain(person.consent_at),
        "consents": [
            {"notice_version": c.notice_version, "given_at": plain(c.given_at),
             "withdrawn_at": plain(c.withdrawn_at)}
            for c in data.consents
        ],
        "roles": [
            {"role": r.role.value, "unit": r.unit.label if r.unit else None,
             "granted_at": plain(r.granted_at)}
            for r in data.roles
        ],
        "history": [
            {"at": plain(a.at), "action": a.action, "details": a.details} for a in data.audit
        ],
        "messages": [
            {"kind": m.kind, "created_at": plain(m.created_at), "state": m.state,
             "sent_at": plain(m.sent_at)}
            for m in data.messages
        ],
        "attendance": [
            {"class": a.class_code, "session": plain(a.starts_at), "mark": a.mark.value,
             "source": a.source.value, "checked_in_at": plain(a.checked_in_at)}
            for a in data.attendance
        ],
        "leave_requests": [
            {"class": r.class_code, "session": plain(r.starts_at), "reason": r.reason,
             "status": r.status.value, "asked_at": plain(r.asked_at),
             "decided_at": plain(r.decided_at)}
            for r in data.leave
        ],
        "results": [
            {"class": r.class_code, "outcome": r.outcome.value, "override": r.override,
             "recorded_at": plain(r.recorded_at)}
            for r in data.results
        ],
    }  # fmt: skip
    return json.dumps(document, ensure_ascii=False, indent=2).encode()

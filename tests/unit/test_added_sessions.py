"""Sessions added to a class with learners (an imported timetable) are told in its change
notice: each with its time and place, a long run counted rather than listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app.transport import render_text
from bot.i18n import LANGUAGES, Texts
from bot.services.reminders import ADDED_LISTED, change_lines, session_changes
from bot.training import (
    ClassEventKind,
    ClassFormat,
    ClassKind,
    ClassStatus,
    Programme,
    TrainingClass,
)
from storage.repositories.classes import ClassEvent
from tools.emulator.entities import parse_html

AT = datetime(2027, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi


def _class() -> TrainingClass:
    programme = Programme(1, "P.CDS", "Chuyển đổi số", ClassKind.THEMATIC, 36)
    return TrainingClass(
        id=7, code="CDS.01", name="Dữ liệu & <AI>", programme=programme, plan_id=1,
        plan_year=2027, plan_approved=True, kind=ClassKind.THEMATIC,
        format=ClassFormat.ON_SITE, capacity=30, enrolled=3, waiting=0,
        status=ClassStatus.OPEN, location="Hội trường A",
    )  # fmt: skip


def _added(n: int, start: datetime, room: str | None = None) -> ClassEvent:
    after: dict[str, Any] = {"starts_at": start.isoformat(),
                             "ends_at": (start + timedelta(hours=3)).isoformat(),
                             "room": room, "link": None}  # fmt: skip
    return ClassEvent(n, 7, 100 + n, ClassEventKind.SESSION_ADDED, {}, after, 1000, AT)


def test_added_sessions_are_told_with_their_time_and_place() -> None:
    events = [
        _added(1, AT + timedelta(days=1)),
        _added(2, AT + timedelta(days=2), room="Phòng <301>"),
        _added(3, AT + timedelta(days=3)),
        ClassEvent(4, 7, 103, ClassEventKind.SESSION_CANCELLED,
                   {"starts_at": (AT + timedelta(days=3)).isoformat()}, {}, 1000, AT),
    ]  # fmt: skip
    changes = session_changes(events, _class())
    assert [(c.added, c.new_start) for c in changes] == [
        (True, AT + timedelta(days=1)),
        (True, AT + timedelta(days=2)),
    ]  # the third was cancelled before anyone heard of it
    lines = change_lines(changes, shows_link=True)
    assert [line["key"] for line in lines] == ["change.added", "change.added"]
    assert lines[1]["params"]["place"] == {"key": "place.room", "params": {"room": "Phòng <301>"}}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_a_long_run_is_counted_and_the_notice_is_valid_html(language: str) -> None:
    events = [_added(n, AT + timedelta(days=n)) for n in range(1, 31)]
    lines = change_lines(session_changes(events, _class()), shows_link=False)
    assert len(lines) == ADDED_LISTED + 1
    assert lines[-1] == {"key": "change.added_more", "params": {"count": 30 - ADDED_LISTED}}
    params = {"name": "Dữ liệu & <AI>", "code": "CDS.01", "changes": lines}
    payload = {"key": "change.notice", "params": params}
    text, _ = parse_html(render_text(payload, Texts(language)))
    assert "Dữ liệu & <AI>" in text and "20" in text and len(text) < 4096

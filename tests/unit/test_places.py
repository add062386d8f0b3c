"""Where a session happens: a place typed by the office, a session's own place against its
class's, and the change notice that tells a run of changes once, rendered as the sender does
(valid Telegram HTML, whatever the names hold)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.app.transport import render_text
from bot.errors import InvalidInput
from bot.i18n import LANGUAGES, Texts
from bot.places import place_lines, place_words
from bot.services.planning import PLACE_MAX, parse_place
from bot.services.reminders import change_lines, session_changes
from bot.training import (
    ClassEventKind,
    ClassFormat,
    ClassKind,
    ClassStatus,
    Place,
    Programme,
    TrainingClass,
    session_place,
)
from handlers.class_text import words
from storage.repositories.classes import ClassEvent
from tools.emulator.entities import parse_html

LINK = "https://meet.google.com/abc-defg-hij"
AT = datetime(2027, 3, 10, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi, a Wednesday


@pytest.mark.parametrize(
    ("typed", "room", "link"),
    [
        ("  Hội trường   B ", "Hội trường B", None),
        (LINK, None, LINK),
        (f"Hội trường B, {LINK}", "Hội trường B", LINK),
        (f"{LINK} — Phòng 301", "Phòng 301", LINK),
        ("Phòng P.301/B, tầng 3", "Phòng P.301/B, tầng 3", None),  # a room, not a web address
    ],
)
def test_a_place_is_a_room_a_link_or_both(typed: str, room: str | None, link: str | None) -> None:
    assert parse_place(typed) == (room, link)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("http://meet.example.org/x", "planning.link_format"),
        ("meet.google.com/abc-defg-hij", "planning.link_format"),
        ("www.zoom.us", "planning.link_format"),
        ("🎉🎉🎉", "planning.place_letters"),
        ("\u200b\u202e ,;", "planning.place_letters"),
        ("P1", "planning.place_length"),
        ("A" * 5000, "planning.place_length"),
        (f"{LINK} https://zoom.us/j/1", "planning.place_one_link"),
    ],
)
def test_what_is_not_a_place_says_why(typed: str, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_place(typed)
    assert refused.value.key == key
    assert refused.value.params.get("max", PLACE_MAX) == PLACE_MAX


def test_a_session_of_its_own_place_replaces_its_class_s() -> None:
    hall = ("Hội trường A", LINK)
    assert session_place(None, None, ClassFormat.ON_SITE, *hall) == Place(
        ClassFormat.ON_SITE, "Hội trường A"
    )
    assert session_place(None, None, ClassFormat.BLENDED, *hall) == Place(
        ClassFormat.BLENDED, "Hội trường A", LINK
    )
    switched = session_place(None, "https://zoom.us/j/1", ClassFormat.ON_SITE, *hall)
    assert switched == Place(ClassFormat.ONLINE, None, "https://zoom.us/j/1")
    moved = session_place("Hội trường B", None, ClassFormat.BLENDED, *hall)
    assert moved == Place(ClassFormat.ON_SITE, "Hội trường B")


def test_the_link_is_for_the_people_of_the_class() -> None:
    texts = Texts("vi")
    online = Place(ClassFormat.ONLINE, None, LINK)
    assert words(texts, place_words(online, shows_link=True)) == f"học trực tuyến tại {LINK}"
    assert words(texts, place_words(online, shows_link=False)) == "học trực tuyến"
    blended = Place(ClassFormat.BLENDED, "Hội trường B", LINK)
    assert words(texts, place_words(blended, shows_link=False)) == (
        "Hội trường B, kết hợp trực tuyến"
    )
    unknown = Place(ClassFormat.ONLINE)
    assert "gửi đường liên kết sau" in words(texts, place_words(unknown, shows_link=True))
    assert [line["key"] for line in place_lines(blended)] == [
        "reminder.room_line",
        "reminder.link_line",
    ]


def _class(name: str = "Chuyển đổi số") -> TrainingClass:
    programme = Programme(1, "P.CDS", "Chuyển đổi số", ClassKind.THEMATIC, 36)
    return TrainingClass(
        id=7, code="CDS.01", name=name, programme=programme, plan_id=1, plan_year=2027,
        plan_approved=True, kind=ClassKind.THEMATIC, format=ClassFormat.ON_SITE, capacity=30,
        enrolled=3, waiting=0, status=ClassStatus.OPEN, location="Hội trường A",
    )  # fmt: skip


def _event(n: int, session: int, kind: ClassEventKind, before: dict[str, Any],
           after: dict[str, Any]) -> ClassEvent:  # fmt: skip
    return ClassEvent(n, 7, session, kind, before, after, 1000, AT)


def _slot(start: datetime) -> dict[str, str]:
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=3)).isoformat()}


def _moved(n: int, session: int, start: datetime, to: datetime) -> ClassEvent:
    return _event(n, session, ClassEventKind.SESSION_MOVED, _slot(start), _slot(to))


def _placed(n: int, session: int, start: datetime, was: tuple[str | None, str | None],
            now: tuple[str | None, str | None]) -> ClassEvent:  # fmt: skip
    return _event(n, session, ClassEventKind.SESSION_PLACE,
                  {"starts_at": start.isoformat(), "room": was[0], "link": was[1]},
                  {"room": now[0], "link": now[1]})  # fmt: skip


def test_a_run_of_changes_is_told_from_the_first_state_to_the_last() -> None:
    later, next_day = AT + timedelta(days=1), AT + timedelta(days=2)
    events = [
        _moved(1, 10, AT, later),
        _moved(2, 10, later, next_day),  # moved twice: from the first time to the last
        _moved(3, 11, AT, later),
        _moved(4, 11, later, AT),  # moved and moved back: nothing to tell
        _placed(5, 12, AT, (None, None), (None, LINK)),
        _placed(6, 13, AT, (None, None), ("Hội trường B", None)),
        _placed(7, 13, AT, ("Hội trường B", None), (None, None)),  # and back to the class's
        _placed(8, 14, AT, (None, None), (None, LINK)),
        _event(9, 14, ClassEventKind.SESSION_CANCELLED, {"starts_at": AT.isoformat()}, {}),
    ]
    changes = session_changes(events, _class())
    assert [(c.old_start, c.new_start, c.moved, c.cancelled) for c in changes] == [
        (AT, next_day, True, False),
        (AT, AT, False, False),
        (AT, AT, False, True),
    ]
    lines = change_lines(changes, shows_link=True)
    assert [line["key"] for line in lines] == ["change.moved", "change.online", "change.cancelled"]
    assert lines[1]["params"]["old"] == {"key": "place.room", "params": {"room": "Hội trường A"}}


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_the_notice_renders_as_valid_telegram_html_whatever_the_names(language: str) -> None:
    events = [
        _moved(1, 10, AT, AT + timedelta(days=1)),
        _placed(2, 11, AT, (None, None), ("<Phòng> & 3", LINK + "?a=1&b=<2>")),
    ]
    for shows_link in (True, False):
        changes = session_changes(events, _class("Dữ liệu & <AI>"))
        params = {"name": "Dữ liệu & <AI>", "code": "CDS.01",
                  "changes": change_lines(changes, shows_link=shows_link)}  # fmt: skip
        payload = {"key": "change.notice", "params": params}
        text, _ = parse_html(render_text(payload, Texts(language)))
        assert "Dữ liệu & <AI>" in text and "<Phòng> & 3" in text
        assert ("?a=1&b=<2>" in text) is shows_link
        assert "\n\n" in text  # the changes stand apart

"""The pure pieces of the training office's dialogues: targets, moments, a run of sessions
and how it reads."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from bot.dates import Slot, parse_day_slot, parse_when
from bot.errors import InvalidInput
from bot.i18n import DEFAULT_TIMEZONE, Texts
from bot.services.planning import check_starts_after, check_window, parse_target, plan_sessions
from bot.training import Target
from handlers.class_labels import moment, parts_of_day, weekdays_label
from handlers.recurrence import Recurrence, describe

TZ = DEFAULT_TIMEZONE
VI = Texts("vi", TZ)


@pytest.mark.parametrize("typed", ["24 / 2668", "24 2668", "24/2.668", " 24 ; 2668 "])
def test_targets_are_typed_as_classes_and_learners(typed: str) -> None:
    assert parse_target(typed) == Target(24, 2668)


@pytest.mark.parametrize("typed", ["24", "abc", "24 / 2668 / 3", "-1 / 5", "２４ 5"])
def test_anything_else_is_not_a_target(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_target(typed)


def test_a_day_alone_is_its_start_or_for_a_deadline_its_end() -> None:
    assert parse_when("5/3", 2027, TZ) == datetime(2027, 3, 5, 0, 0, tzinfo=TZ)
    assert parse_when("5/3", 2027, TZ, day_end=True) == datetime(2027, 3, 5, 23, 59, tzinfo=TZ)
    assert parse_when("5/3 17h", 2027, TZ, day_end=True) == datetime(2027, 3, 5, 17, tzinfo=TZ)
    with pytest.raises(InvalidInput):
        parse_when("31/2", 2027, TZ)


def test_a_day_and_a_slot_move_a_session() -> None:
    start, end = parse_day_slot("6/3 7h30-11h", 2027, TZ)
    assert (start, end) == (
        datetime(2027, 3, 6, 7, 30, tzinfo=TZ),
        datetime(2027, 3, 6, 11, tzinfo=TZ),
    )
    for typed in ("6/3", "6/3 11h-7h", "6/3 7h-9h, 13h-15h"):
        with pytest.raises(InvalidInput):
            parse_day_slot(typed, 2027, TZ)


def test_enrolment_closes_after_it_opens() -> None:
    opens = datetime(2027, 3, 1, tzinfo=TZ)
    check_window(None, opens)
    with pytest.raises(InvalidInput, match="deadline_order"):
        check_window(opens, opens)


def test_a_recurrence_needs_a_session_and_not_too_many() -> None:
    morning = [Slot(time(7, 30), time(11))]
    found = plan_sessions(date(2027, 3, 1), date(2027, 3, 12), range(5), morning, TZ,
                          [date(2027, 3, 8)])  # fmt: skip
    assert len(found) == 9
    with pytest.raises(InvalidInput, match="no_sessions"):
        plan_sessions(date(2027, 3, 6), date(2027, 3, 7), range(5), morning, TZ)
    with pytest.raises(InvalidInput, match="span_order"):
        plan_sessions(date(2027, 3, 7), date(2027, 3, 6), range(5), morning, TZ)
    with pytest.raises(InvalidInput, match="too_many"):
        plan_sessions(
            date(2027, 1, 1), date(2027, 12, 31), range(7), [*morning, Slot(time(13), time(16))], TZ
        )


def test_a_run_of_sessions_reads_as_offices_say_it() -> None:
    draft = Recurrence(year=2027, first_day=date(2027, 3, 1), last_day=date(2027, 3, 12),
                       weekdays=[0, 1, 2, 3, 4], slots=["07:30-11:00", "13:30-16:30"],
                       skip_days=[date(2027, 3, 8)])  # fmt: skip
    assert describe(VI, draft, TZ) == (
        "18 buổi, sáng và chiều thứ 2–6 (07:30–11:00, 13:30–16:30), 01/03–12/03, trừ 08/03"
    )
    assert weekdays_label(VI, [2, 0]) == "thứ 2, 4"
    assert weekdays_label(VI, range(7)) == "hằng ngày"
    assert parts_of_day(VI, [time(19)]) == "tối"
    assert moment(VI, datetime(2027, 3, 5, 17, tzinfo=TZ)) == "Thứ Sáu, 05/03/2027 17:00"


def test_a_class_starts_after_its_enrolment_closes() -> None:
    deadline = datetime(2027, 3, 5, 23, 59, tzinfo=TZ)
    check_starts_after(date(2027, 3, 6), deadline, TZ)
    check_starts_after(date(2027, 3, 5), datetime(2027, 3, 5, 7, tzinfo=TZ), TZ)  # that morning
    for first_day in (date(2027, 3, 5), date(2027, 3, 1)):
        with pytest.raises(InvalidInput):
            check_starts_after(first_day, deadline, TZ)

"""The sandbox's clock: what `:clock ARG` asks for, how it is shown, and how it is kept."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import OffsetClock
from tools.sandbox.clock import (
    BadMove,
    MoveTo,
    Reset,
    SandboxClock,
    Show,
    describe,
    load_offset,
    parse_clock,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 3, 18, 15, 20, tzinfo=TZ)  # a Wednesday afternoon


def local(day: int, month: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def target(arg: str, now: datetime = NOW) -> datetime:
    move = parse_clock(arg, now, TZ)
    assert isinstance(move, MoveTo), move
    return move.moment


def test_nothing_shows_the_clock_and_reset_returns_to_the_real_time() -> None:
    assert parse_clock("", NOW, TZ) == parse_clock("   ", NOW, TZ) == Show()
    assert parse_clock("reset", NOW, TZ) == parse_clock(" RESET ", NOW, TZ) == Reset()


@pytest.mark.parametrize(
    ("arg", "ahead"),
    [
        ("+2h", timedelta(hours=2)),
        ("+30m", timedelta(minutes=30)),
        ("+1d", timedelta(days=1)),
        ("+1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("+ 1h 30m", timedelta(hours=1, minutes=30)),
        ("+2 giờ", timedelta(hours=2)),
        ("+45 phút", timedelta(minutes=45)),
        ("+1 ngày", timedelta(days=1)),
        ("+12H", timedelta(hours=12)),
    ],
)
def test_a_duration_moves_the_clock_on_by_that_much(arg: str, ahead: timedelta) -> None:
    assert target(arg) == NOW + ahead


def test_a_time_of_day_is_the_next_one_today_or_tomorrow() -> None:
    assert target("19:00") == local(18, 3, 19)
    assert target("7:30") == local(19, 3, 7, 30)  # passed today: tomorrow morning
    assert target("15:20") == local(19, 3, 15, 20)  # now exactly: the clock must move
    assert target("23h15") == local(18, 3, 23, 15)


def test_a_date_and_time_is_that_moment_this_year_or_the_one_given() -> None:
    assert target("19/03 07:00") == local(19, 3, 7)
    assert target("07:00 19/03") == local(19, 3, 7)
    assert target("1/4 8:00") == local(1, 4, 8)
    assert target("05/01/2027 08:00") == local(5, 1, 8, year=2027)


@pytest.mark.parametrize(
    ("arg", "says"),
    [
        ("-2h", "chỉ tiến lên"),
        ("+0m", "chỉ tiến lên"),
        ("10:00 18/03", "chỉ tiến lên"),  # earlier today
        ("17/03 19:00", "chỉ tiến lên"),
        ("01/03/2025 08:00", "chỉ tiến lên"),
        ("2h", "(+2h?)"),
        ("25:00", "Không có giờ 25:00"),
        ("19:60", "Không có giờ"),
        ("31/02 19:00", "Không có ngày 31/02"),
        ("18/13 19:00", "Không có ngày"),
        ("19/03", "Không hiểu"),
        ("19:00 20:00", "Không hiểu"),
        ("19/03 20/03 08:00", "Không hiểu"),
        ("tomorrow", "Không hiểu"),
        ("+2x", "Không hiểu"),
        ("+9999999h", "Không hiểu"),
        ("+367d", "366"),
        ("+999999d999999d999999d999999d", "366"),
        ("🕰" * 5000, "Không hiểu"),
        ("19:00\x00\x1b[2J", "Không hiểu «19:00[2J»"),
    ],
)
def test_bad_input_is_answered_in_one_bilingual_line(arg: str, says: str) -> None:
    with pytest.raises(BadMove) as refused:
        parse_clock(arg, NOW, TZ)
    answer = str(refused.value)
    assert says in answer and " · " in answer and "\n" not in answer
    assert len(answer) < 200


def test_the_clock_is_shown_in_local_time_with_how_far_ahead_it_is() -> None:
    moment = local(18, 3, 19).astimezone(UTC)
    assert describe(moment, timedelta(0), TZ) == (
        "🕰 Giờ sandbox · sandbox time: 19:00 Thứ Tư, 18/03/2026 (giờ thật · real time)"
    )
    ahead = timedelta(days=1, hours=2, minutes=30, seconds=20)
    assert describe(moment, ahead, TZ).endswith(
        "(giờ thật + 1 ngày 2 giờ 30 phút · real time +1d 2h 30m)"
    )
    assert describe(moment, timedelta(hours=3), TZ).endswith("(giờ thật + 3 giờ · real time +3h)")


def test_the_offset_clock_runs_with_the_system_clock_and_moves_forward_only() -> None:
    clock = OffsetClock(timedelta(hours=2))
    before = datetime.now(UTC)
    now = clock.now()
    assert before + timedelta(hours=2) <= now <= datetime.now(UTC) + timedelta(hours=2)
    clock.advance(timedelta(minutes=30))
    assert clock.offset == timedelta(hours=2, minutes=30)
    for backwards in (timedelta(0), timedelta(minutes=-1)):
        with pytest.raises(ValueError, match="forward"):
            clock.advance(backwards)
    assert clock.offset == timedelta(hours=2, minutes=30)
    clock.reset()
    assert clock.offset == timedelta(0)
    with pytest.raises(ValueError, match="forward"):
        OffsetClock(timedelta(seconds=-1))


def test_a_move_is_saved_at_once_and_read_back_by_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "data" / "clock.json"
    first = SandboxClock(path, TZ)
    assert first.clock.offset == timedelta(0) and not path.exists()
    first.apply(MoveTo(first.now() + timedelta(hours=2)))
    assert timedelta(hours=1, minutes=59) < first.clock.offset <= timedelta(hours=2)

    again = SandboxClock(path, TZ)
    assert again.clock.offset == first.clock.offset
    assert "(giờ thật + 2 giờ · real time +2h)" in again.describe()
    again.apply(Reset())
    assert SandboxClock(path, TZ).clock.offset == timedelta(0)
    assert sorted(p.name for p in path.parent.iterdir()) == ["clock.json"]


def test_a_move_past_a_year_ahead_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clock.json"
    clock = SandboxClock(path, TZ)
    clock.apply(MoveTo(clock.now() + timedelta(days=300)))
    saved = path.read_text("utf-8")
    with pytest.raises(BadMove, match="366"):
        clock.apply(MoveTo(clock.now() + timedelta(days=100)))
    assert path.read_text("utf-8") == saved
    assert timedelta(days=299) < clock.clock.offset <= timedelta(days=300)


DAMAGED = ["", "{", "[]", '{"offset_seconds": "soon"}', '{"offset_seconds": -60}',
           json.dumps({"offset_seconds": 10**12}), '{"other": 1}']  # fmt: skip


@pytest.mark.parametrize("content", DAMAGED)
def test_a_damaged_clock_file_is_the_real_time(tmp_path: Path, content: str) -> None:
    path = tmp_path / "clock.json"
    path.write_text(content, "utf-8")
    assert load_offset(path) == timedelta(0)
    path.write_text('{"offset_seconds": 5400}', "utf-8")
    assert load_offset(path) == timedelta(minutes=90)

"""Report periods, and report texts that stay one Telegram message whatever they hold."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot import report_text
from bot.attendance import Mark, standing
from bot.errors import InvalidInput
from bot.i18n import LANGUAGES, texts
from bot.report import (
    AtRisk,
    ClassFigures,
    Coverage,
    Covered,
    KindProgress,
    Marks,
    MonthProgress,
    NamedCoverage,
    Period,
    PeriodKind,
    Summary,
    UnitCoverage,
    choices,
    unit_coverage,
)
from bot.training import ALL_KINDS, PriorityGroup, Target
from bot.validation import telegram_length

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 15, 3, tzinfo=UTC)
LONG = "Bồi dưỡng cập nhật kiến thức & kỹ năng <quản lý> nhà nước 🎓 " * 4  # ~250 characters


@pytest.mark.parametrize(
    "period",
    [Period.of_year(2026), Period.half(2026, 2), Period.quarter(2026, 4), Period.month(2026, 2),
     Period.dates(date(2026, 2, 27), date(2026, 3, 2))],
    ids=lambda p: p.token,
)  # fmt: skip
def test_a_period_travels_as_its_token_and_covers_whole_local_days(period: Period) -> None:
    assert Period.from_token(period.token) == period
    start, end = period.bounds(TZ)
    assert start.astimezone(TZ).hour == 0 and end.astimezone(TZ).date() > period.last
    assert (end - start).days == (period.last - period.first).days + 1


def test_periods_offered_are_this_year_and_its_parts_so_far() -> None:
    offered = choices(date(2026, 8, 20))
    assert offered[:2] == [Period.of_year(2026), Period.of_year(2025)]
    assert Period.half(2026, 2) in offered and Period.quarter(2026, 4) not in offered
    assert next(p for p in offered if p.kind is PeriodKind.MONTH) == Period.month(2026, 8)
    assert Period.half(2026, 1).last == date(2026, 6, 30)
    assert Period.month(2028, 2).last == date(2028, 2, 29)


BAD_TOKENS = ["", "x2026", "y20", "q2026.5", "m2026.0", "h2026", "d1.2", "y2026.1",
              "d20260301.20260201", "d20250101.20260101"]  # fmt: skip


@pytest.mark.parametrize("token", BAD_TOKENS)
def test_a_token_that_makes_no_period_is_refused(token: str) -> None:
    with pytest.raises(InvalidInput):
        Period.from_token(token)


def _summary(classes: int, at_risk: int) -> Summary:
    kinds = [
        KindProgress("update", Target(24, 2668), 10, 5, 15, 1351, 1351, 1200, 900, 1000),
        KindProgress(ALL_KINDS, Target(50, 4563), 25, 4, 29, 2168, 2168, 2000, 1800, 1900),
    ]
    figures = [ClassFigures(n, f"C{n:05d}", LONG, "update", 12, Marks(300, 20, 10, 30))
               for n in range(classes)]  # fmt: skip
    cannot = standing(10, 80, [Mark.ABSENT] * 3)
    learners = [
        AtRisk(n, LONG[:150], LONG[:200], f"C{n:05d}", LONG, cannot) for n in range(at_risk)
    ]
    return Summary(Period.of_year(2026), None, False, NOW, kinds,
                   [MonthProgress(date(2026, m, 1), 2, 100) for m in range(1, 12)],
                   figures, learners)  # fmt: skip


def _coverage(units: int) -> Coverage:
    tree = [(1, LONG, None)] + [(n, f"{LONG} {n}", 1) for n in range(2, units + 2)]
    own = {n: Covered(10, 0 if n % 3 else 5) for n in range(1, units + 2)}
    groups = [NamedCoverage(g.value, None, Covered(100, 40)) for g in PriorityGroup]
    named = [NamedCoverage(str(n), f"{LONG} {n}", Covered(10, 3)) for n in range(300)]
    return Coverage(Period.of_year(2026), False, NOW, 35, Covered(5000, 2000),
                    unit_coverage(tree, own, {}), groups, named, named)  # fmt: skip


@pytest.mark.parametrize("language", sorted(LANGUAGES))
def test_every_view_fits_one_message_however_long_the_lists(language: str) -> None:
    t = texts(language, TZ)
    summary, coverage = _summary(2000, 3000), _coverage(1500)
    views = [
        report_text.overview(t, summary, LONG), report_text.by_kind(t, summary),
        report_text.attendance(t, summary), report_text.at_risk(t, summary),
        report_text.units(t, coverage), report_text.groups(t, coverage),
        report_text.grades(t, coverage),
    ]  # fmt: skip
    for text in views:
        assert telegram_length(text) <= 4096
    assert "&lt;quản lý&gt;" in views[2]  # names are escaped, never markup
    assert t("report.more_in_workbook", count=2000 - views[2].count("C0")).split()[0] in views[2]


def test_the_summary_reads_like_the_seeds() -> None:
    text = report_text.overview(texts("vi", TZ), _summary(3, 0))
    assert "Số lớp: 29/50 lớp, đạt 58,0% kế hoạch" in text
    assert "Số học viên: 2.168/4.563 lượt, đạt 47,5% kế hoạch" in text
    assert "25 lớp mở mới, 4 lớp chuyển tiếp (tổng 29 lớp)" in text


def test_units_nest_under_their_parents_and_empty_branches_are_left_out() -> None:
    tree = [(1, "Tỉnh", None), (2, "Sở A", 1), (3, "Phòng A1", 2), (4, "Xã trống", 1)]
    own = {2: Covered(5, 1), 3: Covered(4, 0)}
    found = unit_coverage(tree, own, {})
    assert [(u.name, u.depth, u.subtree) for u in found] == [
        ("Tỉnh", 0, Covered(9, 1)), ("Sở A", 1, Covered(9, 1)), ("Phòng A1", 2, Covered(4, 0)),
    ]  # fmt: skip
    assert isinstance(found[0], UnitCoverage)

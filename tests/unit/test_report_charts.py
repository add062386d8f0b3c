"""Progress charts: phone-wide PNGs with every Vietnamese letter drawn, a picture for no data,
odd and endless labels shortened rather than crashing, and no memory kept chart after chart."""

from __future__ import annotations

import gc
import os
import struct
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from matplotlib.figure import Figure

from bot import report_charts as charts
from bot.report_charts import (
    TEXT_WIDTH,
    coverage,
    drawable,
    monthly_progress,
    plan_vs_actual,
    rates_by_item,
)

STATM = Path("/proc/self/statm")
VIETNAMESE = "Bồi dưỡng cập nhật kiến thức — Đợt 1, ươ ữ ỹ"
ODD = [
    "Lớp " + "rất dài " * 25,  # 200 characters
    "📚 Lớp học 👩‍🏫 trực tuyến 🇻🇳",
    "$\\frac{1}{0}$ và $ lẻ loi, ^{ _x",
    "<b>đậm</b> & \"trích\" 'dẫn'",
    "Bo\u0302\u0300i du\u031b\u01a1\u0303ng",  # Vietnamese typed decomposed (NFD)
    "\u200b\u200d\ufeff\x00\x07\t\n",  # invisible and control characters only
    "\ud800 nửa cặp thay thế",  # a lone surrogate
    "مرحبا שלום 你好 Привет",
    "W" * 300,
    "",
]


def _size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def _no_glyph_missing(draw: Callable[[], bytes]) -> bytes:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = draw()
    assert [str(w.message) for w in caught if "missing" in str(w.message).lower()] == []
    return png


def _plan(rows: list[tuple[str, int, int]], title: str = "Kế hoạch và thực hiện") -> bytes:
    return plan_vs_actual(
        title, rows, target="Kế hoạch", actual="Thực hiện", empty="Chưa có số liệu", language="vi"
    )


def _rates(rows: list[tuple[str, float]], threshold: float | None = 0.8) -> bytes:
    return rates_by_item(
        "Tỷ lệ chuyên cần theo lớp", rows, threshold, threshold_label="Ngưỡng hoàn thành",
        empty="Chưa có số liệu", language="vi",
    )  # fmt: skip


def _coverage(rows: list[tuple[str, int, int]]) -> bytes:
    return coverage(
        "Bao phủ theo nhóm ưu tiên", rows, trained="Đã bồi dưỡng", untrained="Chưa bồi dưỡng",
        empty="Chưa có số liệu", language="vi",
    )  # fmt: skip


def _monthly(months: list[str], values: list[int], target: int | None = 2500) -> bytes:
    return monthly_progress(
        "Tiến độ theo tháng", months, values, target, monthly="Trong tháng",
        cumulative="Lũy kế", target_label="Chỉ tiêu", empty="Chưa có số liệu", language="vi",
    )  # fmt: skip


def test_each_chart_is_a_png_as_wide_as_a_phone_shows() -> None:
    pngs = [
        _plan([("Lý luận chính trị cao cấp", 150, 160), ("Trung cấp", 800, 420)]),
        _rates([(f"Lớp CV.{n:02d}", n / 10) for n in range(10)]),
        _coverage([("Cán bộ nguồn", 1234, 2000), ("Viên chức", 0, 0)]),
        _monthly([f"T{n}" for n in range(1, 13)], [120, 300, 250, 90, 0, 400] * 2),
        _monthly(["01/2026", "02/2026"], [1200, 3000], target=None),
    ]
    for png in pngs:
        width, height = _size(png)
        # Telegram's limits for a photo: sides adding up to 10000, a ratio of at most 20.
        assert width == 1080 and 300 < height <= 4000


def test_vietnamese_letters_are_all_drawn() -> None:
    assert drawable(VIETNAMESE) == VIETNAMESE
    _no_glyph_missing(lambda: _plan([(VIETNAMESE, 10, 5)], title=VIETNAMESE))
    _no_glyph_missing(lambda: _monthly([VIETNAMESE, "ươ ữ ỹ"], [1, 2]))
    _no_glyph_missing(
        lambda: coverage(VIETNAMESE, [], trained="", untrained="", empty=VIETNAMESE, language="vi")
    )


def test_characters_the_fonts_lack_are_left_out() -> None:
    assert drawable("📚 Lớp học 👩‍🏫 trực tuyến") == "Lớp học trực tuyến"
    assert drawable("Bo\u0302\u0300i  du\u031b\u01a1\u0303ng\n") == "Bồi dưỡng"
    assert drawable("a\x00b\u200bc\ud800d") == "a b c d"


def test_odd_labels_are_drawn_without_a_missing_glyph() -> None:
    _no_glyph_missing(lambda: _plan([(label, 10, 5) for label in ODD], title=" ".join(ODD)))
    _no_glyph_missing(lambda: _rates([(label, 0.5) for label in ODD]))
    _no_glyph_missing(lambda: _coverage([(label, 1, 2) for label in ODD]))
    _no_glyph_missing(lambda: _monthly(ODD, list(range(len(ODD)))))
    for label in ODD:
        assert charts._width(charts._fit(drawable(label), TEXT_WIDTH)) <= TEXT_WIDTH


def test_long_labels_end_in_an_ellipsis_within_the_width() -> None:
    long = "Bồi dưỡng kiến thức quốc phòng và an ninh cho đối tượng 4 " * 4
    fitted = charts._fit(long, TEXT_WIDTH)
    assert fitted.endswith("…") and long.startswith(fitted[:-1])
    assert charts._width(fitted) <= TEXT_WIDTH
    assert charts._fit("Trung cấp", TEXT_WIDTH) == "Trung cấp"
    title = charts._title_lines("Tỷ lệ chuyên cần " * 20)
    assert len(title) == charts.TITLE_LINES and title[-1].endswith("…")


def test_numbers_are_written_as_the_language_writes_them() -> None:
    vi, en = charts._numbers("vi"), charts._numbers("en")
    assert (vi.percent(0.625), vi.count(2668)) == ("62,5%", "2.668")
    assert (en.percent(0.625), en.count(2668)) == ("62.5%", "2,668")
    assert charts._numbers("xx").percent(1) == "100,0%"  # an unknown language: the default


def test_no_data_gives_a_picture_saying_so() -> None:
    empty = [_plan([]), _rates([]), _coverage([]), _monthly([], [])]
    for png in empty:
        width, height = _size(png)
        assert width == 1080 and height < 400
    with pytest.raises(ValueError):
        _monthly(["T1", "T2"], [1])


def test_odd_figures_do_not_break_a_chart() -> None:
    nan = float("nan")
    for png in [
        _plan([("Âm", -5, -3), ("Không", 0, 0), ("Rất lớn", 10**12, 3 * 10**11)]),
        _rates([("NaN", nan), ("Trên 100%", 1.7), ("Âm", -0.2)], threshold=None),
        _rates([("Ngưỡng 0", 0.0)], threshold=0.0),
        _coverage([("Vượt", 12, 10), ("Không ai", 0, 0), ("Âm", -1, 5)]),
        _monthly(["T1"], [0], target=0),
        _monthly([f"T{n}" for n in range(40)], [5] * 40, target=None),
    ]:
        assert _size(png)[0] == 1080


def test_rows_beyond_the_limit_are_not_drawn(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(charts, "MAX_ROWS", 2)
    few = _size(_rates([(f"Lớp {n}", 0.5) for n in range(2)]))
    many = _size(_rates([(f"Lớp {n}", 0.5) for n in range(9)]))
    assert few == many


def _rss_mb() -> float:
    """The memory the process holds now (not its peak: earlier tests may have set that)."""
    pages = int(STATM.read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


@pytest.mark.skipif(not STATM.exists(), reason="reads the process's memory from /proc")
def test_drawing_many_charts_keeps_memory_flat() -> None:
    def draw() -> None:
        _rates([("Lớp CV.01", 0.4), ("Lớp CV.02", 0.9)])

    def figures() -> int:
        return sum(isinstance(o, Figure) for o in gc.get_objects())

    draw()
    # Without the interpreter's own collections, as between two of them in a large process.
    gc.disable()
    try:
        before, alive = _rss_mb(), figures()
        highest = before
        for _ in range(8):
            draw()
            highest = max(highest, _rss_mb())
        assert figures() == alive
    finally:
        gc.enable()
    # Each chart's frame is 2 MB: eight kept would show.
    assert highest - before < 10

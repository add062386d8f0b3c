"""Progress charts as PNG, sized to be read on a phone: 1080 px wide, 14 pt text or larger,
every figure written on its bar, so nobody has to read an axis.

Drawn headless with matplotlib's object API (`Figure` on an Agg canvas, never pyplot): no
global state is changed, nothing is kept once the bytes are out, and a chart may be drawn in a
worker thread (`asyncio.to_thread`: one takes a few tenths of a second of CPU). Every text is
drawn with the bundled DejaVu fonts (each Vietnamese letter is in them), given by file so no
other font on the machine can stand in; a character the fonts lack (an emoji) is left out
rather than drawn as a box, and `$` is never math.

Texts (titles, legends, the "no data" line) come from the caller's catalogs; numbers and
percents are written the way the caller's language writes them (`language`, a catalog
language: "vi" gives 2.668 and 62,5%, "en" 2,668 and 62.5%), as the catalogs' own
`{x:number}` and `{x:percent}` fields do. Charts with a row per item draw at most `MAX_ROWS`
rows, the first ones given: a caller with more passes the ones that matter (the worst rates,
the largest groups). Empty data gives a picture with the title and the caller's "no data" text.
"""

from __future__ import annotations

import gc
import io
import itertools
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal, format_percent
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.ft2font import FT2Font
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path
from matplotlib.ticker import MaxNLocator

from bot.i18n import LANGUAGES, language_or_default

FONTS = Path(__file__).parent / "assets" / "fonts"
REGULAR = FONTS / "DejaVuSans.ttf"
BOLD = FONTS / "DejaVuSans-Bold.ttf"
#: 6 in at 180 dpi: 1080 px, the width a phone shows without scaling up.
WIDTH_IN = 6.0
DPI = 180
PT = 1 / 72  # inches
TEXT_PT = 14
TITLE_PT = 18
TITLE_LINES = 3
#: More characters than a line of the narrowest letters holds.
LINE_CHARS = 100
#: Rows drawn at most by the charts with a row per item (the first ones given).
MAX_ROWS = 15
#: Months drawn at most (the last ones; the cumulative line still counts the earlier ones).
MAX_MONTHS = 24
#: A month's label at most (points): "01/2026" fits.
MONTH_PT = 64
#: A bar longer than this share of the width carries its figure inside.
INSIDE = 0.55

PLAN = "#c3ccd6"
ACTUAL = "#1f5f99"
GOOD = "#2e7d32"
LOW = "#c62828"
REST = "#e3e8ee"
LINE = "#d35400"
INK = "#222222"
MUTED = "#555555"

Format = Callable[[float], str]


@dataclass(frozen=True, slots=True)
class _Numbers:
    """How the caller's language writes counts and shares."""

    locale: Locale

    def count(self, value: float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, share: float) -> str:
        return format_percent(share, "#,##0.0%", locale=self.locale)


def _numbers(language: str) -> _Numbers:
    return _numbers_of(language_or_default(language))


@cache
def _numbers_of(language: str) -> _Numbers:
    return _Numbers(Locale.parse(LANGUAGES[language].locale))


@cache
def _font(bold: bool = False, size: float = TEXT_PT) -> FontProperties:
    return FontProperties(fname=BOLD if bold else REGULAR, size=size)


@cache
def _drawable() -> frozenset[int]:
    """Code points both bundled fonts have a glyph for."""
    regular, bold = (set(FT2Font(str(path)).get_charmap()) for path in (REGULAR, BOLD))
    return frozenset(regular & bold)


def drawable(text: str) -> str:
    """`text` as the charts draw it: composed (NFC), one line, without the characters the
    fonts lack (emoji, control characters), so nothing is drawn as an empty box."""
    have = _drawable()
    kept = "".join(
        c if ord(c) in have and unicodedata.category(c)[0] != "C" else " "
        for c in unicodedata.normalize("NFC", text)
    )
    return " ".join(kept.split())


# --- text --------------------------------------------------------------------------------------


def _width(text: str, bold: bool = False, size: float = TEXT_PT) -> float:
    """How wide `text` is drawn, in points (measured with the font, no figure needed)."""
    return text_to_path.get_text_width_height_descent(text, _font(bold, size), ismath=False)[0]


def _fit(text: str, width: float, bold: bool = False, size: float = TEXT_PT) -> str:
    """`text`, shortened with an ellipsis to at most `width` points. Measuring costs in
    proportion to the length, so a long text is cut to what a line could hold before, and
    then by the share that overflows."""
    if len(text) <= LINE_CHARS and _width(text, bold, size) <= width:
        return text
    keep = min(len(text), LINE_CHARS)
    while keep > 0:
        shortened = f"{text[:keep].rstrip()}…"
        wide = _width(shortened, bold, size)
        if wide <= width:
            return shortened
        keep = min(keep - 1, int(keep * width / wide))
    return "…"


def _wrap(
    text: str, width: float, lines: int, bold: bool = False, size: float = TEXT_PT
) -> list[str]:
    """`text` in at most `lines` lines of `width` points, the last shortened if need be."""
    words, out = text.split(), list[str]()
    while words and len(out) < lines - 1:
        take = 1
        while take < len(words) and _width(" ".join(words[: take + 1]), bold, size) <= width:
            take += 1
        out.append(" ".join(words[:take]))
        words = words[take:]
    if words:
        out.append(" ".join(words))
    return [_fit(line, width, bold, size) for line in out] or [""]


# --- the figure --------------------------------------------------------------------------------

#: The width text may take, in points: the figure's less its margins (3% each side) and a
#: little for the hinting of the drawn glyphs.
TEXT_WIDTH = WIDTH_IN * 72 * 0.94 - 6


class _Chart:
    """One figure of a known height, placed in points from its top edge."""

    def __init__(self, height_pt: float) -> None:
        self.height = height_pt
        self.figure = Figure(figsize=(WIDTH_IN, height_pt * PT), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.figure)

    def y(self, top_pt: float) -> float:
        """A figure fraction from a distance from the top edge."""
        return 1 - top_pt / self.height

    def axes(self, top_pt: float, bottom_pt: float, left: float, right: float) -> Axes:
        """Axes between two distances from the top edge and two width fractions."""
        rect = (left, self.y(bottom_pt), right - left, (bottom_pt - top_pt) / self.height)
        return self.figure.add_axes(rect)

    def text(
        self,
        x: float,
        top_pt: float,
        text: str,
        *,
        bold: bool = False,
        size: float = TEXT_PT,
        color: str = INK,
        ha: str = "left",
    ) -> None:
        self.figure.text(
            x, self.y(top_pt), text, fontproperties=_font(bold, size), va="top", ha=ha,
            color=color, parse_math=False,
        )  # fmt: skip

    def png(self) -> bytes:
        """The PNG; then the figure is collected at once: its artists refer to each other and
        to the frame they were drawn in (10 MB), which would otherwise wait, chart after chart,
        for the interpreter's next full collection."""
        out = io.BytesIO()
        self.figure.savefig(out, format="png", dpi=DPI)
        del self.figure
        gc.collect()
        return out.getvalue()


def _title_lines(title: str) -> list[str]:
    return _wrap(drawable(title), TEXT_WIDTH, TITLE_LINES, bold=True, size=TITLE_PT)


def _title(chart: _Chart, lines: list[str]) -> None:
    for number, line in enumerate(lines):
        chart.text(0.03, 14 + number * TITLE_PT * 1.3, line, bold=True, size=TITLE_PT)


def _title_height(lines: list[str]) -> float:
    return 14 + len(lines) * TITLE_PT * 1.3 + 6


Handle = Patch | Line2D


class _Legend:
    """A legend's entries, on one line under the title when they fit, else one a line."""

    def __init__(self, handles: list[Handle], labels: list[str]) -> None:
        self.handles = handles
        self.labels = [_fit(drawable(label), TEXT_WIDTH - 3 * TEXT_PT) for label in labels]
        # Each entry: its handle (1.4 em), the gap to its text (0.8 em), the gap to the next.
        wide = sum(_width(label) + 3.4 * TEXT_PT for label in self.labels)
        self.one_line = wide <= TEXT_WIDTH
        lines = 1 if self.one_line else len(self.labels)
        self.height = lines * TEXT_PT * 1.45 + 12 if self.labels else 4

    def draw(self, chart: _Chart, top_pt: float) -> None:
        if not self.labels:
            return
        legend = chart.figure.legend(
            self.handles, self.labels, loc="upper left", bbox_to_anchor=(0.02, chart.y(top_pt)),
            ncols=len(self.labels) if self.one_line else 1, frameon=False, prop=_font(),
            handlelength=1.4, borderaxespad=0, borderpad=0.2, labelspacing=0.3,
            columnspacing=1.2,
        )  # fmt: skip
        for text in legend.get_texts():
            text.set_parse_math(False)


def _empty(title: str, empty: str) -> bytes:
    lines = _title_lines(title)
    top = _title_height(lines)
    chart = _Chart(top + 90)
    _title(chart, lines)
    chart.text(0.5, top + 30, _fit(drawable(empty), TEXT_WIDTH), ha="center", color=MUTED)
    return chart.png()


# --- charts with a row per item ------------------------------------------------------------------

LABEL_PT = TEXT_PT * 1.35
BAR_PT = 20
ROW_GAP_PT = 14


@dataclass(frozen=True, slots=True)
class _Bar:
    share: float  # of the full width, 0..1
    color: str
    text: str
    #: Its figure goes inside a long bar in white: only on a dark bar.
    dark: bool = True


def _rows_chart(
    title: str,
    rows: Sequence[tuple[str, list[_Bar]]],
    legend: _Legend,
    *,
    track: bool,
    threshold: float | None = None,
) -> bytes:
    """Each row: its label on a line of its own (the full width), its bars under it, each on a
    light track of the full width when `track` (the whole the bar is a share of)."""
    lines = _title_lines(title)
    top = _title_height(lines) + legend.height
    bars = max(len(bars) for _, bars in rows)
    row_pt = LABEL_PT + bars * BAR_PT + ROW_GAP_PT
    body = len(rows) * row_pt
    chart = _Chart(top + body + 10)
    _title(chart, lines)
    legend.draw(chart, _title_height(lines))
    ax = chart.axes(top, top + body, 0.03, 0.97)
    ax.set_xlim(0, 1)
    ax.set_ylim(body, 0)
    ax.set_axis_off()
    for number, (label, row_bars) in enumerate(rows):
        y = number * row_pt
        ax.text(0, y, _fit(drawable(label), TEXT_WIDTH) or "…", fontproperties=_font(),
                va="top", color=INK, parse_math=False)  # fmt: skip
        for place, bar in enumerate(row_bars):
            centre = y + LABEL_PT + (place + 0.5) * BAR_PT
            if track:
                ax.barh(centre, 1, height=BAR_PT - 3, color=REST)
            ax.barh(centre, bar.share, height=BAR_PT - 3, color=bar.color)
            inside = bar.share > INSIDE
            ax.text(
                bar.share - 0.012 if inside else bar.share + 0.012, centre, bar.text,
                fontproperties=_font(bold=True), va="center", ha="right" if inside else "left",
                color="white" if inside and bar.dark else INK, parse_math=False,
            )  # fmt: skip
        if threshold is not None:
            band = y + LABEL_PT - 4, y + LABEL_PT + len(row_bars) * BAR_PT + 2
            ax.vlines(threshold, *band, color=INK, linestyle=(0, (3, 2)), linewidth=1.8)
    return chart.png()


def _share(part: float, whole: float) -> float:
    return min(max(part / whole, 0.0), 1.0) if whole > 0 and math.isfinite(part) else 0.0


def plan_vs_actual(
    title: str,
    rows: Sequence[tuple[str, int, int]],
    *,
    target: str,
    actual: str,
    empty: str,
    language: str,
) -> bytes:
    """Per row (a class kind): its target and its actual as two bars on one scale, the
    actual with its share of the target. `target`, `actual`: the legend's words."""
    rows = rows[:MAX_ROWS]
    if not rows:
        return _empty(title, empty)
    numbers = _numbers(language)
    top = max(max(planned, done) for _, planned, done in rows)
    drawn = []
    for label, planned, done in rows:
        done_text = numbers.count(done)
        if planned > 0:
            done_text += f" · {numbers.percent(done / planned)}"
        drawn.append((label, [
            _Bar(_share(planned, top), PLAN, numbers.count(planned), dark=False),
            _Bar(_share(done, top), ACTUAL, done_text),
        ]))  # fmt: skip
    legend = _Legend([Patch(color=PLAN), Patch(color=ACTUAL)], [target, actual])
    return _rows_chart(title, drawn, legend, track=False)


def rates_by_item(
    title: str,
    rows: Sequence[tuple[str, float]],
    threshold: float | None = None,
    *,
    threshold_label: str = "",
    empty: str,
    language: str,
) -> bytes:
    """Per row (a class), its rate (0..1) as a bar on a 0–100% scale; with a threshold, a
    dashed mark there and the rows under it in red. At most `MAX_ROWS` rows, the first given:
    pass the worst first. `threshold_label` names the mark in the legend."""
    rows = rows[:MAX_ROWS]
    if not rows:
        return _empty(title, empty)
    numbers = _numbers(language)
    drawn = []
    for label, rate in rows:
        shown = rate if math.isfinite(rate) else 0.0
        color = LOW if threshold is not None and shown < threshold else GOOD
        drawn.append((label, [_Bar(_share(shown, 1), color, numbers.percent(shown))]))
    legend = _Legend([], [])
    if threshold is not None:
        level = numbers.percent(threshold)
        legend = _Legend(
            [Line2D([], [], color=INK, linestyle=(0, (3, 2)), linewidth=1.8)],
            [f"{threshold_label}: {level}" if threshold_label else level],
        )
    mark = None if threshold is None else _share(threshold, 1)
    return _rows_chart(title, drawn, legend, track=True, threshold=mark)


def coverage(
    title: str,
    rows: Sequence[tuple[str, int, int]],
    *,
    trained: str,
    untrained: str,
    empty: str,
    language: str,
) -> bytes:
    """Per row (a priority group or a unit): the share of its people trained, as a bar filled
    to that share of the whole group, with "trained/total · share". `trained`, `untrained`:
    the legend's words."""
    rows = rows[:MAX_ROWS]
    if not rows:
        return _empty(title, empty)
    numbers = _numbers(language)
    drawn = []
    for label, done, total in rows:
        text = f"{numbers.count(done)}/{numbers.count(total)}"
        if total > 0:
            text += f" · {numbers.percent(done / total)}"
        drawn.append((label, [_Bar(_share(done, total), ACTUAL, text)]))
    legend = _Legend([Patch(color=ACTUAL), Patch(color=REST)], [trained, untrained])
    return _rows_chart(title, drawn, legend, track=True)


# --- months --------------------------------------------------------------------------------------

PLOT_PT = 300
#: The plot's sides, as shares of the width: room for the two scales.
PLOT_LEFT, PLOT_RIGHT = 0.13, 0.86


def monthly_progress(
    title: str,
    months: Sequence[str],
    values: Sequence[int],
    target: int | None = None,
    *,
    monthly: str,
    cumulative: str,
    target_label: str,
    empty: str,
    language: str,
) -> bytes:
    """A bar per month (its count, written on it) and the running total as a line on its own
    scale (right), reaching for the target's dashed line; the legend says where the total
    stands, and its share of the target. `months`: the caller's labels ("T1", "01/2026"), as
    many as `values`; beyond `MAX_MONTHS`, the last ones are drawn (the total counts all).
    `monthly`, `cumulative`, `target_label`: the legend's words."""
    if len(months) != len(values):
        raise ValueError("months and values differ in length")
    if not months:
        return _empty(title, empty)
    numbers = _numbers(language)
    running = list(itertools.accumulate(values))
    months, values, running = months[-MAX_MONTHS:], values[-MAX_MONTHS:], running[-MAX_MONTHS:]
    handles: list[Handle] = [
        Patch(color=ACTUAL), Line2D([], [], color=LINE, marker="o", linewidth=2.5),
    ]  # fmt: skip
    stands = numbers.count(running[-1])
    if target:
        stands += f" · {numbers.percent(running[-1] / target)}"
    labels = [monthly, f"{cumulative}: {stands}"]
    if target is not None:
        handles.append(Line2D([], [], color=MUTED, linestyle=(0, (4, 3)), linewidth=1.8))
        labels.append(f"{target_label}: {numbers.count(target)}")
    legend = _Legend(handles, labels)
    lines = _title_lines(title)
    top = _title_height(lines) + legend.height
    names = [_fit(drawable(month), MONTH_PT) for month in months]
    written = [numbers.count(value) for value in values]
    # Labels and figures side by side if they fit under and over their bars, else slanted.
    slot = (PLOT_RIGHT - PLOT_LEFT) * WIDTH_IN * 72 / len(months)
    crowded = max(_width(text) for text in [*names, *written]) > slot - 6
    below = max(_width(name) for name in names) * 0.71 + 24 if crowded else 34
    chart = _Chart(top + 10 + PLOT_PT + below)
    _title(chart, lines)
    legend.draw(chart, _title_height(lines))
    ax = chart.axes(top + 10, top + 10 + PLOT_PT, PLOT_LEFT, PLOT_RIGHT)
    _month_bars(ax, names, values, written, numbers, slanted=crowded)
    _running_line(ax.twinx(), running, target, numbers)
    return chart.png()


def _month_bars(
    ax: Axes,
    names: list[str],
    values: Sequence[int],
    written: list[str],
    numbers: _Numbers,
    *,
    slanted: bool,
) -> None:
    """A bar per month with its count over it (upright when slanted), on the left scale."""
    places = list(range(len(names)))
    ax.bar(places, [max(v, 0) for v in values], color=ACTUAL, width=0.7)
    ax.set_ylim(0, max(*values, 1) * (1.4 if slanted else 1.25))
    for place, value, text in zip(places, values, written, strict=True):
        ax.text(
            place, max(value, 0), f" {text}" if slanted else text, ha="center", va="bottom",
            color=INK, rotation=90 if slanted else 0, fontproperties=_font(), parse_math=False,
        )  # fmt: skip
    ax.set_xticks(
        places, names, fontproperties=_font(), parse_math=False, rotation=45 if slanted else 0,
        ha="right" if slanted else "center", rotation_mode="anchor",
    )  # fmt: skip
    _ticks(ax, ax.get_ylim()[1], numbers.count)
    ax.spines[["top", "right"]].set_visible(False)


def _running_line(ax: Axes, running: list[int], target: int | None, numbers: _Numbers) -> None:
    """The running total on the right scale, and the target's dashed line."""
    ax.plot(range(len(running)), running, color=LINE, marker="o", linewidth=2.5, markersize=6)
    ax.set_ylim(0, max(*running, target or 0, 1) * 1.15)
    _ticks(ax, ax.get_ylim()[1], numbers.count, color=LINE)
    ax.spines[["top", "left"]].set_visible(False)
    if target:
        ax.axhline(target, color=MUTED, linestyle=(0, (4, 3)), linewidth=1.8)


def _ticks(ax: Axes, top: float, count: Format, color: str = INK) -> None:
    """Whole-number ticks up to `top`, written as the language writes them, in the bundled
    font (fixed here: ticks a formatter made at draw time would not keep it)."""
    ticks = [v for v in MaxNLocator(nbins=5, integer=True).tick_values(0, top) if 0 <= v <= top]
    ax.set_yticks(ticks, [count(v) for v in ticks], fontproperties=_font(), parse_math=False)
    ax.tick_params(axis="y", colors=color)

"""The reports at a province's size: two years of training generated, then each report timed.

    python -m bench.report [--scale 1.0] [--seed 1] [--repeat 3]
    python -m bench.report --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

A fresh database (a SQLite file in a temporary directory, or a new database on the PostgreSQL
server given, dropped at the end) is migrated and filled by bench.report_data: at scale 1,
100,000 people, 5,000 classes, 60,000 sessions and 2,000,000 attendance marks over last year's
plan and this year's, as of a fixed moment in November. Then each report of REPORTS is run
once untimed (connections, caches, lazy imports) and `--repeat` times timed.

--api-url is taken as by every benchmark (and refused unless it is the project's emulator)
but not used: the reports are timed at the service, not through the chat.

Prints one JSON line: people, classes, sessions, rows (attendance marks), generate_s, rss_mb
(this process's peak resident memory; a PostgreSQL server's own is not counted), db_mb (the
database's size on disk), database, scale, seed, api_url, and for each report timed its
median as <name>_ms: summary_ms (the year's summary), coverage_ms (the province by unit,
priority group, grade and position), xlsx_ms (the year's workbook, its figures fetched and
written), chart_ms (one chart drawn from the summary).
"""

from __future__ import annotations

import asyncio
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import (
    BenchError,
    add_database_option,
    base_parser,
    fresh_database,
    peak_rss_mb,
    positive_int,
    progress,
    run_main,
)
from bench.report_data import Generated, generate
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.i18n import DEFAULT_TIMEZONE, texts
from bot.report import Coverage, Period, ReportView, Summary
from bot.report_export import ReportData, chart, workbook
from bot.services.reports import ReportService
from storage.database import Database

#: Sizes at scale 1 (issue 12).
PEOPLE, CLASSES, SESSIONS, ATTENDANCE = 100_000, 5_000, 60_000, 2_000_000


@dataclass(frozen=True, slots=True)
class Report:
    """One report to time: its name in the JSON line, and the call that makes it in full."""

    name: str
    make: Callable[[Database, Generated], Awaitable[object]]


def _service(db: Database, generated: Generated) -> ReportService:
    return ReportService(db, FrozenClock(generated.now), DEFAULT_TIMEZONE)


def _admin(generated: Generated) -> Actor:
    return Actor(generated.admin_telegram_id, is_superadmin=True)


async def _summary(db: Database, generated: Generated) -> Summary:
    """The year's summary: plan against actual, attendance by class, learners at risk."""
    return await _service(db, generated).summary(_admin(generated), Period.of_year(generated.year))


async def _coverage(db: Database, generated: Generated) -> Coverage:
    """Coverage of the province by unit, priority group, grade and position."""
    period = Period.of_year(generated.year)
    return await _service(db, generated).coverage(_admin(generated), period)


async def _xlsx(db: Database, generated: Generated) -> Path:
    """The year's workbook as the bot makes it: every figure fetched, then written."""
    service, admin, period = (
        _service(db, generated),
        _admin(generated),
        Period.of_year(generated.year),
    )
    data = ReportData(
        await service.summary(admin, period), await service.coverage(admin, period),
        await service.sessions(admin, period), "Toàn tỉnh", "bench",
    )  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="bench-xlsx-") as folder:
        path = Path(folder) / "report.xlsx"
        await asyncio.to_thread(workbook, path, texts("vi"), data, DEFAULT_TIMEZONE)
        return path


async def time_chart(summary: Summary, repeat: int) -> float:
    """chart_ms: plan against actual by kind drawn from the year's summary (whose own time is
    summary_ms), median of `repeat` after one untimed, as the bot draws it: in a thread."""
    runs = []
    for _ in range(repeat + 1):
        started = time.perf_counter()
        await asyncio.to_thread(chart, texts("vi"), ReportView.KINDS, summary)
        runs.append(time.perf_counter() - started)
    return round(statistics.median(runs[1:]) * 1000, 1)


#: The reports timed, each made as the bot makes it, with an administrator's rights.
REPORTS: tuple[Report, ...] = (
    Report("summary", _summary),
    Report("coverage", _coverage),
    Report("xlsx", _xlsx),
)


def positive_float(value: str) -> float:
    """An argparse type for --scale."""
    number = float(value)
    if not 0 < number < math.inf:
        raise ValueError(value)
    return number


async def time_reports(
    db: Database, generated: Generated, reports: Sequence[Report], repeat: int
) -> dict[str, float]:
    """<name>_ms: the median of `repeat` timed runs of each report, after one untimed."""
    timings = {}
    for report in reports:
        await report.make(db, generated)
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            await report.make(db, generated)
            runs.append(time.perf_counter() - started)
        timings[f"{report.name}_ms"] = round(statistics.median(runs) * 1000, 1)
        progress(f"{report.name}: {timings[f'{report.name}_ms']} ms")
    return timings


async def database_mb(db: Database) -> float:
    """The database's size on disk: the SQLite file (with its WAL), or PostgreSQL's own."""
    if db.dialect == "sqlite":
        path = Path(db.engine.url.database or "")
        size = sum(p.stat().st_size for p in path.parent.glob(f"{path.name}*"))
    else:
        async with db.read() as conn:
            size = int(await conn.scalar(sa.text("SELECT pg_database_size(current_database())")))
    return round(size / (1024 * 1024), 1)


async def run(
    *, scale: float, seed: int, repeat: int, database_url: str | None, api_url: str | None
) -> dict[str, Any]:
    sizes = {
        "people": round(PEOPLE * scale),
        "classes": round(CLASSES * scale),
        "sessions": round(SESSIONS * scale),
        "attendance": round(ATTENDANCE * scale),
    }
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        async with fresh_database(database_url, Path(tmp)) as db:
            progress(f"generating at scale {scale} ({db.dialect})")
            started = time.perf_counter()
            try:
                generated = await generate(db, seed=seed, progress=progress, **sizes)
            except ValueError as exc:
                raise BenchError(f"cannot generate at scale {scale}: {exc}") from exc
            generate_s = time.perf_counter() - started
            progress(f"generated in {generate_s:.1f} s")
            timings = await time_reports(db, generated, REPORTS, repeat)
            timings["chart_ms"] = await time_chart(await _summary(db, generated), repeat)
            size = await database_mb(db)
            dialect = db.dialect
    return {
        "people": sizes["people"],
        "classes": sizes["classes"],
        "sessions": sizes["sessions"],
        "rows": generated.rows.get("attendance", 0),
        "generate_s": round(generate_s, 1),
        "rss_mb": round(peak_rss_mb(), 1),
        "db_mb": size,
        **timings,
        "database": "sqlite" if dialect == "sqlite" else "postgresql",
        "scale": scale,
        "seed": seed,
        "api_url": api_url,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("python -m bench.report", __doc__)
    parser.add_argument("--scale", type=positive_float, default=1.0,
                        help="share of the full sizes to generate (1.0)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="generator seed (1)")
    parser.add_argument("--repeat", type=positive_int, default=3,
                        help="timed runs of each report (3)")  # fmt: skip
    add_database_option(parser)
    args = parser.parse_args(argv)
    return run_main(
        "bench.report",
        args.api_url,
        args.timeout,
        lambda: run(scale=args.scale, seed=args.seed, repeat=args.repeat,
                    database_url=args.database_url, api_url=args.api_url),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

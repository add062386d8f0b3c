"""The catalog at a province's size: 5,000 open classes, 100,000 people, through the real bot.

    python -m bench.catalog [--classes 5000] [--people 100000] [--cadres 50]
    python -m bench.catalog --api-url http://127.0.0.1:8081/bot   # a standalone emulator

The seeded demo province (`--people`) gets `--classes` open classes of its approved plan,
added through the repositories: varied kinds, formats and months, names with Vietnamese
diacritics, one in ten for an audience only (a unit, women, the young). The seeded file is
cached beside the demo one. Then each of `--cadres` linked cadres, one after the other (the
latency of a request, not of a queue), sends /classes (the first page), taps the kind filter
and a kind (timed from the kind's tap to the filtered list), and searches without diacritics
(`/classes chuyen doi so`). The real bot (build_application, its pacer unbound) runs against
the emulator.

Prints one JSON line: page_p50_ms, page_p99_ms, filter_p50_ms, filter_p99_ms, search_p50_ms,
search_p99_ms, pages (requests timed of each kind), classes, people, cadres, database, api_url.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    DEFAULT_CACHE_DIR,
    BenchError,
    Cadre,
    Extra,
    Talker,
    base_parser,
    button_of,
    demo_database,
    linked_cadres,
    next_with,
    percentile,
    positive_int,
    progress,
    run_main,
    running_bot,
    sqlite_url,
    venues_for,
)
from bot.actions import CatalogFilterMenu, CatalogSetFilter
from bot.training import (
    Audience,
    ClassFormat,
    ClassKind,
    ClassStatus,
    NewClass,
    NewProgramme,
    NewSession,
    PriorityGroup,
)
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.plans import PlanRepository, ProgrammeRepository
from storage.repositories.units import UnitRepository
from tools.demo.data import DEFAULT_SEED
from tools.emulator import BotMessage

SEARCH = "/classes chuyen doi so"
HEADING = "Lớp học đồng chí có thể đăng ký"
REPLY_TIMEOUT_S = 30.0
#: Topics of the classes' names, with their diacritics; "Chuyển đổi số" is what is searched.
TOPICS = (
    "Chuyển đổi số trong cơ quan nhà nước",
    "Kỹ năng lãnh đạo, quản lý cấp phòng",
    "Quản lý nhà nước ngạch chuyên viên chính",
    "Phòng, chống tham nhũng, tiêu cực",
    "Ứng dụng trí tuệ nhân tạo trong công vụ",
    "Cải cách hành chính và dịch vụ công trực tuyến",
    "Kiến thức quốc phòng và an ninh đối tượng 4",
    "Lý luận chính trị cho đảng viên mới",
    "Kỹ năng soạn thảo văn bản hành chính",
    "Bồi dưỡng cập nhật kiến thức cấp xã",
)
PLACES = ("Điện Biên", "Mường Thanh", "Tuần Giáo", "Mường Chà", "Tủa Chùa", "Nậm Pồ")
#: One class in this many is for an audience only.
AUDIENCE_EVERY = 10


def _add_classes_file(path: str, classes: int, seed: int) -> None:
    """Runs in a child process (see cached_database): the classes, through the repositories."""

    async def add_and_close() -> None:
        db = Database.from_url(sqlite_url(Path(path)))
        try:
            await add_classes(db, classes, seed)
        finally:
            await db.dispose()

    asyncio.run(add_and_close())


async def add_classes(db: Database, count: int, seed: int) -> None:
    """`count` open classes of this year's approved plan, starting over the coming year."""
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    async with db.write() as conn:
        plan = await PlanRepository(conn).of_year(now.year)
        if plan is None or not plan.approved:
            raise BenchError(f"the demo province has no approved plan for {now.year}")
        units = [u.id for u in await UnitRepository(conn).search("", limit=50)]
        kinds = list(ClassKind)
        programmes = ProgrammeRepository(conn)
        programme_ids = [
            await programmes.add(NewProgramme(f"BENCH.{n}", topic, kinds[n % len(kinds)], 24))
            for n, topic in enumerate(TOPICS)
        ]
        repo = ClassRepository(conn)
        for n in range(count):
            topic = rng.randrange(len(TOPICS))
            audience = Audience()
            if n % AUDIENCE_EVERY == 0:
                audience = rng.choice(
                    [Audience(unit_ids=(rng.choice(units),)),
                     Audience(groups=(PriorityGroup.WOMEN,)),
                     Audience(groups=(PriorityGroup.YOUNG,))]
                )  # fmt: skip
            class_id = await repo.add(
                NewClass(f"BENCH.{n:05d}", f"{TOPICS[topic]} khóa {n} tại {rng.choice(PLACES)}",
                         programme_ids[topic], plan.id, kinds[topic % len(kinds)],
                         rng.choice(list(ClassFormat)), rng.randint(20, 80), audience=audience,
                         location="Hội trường A", status=ClassStatus.OPEN),
                by=None,
            )  # fmt: skip
            starts = now + timedelta(days=rng.randint(2, 360), hours=rng.randint(0, 10))
            await repo.add_sessions(
                class_id,
                [NewSession(starts + timedelta(days=d), starts + timedelta(days=d, hours=3))
                 for d in range(2)],
            )  # fmt: skip


# --- one cadre ----------------------------------------------------------------------------------


async def _timed(user: Talker, act: Any) -> tuple[float, BotMessage]:
    """Seconds from the act (a send or a tap) to the list it brings."""
    started = time.perf_counter()
    await act
    listing = await next_with(user, CatalogFilterMenu, REPLY_TIMEOUT_S)
    elapsed = time.perf_counter() - started
    if HEADING not in listing.body:
        raise BenchError(f"unexpected list: {listing.body[:120]!r}")
    return elapsed, listing


async def browse(user: Talker, kind: ClassKind, times: dict[str, list[float]]) -> None:
    """The first page, a page filtered by kind, and a search, each timed."""
    page_s, listing = await _timed(user, user.send("/classes"))
    menu_button = button_of(listing, CatalogFilterMenu, field="kind")
    if menu_button is None:
        raise BenchError("the list has no kind filter")
    await user.tap_data(menu_button, listing.message_id)
    menu = await next_with(user, CatalogSetFilter, REPLY_TIMEOUT_S, field="kind")
    choice = button_of(menu, CatalogSetFilter, field="kind", value=kind.value)
    if choice is None:
        raise BenchError(f"the kind menu has no {kind.value}")
    filter_s, _ = await _timed(user, user.tap_data(choice, menu.message_id))
    search_s, found = await _timed(user, user.send(SEARCH))
    if "Chuyển đổi số" not in found.body:
        raise BenchError(f"the search found no 'Chuyển đổi số': {found.body[:120]!r}")
    times["page"].append(page_s)
    times["filter"].append(filter_s)
    times["search"].append(search_s)


# --- the run ------------------------------------------------------------------------------------


async def run(
    *, classes: int, people: int, cadres: int, seed: int, cache_dir: Path, api_url: str | None
) -> dict[str, Any]:
    times: dict[str, list[float]] = {"page": [], "filter": [], "search": []}
    with tempfile.TemporaryDirectory(prefix="bench-catalog-") as tmp:
        extra = Extra(f"catalog{classes}", _add_classes_file, classes, ("bench/catalog.py",))
        db_path = demo_database(Path(tmp), people=people, seed=seed, cache_dir=cache_dir,
                                extra=extra)  # fmt: skip
        who: list[Cadre] = await linked_cadres(db_path, cadres + 1)
        venue_of = venues_for(api_url)
        async with venue_of("catalog") as venue, running_bot(venue, sqlite_url(db_path)) as before:
            kinds = list(ClassKind)
            warm = who[-1]  # connections, caches, lazy imports: before the clock
            await browse(venue.user(warm.telegram_id, warm.first_name), kinds[0],
                         {"page": [], "filter": [], "search": []})  # fmt: skip
            for n, cadre in enumerate(who[:cadres]):
                user = venue.user(cadre.telegram_id, cadre.first_name)
                await browse(user, kinds[n % len(kinds)], times)
            refused = await venue.refused() - before
    if refused:
        raise BenchError(f"the emulator refused {refused} requests as Telegram would")
    result: dict[str, Any] = {}
    for name, values in times.items():
        result[f"{name}_p50_ms"] = round(percentile(values, 50) * 1000, 1)
        result[f"{name}_p99_ms"] = round(percentile(values, 99) * 1000, 1)
    progress(", ".join(f"{k} {v} ms" for k, v in result.items()))
    return {
        **result,
        "pages": cadres,
        "classes": classes,
        "people": people,
        "cadres": cadres,
        "database": "sqlite",
        "api_url": api_url,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("python -m bench.catalog", __doc__)
    parser.add_argument("--classes", type=positive_int, default=5000, help="open classes (5000)")
    parser.add_argument("--people", type=positive_int, default=100_000, help="roster (100000)")
    parser.add_argument("--cadres", type=positive_int, default=50, help="cadres browsing (50)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="demo data seed")
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where seeded databases stay"
    )
    args = parser.parse_args(argv)
    return run_main(
        "bench.catalog",
        args.api_url,
        args.timeout,
        lambda: run(
            classes=args.classes,
            people=args.people,
            cadres=args.cadres,
            seed=args.seed,
            cache_dir=args.cache_dir,
            api_url=args.api_url,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

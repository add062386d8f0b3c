"""Enrolment under a rush: N cadres tap "Enrol" on one class of few seats at the same moment.

    python -m bench.enrol [--cadres 500] [--capacity 30]
    python -m bench.enrol --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python -m bench.enrol --api-url http://127.0.0.1:8081/bot   # a standalone emulator

A fresh database (a SQLite file in a temporary directory, or a new database on the PostgreSQL
server given, dropped at the end) gets, through the repositories, one open class of an
approved plan with `--capacity` seats and `--cadres` people linked to Telegram who have given
their consent. The real bot (build_application, its pacer unbound) runs against the emulator.
Untimed, each cadre opens /classes and the class's card. Then all tap "✅ Đăng ký lớp này" at
once; each taps the confirmation's button ("✅ Xác nhận đăng ký" or "⏳ Xác nhận vào danh sách
chờ") as soon as it arrives. Latency: from the Enrol tap to the bot's final answer.

Prints one JSON line: cadres, capacity, enrolled (told so and enrolled in the database),
waitlisted (told a position; positions distinct and exactly 1..n, as in the database),
over_capacity (enrolled rows beyond the capacity, or an enrolled_count that disagrees),
errors (exceptions, unexpected answers, requests the emulator refused as Telegram would),
p50_ms, p99_ms, seconds (first tap to last answer), database, api_url; and the first few
error messages (error_samples) when there are any.
"""

from __future__ import annotations

import asyncio
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import (
    MAX_EVENTS,
    BenchError,
    Scene,
    Talker,
    add_database_option,
    base_parser,
    button_of,
    fresh_database,
    next_with,
    percentile,
    positive_int,
    progress,
    run_main,
    running_bot,
    seed_class,
    url_of,
    venues_for,
)
from bot.actions import Enrol, OpenClass
from bot.training import EnrolmentStatus, NewSession
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from tools.emulator import BotMessage

FIRST_TELEGRAM_ID = 7_100_000
#: The untimed part (opening the card) and each answer of the timed part wait this long at most.
ANSWER_TIMEOUT_S = 60.0
ENROLLED = re.compile(r"Đồng chí đã đăng ký lớp")
WAITING = re.compile(r"thứ tự (\d+) trong danh sách chờ")
ERROR_SAMPLES = 5


# --- one cadre ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one cadre was told."""

    telegram_id: int
    latency_s: float | None = None
    enrolled: bool = False
    position: int | None = None
    error: str | None = None


@dataclass
class Rush:
    """The moment every cadre taps at once, and what they were told."""

    go: asyncio.Event = field(default_factory=asyncio.Event)
    outcomes: list[Outcome] = field(default_factory=list)


async def _final_answer(user: Talker) -> BotMessage:
    """The bot's answer to the confirmation: the first event after it that is not empty."""
    for _ in range(MAX_EVENTS):
        event: BotMessage = await user.next_message(ANSWER_TIMEOUT_S)
        if event.body:
            return event
    raise BenchError(f"no answer to the confirmation in {MAX_EVENTS} messages")


async def cadre(user: Talker, telegram_id: int, rush: Rush, ready: asyncio.Queue[int]) -> None:
    """Opens the card (untimed), waits for the moment, enrols and confirms."""
    outcome = Outcome(telegram_id)
    rush.outcomes.append(outcome)
    try:
        await user.send("/classes")
        listing = await next_with(user, OpenClass, ANSWER_TIMEOUT_S)
        open_card = button_of(listing, OpenClass)
        assert open_card is not None
        await user.tap_data(open_card, listing.message_id)
        card = await next_with(user, Enrol, ANSWER_TIMEOUT_S, confirmed=False)
    except (BenchError, TimeoutError) as exc:
        outcome.error = f"{telegram_id} opening the card: {exc}"
        await ready.put(telegram_id)
        return
    await ready.put(telegram_id)
    await rush.go.wait()
    enrol = button_of(card, Enrol, confirmed=False)
    assert enrol is not None
    started = time.perf_counter()
    try:
        await user.tap_data(enrol, card.message_id)
        confirmation = await next_with(user, Enrol, ANSWER_TIMEOUT_S, confirmed=True)
        confirm = button_of(confirmation, Enrol, confirmed=True)
        assert confirm is not None
        await user.tap_data(confirm, confirmation.message_id)
        answer = await _final_answer(user)
    except (BenchError, TimeoutError) as exc:
        outcome.error = f"{telegram_id} enrolling: {exc}"
        return
    outcome.latency_s = time.perf_counter() - started
    if ENROLLED.search(answer.body):
        outcome.enrolled = True
    elif waiting := WAITING.search(answer.body):
        outcome.position = int(waiting.group(1))
    else:
        outcome.error = f"{telegram_id}: unexpected answer {answer.body[:120]!r}"


# --- the run ------------------------------------------------------------------------------------


async def _checked(db: Database, scene: Scene, rush: Rush, capacity: int) -> dict[str, Any]:
    """Figures from what cadres were told, checked against the database."""
    errors = [o.error for o in rush.outcomes if o.error]
    async with db.read() as conn:
        training_class = await ClassRepository(conn).get(scene.class_id)
        repo = EnrolmentRepository(conn)
        held = {t: await repo.of(scene.class_id, p) for t, p in scene.people.items()}
    in_db_enrolled = {t for t, e in held.items() if e and e.status is EnrolmentStatus.ENROLLED}
    in_db_positions = {
        t: e.position for t, e in held.items() if e and e.status is EnrolmentStatus.WAITLISTED
    }
    told_enrolled = {o.telegram_id for o in rush.outcomes if o.enrolled}
    told_positions = {o.telegram_id: o.position for o in rush.outcomes if o.position is not None}
    if told_enrolled != in_db_enrolled:
        errors.append(
            f"told enrolled {len(told_enrolled)}, enrolled in the database {len(in_db_enrolled)}"
        )
    if told_positions != in_db_positions:
        errors.append("the waitlist positions told differ from the database's")
    positions = sorted(told_positions.values())
    if positions != list(range(1, len(positions) + 1)):
        errors.append(f"waitlist positions are not exactly 1..{len(positions)}")
    over = max(0, len(in_db_enrolled) - capacity)
    if training_class.enrolled != len(in_db_enrolled):
        over = max(over, abs(training_class.enrolled - len(in_db_enrolled)))
        errors.append(
            f"enrolled_count {training_class.enrolled} != {len(in_db_enrolled)} enrolled rows"
        )
    latencies = [o.latency_s for o in rush.outcomes if o.latency_s is not None]
    return {
        "enrolled": len(told_enrolled & in_db_enrolled),
        "waitlisted": len(positions) if positions == list(range(1, len(positions) + 1)) else 0,
        "over_capacity": over,
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
    }


async def run(
    *, cadres: int, capacity: int, database_url: str | None, api_url: str | None
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-enrol-") as tmp:
        async with fresh_database(database_url, Path(tmp)) as db:
            starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
            sessions = [
                NewSession(starts + timedelta(days=d), starts + timedelta(days=d, hours=3))
                for d in range(2)
            ]
            async with db.write() as conn:
                scene = await seed_class(
                    conn, cadres=cadres, capacity=capacity, sessions=sessions,
                    first_telegram_id=FIRST_TELEGRAM_ID,
                )  # fmt: skip
            progress(f"seeded a class of {capacity} seats and {cadres} cadres ({db.dialect})")
            venues = venues_for(api_url)
            async with venues("enrol") as venue, running_bot(venue, url_of(db), db) as before:
                rush = Rush()
                ready: asyncio.Queue[int] = asyncio.Queue()
                tasks = [
                    asyncio.create_task(
                        cadre(venue.user(telegram_id, "Thử"), telegram_id, rush, ready)
                    )
                    for telegram_id in scene.people
                ]
                for _ in tasks:
                    await ready.get()
                progress(f"{cadres} cards open; all tap Enrol now")
                started = time.perf_counter()
                rush.go.set()
                await asyncio.gather(*tasks)
                seconds = time.perf_counter() - started
                refused = await venue.refused() - before
                figures = await _checked(db, scene, rush, capacity)
            dialect = db.dialect
    errors: list[str] = figures.pop("errors")
    if refused:
        errors.append(f"the emulator refused {refused} requests as Telegram would")
    result = {
        "cadres": cadres,
        "capacity": capacity,
        **figures,
        # Each refused request counts, not just the line saying how many there were.
        "errors": len(errors) + max(0, refused - 1),
        "seconds": round(seconds, 2),
        "database": "sqlite" if dialect == "sqlite" else "postgresql",
        "api_url": api_url,
    }
    if errors:
        result["error_samples"] = errors[:ERROR_SAMPLES]
    progress(f"enrolled {result['enrolled']}, waitlisted {result['waitlisted']}, "
             f"errors {result['errors']}, p99 {result['p99_ms']} ms")  # fmt: skip
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("python -m bench.enrol", __doc__)
    parser.add_argument("--cadres", type=positive_int, default=500, help="cadres enrolling (500)")
    parser.add_argument("--capacity", type=positive_int, default=30, help="the class's seats (30)")
    add_database_option(parser)
    args = parser.parse_args(argv)
    return run_main(
        "bench.enrol",
        args.api_url,
        args.timeout,
        lambda: run(
            cadres=args.cadres,
            capacity=args.capacity,
            database_url=args.database_url,
            api_url=args.api_url,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

"""Reminder benchmark: 2,000 cadres whose session starts in an hour, reminded at Telegram's limits.

    python -m bench.reminders --count 2000 --limit 200
    python -m bench.reminders --kill-every 300 --signal KILL
    python -m bench.reminders --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python -m bench.reminders --api-url http://127.0.0.1:8081/bot   # a standalone emulator

A fresh database (a SQLite file, or a new database on the PostgreSQL server given, dropped
at the end) gets, through the repositories, one class with `--count` enrolled cadres (linked
to Telegram, consent given, quiet hours off so the hour of the run does not matter) and one
session starting one hour after the due time, `--due-in` seconds from the seeding. The rows
are older than the due time, so the one-hour reminder is due then, not "created late".

The real bot runs as a child process (`python -m bot`, SEND_RATE_PER_S=--limit) against the
emulator, which allows `--limit` messages a second overall and 1 a second per chat and
answers 429 above that. Its first reminder pass, at start, merges the evening-before reminder
(due before the enrolment) and schedules the next pass at the due time: what is measured is
the real path, the JobQueue waking the pass that queues 2,000 reminders for the sender. The
benchmark waits until every chat has its reminder (with `--kill-every N`, signalling the bot
every N deliveries and starting it again) and counts at the emulator.

Prints one JSON line: due, sent, duplicates, lost, http_429, rate_per_s (over the send span,
the restarts' downtime left out), limit_per_s, ratio (rate/limit), first_ms and last_ms
(due → first and last reminder the emulator recorded), other (messages that were not the
expected reminders), database, api_url; with kills also kills, signal, downtime_s and
wall_rate_per_s.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from time import monotonic
from typing import Any

from bench.bot_process import BotProcess, Kills, LimitedEmulator, Sent, deliver, flood_figures
from bench.common import (
    BenchError,
    Scene,
    add_database_option,
    base_parser,
    fresh_database,
    positive_int,
    progress,
    run_main,
    seed_class,
    url_of,
)
from bot.reminders import QuietHours, ReminderPrefs, ReminderState
from bot.training import NewSession
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.reminders import ReminderRepository

FIRST_TELEGRAM_ID = 7_300_000
#: What the reminders say of the class seed_class makes: one not saying it is not one of them.
CLASS_CODE = "CDS.BENCH"
#: The default reminders (the evening before, an hour before), never held: equal times turn
#: quiet hours off.
NEVER_QUIET = ReminderPrefs(quiet=QuietHours(start=time(0), end=time(0)))
#: The bot starts in 2-3 s on an idle machine; its first pass must end before the due time.
DUE_IN_S = 10.0
#: Left of --timeout for stopping the bot and counting, once the wait for delivery ends.
WIND_DOWN_S = 15.0


async def seed(db: Database, count: int, due_at: datetime) -> tuple[Scene, int]:
    """The class, its cadres enrolled and their settings; returns the scene and the session."""
    starts = due_at + timedelta(hours=1)
    async with db.write() as conn:
        scene = await seed_class(
            conn, cadres=count, capacity=count,
            sessions=[NewSession(starts, starts + timedelta(hours=3))],
            first_telegram_id=FIRST_TELEGRAM_ID,
        )  # fmt: skip
        await EnrolmentRepository(conn).add_enrolled(scene.class_id, list(scene.people.values()))
        classes = ClassRepository(conn)
        await classes.update(scene.class_id, enrolled_count=count)
        reminders = ReminderRepository(conn)
        now = datetime.now(UTC)
        for person_id in scene.people.values():
            await reminders.save_prefs(person_id, NEVER_QUIET, now)
        (session,) = await classes.sessions(scene.class_id)
    return scene, session.id


async def first_pass_done(db: Database, session_id: int, count: int, due_at: datetime) -> None:
    """Waits until the bot's first pass has decided every evening-before reminder (merged: it
    fell due before the enrolment), so it has seen the session and scheduled the next pass;
    a pass that had not by the due time would time the start-up, not the wake."""
    while datetime.now(UTC) < due_at:
        async with db.read() as conn:
            merged = (await ReminderRepository(conn).counts(session_id)).get(
                ReminderState.MERGED, 0
            )
        if merged >= count:
            return
        await asyncio.sleep(0.05)
    raise BenchError("the bot's first reminder pass had not ended at the due time: raise --due-in")


async def run(args: Any) -> dict[str, Any]:
    deadline = monotonic() + args.timeout
    kills = Kills(args.kill_every, signal.Signals[f"SIG{args.signal}"], args.max_kills)
    with tempfile.TemporaryDirectory(prefix="bench-reminders-") as tmp:
        async with fresh_database(args.database_url, Path(tmp)) as db:
            due_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=args.due_in)
            scene, session_id = await seed(db, args.count, due_at)
            progress(f"seeded {args.count} cadres enrolled in one class ({db.dialect}); "
                     f"their reminders fall due at {due_at:%H:%M:%S}")  # fmt: skip
            emulator = LimitedEmulator(args.api_url, args.limit, "reminders")
            await emulator.start()
            try:
                await emulator.add_chats(list(scene.people))
                bot = BotProcess(
                    {
                        **emulator.bot_env,
                        "DATABASE_URL": url_of(db),
                        "SEND_RATE_PER_S": str(args.limit),
                        "SEND_RATE_PER_CHAT_S": "1",
                        "SEND_IN_FLIGHT": str(args.in_flight),
                    },
                    Path(tmp),
                )
                try:
                    await bot.start()
                    await first_pass_done(db, session_id, args.count, due_at)
                    ahead = (due_at - datetime.now(UTC)).total_seconds()
                    progress(f"the bot's first pass is done, {ahead:.1f} s before the due time")

                    def done(found: list[Sent]) -> bool:
                        return set(scene.people) <= {s.chat_id for s in found if _is_reminder(s)}

                    wait_s = deadline - monotonic() - WIND_DOWN_S
                    await deliver(bot, emulator, done, timeout_s=wait_s, kills=kills)
                finally:
                    if bot.running:
                        await bot.signal(signal.SIGTERM)
                found, http_429 = await emulator.deliveries()
            finally:
                await emulator.stop()
            dialect = db.dialect
    reminders = [s for s in found if s.chat_id in scene.people and _is_reminder(s)]
    figures = flood_figures(
        reminders, found, len(scene.people),
        due_at=due_at.timestamp(), limit=args.limit, http_429=http_429, kills=kills,
    )  # fmt: skip
    progress(f"{figures['sent']} of {figures['due']} reminded, first after "
             f"{figures['first_ms']} ms, {figures['rate_per_s']}/s")  # fmt: skip
    return {
        **figures,
        "other": len(found) - len(reminders),
        "in_flight": args.in_flight,
        "database": "sqlite" if dialect == "sqlite" else "postgresql",
        "api_url": args.api_url,
    }


def _is_reminder(sent: Sent) -> bool:
    return CLASS_CODE in sent.text


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("python -m bench.reminders", __doc__)
    parser.add_argument("--count", type=positive_int, default=2000, help="cadres (2000)")
    parser.add_argument("--limit", type=positive_int, default=200,
                        help="messages a second the emulator allows overall (200)")  # fmt: skip
    parser.add_argument("--due-in", type=float, default=DUE_IN_S, metavar="S",
                        help=f"seconds from the seeding to the due time ({DUE_IN_S:.0f}); the "
                        "bot must be up and through its first pass by then")  # fmt: skip
    parser.add_argument("--in-flight", type=positive_int, default=8,
                        help="the bot's concurrent sends (8)")  # fmt: skip
    parser.add_argument("--kill-every", type=int, default=0, metavar="N",
                        help="signal the bot every N deliveries and start it again")  # fmt: skip
    parser.add_argument("--signal", choices=("TERM", "KILL"), default="TERM")
    parser.add_argument("--max-kills", type=positive_int, default=20)
    add_database_option(parser)
    args = parser.parse_args(argv)
    return run_main("bench.reminders", args.api_url, args.timeout, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())

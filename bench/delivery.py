"""Delivery benchmark: 2,000 messages due at once to 1,500 chats, at Telegram's limits.

    python -m bench.delivery --count 2000 --limit 200
    python -m bench.delivery --kill-every 300 --signal KILL

The bot runs as a child process against the project's emulator, which allows `--limit`
messages a second overall and 1 a second per chat and answers 429 above that. The benchmark
seeds the outbox (due in a moment), lets the running bot deliver, and counts at the emulator
against the expected set: what arrived, what arrived twice, what never arrived. With
`--kill-every N` the bot is killed (TERM: graceful; KILL: no goodbye) every N deliveries and
started again. `--api-url` points at another Bot API server: it must be this project's
emulator run standalone (`python -m tools.emulator`), the only server that can count
deliveries and emulate 1,500 chats.

Prints one JSON line: due, sent, duplicates, lost, http_429, rate_per_s, limit_per_s,
ratio (rate/limit), first_ms and last_ms (due → first and last delivery), in_flight; with
kills also kills, signal, downtime_s (signal → first delivery after the restart, summed)
and wall_rate_per_s. The rate counts the time the bot was up: the restarts' downtime is
reported, not averaged in.
"""

from __future__ import annotations

import asyncio
import signal
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.bot_process import BotProcess, Kills, LimitedEmulator, Sent, deliver, flood_figures
from bench.common import base_parser, emit, progress
from bot.delivery.model import NewMessage
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories.outbox import OutboxRepository

FIRST_CHAT = 3_000_000
DUE_IN_S = 2.0


async def seed(db_url: str, count: int, chats: int, due_at: datetime) -> list[str]:
    """`count` messages over `chats` chats: the first messages of every chat, then seconds."""
    db = Database.from_url(db_url)
    keys = [f"bench:{i}" for i in range(count)]
    try:
        async with db.write() as conn:
            await OutboxRepository(conn).add(
                [
                    NewMessage(key, FIRST_CHAT + i % chats, "bench", {"text": key}, due_at=due_at)
                    for i, key in enumerate(keys)
                ]
            )
    finally:
        await db.dispose()
    return keys


async def run(args: Any) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    db_url = f"sqlite+aiosqlite:///{workdir}/bench.db"
    db = Database.from_url(db_url)
    await upgrade(db)
    await db.dispose()

    emulator = LimitedEmulator(args.api_url, args.limit, "delivery")
    await emulator.start()
    await emulator.add_chats([FIRST_CHAT + i for i in range(args.chats)])
    bot = BotProcess(
        {
            **emulator.bot_env,
            "DATABASE_URL": db_url,
            "SEND_RATE_PER_S": str(args.limit),
            "SEND_RATE_PER_CHAT_S": "1",
            "SEND_IN_FLIGHT": str(args.in_flight),
        },
        workdir,
    )
    kills = Kills(args.kill_every, signal.Signals[f"SIG{args.signal}"], args.max_kills)
    try:
        await bot.start()
        due_at = datetime.now(UTC) + timedelta(seconds=DUE_IN_S)
        expected = set(await seed(db_url, args.count, args.chats, due_at))
        progress(f"seeded {len(expected)} messages for {args.chats} chats, due {due_at:%H:%M:%S}")

        def done(found: list[Sent]) -> bool:
            return expected <= {s.text for s in found}

        await deliver(bot, emulator, done, timeout_s=args.timeout, kills=kills)
    finally:
        if bot.running:
            await bot.signal(signal.SIGTERM)
        found, http_429 = await emulator.deliveries()
        await emulator.stop()
    figures = flood_figures(
        [s for s in found if s.text in expected], found, len(expected),
        due_at=due_at.timestamp(), limit=args.limit, http_429=http_429, kills=kills,
    )  # fmt: skip
    return {**figures, "in_flight": args.in_flight}


def main(argv: list[str] | None = None) -> None:
    parser = base_parser("python -m bench.delivery", __doc__)
    parser.add_argument("--count", type=int, default=2000, help="messages (default 2000)")
    parser.add_argument("--chats", type=int, default=1500, help="distinct chats (default 1500)")
    parser.add_argument("--limit", type=int, default=200, help="messages/s allowed overall")
    parser.add_argument("--in-flight", type=int, default=8, help="concurrent sends (default 8)")
    parser.add_argument("--kill-every", type=int, default=0, metavar="N",
                        help="signal the bot every N deliveries and restart it")  # fmt: skip
    parser.add_argument("--signal", choices=("TERM", "KILL"), default="TERM")
    parser.add_argument("--max-kills", type=int, default=20)
    args = parser.parse_args(argv)
    if args.timeout > 600:
        args.timeout = 300.0
    emit(asyncio.run(run(args)))


if __name__ == "__main__":
    main()

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
ratio (rate/limit), first_ms (due → first delivery), in_flight; with kills also kills,
downtime_s (signal → first delivery after the restart, summed) and wall_rate_per_s. The
rate counts the time the bot was up: the restarts' downtime is reported, not averaged in.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.bot_process import BotProcess
from bench.common import base_parser, emit, progress
from bot.delivery.model import NewMessage
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories.outbox import OutboxRepository
from tools.emulator import BotApiEmulator
from tools.emulator.faults import Faults

TOKEN = "424242:BENCH"
FIRST_CHAT = 3_000_000
DUE_IN_S = 2.0


class EmulatorClient:
    """The emulator, in this process or standalone behind --api-url, through one interface."""

    def __init__(self, api_url: str | None, limit: int) -> None:
        self.api_url = api_url
        self.limit = limit
        self.local: BotApiEmulator | None = None

    async def start(self) -> str:
        faults = {"overall_per_s": self.limit, "private_chat_per_s": 1}
        if self.api_url is None:
            self.local = BotApiEmulator(token=TOKEN, faults=Faults(**faults))
            await self.local.start()
            return self.local.base_url
        root = self.api_url.removesuffix("/").removesuffix("/bot")
        async with httpx.AsyncClient(base_url=root, timeout=10) as client:
            response = await client.post("/_emulator/config", json=faults)
            if response.status_code != 200:
                sys.exit("--api-url must be this project's emulator (python -m tools.emulator)")
        return root + "/bot"

    async def add_chats(self, ids: list[int]) -> None:
        if self.local is not None:
            for chat in ids:
                self.local.user(chat, bot=TOKEN)
            return
        async with httpx.AsyncClient(base_url=self._root, timeout=30) as client:
            (
                await client.post("/_emulator/users", json={"ids": ids, "token": TOKEN})
            ).raise_for_status()

    @property
    def _root(self) -> str:
        assert self.api_url is not None
        return self.api_url.removesuffix("/").removesuffix("/bot")

    async def deliveries(self) -> tuple[list[tuple[str, float]], int]:
        """(text, wall time) of every delivery for our token, and the number of 429s."""
        if self.local is not None:
            found = [(d.text, d.wall) for d in self.local.delivered(TOKEN)]
            return found, self.local.stats.rate_limited
        async with httpx.AsyncClient(base_url=self._root, timeout=30) as client:
            stats = (await client.get("/_emulator/stats", params={"log": "1"})).json()["result"]
        found = [(d["text"], d["wall"]) for d in stats["deliveries"] if d["token"] == TOKEN]
        return found, stats["rate_limited"]

    async def stop(self) -> None:
        if self.local is not None:
            await self.local.stop()


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

    emulator = EmulatorClient(args.api_url, args.limit)
    base_url = await emulator.start()
    chat_ids = [FIRST_CHAT + i for i in range(args.chats)]
    await emulator.add_chats(chat_ids)
    bot = BotProcess(
        {
            "BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": base_url,
            "TELEGRAM_BASE_FILE_URL": base_url.replace("/bot", "/file/bot"),
            "DATABASE_URL": db_url,
            "SEND_RATE_PER_S": str(args.limit),
            "SEND_RATE_PER_CHAT_S": "1",
            "SEND_IN_FLIGHT": str(args.in_flight),
        },
        workdir,
    )
    kills = 0
    restarts: list[tuple[float, float]] = []  # (signal sent, new process started)
    try:
        await bot.start()
        due_at = datetime.now(UTC) + timedelta(seconds=DUE_IN_S)
        keys = await seed(db_url, args.count, args.chats, due_at)
        expected = set(keys)
        progress(f"seeded {len(keys)} messages for {args.chats} chats, due at {due_at:%H:%M:%S}")
        deadline = time.monotonic() + args.timeout
        next_kill = args.kill_every
        while time.monotonic() < deadline:
            found, _ = await emulator.deliveries()
            delivered = {text for text, _ in found if text in expected}
            if len(delivered) == len(expected):
                break
            if next_kill and len(found) >= next_kill and kills < args.max_kills:
                sig = signal.Signals[f"SIG{args.signal}"]
                progress(f"{len(found)} delivered: sending {sig.name}, then restarting")
                killed = time.time()
                await bot.signal(sig)
                kills += 1
                next_kill += args.kill_every
                restarts.append((killed, time.time()))
                await bot.start()
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # let late duplicates show up before counting
    finally:
        if bot.running:
            await bot.signal(signal.SIGTERM)
        found, http_429 = await emulator.deliveries()
        await emulator.stop()

    ours = [(text, wall) for text, wall in found if text in expected]
    counts = Counter(text for text, _ in ours)
    sent = len(counts)
    times = sorted(wall for _, wall in ours)
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    # Time the bot was down: from the signal to the first delivery of the new process.
    all_times = sorted(wall for _, wall in found)
    downtime = sum(
        next((t for t in all_times if t > started), started) - killed
        for killed, started in restarts
    )
    rate = (sent - 1) / (span - downtime) if span > downtime else 0.0
    result: dict[str, Any] = {
        "due": len(expected),
        "sent": sent,
        "duplicates": sum(counts.values()) - sent,
        "lost": len(expected) - sent,
        "http_429": http_429,
        "rate_per_s": round(rate, 1),
        "limit_per_s": args.limit,
        "ratio": round(rate / args.limit, 3),
        "first_ms": round((times[0] - due_at.timestamp()) * 1000, 1) if times else None,
        "in_flight": args.in_flight,
    }
    if args.kill_every:
        wall_rate = round((sent - 1) / span, 1) if span else 0.0
        result.update(kills=kills, signal=args.signal, downtime_s=round(downtime, 2),
                      wall_rate_per_s=wall_rate)  # fmt: skip
    return result


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

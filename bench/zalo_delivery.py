"""Zalo delivery benchmark: 1,000 messages due at once to 600 Zalo users, at Zalo's limits.

    python -m bench.zalo_delivery --count 1000 --chats 600 --limit 10
    python -m bench.zalo_delivery --api-url http://127.0.0.1:8082/bot   # a standalone emulator

A Zalo-only office: the real bot runs as a child process (`python -m bot` with ZALO_BOT_TOKEN
and ZALO_BASE_URL, no BOT_TOKEN; ZALO_SEND_RATE_PER_S=--limit, ZALO_SEND_RATE_PER_CHAT_S=1)
against the Zalo emulator, which allows `--limit` sends a second overall (and, with
`--chat-limit`, that many per chat) and answers 429 "Quota exceeded" above that.

Each of the `--chats` users wrote to the bot once before: they write to the emulator, whose
queue is then emptied (the bot saw those messages earlier), and their zalo_accounts rows are
made as the bridge makes them. `--count` messages over those chats go into the outbox, due a
moment after the bot is up; `--long` of them are longer than Zalo's 2,000 characters, so the
bridge sends each in parts, which must arrive whole and in order. Everything is counted at
the emulator, from what each user received.

`--api-url` points at the Zalo emulator run standalone (`python -m tools.zalo_emulator`), with
no limits or faults on; the bot uses its `--token` (the emulator's default token unless
given), new users every run.

Prints one JSON line: due, sent (messages with every part received), duplicates (extra
deliveries of a message or a part), lost, rate_per_s (sends a second, first to last),
limit_per_s, ratio (rate/limit), first_ms and last_ms (due → first and last send received),
split_messages, split_parts, split_whole (long messages whose parts each arrived once,
adjacent and in order), other (received texts that were none of the messages), http_429,
refused (requests the emulator refused: bugs), log_errors (lines of the bot's log at ERROR
or above), chats, in_flight, database, api_url.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from bench.bot_process import BotProcess
from bench.common import (
    BenchError,
    add_database_option,
    base_parser,
    fresh_database,
    positive_int,
    progress,
    run_main,
    server_root,
    url_of,
)
from bot.delivery.model import NewMessage
from bot.zalo.render import plain_text, split
from storage.database import Database
from storage.repositories.outbox import OutboxRepository
from storage.repositories.zalo_accounts import ZaloAccountRepository
from tools.zalo_emulator import DEFAULT_TOKEN, ZaloBotApiEmulator

#: The bot is up when the outbox rows are added; a moment later they fall due.
DUE_IN_S = 2.0
#: A long message: paragraphs of about 380 characters, 3,900 in all, under Telegram's 4,096
#: that the bridge takes and over Zalo's 2,000, so the bridge sends it in 2 parts.
LONG_PARAGRAPHS = 10
FILLER = "Lớp bồi dưỡng chuyển đổi số cho cán bộ cấp xã, học tại hội trường tỉnh. " * 5
#: Inbox reads at once when counting what every user received.
READS_AT_ONCE = 20
#: Lines of the bot's log at ERROR or above shown on stderr (all are counted).
LOG_SAMPLES = 3
#: Left of --timeout for stopping the bot and counting, once the wait for delivery ends.
WIND_DOWN_S = 20.0


@dataclass(frozen=True)
class Due:
    """One outbox message: to which Zalo user, and the parts the bridge should send."""

    key: str
    zalo_id: str
    text: str
    parts: tuple[str, ...]

    @property
    def long(self) -> bool:
        return len(self.parts) > 1


def message_text(key: str, long: bool) -> str:
    """Plain text (no markup, nothing the HTML parse mode changes); each paragraph of a long
    one names the message, so any part is told apart from every other."""
    if not long:
        return f"{key}: thông báo lịch học"
    return "\n\n".join(f"{key} ¶{n}: {FILLER.strip()}" for n in range(LONG_PARAGRAPHS))


def plan(count: int, zalo_ids: Sequence[str], long: int, run: str) -> list[Due]:
    """Message i goes to user i mod chats; `long` of them, spread evenly, are long."""
    step = max(1, count // long) if long else 0
    messages = []
    for i in range(count):
        key = f"zbench-{run}-{i}"
        is_long = bool(step) and i % step == 0 and i // step < long
        text = message_text(key, is_long)
        parts = tuple(split(plain_text(text)))
        messages.append(Due(key, zalo_ids[i % len(zalo_ids)], text, parts))
    return messages


class ZaloVenue:
    """The Zalo emulator, in this process or standalone at --api-url, through its HTTP
    interface alone, so both are driven alike. Counters are read as differences from the
    start, since a standalone emulator may have served earlier runs."""

    def __init__(self, api_url: str | None, token: str, limit: int, chat_limit: int) -> None:
        self.api_url = api_url
        self.token = token
        self.limits = {"overall_per_s": limit, "chat_per_s": chat_limit or None}
        self.local: ZaloBotApiEmulator | None = None
        self.root = server_root(api_url) if api_url else ""
        self.client = httpx.AsyncClient(timeout=30)
        self._before: dict[str, int] = {}

    async def start(self) -> None:
        if self.api_url is None:
            self.local = ZaloBotApiEmulator(token=self.token)
            await self.local.start()
            self.root = self.local.url
        me = await self.client.post(f"{self.root}/bot{self.token}/getMe")
        if me.status_code == 401:
            raise BenchError(f"the emulator at {self.root} does not know the token: give --token")
        me.raise_for_status()
        self._before = await self._counters()

    async def _counters(self) -> dict[str, int]:
        response = await self.client.get(f"{self.root}/_emulator/stats")
        stats = response.raise_for_status().json()["result"]
        return {
            "delivered": stats["delivered"],
            "rate_limited": stats["rate_limited"],
            "refused": len(stats["refused"]),
        }

    async def counted(self) -> dict[str, int]:
        """The counters since the start: delivered, rate_limited (429s) and refused."""
        now = await self._counters()
        return {name: value - self._before[name] for name, value in now.items()}

    async def users_wrote(self, zalo_ids: Sequence[str]) -> None:
        """Each user writes once (so the bot may write back); the queue is then emptied, as
        if the bot had read those messages before this run."""
        for n, zalo_id in enumerate(zalo_ids):
            user = {"id": zalo_id, "display_name": f"Cán bộ {n:04d}"}
            body = {"token": self.token, "user": user, "text": "Xin chào"}
            (
                await self.client.post(f"{self.root}/_emulator/messages", json=body)
            ).raise_for_status()
        api = f"{self.root}/bot{self.token}"
        (await self.client.post(f"{api}/deleteWebhook")).raise_for_status()
        for _ in range(len(zalo_ids) + 10_000):  # an emulator left with others' events too
            response = await self.client.post(f"{api}/getUpdates", json={"timeout": 0})
            if response.status_code == 408:
                return
            response.raise_for_status()
        raise BenchError("the emulator's event queue did not empty")

    async def limit(self, on: bool) -> None:
        """Puts the limits on, or lifts them again."""
        limits = self.limits if on else dict.fromkeys(self.limits)
        response = await self.client.post(f"{self.root}/_emulator/config", json=limits)
        response.raise_for_status()

    async def inboxes(self, zalo_ids: Sequence[str]) -> dict[str, list[tuple[str, int]]]:
        """What each user received from the bot so far: (text, date in ms), in order."""
        gate = asyncio.Semaphore(READS_AT_ONCE)

        async def inbox(zalo_id: str) -> list[tuple[str, int]]:
            params: dict[str, str | int] = {"token": self.token, "chat_id": zalo_id}
            async with gate:
                response = await self.client.get(f"{self.root}/_emulator/inbox", params=params)
            events = response.raise_for_status().json()["result"]["events"]
            return [(e["text"], e["date"]) for e in events]

        found = await asyncio.gather(*(inbox(z) for z in zalo_ids))
        return dict(zip(zalo_ids, found, strict=True))

    async def stop(self) -> None:
        try:
            await self.limit(False)
        finally:
            await self.client.aclose()
            if self.local is not None:
                await self.local.stop()


def all_arrived(messages: Sequence[Due], received: dict[str, list[tuple[str, int]]]) -> bool:
    got = {(zalo_id, text) for zalo_id, inbox in received.items() for text, _ in inbox}
    return all((m.zalo_id, part) in got for m in messages for part in m.parts)


def whole_and_in_order(message: Due, inbox: Sequence[str]) -> bool:
    """Every part received once, one after the other, in order."""
    at = [i for i, text in enumerate(inbox) if text in message.parts]
    in_order = [inbox[i] for i in at] == list(message.parts)
    return in_order and at == list(range(at[0], at[0] + len(at)))


def figures(
    messages: Sequence[Due],
    received: dict[str, list[tuple[str, int]]],
    *,
    due_at: float,
    limit: int,
) -> dict[str, Any]:
    """The counts of what each user received, against the messages due to them."""
    expected = {(m.zalo_id, part) for m in messages for part in m.parts}
    times: dict[tuple[str, str], list[int]] = {}
    other = 0
    for zalo_id, inbox in received.items():
        for text, date in inbox:
            if (zalo_id, text) in expected:
                times.setdefault((zalo_id, text), []).append(date)
            else:
                other += 1
    sent = sum(all((m.zalo_id, p) in times for p in m.parts) for m in messages)
    firsts = sorted(min(dates) / 1000 for dates in times.values())
    span = firsts[-1] - firsts[0] if len(firsts) > 1 else 0.0
    rate = (len(firsts) - 1) / span if span else 0.0
    every = sorted(d / 1000 for dates in times.values() for d in dates)
    long = [m for m in messages if m.long]
    texts = {zalo_id: [text for text, _ in inbox] for zalo_id, inbox in received.items()}
    return {
        "due": len(messages),
        "sent": sent,
        "duplicates": sum(len(dates) - 1 for dates in times.values()),
        "lost": len(messages) - sent,
        "rate_per_s": round(rate, 1),
        "limit_per_s": limit,
        "ratio": round(rate / limit, 3),
        "first_ms": round((every[0] - due_at) * 1000) if every else None,
        "last_ms": round((every[-1] - due_at) * 1000) if every else None,
        "split_messages": len(long),
        "split_parts": sum(len(m.parts) for m in long),
        "split_whole": sum(whole_and_in_order(m, texts[m.zalo_id]) for m in long),
        "other": other,
    }


async def seed_accounts(db: Database, zalo_ids: Sequence[str]) -> dict[str, int]:
    """The zalo_accounts rows the bridge makes at each user's first message: Zalo id → the
    number the outbox addresses."""
    now = datetime.now(UTC)
    async with db.write() as conn:
        repo = ZaloAccountRepository(conn)
        return {z: (await repo.create(z, now)).chat_id for z in zalo_ids}


async def seed_outbox(
    db: Database, messages: Sequence[Due], numbers: dict[str, int], due_at: datetime
) -> None:
    rows = [
        NewMessage(m.key, numbers[m.zalo_id], "bench", {"text": m.text}, due_at=due_at)
        for m in messages
    ]
    async with db.write() as conn:
        await OutboxRepository(conn).add(rows)


async def wait_for_delivery(
    venue: ZaloVenue, messages: Sequence[Due], zalo_ids: Sequence[str], wait_s: float
) -> dict[str, list[tuple[str, int]]]:
    """Polls the emulator's count until every part may have arrived, then checks the users'
    inboxes (at most once a second); then a second more, so late duplicates are counted."""
    parts = sum(len(m.parts) for m in messages)
    deadline = time.monotonic() + wait_s
    reported = 0
    while time.monotonic() < deadline:
        delivered = (await venue.counted())["delivered"]
        if delivered >= reported + max(1, parts // 10):
            progress(f"{delivered} of {parts} sends received")
            reported = delivered
        if delivered >= parts and all_arrived(messages, await venue.inboxes(zalo_ids)):
            break
        await asyncio.sleep(0.1 if delivered < parts else 1.0)
    await asyncio.sleep(1.0)
    return await venue.inboxes(zalo_ids)


async def run(args: Any) -> dict[str, Any]:
    deadline = time.monotonic() + args.timeout
    tag = secrets.token_hex(4)
    zalo_ids = [f"{tag}{n:012x}" for n in range(args.chats)]  # 20 hex digits, as Zalo's
    messages = plan(args.count, zalo_ids, args.long, tag)
    venue = ZaloVenue(args.api_url, args.token, args.limit, args.chat_limit)
    with tempfile.TemporaryDirectory(prefix="bench-zalo-delivery-") as tmp:
        async with fresh_database(args.database_url, Path(tmp)) as db:
            await venue.start()
            try:
                await venue.users_wrote(zalo_ids)
                numbers = await seed_accounts(db, zalo_ids)
                progress(f"{args.chats} Zalo users wrote once; their accounts are known")
                await venue.limit(True)
                bot = BotProcess(
                    {
                        "ZALO_BOT_TOKEN": venue.token,
                        "ZALO_BASE_URL": venue.root,
                        "DATABASE_URL": url_of(db),
                        "ZALO_SEND_RATE_PER_S": str(args.limit),
                        "ZALO_SEND_RATE_PER_CHAT_S": "1",
                        "SEND_IN_FLIGHT": str(args.in_flight),
                        "OFFICE_REMINDER_HOURS": "00:00-00:00",
                        "DIGEST_WEEKLY": "off",
                        "DIGEST_MONTHLY": "off",
                    },
                    Path(tmp),
                )
                try:
                    await bot.start()
                    due_at = datetime.now(UTC) + timedelta(seconds=DUE_IN_S)
                    await seed_outbox(db, messages, numbers, due_at)
                    progress(f"{len(messages)} messages due at {due_at:%H:%M:%S}")
                    wait_s = deadline - time.monotonic() - WIND_DOWN_S
                    received = await wait_for_delivery(venue, messages, zalo_ids, wait_s)
                finally:
                    if bot.running:
                        await bot.signal(signal.SIGTERM)
                counted = await venue.counted()
                log_errors = errors_in(bot.log_text())
            finally:
                await venue.stop()
            dialect = db.dialect
    result = figures(messages, received, due_at=due_at.timestamp(), limit=args.limit)
    for line in log_errors[:LOG_SAMPLES]:
        progress(f"bot log: {line}")
    progress(f"{result['sent']} of {result['due']} delivered, {result['rate_per_s']}/s, "
             f"{counted['rate_limited']} answered 429")  # fmt: skip
    return {
        **result,
        "http_429": counted["rate_limited"],
        "refused": counted["refused"],
        "log_errors": len(log_errors),
        "chats": args.chats,
        "in_flight": args.in_flight,
        "database": "sqlite" if dialect == "sqlite" else "postgresql",
        "api_url": args.api_url,
    }


def errors_in(log: str) -> list[str]:
    """The bot's log lines at ERROR or above: each one a failure the run must show."""
    return [line for line in log.splitlines() if " ERROR " in line or " CRITICAL " in line]


def refusal(api_url: str) -> str | None:
    """Why the benchmark cannot run at api_url, in one line; None if it can: it must be the
    Zalo emulator, with no limits or faults on (the benchmark sets its own)."""
    where = server_root(api_url)
    try:
        response = httpx.get(f"{where}/_emulator/config", timeout=3)
        config = response.json().get("result") if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError):
        return f"nothing answers at {where}, or not the Zalo emulator"
    if not isinstance(config, dict) or "chat_per_s" not in config:
        return (
            f"{where} is not the Zalo emulator: start `python -m tools.zalo_emulator --port P` "
            "or run without --api-url"
        )
    faults = ("quota", "server_error", "slow")
    on = [name for name in ("overall_per_s", "chat_per_s") if config[name]] + [
        name for name in faults if config[name].get("every_nth") or config[name].get("probability")
    ]
    if on:
        return f"the Zalo emulator at {where} has limits or faults on ({', '.join(on)})"
    return None


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("python -m bench.zalo_delivery", __doc__)
    parser.add_argument("--count", type=positive_int, default=1000, help="messages (1000)")
    parser.add_argument("--chats", type=positive_int, default=600, help="Zalo users (600)")
    parser.add_argument("--long", type=int, default=10,
                        help="messages over 2,000 characters, sent in parts (10)")  # fmt: skip
    parser.add_argument("--limit", type=positive_int, default=10,
                        help="sends a second the emulator allows overall (10)")  # fmt: skip
    parser.add_argument("--chat-limit", type=int, default=0, metavar="N",
                        help="sends a second it allows per chat (0: no limit)")  # fmt: skip
    parser.add_argument("--in-flight", type=positive_int, default=8,
                        help="the bot's concurrent sends (8)")  # fmt: skip
    parser.add_argument("--token", default=DEFAULT_TOKEN,
                        help="the bot's token, one the emulator knows (its default)")  # fmt: skip
    add_database_option(parser)
    args = parser.parse_args(argv)
    if args.long > args.count:
        parser.error("--long cannot exceed --count")
    if args.api_url and (reason := refusal(args.api_url)):
        print(f"bench.zalo_delivery: {reason}", file=sys.stderr)
        return 2
    # The Telegram emulator's check (run_main's) does not apply: it is done above.
    return run_main("bench.zalo_delivery", None, args.timeout, lambda: run(args))


if __name__ == "__main__":
    sys.exit(main())

"""Replies per second and latency of the cadre bot on /profile, against a bare PTB echo bot.

    python -m bench.updates [--users 50] [--messages 20] [--people 100000] [--telegram-rate]
    python -m bench.updates --api-url http://127.0.0.1:8081/bot   # a standalone emulator

Each of N scripted users, all people linked to Telegram in a seeded demo province, sends
/profile M times and waits for each reply before the next; /profile reads the person's card
through its joins, so every update does the real work of the bot. The same users then drive a
bare python-telegram-bot echo bot. Both come out of build_application itself, with the same
Settings, so their ApplicationBuilder options (base URL, defaults, context types, per-user
ordered processor, rate limiter) are identical by construction; the echo bot only loses the
handlers and the lifecycle hooks. The ratio thus isolates what the app adds to the library.
Each bot gets a fresh emulator (its rate limits off) and a warm-up before the clock starts.

Rates: build_application paces every reply through one shared pacer at send_rate_per_s. By
default both bots get 100,000/s (and as much per chat): the pacer stays in place, so the
options stay identical, but it never binds, and the figures show the processing cost.
`--telegram-rate` builds both at production's default (25/s less 5% headroom) instead, a
diagnostic: with enough users both sit at that ceiling and the ratio is ~1.

Each bot runs `--rounds` times (3), the rounds alternating which bot goes first so that the
machine's changing load weighs on both alike; the JSON line reports each bot's median round:
replies per second and latency (send to reply, p50 and p99), the
peak RSS of this process after the app's run (seeding runs in a child process and is left
out), CPU per reply of the whole process (`cpu_ms`: steadier than replies per second when
other programs share the machine) and the send_rate_per_s both bots were built with.

--api-url: a standalone emulator (`python -m tools.emulator --port 8081`) instead of one in
this process. The users then live here as RemoteUsers, pushing messages through its
/_emulator/updates and reading replies from /_emulator/inbox; each bot gets its own fresh
token, so neither the update queues nor the chats of the two runs mix, and repeated runs do
not see each other. cpu_ms then leaves out the emulator's CPU. The emulator must have its
rate limits and faults off. Any other Bot API server is refused (exit 2): Telegram offers no
way to inject users' messages.
"""

from __future__ import annotations

import asyncio
import functools
import secrets
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx
import sqlalchemy as sa
from telegram import Update
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters

from bench.common import (
    DEFAULT_CACHE_DIR,
    ApiServer,
    BenchError,
    base_parser,
    demo_database,
    emit,
    emulator_config,
    peak_rss_mb,
    percentile,
    positive_int,
    probe_api_server,
    progress,
    server_root,
    sqlite_url,
)
from bot.app import build_application, start_application, stop_application
from bot.config import Settings
from handlers.context import BotContext
from storage.database import Database
from storage.schema import people as people_table
from tools.demo.data import DEFAULT_SEED, LINKED_TELEGRAM_ID_START
from tools.emulator import ApiError, BotApiEmulator, BotMessage, RemoteEmulator

App = Application[Any, Any, Any, Any, Any, Any]
COMMAND = "/profile"
#: A few users, a few messages each: connections, caches and lazy imports, before the clock.
WARMUP_MESSAGES = 2
#: Sends per second (overall and per chat) at which the shared pacer never binds.
UNBOUND_RATE = 100_000.0


@dataclass(frozen=True)
class Cadre:
    """A person of the roster who has linked Telegram: the identity a scripted user takes."""

    telegram_id: int
    full_name: str

    @property
    def first_name(self) -> str:
        """Vietnamese names end with the given name, which Telegram shows as first_name."""
        return self.full_name.rsplit(" ", 1)[-1]


@dataclass(frozen=True)
class Figures:
    """One bot's timed run."""

    replies: int
    seconds: float
    cpu_seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def per_s(self) -> float:
        return self.replies / self.seconds

    @property
    def cpu_ms(self) -> float:
        """CPU of the whole process (bot, users, and the emulator unless standalone) per reply.

        Steadier than per_s when other programs share the machine.
        """
        return self.cpu_seconds / self.replies * 1000


@dataclass(frozen=True)
class Rates:
    """The delivery limits both bots are built with: one value for both keeps them identical."""

    per_s: float
    per_chat_s: float

    @classmethod
    def unbound(cls) -> Rates:
        return cls(UNBOUND_RATE, UNBOUND_RATE)

    @classmethod
    def telegram(cls) -> Rates:
        """Production's defaults, taken from Settings so that they follow its changes."""
        fields = Settings.model_fields
        return cls(fields["send_rate_per_s"].default, fields["send_rate_per_chat_s"].default)


BuildBot = Callable[[Settings], App]
ReplyCheck = Callable[[Cadre, BotMessage], bool]


class Talker(Protocol):
    """What the benchmark needs of a user: ScriptedUser in process, RemoteUser over HTTP."""

    async def send(self, text: str) -> dict[str, Any]: ...

    async def next_message(self, timeout: float = ..., /) -> BotMessage: ...  # noqa: ASYNC109


@dataclass(frozen=True)
class Venue:
    """Where one bot runs: its connection settings, and how its users are made."""

    token: str
    base_url: str
    base_file_url: str
    user: Callable[[Cadre], Talker]


#: A fresh venue per bot (named "app" or "baseline"), so the two runs never share a queue.
Venues = Callable[[str], AbstractAsyncContextManager[Venue]]


# --- the two bots ---------------------------------------------------------------------------


class _Builder(ApplicationBuilder):
    """build_application's own builder options, minus the lifecycle hooks if asked.

    Passing this to build_application is how both bots get IDENTICAL options: the baseline
    only leaves out the hooks (no migrations, menus or outbox sender).
    """

    def __init__(self, *, hooks: bool) -> None:
        super().__init__()
        self._bench_hooks = hooks

    def post_init(self, post_init: Any) -> Any:
        return super().post_init(post_init) if self._bench_hooks else self

    def post_stop(self, post_stop: Any) -> Any:
        return super().post_stop(post_stop) if self._bench_hooks else self

    def post_shutdown(self, post_shutdown: Any) -> Any:
        return super().post_shutdown(post_shutdown) if self._bench_hooks else self


def _build_app(settings: Settings) -> App:
    return build_application(settings, builder=_Builder(hooks=True))


async def _echo(update: Update, context: BotContext) -> None:
    """The baseline's only work: send the text back, the way the app's `say` sends."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await context.bot.send_message(message.chat_id, message.text)


def _build_echo_bot(settings: Settings) -> App:
    """The app's Application with every handler and hook taken out and one echo handler put in.

    Its services stay in bot_data but nothing calls them: its database is never opened.
    """
    app = build_application(settings, builder=_Builder(hooks=False))
    for group, handlers in list(app.handlers.items()):
        for handler in list(handlers):
            app.remove_handler(handler, group)
    for callback in list(app.error_handlers):
        app.remove_error_handler(callback)
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


# --- where the bots run ---------------------------------------------------------------------


@asynccontextmanager
async def _in_process(name: str) -> AsyncIterator[Venue]:
    """A fresh emulator in this process, its users pushing straight into its memory."""
    async with BotApiEmulator() as emulator:

        def user(cadre: Cadre) -> Talker:
            return emulator.user(cadre.telegram_id, first_name=cadre.first_name)

        yield Venue(emulator.token, emulator.base_url, emulator.base_file_url, user)


def _standalone(api_url: str) -> Venues:
    """Venues on a standalone emulator: a fresh token per bot, users over its HTTP interface.

    The token's bot state is created there on first use; a random token means a new bot with
    empty chats and queue, even on an emulator that earlier runs have used.
    """
    root = server_root(api_url)

    @asynccontextmanager
    async def venue(name: str) -> AsyncIterator[Venue]:
        bot_id = 6_000_000_000 + secrets.randbelow(1_000_000_000)
        token = f"{bot_id}:bench-{name}-{secrets.token_hex(8)}"
        async with RemoteEmulator(root, token) as remote:

            def user(cadre: Cadre) -> Talker:
                return remote.user(cadre.telegram_id, first_name=cadre.first_name)

            yield Venue(token, remote.base_url, remote.base_file_url, user)

    return venue


# --- driving users --------------------------------------------------------------------------


async def _converse(
    user: Talker,
    cadre: Cadre,
    messages: int,
    check: ReplyCheck,
    reply_timeout: float,
    latencies: list[float],
) -> None:
    """Send, wait for the reply, check it, repeat: one person tapping through the bot."""
    for _ in range(messages):
        started = time.perf_counter()
        await user.send(COMMAND)
        reply = await user.next_message(reply_timeout)
        latencies.append(time.perf_counter() - started)
        if not check(cadre, reply):
            raise BenchError(f"unexpected reply to {cadre.telegram_id}: {reply}")


async def _measure(
    name: str,
    venues: Venues,
    build: BuildBot,
    rates: Rates,
    database_url: str,
    cadres: Sequence[Cadre],
    messages: int,
    check: ReplyCheck,
    reply_timeout: float,
) -> Figures:
    """Start the bot in a fresh venue, warm it up, then time all users at once."""
    async with venues(name) as venue:
        settings = Settings(
            _env_file=None,
            bot_token=venue.token,
            telegram_base_url=venue.base_url,
            telegram_base_file_url=venue.base_file_url,
            database_url=database_url,
            send_rate_per_s=rates.per_s,
            send_rate_per_chat_s=rates.per_chat_s,
        )
        app = build(settings)
        await start_application(app, poll_timeout=1)
        try:
            users = [venue.user(cadre) for cadre in cadres]
            # Every user once, all at once as in the timed part: connection pools, caches and
            # each person's first look-up are set-up, not the steady state being measured.
            warmup: list[float] = []
            await asyncio.gather(
                *(
                    _converse(user, cadre, WARMUP_MESSAGES, check, reply_timeout, warmup)
                    for user, cadre in zip(users, cadres, strict=True)
                )
            )
            progress(f"{name}: warmed up; {len(users)} users x {messages} messages")
            latencies: list[float] = []
            started, cpu_started = time.perf_counter(), time.process_time()
            await asyncio.gather(
                *(
                    _converse(user, cadre, messages, check, reply_timeout, latencies)
                    for user, cadre in zip(users, cadres, strict=True)
                )
            )
            seconds = time.perf_counter() - started
            cpu_seconds = time.process_time() - cpu_started
        finally:
            await stop_application(app)
    figures = Figures(
        replies=len(latencies),
        seconds=seconds,
        cpu_seconds=cpu_seconds,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
    )
    progress(
        f"{name}: {figures.replies} replies in {figures.seconds:.2f}s = {figures.per_s:.1f}/s, "
        f"p50 {figures.p50_ms:.1f} ms, p99 {figures.p99_ms:.1f} ms, "
        f"{figures.cpu_ms:.2f} ms CPU per reply"
    )
    return figures


def _shows_card(cadre: Cadre, reply: BotMessage) -> bool:
    return cadre.full_name in reply.body


def _echoes(cadre: Cadre, reply: BotMessage) -> bool:
    return reply.body == COMMAND


async def _linked_cadres(db_path: Path, count: int) -> list[Cadre]:
    """People linked to Telegram, ordinary ones (910000+) first, then the demo identities."""
    db = Database.from_url(sqlite_url(db_path))
    linked = people_table.c.telegram_id.is_not(None)
    ordinary = people_table.c.telegram_id >= LINKED_TELEGRAM_ID_START
    query = (
        sa.select(people_table.c.telegram_id, people_table.c.full_name)
        .where(linked)
        .order_by(sa.case((ordinary, 0), else_=1), people_table.c.telegram_id)
        .limit(count)
    )
    try:
        async with db.read() as conn:
            rows = (await conn.execute(query)).all()
    finally:
        await db.dispose()
    if len(rows) < count:
        raise BenchError(
            f"only {len(rows)} people are linked to Telegram; raise --people or lower --users"
        )
    return [Cadre(telegram_id, full_name) for telegram_id, full_name in rows]


# --- the command ----------------------------------------------------------------------------


async def run(
    *,
    users: int,
    messages: int,
    people: int,
    seed: int,
    reply_timeout: float,
    rates: Rates,
    cache_dir: Path,
    api_url: str | None = None,
    rounds: int = 3,
) -> dict[str, Any]:
    """Both bots, one after the other, each in a fresh venue, `rounds` times; the result line.

    api_url: a standalone emulator (already probed); None runs one in this process.
    """
    venues = _in_process if api_url is None else _standalone(api_url)
    measure = functools.partial(
        _measure,
        venues=venues,
        rates=rates,
        messages=messages,
        reply_timeout=reply_timeout,
    )
    app_runs: list[Figures] = []
    baseline_runs: list[Figures] = []
    rss_mb = 0.0
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        db_path = demo_database(Path(tmp), people=people, seed=seed, cache_dir=cache_dir)
        cadres = await _linked_cadres(db_path, users)

        async def run_app() -> None:
            app_runs.append(
                await measure("app", build=_build_app, database_url=sqlite_url(db_path),
                              cadres=cadres, check=_shows_card)
            )  # fmt: skip

        async def run_baseline() -> None:
            never_opened = sqlite_url(Path(tmp) / "never-opened.sqlite")
            baseline_runs.append(
                await measure("baseline", build=_build_echo_bot, database_url=never_opened,
                              cadres=cadres, check=_echoes)
            )  # fmt: skip

        # Rounds alternate which bot goes first, so a change in the machine's load during the
        # run weighs on both alike; the median round of each is reported.
        for round_number in range(rounds):
            first, second = (run_app, run_baseline) if round_number % 2 == 0 else (
                run_baseline, run_app)  # fmt: skip
            await first()
            if round_number == 0:
                rss_mb = peak_rss_mb()  # after the app's first run: the peak so far is the app's
            await second()
    app = _median(app_runs)
    baseline = _median(baseline_runs)
    return {
        "users": users,
        "messages": messages,
        "people": people,
        "per_s": round(app.per_s, 1),
        "p50_ms": round(app.p50_ms, 1),
        "p99_ms": round(app.p99_ms, 1),
        "baseline_per_s": round(baseline.per_s, 1),
        "baseline_p50_ms": round(baseline.p50_ms, 1),
        "baseline_p99_ms": round(baseline.p99_ms, 1),
        "ratio": round(app.per_s / baseline.per_s, 3),
        "rss_mb": round(rss_mb, 1),
        "cpu_ms": round(app.cpu_ms, 2),
        "baseline_cpu_ms": round(baseline.cpu_ms, 2),
        "send_rate_per_s": rates.per_s,
        "rounds": rounds,
        "api_url": api_url,
    }


def _median(runs: list[Figures]) -> Figures:
    """The run with the median replies per second (the lower middle one for an even count)."""
    return sorted(runs, key=lambda figures: figures.per_s)[(len(runs) - 1) // 2]


def _refusal(api_url: str) -> str | None:
    """Why the benchmark cannot run at api_url, in one line; None if it can."""
    where = server_root(api_url)
    kind = probe_api_server(api_url)
    if kind is ApiServer.UNREACHABLE:
        return f"nothing answers at {where}"
    if kind is ApiServer.OTHER:
        return (
            f"{where} is not the project's emulator, and a Bot API server has no way to inject "
            "users' messages; start `python -m tools.emulator --port P` or run without --api-url"
        )
    try:
        active = emulator_config(api_url)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        return f"the emulator at {where} did not tell its configuration: {exc!r}"
    if active:
        return (
            f"the emulator at {where} has rate limits or faults on ({', '.join(active)}); "
            "the benchmark needs them off: restart it without --limits"
        )
    return None


def main(argv: Sequence[str] | None = None) -> int:
    """Exit status: 0 with the JSON line, 1 if the run failed, 2 if it cannot run at all."""
    parser = base_parser("python -m bench.updates", __doc__)
    parser.add_argument("--users", type=positive_int, default=50, help="scripted users (50)")
    parser.add_argument(
        "--messages", type=positive_int, default=20, help="timed messages per user (20)"
    )
    parser.add_argument("--people", type=positive_int, default=100_000, help="roster size (100000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="demo data seed")
    parser.add_argument(
        "--reply-timeout", type=float, default=30.0, metavar="S", help="per message (30)"
    )
    parser.add_argument(
        "--rounds", type=positive_int, default=3, help="runs of each bot, median reported (3)"
    )
    parser.add_argument(
        "--telegram-rate",
        action="store_true",
        help="diagnostic: build both bots at production's send rate (25/s), not 100,000/s",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where seeded databases stay"
    )
    args = parser.parse_args(argv)
    if args.api_url and (reason := _refusal(args.api_url)):
        print(f"bench.updates: {reason}", file=sys.stderr)
        return 2

    async def bounded() -> dict[str, Any]:
        async with asyncio.timeout(args.timeout):
            return await run(
                users=args.users,
                messages=args.messages,
                people=args.people,
                seed=args.seed,
                reply_timeout=args.reply_timeout,
                rates=Rates.telegram() if args.telegram_rate else Rates.unbound(),
                cache_dir=args.cache_dir,
                api_url=args.api_url,
                rounds=args.rounds,
            )

    try:
        result = asyncio.run(bounded())
    except (BenchError, TimeoutError, ApiError, httpx.HTTPError) as exc:
        # A standalone emulator can fail a request or go away mid-run: one line, not a trace.
        fallback = f"timed out after {args.timeout:.0f}s" if isinstance(exc, TimeoutError) else ""
        reason = str(exc) or fallback or type(exc).__name__
        print(f"bench.updates: {reason}", file=sys.stderr)
        return 1
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

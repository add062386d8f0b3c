"""Replies per second and latency of the cadre bot on /profile, against a bare PTB echo bot.

    python -m bench.updates [--users 50] [--messages 20] [--people 100000]

Each of N scripted users, all people linked to Telegram in a seeded demo province, sends
/profile M times and waits for each reply before the next; /profile reads the person's card
through its joins, so every update does the real work of the bot. The same users then drive a
bare python-telegram-bot echo bot. Both come out of build_application itself, so their
ApplicationBuilder options (base URL, defaults, context types, per-user ordered processor,
rate limiter) are identical by construction; the echo bot only loses the handlers and the
lifecycle hooks. The ratio thus isolates what the app adds to the library. Each bot gets a
fresh emulator in this process (its rate limits off) and a warm-up before the clock starts.

The JSON line has both bots' replies per second and latency (send to reply, p50 and p99), the
peak RSS of this process after the app's run (seeding runs in a child process and is left
out), and CPU per reply of the whole process (`cpu_ms`): steadier than replies per second
when other programs share the machine.

The rate limiter of build_application paces every reply (today 25/s less 5% headroom), so
with enough users both bots sit at that ceiling and the ratio is ~1. `--no-rate-limiter`
takes it out of both: a diagnostic that shows the processing cost, not a production figure.

--api-url: scripted users push their updates into the emulator's memory; neither the Bot API
nor our emulator's HTTP interface (/_emulator/config, /_emulator/stats) offers a way to inject
a user's message. So with --api-url the benchmark only identifies the server and exits 2 with
a one-line explanation; figures need the built-in emulator, which is what the default runs.
"""

from __future__ import annotations

import asyncio
import functools
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from bot.demo_data import DEFAULT_SEED, LINKED_TELEGRAM_ID_START
from bot.emulator import BotApiEmulator, BotMessage, ScriptedUser
from handlers.context import BotContext
from storage.database import Database
from storage.schema import people as people_table

App = Application[Any, Any, Any, Any, Any, Any]
COMMAND = "/profile"
#: A few users, a few messages each: connections, caches and lazy imports, before the clock.
WARMUP_USERS = 5
WARMUP_MESSAGES = 2


@dataclass(frozen=True)
class Cadre:
    """A person of the roster who has linked Telegram: the identity a scripted user takes."""

    telegram_id: int
    full_name: str


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
        """CPU of the whole process (bot, emulator, users; all threads) per reply.

        Steadier than per_s when other programs share the machine.
        """
        return self.cpu_seconds / self.replies * 1000


BuildBot = Callable[[Settings], App]
ReplyCheck = Callable[[Cadre, BotMessage], bool]


# --- the two bots ---------------------------------------------------------------------------


class _Builder(ApplicationBuilder):
    """build_application's own builder options, minus what the run asks to leave out.

    Passing this to build_application is how both bots get IDENTICAL options: the baseline
    leaves out the lifecycle hooks (no migrations, menus or outbox sender), and
    --no-rate-limiter leaves out the rate limiter of either bot.
    """

    def __init__(self, *, hooks: bool, rate_limited: bool) -> None:
        super().__init__()
        self._bench_hooks = hooks
        self._bench_rate_limited = rate_limited

    def rate_limiter(self, rate_limiter: Any) -> Any:
        return super().rate_limiter(rate_limiter) if self._bench_rate_limited else self

    def post_init(self, post_init: Any) -> Any:
        return super().post_init(post_init) if self._bench_hooks else self

    def post_stop(self, post_stop: Any) -> Any:
        return super().post_stop(post_stop) if self._bench_hooks else self

    def post_shutdown(self, post_shutdown: Any) -> Any:
        return super().post_shutdown(post_shutdown) if self._bench_hooks else self


def _build_app(settings: Settings, rate_limited: bool) -> App:
    return build_application(settings, builder=_Builder(hooks=True, rate_limited=rate_limited))


async def _echo(update: Update, context: BotContext) -> None:
    """The baseline's only work: send the text back, the way the app's `say` sends."""
    message = update.effective_message
    assert message is not None and message.text is not None
    await context.bot.send_message(message.chat_id, message.text)


def _build_echo_bot(settings: Settings, rate_limited: bool) -> App:
    """The app's Application with every handler and hook taken out and one echo handler put in.

    Its services stay in bot_data but nothing calls them: its database is never opened.
    """
    builder = _Builder(hooks=False, rate_limited=rate_limited)
    app = build_application(settings, builder=builder)
    for group, handlers in list(app.handlers.items()):
        for handler in list(handlers):
            app.remove_handler(handler, group)
    for callback in list(app.error_handlers):
        app.remove_error_handler(callback)
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    return app


# --- driving users --------------------------------------------------------------------------


async def _converse(
    user: ScriptedUser,
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
    build: BuildBot,
    database_url: str,
    cadres: Sequence[Cadre],
    messages: int,
    check: ReplyCheck,
    reply_timeout: float,
) -> Figures:
    """Start the bot against a fresh emulator, warm it up, then time all users at once."""
    async with BotApiEmulator() as emulator:
        settings = Settings(
            _env_file=None,
            bot_token=emulator.token,
            telegram_base_url=emulator.base_url,
            telegram_base_file_url=emulator.base_file_url,
            database_url=database_url,
        )
        app = build(settings)
        await start_application(app, poll_timeout=1)
        try:
            users = [
                emulator.user(c.telegram_id, first_name=c.full_name.rsplit(" ", 1)[-1])
                for c in cadres
            ]
            warmup: list[float] = []
            for user, cadre in list(zip(users, cadres, strict=True))[:WARMUP_USERS]:
                await _converse(user, cadre, WARMUP_MESSAGES, check, reply_timeout, warmup)
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
    rate_limited: bool,
    cache_dir: Path,
) -> dict[str, Any]:
    """Both bots, one after the other, each against its own emulator; the result line."""
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        db_path = demo_database(Path(tmp), people=people, seed=seed, cache_dir=cache_dir)
        cadres = await _linked_cadres(db_path, users)
        app = await _measure(
            "app",
            functools.partial(_build_app, rate_limited=rate_limited),
            sqlite_url(db_path),
            cadres,
            messages,
            _shows_card,
            reply_timeout,
        )
        # The app runs first so that the peak so far is the app's, not the baseline's.
        rss_mb = peak_rss_mb()
        baseline = await _measure(
            "baseline",
            functools.partial(_build_echo_bot, rate_limited=rate_limited),
            sqlite_url(Path(tmp) / "never-opened.sqlite"),
            cadres,
            messages,
            _echoes,
            reply_timeout,
        )
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
        "rate_limiter": rate_limited,
    }


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
        "--no-rate-limiter",
        action="store_true",
        help="diagnostic: build both bots without build_application's rate limiter",
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=DEFAULT_CACHE_DIR, help="where seeded databases stay"
    )
    args = parser.parse_args(argv)
    if args.api_url:
        kind = probe_api_server(args.api_url)
        where = server_root(args.api_url)
        reason = {
            ApiServer.EMULATOR: f"{where} is the project's emulator, but its HTTP interface "
            "cannot inject user messages (only the in-process emulator can)",
            ApiServer.OTHER: f"{where} is not the project's emulator, and a Bot API server "
            "offers no way to inject user messages",
            ApiServer.UNREACHABLE: f"nothing answers at {where}",
        }[kind]
        print(
            f"bench.updates: {reason}; run without --api-url to use the built-in emulator",
            file=sys.stderr,
        )
        return 2

    async def bounded() -> dict[str, Any]:
        async with asyncio.timeout(args.timeout):
            return await run(
                users=args.users,
                messages=args.messages,
                people=args.people,
                seed=args.seed,
                reply_timeout=args.reply_timeout,
                rate_limited=not args.no_rate_limiter,
                cache_dir=args.cache_dir,
            )

    try:
        result = asyncio.run(bounded())
    except (BenchError, TimeoutError) as exc:
        reason = str(exc) or f"timed out after {args.timeout:.0f}s"
        print(f"bench.updates: {reason}", file=sys.stderr)
        return 1
    emit(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())

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
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder, MessageHandler, filters

from bench.common import (
    DEFAULT_CACHE_DIR,
    UNBOUND_RATE,
    BenchError,
    Cadre,
    Talker,
    Venues,
    base_parser,
    bench_settings,
    demo_database,
    linked_cadres,
    peak_rss_mb,
    percentile,
    positive_int,
    progress,
    run_main,
    sqlite_url,
    venues_for,
)
from bot.app import build_application, start_application, stop_application
from bot.config import Settings
from handlers.context import BotContext
from tools.demo.data import DEFAULT_SEED
from tools.emulator import BotMessage

App = Application[Any, Any, Any, Any, Any, Any]
COMMAND = "/profile"
#: A few users, a few messages each: connections, caches and lazy imports, before the clock.
WARMUP_MESSAGES = 2


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
        settings = bench_settings(venue, database_url, rates.per_s, rates.per_chat_s)
        app = build(settings)
        await start_application(app, poll_timeout=1)
        try:
            users = [venue.user(cadre.telegram_id, cadre.first_name) for cadre in cadres]
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
    venues = venues_for(api_url)
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
        cadres = await linked_cadres(db_path, users)

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
    return run_main(
        "bench.updates",
        args.api_url,
        args.timeout,
        lambda: run(
            users=args.users,
            messages=args.messages,
            people=args.people,
            seed=args.seed,
            reply_timeout=args.reply_timeout,
            rates=Rates.telegram() if args.telegram_rate else Rates.unbound(),
            cache_dir=args.cache_dir,
            api_url=args.api_url,
            rounds=args.rounds,
        ),
    )


if __name__ == "__main__":
    sys.exit(main())

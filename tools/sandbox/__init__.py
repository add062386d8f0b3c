"""The offline sandbox: `python -m bot` without BOT_TOKEN, a terminal chat with the real bot.

One process, one event loop: the project's Bot API emulator on 127.0.0.1, a demo database
that persists between runs, the real application from `build_application`, and a chat in
the terminal as one of the demo people. The Zalo emulator and the bot's Zalo channel run
beside them, as `python -m bot` runs both, so `:zalo` chats as a Zalo user; the files sent to
that user are links to the bot's own file server, on 127.0.0.1 as everything else. Nothing
leaves the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from pydantic import SecretStr

from bot.config import Settings
from bot.logging_setup import LOG_FORMAT, RedactingFormatter
from tools.demo.data import ADMIN_TELEGRAM_ID, DEMO_OFFICE_PHONE, generate_demo_data
from tools.sandbox.clock import Reset, SandboxClock
from tools.sandbox.console import Console, LineSource, open_source
from tools.sandbox.session import Session, roster_users
from tools.sandbox.terminal import approvals_guide, banner, classes_guide, display_path

#: Any well-formed token: the emulator accepts whatever it is given.
SANDBOX_TOKEN = "123456:SANDBOX"
DEMO_PEOPLE = 6000
DEMO_SEED = 2026
#: The emulator answers a long poll as soon as an update arrives; this only bounds idle polls.
POLL_TIMEOUT_S = 5
SHUTDOWN_S = 10.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SandboxPaths:
    """Everything the sandbox writes, under one folder (SANDBOX_DIR, else the working dir)."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def db(self) -> Path:
        return self.data / "sandbox.db"

    @property
    def log(self) -> Path:
        return self.data / "sandbox.log"

    @property
    def clock(self) -> Path:
        """The offset `:clock` moved the sandbox's clock by, kept across restarts."""
        return self.data / "clock.json"

    @property
    def lock(self) -> Path:
        return self.data / "sandbox.lock"

    @property
    def files(self) -> Path:
        return self.root / "sandbox-files"


class _ConsoleLogHandler(logging.Handler):
    """Warnings and errors, one line each on stderr, drawn around the prompt."""

    def __init__(self, console: Console, log_path: str) -> None:
        super().__init__(logging.WARNING)
        self.console = console
        self.log_path = log_path

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = f"⚠ {record.levelname} {record.name}: {record.getMessage()}"
            if record.exc_info:
                text += f" (chi tiết · details: {self.log_path})"
            self.console.show(text, stream=sys.stderr)
        except Exception:
            self.handleError(record)


def _configure_logging(paths: SandboxPaths, level: str, console: Console) -> None:
    """INFO and below go to the log file only: the chat stays readable."""
    paths.data.mkdir(parents=True, exist_ok=True)
    to_file = logging.FileHandler(paths.log, encoding="utf-8")
    to_file.setFormatter(RedactingFormatter(LOG_FORMAT, SANDBOX_TOKEN))
    root = logging.getLogger()
    root.handlers[:] = [to_file, _ConsoleLogHandler(console, display_path(paths.log))]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "aiosqlite", "aiohttp.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="Without BOT_TOKEN: the offline sandbox, a terminal chat with the real bot.",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="recreate the sandbox database and set its clock back (also SANDBOX_RESET=1)",
    )
    return parser.parse_args(argv)


def remove_database(db: Path) -> None:
    """`--reset`: the database file and SQLite's companions, so the next start seeds afresh."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        db.with_name(db.name + suffix).unlink(missing_ok=True)


def reset_sandbox(paths: SandboxPaths) -> None:
    """`--reset`: a fresh database, seeded at the real time, and the clock back to it."""
    remove_database(paths.db)
    paths.clock.unlink(missing_ok=True)


def sandbox_settings(settings: Settings, base_url: str, file_url: str, db: Path) -> Settings:
    """The operator's settings with the token, API and database of the sandbox.

    ADMIN_IDS is replaced, not extended: real ids mean nothing to the emulator. The demo
    office has a (made-up) phone number unless OFFICE_PHONE gives one, so the texts that
    name the office read as they will in production.
    """
    return settings.model_copy(
        update={
            "bot_token": SecretStr(SANDBOX_TOKEN),
            "telegram_base_url": base_url,
            "telegram_base_file_url": file_url,
            "database_url": f"sqlite+aiosqlite:///{db}",
            "admin_ids": frozenset({ADMIN_TELEGRAM_ID}),
            "office_phone": settings.office_phone or DEMO_OFFICE_PHONE,
        }
    )


async def _serve(
    settings: Settings,
    paths: SandboxPaths,
    console: Console,
    source: LineSource,
    stop: asyncio.Event,
) -> None:
    """Start everything, chat until told to stop, then stop everything in reverse order."""
    # Imported here, so that "starting…" shows before the heavier imports.
    from bot.app import build_application, start_application, stop_application
    from bot.app.approval_runtime import wake_approvals
    from bot.app.checkin_runtime import wake_checkin
    from bot.app.reminders_runtime import wake_reminders
    from bot.app.zalo_channel import zalo_channel
    from bot.zalo.client import ZaloClient
    from bot.zalo.files import FileShelf
    from bot.zalo.public import PublicServer
    from storage.database import Database
    from tools.demo.import_files import write_import_files as write_training_files
    from tools.demo.seed import ask_demo_approvals, ask_demo_leave, has_people, seed_demo
    from tools.emulator import BotApiEmulator
    from tools.sandbox.import_files import write_import_files
    from tools.zalo_emulator import ZaloBotApiEmulator

    cleanup = contextlib.AsyncExitStack()
    try:
        clock = SandboxClock(paths.clock, settings.tz)
        db = Database.from_url(f"sqlite+aiosqlite:///{paths.db}")
        cleanup.push_async_callback(db.dispose)
        if not await has_people(db):
            console.show(f"Tạo dữ liệu mẫu · seeding {DEMO_PEOPLE} demo cadres…")
            # Demo data is placed around the real time: a new database starts the clock there.
            clock.apply(Reset())
            seeded = await seed_demo(db, people=DEMO_PEOPLE, seed=DEMO_SEED, tz=settings.tz)
            await ask_demo_leave(db, seeded)
            approval = await ask_demo_approvals(db, seeded, tz=settings.tz)
            console.show(classes_guide(seeded.plan_year, seeded.classes, seeded.classes_to_try))
            if approval is not None:
                console.show(approvals_guide(approval))
        await write_import_files(db, paths.files)
        # The plan, programmes, classes and timetable files, their dates from the sandbox's day.
        today = clock.now().astimezone(settings.tz).date()
        await asyncio.to_thread(write_training_files, paths.files, today)

        emulator = BotApiEmulator(token=SANDBOX_TOKEN)
        await emulator.start()
        cleanup.push_async_callback(emulator.stop)
        zalo = await cleanup.enter_async_context(ZaloBotApiEmulator())
        # Chats must exist before the bot starts: it publishes staff menus per chat at once.
        session = Session(emulator, console, paths.files, clock=clock, zalo=zalo)
        # The same seed and size as the database, so every linked roster person has a chat.
        roster_users(emulator, generate_demo_data(seed=DEMO_SEED, people=DEMO_PEOPLE).people)

        settings = sandbox_settings(settings, emulator.base_url, emulator.base_file_url, paths.db)
        app = build_application(settings, db=db, clock=clock.clock)

        def clock_moved() -> None:
            """Reminders fall due, and the projectors' codes turn, at the new time."""
            wake_reminders(app)
            wake_checkin(app)
            wake_approvals(app)

        session.on_clock_moved = clock_moved
        await start_application(app, poll_timeout=POLL_TIMEOUT_S)
        cleanup.push_async_callback(stop_application, app)
        client = await cleanup.enter_async_context(ZaloClient(zalo.token, base_url=zalo.url))
        # Zalo takes no documents: what the bot sends a Zalo user is a link to its own file
        # server, as PUBLIC_BASE_URL gives it in production; here on a free local port, and
        # without the webhook (the channel polls the emulator).
        files = FileShelf("http://127.0.0.1")
        public = PublicServer(0, files=files)
        await public.start()
        cleanup.push_async_callback(public.stop)
        files.public_base_url = public.url
        await cleanup.enter_async_context(
            zalo_channel(
                settings,
                app.bot_data.services,
                client,
                leader=app,
                poll_timeout=POLL_TIMEOUT_S,
                app_poll_timeout=POLL_TIMEOUT_S,
                files=files,
            )
        )
        log.info("sandbox ready: emulator at %s, Zalo's files at %s", emulator.url, public.url)

        me = session.current.identity
        shown = [display_path(p) for p in (paths.db, paths.files, paths.log)]
        console.show(banner(me.title, me.person.phone, me.key, *shown))
        if clock.clock.offset:
            console.show(clock.describe())
        session.start()
        cleanup.push_async_callback(session.close)
        await _first_of(session.run(source), stop.wait())
    finally:
        source.close()
        try:
            async with asyncio.timeout(SHUTDOWN_S):
                await cleanup.aclose()
        except TimeoutError:
            log.error("stopping took over %.0f s; exiting anyway", SHUTDOWN_S)


async def _first_of(*coroutines: Coroutine[Any, Any, object]) -> None:
    """Run until one of them ends; cancel the rest; raise what the first one raised."""
    tasks = [asyncio.create_task(c) for c in coroutines]
    done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    for task in done:
        task.result()


async def _main(settings: Settings, paths: SandboxPaths, console: Console) -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await _serve(settings, paths, console, open_source(console, sys.stdin), stop)
    except Exception as exc:
        log.error("the sandbox failed: %s", exc.__class__.__name__, exc_info=exc)
        return 1
    console.show("\nĐã dừng sandbox · sandbox stopped.")
    return 0


def run_sandbox(settings: Settings, argv: Sequence[str] = ()) -> int:
    """Run until :quit, end of input, Ctrl-C or SIGTERM; 0 when it stopped cleanly."""
    args = _parse_args(argv)
    paths = SandboxPaths(Path(os.environ.get("SANDBOX_DIR") or ".").absolute())
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
    console = Console(sys.stdout, terminal=sys.stdout.isatty())
    _configure_logging(paths, settings.log_level, console)
    lock = FileLock(paths.lock)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        print(f"Another sandbox is running in {paths.root} (lock: {paths.lock}).", file=sys.stderr)
        return 1
    # Until the event loop takes over, SIGTERM stops us the way Ctrl-C does.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        if args.reset or os.environ.get("SANDBOX_RESET") == "1":
            reset_sandbox(paths)
        console.show("Đang khởi động sandbox · starting the offline sandbox…")
        return asyncio.run(_main(settings, paths, console))
    except KeyboardInterrupt:  # a signal before the loop's own handlers were installed
        return 0
    finally:
        lock.release()

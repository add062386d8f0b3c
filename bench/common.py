"""What every benchmark shares: its command line, its output, memory and a seeded database.

Benchmarks print human progress to stderr and exactly one JSON line to stdout, so a script
can collect figures with `| tail -1` while a person watches the run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import multiprocessing
import os
import resource
import secrets
import shutil
import sqlite3
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

import asyncpg  # type: ignore[import-untyped]
import httpx
import sqlalchemy as sa
from filelock import FileLock
from pydantic import SecretStr
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import Action, unpack
from bot.app import build_application, start_application, stop_application
from bot.config import Settings
from bot.domain import NewPerson, NewUnit, PersonSource
from bot.errors import DomainError
from bot.services.people import NOTICE_VERSION
from bot.training import (
    ClassFormat,
    ClassKind,
    ClassStatus,
    NewClass,
    NewPlan,
    NewProgramme,
    NewSession,
)
from storage.database import Database
from storage.migrate import upgrade
from storage.repositories.classes import ClassRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.plans import PlanRepository, ProgrammeRepository
from storage.repositories.units import UnitRepository
from storage.schema import people as people_table
from tools.demo.data import LINKED_TELEGRAM_ID_START
from tools.emulator import ApiError, BotApiEmulator, BotMessage, RemoteEmulator

#: Process-wide limit of a run, so a wedged bot can never keep CI or a terminal waiting.
DEFAULT_TIMEOUT_S = 600.0
#: Seeded databases are kept here between runs, one file per (people, seed, schema).
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "cadre-bench-cache"
_ROOT = Path(__file__).resolve().parent.parent
# The seeded file depends on these sources: a change to any of them seeds afresh.
_SEED_SOURCES = ("tools/demo/data.py", "tools/demo/seed.py", "storage/schema.py")
_MIGRATIONS = "storage/migrations/versions"
#: Sends per second (overall and per chat) at which the bot's shared pacer never binds.
UNBOUND_RATE = 100_000.0


class BenchError(RuntimeError):
    """The run cannot give a trustworthy figure: a timeout, a wrong reply, a bad set-up."""


def base_parser(prog: str, description: str | None) -> argparse.ArgumentParser:
    """The options every benchmark takes: an external Bot API server and a time limit."""
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--api-url",
        metavar="URL",
        help="base URL of an external Bot API server, e.g. http://127.0.0.1:8081/bot "
        "(default: a built-in emulator in this process)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT_S,
        metavar="S",
        help=f"give up after S seconds in all (default {DEFAULT_TIMEOUT_S:.0f})",
    )
    return parser


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """--database-url, for a benchmark that builds its own database (see fresh_database)."""
    parser.add_argument(
        "--database-url",
        metavar="URL",
        help="default: a fresh SQLite file; with a PostgreSQL URL, a new database on its "
        "server, dropped after",
    )


def positive_int(value: str) -> int:
    """An argparse type for sizes and counts, where 0 would make a figure meaningless."""
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def progress(message: str) -> None:
    """A line for the person watching; stdout stays reserved for the JSON result."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def emit(result: Mapping[str, Any]) -> None:
    """The one machine-readable line a benchmark prints, last, on stdout."""
    print(json.dumps(result, ensure_ascii=False), flush=True)


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (it never goes down)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): always a value that was really observed."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# --- external Bot API servers ---------------------------------------------------------------


class ApiServer(Enum):
    """What answers at an --api-url: it decides what a benchmark can do there."""

    EMULATOR = "emulator"
    OTHER = "other"
    UNREACHABLE = "unreachable"


def server_root(api_url: str) -> str:
    """http://host:port/bot -> http://host:port (where the emulator's own endpoints live)."""
    root = api_url.rstrip("/")
    return root.removesuffix("/bot")


def probe_api_server(api_url: str, timeout: float = 3.0) -> ApiServer:
    """Is this the project's emulator (GET /_emulator/stats answers ok), another server, or none?"""
    try:
        response = httpx.get(f"{server_root(api_url)}/_emulator/stats", timeout=timeout)
    except httpx.HTTPError:
        return ApiServer.UNREACHABLE
    try:
        ok = response.status_code == 200 and response.json().get("ok") is True
    except ValueError:
        ok = False
    return ApiServer.EMULATOR if ok else ApiServer.OTHER


def emulator_config(api_url: str, timeout: float = 3.0) -> list[str]:
    """The rate limits and faults a project's emulator has on (GET /_emulator/config).

    A benchmark measuring the bot wants none: a 429 or a dropped request would time the
    emulator's rules instead. Returns the names of the settings that are on, [] if none.
    """
    response = httpx.get(f"{server_root(api_url)}/_emulator/config", timeout=timeout)
    config: dict[str, Any] = response.raise_for_status().json()["result"]
    active = []
    for name, value in config.items():
        if isinstance(value, dict):  # a fault: every_nth and/or a probability
            on = bool(value.get("every_nth") or value.get("probability"))
        else:  # a limit (None = off) or a set of blocked or deactivated chats
            on = bool(value)
        if on:
            active.append(name)
    return active


def refusal(api_url: str) -> str | None:
    """Why a benchmark cannot run at api_url, in one line; None if it can."""
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


def run_main(
    prog: str, api_url: str | None, timeout: float, bench: Callable[[], Coroutine[Any, Any, Any]]
) -> int:
    """Runs a benchmark within `timeout` and prints its JSON line.

    Exit status: 0 with the JSON line, 1 if the run failed, 2 if it cannot run at all (the
    --api-url is no emulator, or one with limits on); a failure is one line on stderr, not a
    trace.
    """
    if api_url and (reason := refusal(api_url)):
        print(f"{prog}: {reason}", file=sys.stderr)
        return 2

    async def bounded() -> Mapping[str, Any]:
        async with asyncio.timeout(timeout):
            result: Mapping[str, Any] = await bench()
            return result

    try:
        result = asyncio.run(bounded())
    except (BenchError, TimeoutError, ApiError, httpx.HTTPError) as exc:
        # A standalone emulator can fail a request or go away mid-run: one line, not a trace.
        fallback = f"timed out after {timeout:.0f}s" if isinstance(exc, TimeoutError) else ""
        reason = str(exc) or fallback or type(exc).__name__
        print(f"{prog}: {reason}", file=sys.stderr)
        return 1
    emit(result)
    return 0


# --- where the bot under test runs ----------------------------------------------------------


class Talker(Protocol):
    """What a benchmark needs of a user: ScriptedUser in process, RemoteUser over HTTP."""

    async def send(self, text: str) -> dict[str, Any]: ...

    async def tap_data(self, callback_data: str, message_id: int, /) -> str: ...

    async def upload(
        self, filename: str, content: bytes, mime_type: str = ..., caption: str | None = ..., /
    ) -> dict[str, Any]: ...

    async def next_message(self, timeout: float = ..., /) -> BotMessage: ...  # noqa: ASYNC109


@dataclass(frozen=True)
class Venue:
    """Where one bot runs: its connection settings, how its users are made (Telegram id,
    first name), and how many requests the emulator refused since the venue opened (each
    one a request Telegram would have refused: an error of the bot)."""

    token: str
    base_url: str
    base_file_url: str
    user: Callable[[int, str], Talker]
    refused: Callable[[], Awaitable[int]]


#: A fresh venue per bot (named for the token), so runs never share a queue or a chat.
Venues = Callable[[str], AbstractAsyncContextManager[Venue]]


@asynccontextmanager
async def in_process(name: str) -> AsyncIterator[Venue]:
    """A fresh emulator in this process, its users pushing straight into its memory."""
    async with BotApiEmulator() as emulator:

        def user(telegram_id: int, first_name: str) -> Talker:
            return emulator.user(telegram_id, first_name=first_name)

        async def refused() -> int:
            return len(emulator.stats.refused)

        yield Venue(emulator.token, emulator.base_url, emulator.base_file_url, user, refused)


def standalone(api_url: str) -> Venues:
    """Venues on a standalone emulator: a fresh token per bot, users over its HTTP interface.

    The token's bot state is created there on first use; a random token means a new bot with
    empty chats and queue, even on an emulator that earlier runs have used. The emulator
    counts refused requests for all its bots: a venue reports those since it opened.
    """
    root = server_root(api_url)

    @asynccontextmanager
    async def venue(name: str) -> AsyncIterator[Venue]:
        bot_id = 6_000_000_000 + secrets.randbelow(1_000_000_000)
        token = f"{bot_id}:bench-{name}-{secrets.token_hex(8)}"
        async with RemoteEmulator(root, token) as remote:

            async def count() -> int:
                stats = await remote.client.get(f"{root}/_emulator/stats")
                return int(stats.raise_for_status().json()["result"]["refused"])

            before = await count()

            def user(telegram_id: int, first_name: str) -> Talker:
                return remote.user(telegram_id, first_name=first_name)

            async def refused() -> int:
                return await count() - before

            yield Venue(token, remote.base_url, remote.base_file_url, user, refused)

    return venue


def venues_for(api_url: str | None) -> Venues:
    """A standalone emulator's venues at api_url (already probed), else in-process ones."""
    return in_process if api_url is None else standalone(api_url)


def bench_settings(
    venue: Venue,
    database_url: str,
    per_s: float = UNBOUND_RATE,
    per_chat_s: float = UNBOUND_RATE,
) -> Settings:
    """The bot's Settings for a venue, ignoring any .env; by default its pacer never binds,
    so the processing is measured, not Telegram's limits. The office's daily reminders are
    off: in office hours they would go to demo staff whose chats the emulator never opened,
    and what a run measures would depend on the hour."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        bot_token=SecretStr(venue.token),
        telegram_base_url=venue.base_url,
        telegram_base_file_url=venue.base_file_url,
        database_url=database_url,
        send_rate_per_s=per_s,
        send_rate_per_chat_s=per_chat_s,
        office_reminder_hours="00:00-00:00",
        digest_weekly="off",
        digest_monthly="off",
    )


@asynccontextmanager
async def running_bot(
    venue: Venue, database_url: str, db: Database | None = None
) -> AsyncIterator[int]:
    """The real bot (build_application, its pacer unbound) polling the venue, started and
    stopped; yields how many requests the emulator had refused once it was up.

    At start the bot publishes the demo staff's command menus, to chats the emulator has
    never seen ("chat not found"): that is set-up, not the benchmark, so it is awaited and
    its refusals are left out of the count a benchmark subtracts from venue.refused().
    """
    app = build_application(bench_settings(venue, database_url), db=db)
    await start_application(app, poll_timeout=1)
    try:
        menus = app.bot_data.extra.get("menus")
        if menus is not None:
            await menus
        yield await venue.refused()
    finally:
        await stop_application(app)


#: Bot events a user reads past before the one expected is taken as missing.
MAX_EVENTS = 5


def button_of(event: BotMessage, wanted: type[Action], **fields: Any) -> str | None:
    """The callback data of the event's first button packing a `wanted` action whose fields
    have these values; None if it has none."""
    for row in event.buttons:
        for button in row:
            if button.callback_data is None:
                continue
            try:
                action = unpack(button.callback_data)
            except DomainError:
                continue
            if isinstance(action, wanted) and all(
                getattr(action, name) == value for name, value in fields.items()
            ):
                return button.callback_data
    return None


async def tap_label(user: Talker, event: BotMessage, label: str) -> str:
    """Taps the button of `event` labelled `label` (exact, else a substring, like
    ScriptedUser.tap); a RemoteUser taps only by callback data. Returns the query id."""
    buttons = [button for row in event.buttons for button in row if button.callback_data]
    found = next((b for b in buttons if b.text == label), None) or next(
        (b for b in buttons if label in b.text), None
    )
    if found is None or found.callback_data is None:
        raise BenchError(f"no button {label!r} on the bot's message; it has {event.labels}")
    return await user.tap_data(found.callback_data, event.message_id)


async def next_with(user: Talker, wanted: type[Action], wait_s: float, **fields: Any) -> BotMessage:
    """The user's next bot event with such a button (see button_of), reading past at most
    MAX_EVENTS others: a new message, or the tapped one edited."""
    for _ in range(MAX_EVENTS):
        event: BotMessage = await user.next_message(wait_s)
        if button_of(event, wanted, **fields) is not None:
            return event
    raise BenchError(f"no {wanted.__name__} button in the bot's last {MAX_EVENTS} messages")


# --- a fresh database with one class -------------------------------------------------------


def url_of(db: Database) -> str:
    """The URL the bot (in this process or a child) is given for `db`."""
    return db.engine.url.render_as_string(hide_password=False)


@asynccontextmanager
async def fresh_database(url: str | None, tmp: Path) -> AsyncIterator[Database]:
    """A migrated, empty database: a SQLite file in tmp, or a new database on the PostgreSQL
    server of url, dropped at the end (that server is shared with test runs). A whole
    database, not a schema: a bot in a child process cannot be pinned to a schema."""
    if url is None or make_url(url).get_backend_name() == "sqlite":
        db = Database.from_url(url or sqlite_url(tmp / "bench.sqlite"))
        try:
            await upgrade(db)
            yield db
        finally:
            await db.dispose()
        return
    server = make_url(url)
    dsn = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        db = Database.from_url(server.set(database=name).render_as_string(hide_password=False))
        try:
            await upgrade(db)
            yield db
        finally:
            await db.dispose()
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@dataclass(frozen=True)
class Scene:
    class_id: int
    #: Telegram id -> person id.
    people: dict[int, int]


async def seed_class(
    conn: AsyncConnection,
    *,
    cadres: int,
    capacity: int,
    sessions: Sequence[NewSession],
    first_telegram_id: int,
) -> Scene:
    """One open class of an approved plan with these sessions, and `cadres` people (linked
    to Telegram from first_telegram_id on, consent given), all through the repositories,
    in the caller's transaction."""
    now = datetime.now(UTC).replace(microsecond=0)
    year = sessions[0].starts_at.year
    unit = await UnitRepository(conn).add(NewUnit("BENCH", "Tỉnh Thử nghiệm", None, "province"))
    plan_id = await PlanRepository(conn).add(
        NewPlan(year, f"Kế hoạch {year}", date(year, 1, 5), "Ban Thường vụ")
    )
    programme_id = await ProgrammeRepository(conn).add(
        NewProgramme("CDS", "Chuyển đổi số trong cơ quan nhà nước", ClassKind.THEMATIC, 24)
    )
    classes = ClassRepository(conn)
    class_id = await classes.add(
        NewClass("CDS.BENCH", "Chuyển đổi số trong cơ quan nhà nước", programme_id, plan_id,
                 ClassKind.THEMATIC, ClassFormat.ON_SITE, capacity, location="Hội trường A",
                 status=ClassStatus.OPEN),
        by=None,
    )  # fmt: skip
    await classes.add_sessions(class_id, sessions, at=now)
    repo = PeopleRepository(conn)
    await repo.add_many(
        [
            NewPerson(f"Cán bộ Thử {n:04d}", PersonSource.ROSTER, unit.id, verified=True,
                      telegram_id=first_telegram_id + n, language="vi", consent_at=now)
            for n in range(cadres)
        ]
    )  # fmt: skip
    linked = {telegram_id: person_id for person_id, telegram_id in await repo.linked_ids()}
    await repo.add_consents(list(linked.values()), NOTICE_VERSION, now)
    return Scene(class_id, linked)


# --- the seeded demo database ---------------------------------------------------------------


def _schema_fingerprint(extra_sources: Sequence[str] = ()) -> str:
    digest = hashlib.sha256()
    sources = (*_SEED_SOURCES, *extra_sources)
    paths = [_ROOT / p for p in sources] + sorted((_ROOT / _MIGRATIONS).glob("*.py"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _seed_file(path: str, people: int, seed: int) -> None:
    """Runs in a child process: seeding 100,000 people would otherwise inflate our peak RSS."""
    from tools.demo.seed import seed_demo

    async def seed_and_close() -> None:
        db = Database.from_url(sqlite_url(Path(path)))
        try:
            await seed_demo(db, people=people, seed=seed)
        finally:
            await db.dispose()

    asyncio.run(seed_and_close())


@dataclass(frozen=True)
class Extra:
    """What a benchmark adds to the demo province, cached with it: `fill(path, count, seed)`
    runs in a child process on a copy of the demo file; `sources` are the files (from the
    project's root) that decide what it adds, so a change to them fills afresh."""

    tag: str
    fill: Callable[[str, int, int], None]
    count: int
    sources: tuple[str, ...] = ()


def demo_database(
    dest_dir: Path,
    *,
    people: int,
    seed: int,
    cache_dir: Path = DEFAULT_CACHE_DIR,
    extra: Extra | None = None,
) -> Path:
    """A private copy of the demo province seeded with `people` (and `extra`), seeding only
    on a cache miss.

    A cached file is filled under a file lock and published atomically, so concurrent runs
    neither seed twice nor copy a half-written file.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"demo-{people}-{seed}-{_schema_fingerprint()}.sqlite"
    _publish(cached, f"seeding {people:,} people (seed {seed})", _seed_file, people, seed)
    if extra is not None:
        demo = cached
        fingerprint = _schema_fingerprint(extra.sources)
        cached = cache_dir / f"demo-{people}-{seed}-{extra.tag}-{fingerprint}.sqlite"
        _publish(cached, f"adding {extra.tag}", extra.fill, extra.count, seed, start_from=demo)
    copy = dest_dir / "bench.sqlite"
    shutil.copyfile(cached, copy)
    return copy


def _publish(
    cached: Path,
    what: str,
    fill: Callable[[str, int, int], None],
    count: int,
    seed: int,
    start_from: Path | None = None,
) -> None:
    """Fills `cached` (from a copy of `start_from`, if given) unless it exists already."""
    with FileLock(str(cached) + ".lock"):
        if cached.exists():
            progress(f"reusing the seeded database {cached}")
            return
        progress(f"{what} into {cached}")
        partial = cached.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        if start_from is not None:
            shutil.copyfile(start_from, partial)
        child = multiprocessing.get_context("spawn").Process(
            target=_filled, args=(fill, str(partial), count, seed)
        )
        child.start()
        child.join()
        if child.exitcode != 0:
            partial.unlink(missing_ok=True)
            raise BenchError(f"seeding the demo database failed (exit {child.exitcode})")
        os.replace(partial, cached)


def _filled(fill: Callable[[str, int, int], None], path: str, count: int, seed: int) -> None:
    """In the child: fill, then make the file one self-contained file (no -wal beside it),
    safe to copy."""
    fill(path, count, seed)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


@dataclass(frozen=True)
class Cadre:
    """A person of the roster who has linked Telegram: the identity a scripted user takes."""

    telegram_id: int
    full_name: str

    @property
    def first_name(self) -> str:
        """Vietnamese names end with the given name, which Telegram shows as first_name."""
        return self.full_name.rsplit(" ", 1)[-1]


async def linked_cadres(db_path: Path, count: int) -> list[Cadre]:
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
            f"only {len(rows)} people are linked to Telegram; raise --people or lower the users"
        )
    return [Cadre(telegram_id, full_name) for telegram_id, full_name in rows]

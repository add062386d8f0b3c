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
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Mapping, Sequence
from enum import Enum
from pathlib import Path
from typing import Any

import httpx
from filelock import FileLock

#: Process-wide limit of a run, so a wedged bot can never keep CI or a terminal waiting.
DEFAULT_TIMEOUT_S = 600.0
#: Seeded databases are kept here between runs, one file per (people, seed, schema).
DEFAULT_CACHE_DIR = Path(tempfile.gettempdir()) / "cadre-bench-cache"
_ROOT = Path(__file__).resolve().parent.parent
# The seeded file depends on these sources: a change to any of them seeds afresh.
_SEED_SOURCES = ("tools/demo/data.py", "tools/demo/seed.py", "storage/schema.py")
_MIGRATIONS = "storage/migrations/versions"


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


# --- the seeded demo database ---------------------------------------------------------------


def _schema_fingerprint() -> str:
    digest = hashlib.sha256()
    paths = [_ROOT / p for p in _SEED_SOURCES] + sorted((_ROOT / _MIGRATIONS).glob("*.py"))
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


def _seed_file(path: str, people: int, seed: int) -> None:
    """Runs in a child process: seeding 100,000 people would otherwise inflate our peak RSS."""
    from storage.database import Database
    from tools.demo.seed import seed_demo

    async def seed_and_close() -> None:
        db = Database.from_url(sqlite_url(Path(path)))
        try:
            await seed_demo(db, people=people, seed=seed)
        finally:
            await db.dispose()

    asyncio.run(seed_and_close())
    # One self-contained file (no -wal beside it), safe to copy.
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")


def demo_database(
    dest_dir: Path, *, people: int, seed: int, cache_dir: Path = DEFAULT_CACHE_DIR
) -> Path:
    """A private copy of the demo province seeded with `people`, seeding only on a cache miss.

    The cached file is filled under a file lock and published atomically, so concurrent runs
    neither seed twice nor copy a half-written file.
    """
    cache_dir.mkdir(parents=True, exist_ok=True)
    cached = cache_dir / f"demo-{people}-{seed}-{_schema_fingerprint()}.sqlite"
    with FileLock(str(cached) + ".lock"):
        if not cached.exists():
            progress(f"seeding {people:,} people (seed {seed}) into {cached}")
            partial = cached.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            child = multiprocessing.get_context("spawn").Process(
                target=_seed_file, args=(str(partial), people, seed)
            )
            child.start()
            child.join()
            if child.exitcode != 0:
                partial.unlink(missing_ok=True)
                raise BenchError(f"seeding the demo database failed (exit {child.exitcode})")
            os.replace(partial, cached)
        else:
            progress(f"reusing the seeded database {cached}")
    copy = dest_dir / "bench.sqlite"
    shutil.copyfile(cached, copy)
    return copy

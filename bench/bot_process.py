"""The real bot as a child process (`python -m bot`), to be signalled, killed and restarted,
and the emulator at Telegram's flood limits that counts what it delivered.

Benchmarks and the crash tests use it: what happens on SIGTERM or SIGKILL can only be seen
in a separate process.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.common import progress
from tools.emulator import BotApiEmulator
from tools.emulator.faults import Faults

ROOT = Path(__file__).resolve().parent.parent
READY_MARKERS = ("outbox sender active", "outbox sender on standby")


class BotProcess:
    def __init__(self, env: dict[str, str], workdir: Path, name: str = "bot") -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in ("BOT_TOKEN", "ADMIN_IDS")},
            "PYTHONPATH": str(ROOT),
            "LOG_LEVEL": "INFO",
            **env,
        }
        self.workdir = workdir
        self.log_path = workdir / f"{name}.log"
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self, ready_timeout: float = 30.0) -> None:
        """Starts the bot and waits until its outbox sender is active or on standby."""
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=self.workdir, env=self.env,
            stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True,
        )  # fmt: skip
        log.close()
        self.starts += 1
        deadline = time.monotonic() + ready_timeout
        while time.monotonic() < deadline:
            text = self.log_text(offset)
            if any(marker in text for marker in READY_MARKERS):
                return
            if self.process.returncode is not None:
                break
            await asyncio.sleep(0.05)
        await self.kill()
        raise RuntimeError(f"bot did not become ready; log:\n{self.log_text(offset)[-3000:]}")

    def log_text(self, offset: int = 0) -> str:
        if not self.log_path.exists():
            return ""
        with self.log_path.open("rb") as fh:
            fh.seek(offset)
            return fh.read().decode("utf-8", "replace")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def signal(self, sig: signal.Signals, grace_s: float = 30.0) -> int:
        """Sends `sig` and waits for the exit; a process that outlives the wait is killed."""
        assert self.process is not None
        if self.running:
            self.process.send_signal(sig)
        try:
            return await asyncio.wait_for(self.process.wait(), grace_s)
        except TimeoutError:
            await self.kill()
            raise

    async def kill(self) -> None:
        if self.running:
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            await self.process.wait()


# --- the bot at Telegram's flood limits, killed and restarted -------------------------------


@dataclass(frozen=True)
class Sent:
    """One message the emulator delivered: to which chat, what it said, when (wall clock)."""

    chat_id: int
    text: str
    wall: float


class LimitedEmulator:
    """The emulator at Telegram's flood limits (`limit` messages a second overall, 1 a second
    per chat, 429 above that), in this process or standalone at --api-url, through one
    interface. Each run is a new bot (a random token), so a standalone emulator that earlier
    runs used counts only this run's deliveries and 429s."""

    def __init__(self, api_url: str | None, limit: int, name: str) -> None:
        self.api_url = api_url
        self.limit = limit
        bot_id = 6_000_000_000 + secrets.randbelow(1_000_000_000)
        self.token = f"{bot_id}:bench-{name}-{secrets.token_hex(8)}"
        self.local: BotApiEmulator | None = None
        self.base_url = ""
        self._429_before = 0

    async def start(self) -> None:
        """Starts the local emulator, or sets the limits of the standalone one."""
        faults = {"overall_per_s": self.limit, "private_chat_per_s": 1}
        if self.api_url is None:
            limits = Faults(overall_per_s=self.limit, private_chat_per_s=1)
            self.local = BotApiEmulator(token=self.token, faults=limits)
            await self.local.start()
            self.base_url = self.local.base_url
            return
        async with httpx.AsyncClient(base_url=self._root, timeout=10) as client:
            response = await client.post("/_emulator/config", json=faults)
            if response.status_code != 200:
                raise RuntimeError(
                    "--api-url must be this project's emulator (python -m tools.emulator)"
                )
        self.base_url = self._root + "/bot"
        _, self._429_before = await self.deliveries()

    @property
    def bot_env(self) -> dict[str, str]:
        """The bot's settings that point it at this emulator."""
        return {
            "BOT_TOKEN": self.token,
            "TELEGRAM_BASE_URL": self.base_url,
            "TELEGRAM_BASE_FILE_URL": self.base_url.replace("/bot", "/file/bot"),
        }

    async def add_chats(self, ids: list[int]) -> None:
        """Opens the private chats, else the bot's messages to them would be refused."""
        if self.local is not None:
            for chat in ids:
                self.local.user(chat, bot=self.token)
            return
        async with httpx.AsyncClient(base_url=self._root, timeout=30) as client:
            response = await client.post("/_emulator/users", json={"ids": ids, "token": self.token})
            response.raise_for_status()

    @property
    def _root(self) -> str:
        assert self.api_url is not None
        return self.api_url.removesuffix("/").removesuffix("/bot")

    async def deliveries(self) -> tuple[list[Sent], int]:
        """Every delivery to this run's bot, in order, and the 429s answered in the run."""
        if self.local is not None:
            found = [Sent(d.chat_id, d.text, d.wall) for d in self.local.delivered(self.token)]
            return found, self.local.stats.rate_limited
        async with httpx.AsyncClient(base_url=self._root, timeout=30) as client:
            response = await client.get("/_emulator/stats", params={"log": "1"})
            stats = response.raise_for_status().json()["result"]
        found = [
            Sent(d["chat_id"], d["text"], d["wall"])
            for d in stats["deliveries"]
            if d["token"] == self.token
        ]
        return found, stats["rate_limited"] - self._429_before

    async def stop(self) -> None:
        """Stops the local emulator, or lifts the standalone one's limits again."""
        if self.local is not None:
            await self.local.stop()
            return
        async with httpx.AsyncClient(base_url=self._root, timeout=10) as client:
            off = {"overall_per_s": None, "private_chat_per_s": None}
            (await client.post("/_emulator/config", json=off)).raise_for_status()


@dataclass(frozen=True)
class Restart:
    """One kill: when the signal was sent and when the new process was up (wall clock)."""

    signalled: float
    started: float


@dataclass
class Kills:
    """Signal the bot every `every` deliveries (0: never), at most `most` times; what
    happened is kept in `restarts`."""

    every: int = 0
    sig: signal.Signals = signal.SIGTERM
    most: int = 20
    restarts: list[Restart] = field(default_factory=list)


async def deliver(
    bot: BotProcess,
    emulator: LimitedEmulator,
    done: Callable[[list[Sent]], bool],
    *,
    timeout_s: float,
    kills: Kills,
) -> None:
    """Lets the running bot deliver until `done(deliveries)` or the timeout, killing and
    restarting it as `kills` says. Waits a second more at the end, so that late duplicates
    are counted too."""
    restarts = kills.restarts
    deadline = time.monotonic() + timeout_s
    next_kill = kills.every
    while time.monotonic() < deadline:
        found, _ = await emulator.deliveries()
        if done(found):
            break
        if next_kill and len(found) >= next_kill and len(restarts) < kills.most:
            progress(f"{len(found)} delivered: sending {kills.sig.name}, then restarting")
            signalled = time.time()
            await bot.signal(kills.sig)
            next_kill += kills.every
            await bot.start()
            restarts.append(Restart(signalled, time.time()))
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)


def flood_figures(
    sent: list[Sent],
    every: list[Sent],
    expected: int,
    *,
    due_at: float,
    limit: int,
    http_429: int,
    kills: Kills,
) -> dict[str, Any]:
    """The figures of a delivery under flood limits. `sent` holds the deliveries of what was
    expected, `every` all the run's deliveries (the first after a restart ends its downtime),
    each message once in `sent` unless it was delivered twice. The rate counts the time the
    bot was up: the restarts' downtime (signal → first delivery of the new process) is
    reported, not averaged in."""
    times = sorted(s.wall for s in sent)
    distinct = len({(s.chat_id, s.text) for s in sent})
    span = times[-1] - times[0] if len(times) > 1 else 0.0
    all_times = sorted(s.wall for s in every)
    downtime = sum(
        next((t for t in all_times if t > r.started), r.started) - r.signalled
        for r in kills.restarts
    )
    rate = (distinct - 1) / (span - downtime) if span > downtime else 0.0
    figures: dict[str, Any] = {
        "due": expected,
        "sent": distinct,
        "duplicates": len(sent) - distinct,
        "lost": expected - distinct,
        "http_429": http_429,
        "rate_per_s": round(rate, 1),
        "limit_per_s": limit,
        "ratio": round(rate / limit, 3),
        "first_ms": round((times[0] - due_at) * 1000, 1) if times else None,
        "last_ms": round((times[-1] - due_at) * 1000, 1) if times else None,
    }
    if kills.every:
        figures.update(
            kills=len(kills.restarts),
            signal=kills.sig.name.removeprefix("SIG"),
            downtime_s=round(downtime, 2),
            wall_rate_per_s=round((distinct - 1) / span, 1) if span else 0.0,
        )
    return figures

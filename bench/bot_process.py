"""The real bot as a child process (`python -m bot`), to be signalled, killed and restarted.

Benchmarks and the crash tests use it: what happens on SIGTERM or SIGKILL can only be seen
in a separate process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

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

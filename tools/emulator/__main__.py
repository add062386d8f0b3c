"""Run the emulator standalone: `python -m tools.emulator --port 8081` (Ctrl-C stops it)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from tools.emulator.faults import Faults
from tools.emulator.server import BotApiEmulator


async def _serve(port: int, limits: bool) -> None:
    emulator = BotApiEmulator(faults=Faults.telegram_limits() if limits else None)
    await emulator.start(port)
    print(f"Bot API emulator listening: base_url={emulator.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8081, help="port on 127.0.0.1 (0 = any)")
    parser.add_argument(
        "--limits", action="store_true", help="enforce Telegram's flood limits (30/s, 1/s/chat)"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.limits))


if __name__ == "__main__":
    main()

"""Run the Zalo emulator standalone: `python -m tools.zalo_emulator --port 8082` (Ctrl-C stops)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from tools.zalo_emulator.server import DEFAULT_TOKEN, ZaloBotApiEmulator


async def _serve(port: int, tokens: list[str], bare: bool) -> None:
    emulator = ZaloBotApiEmulator(token=tokens[0], webhook_wrapped=not bare)
    for token in tokens[1:]:
        emulator.bot(token)
    await emulator.start(port)
    print(f"Zalo Bot API emulator listening: base_url={emulator.base_url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await emulator.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tools.zalo_emulator", description=__doc__)
    parser.add_argument("--port", type=int, default=8082, help="port on 127.0.0.1 (0 = any)")
    parser.add_argument(
        "--token", action="append", help=f"a valid bot token (repeatable; default {DEFAULT_TOKEN})"
    )
    parser.add_argument(
        "--bare-webhook", action="store_true", help="POST bare events, not {ok, result}"
    )
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, args.token or [DEFAULT_TOKEN], args.bare_webhook))


if __name__ == "__main__":
    main()

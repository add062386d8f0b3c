"""`python -m bot`: the real bot on every channel with a token (BOT_TOKEN, ZALO_BOT_TOKEN),
the offline sandbox with neither."""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from bot.config import Settings, describe_error
from bot.logging_setup import configure_logging


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as exc:
        print(describe_error(exc), file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.token, [settings.zalo_token or ""])
    if not settings.token and not settings.zalo_token:
        # No token, no channel: the offline sandbox runs the same bot against the emulator.
        try:
            from tools.sandbox import run_sandbox

            return run_sandbox(settings, sys.argv[1:])
        except KeyboardInterrupt:  # Ctrl-C while still importing: nothing to stop yet
            return 0
    from bot.app.serve import serve

    try:
        return asyncio.run(serve(settings))
    except KeyboardInterrupt:  # Ctrl-C before the bot listens for it: nothing to stop yet
        return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m bot`: the real bot with BOT_TOKEN, the offline sandbox without it."""

from __future__ import annotations

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
    configure_logging(settings.log_level, settings.token)
    if not settings.token:
        # No token, no Telegram: the offline sandbox runs the same bot against the emulator.
        try:
            from tools.sandbox import run_sandbox

            return run_sandbox(settings, sys.argv[1:])
        except KeyboardInterrupt:  # Ctrl-C while still importing: nothing to stop yet
            return 0
    from telegram.error import InvalidToken, NetworkError

    from bot.app import ALLOWED_UPDATES, build_application

    app = build_application(settings)
    try:
        app.run_polling(allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False)
    except InvalidToken:
        print(f"BOT_TOKEN was rejected by {settings.telegram_base_url}", file=sys.stderr)
        return 2
    except NetworkError as exc:  # the message names the problem, never the token
        print(
            f"Cannot reach {settings.telegram_base_url}: {exc.__class__.__name__}", file=sys.stderr
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

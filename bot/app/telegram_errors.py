"""Reading PTB's exceptions the same way everywhere."""

from __future__ import annotations

import warnings
from datetime import timedelta

from telegram.error import RetryAfter


def retry_after_seconds(exc: RetryAfter) -> float:
    """PTB 22 deprecates the int form of retry_after; accept either without a warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)

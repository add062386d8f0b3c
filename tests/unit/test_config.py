"""Settings: parsed from the environment, refused in one line, the token never logged."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.logging_setup import RedactTokenFilter

ROOT = Path(__file__).resolve().parents[2]


def test_admin_ids_are_comma_separated_not_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADMIN_IDS", "123, 456,789")
    assert Settings(_env_file=None).admin_ids == frozenset({123, 456, 789})
    monkeypatch.setenv("ADMIN_IDS", "")
    assert Settings(_env_file=None).admin_ids == frozenset()


def test_defaults() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite+aiosqlite:///data/bot.db"
    assert settings.timezone == "Asia/Ho_Chi_Minh" and settings.default_language == "vi"
    assert settings.telegram_base_url == "https://api.telegram.org/bot"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("ADMIN_IDS", "12,abc"),
        ("TIMEZONE", "Mars/Olympus"),
        ("DATABASE_URL", "mysql://x"),
        ("DEFAULT_LANGUAGE", "fr"),
    ],
)
def test_a_bad_setting_exits_2_naming_the_variable(name: str, value: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN"}}
    env.update({name: value, "BOT_TOKEN": "1:x"})
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert name in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_the_token_is_masked_in_every_log_record(caplog: pytest.LogCaptureFixture) -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    logger = logging.getLogger("httpx")
    logger.addFilter(RedactTokenFilter(token))
    try:
        with caplog.at_level(logging.INFO, logger="httpx"):
            logger.info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", token)
            logger.info("custom base %s", f"http://127.0.0.1:8081/bot{token}/sendMessage")
    finally:
        logger.filters.clear()
    assert token not in caplog.text and "bot<token>" in caplog.text

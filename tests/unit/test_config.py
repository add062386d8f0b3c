"""Settings: parsed from the environment, refused in one line, the token never logged."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import Settings
from bot.logging_setup import RedactingFormatter
from handlers.context import Arrivals

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
        ("LOG_LEVEL", "LOUD"),
        ("REPORT_REMINDERS", "29/02 annual"),
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


async def test_an_unreachable_server_is_one_line_without_the_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"BOT_TOKEN", "ADMIN_IDS"}}
    env.update(
        BOT_TOKEN="123456789:THIS-TOKEN-IS-NOT-VALID-AT-ALL",
        TELEGRAM_BASE_URL=f"http://127.0.0.1:{_closed_port()}/bot",
        PYTHONPATH=str(ROOT),
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 1
    assert "THIS-TOKEN" not in err.decode()
    assert err.decode().strip().splitlines()[-1].startswith("Cannot reach")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_the_token_is_masked_in_messages_and_tracebacks() -> None:
    token = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    formatter = RedactingFormatter("%(message)s", token)

    def record(message: str, *args: object, exc: BaseException | None = None) -> str:
        exc_info = (type(exc), exc, None) if exc else None
        entry = logging.LogRecord("httpx", logging.INFO, __file__, 1, message, args, exc_info)
        return formatter.format(entry)

    url = record("HTTP Request: POST https://api.telegram.org/bot%s/getMe", token)
    assert token not in url and "bot<token>/getMe" in url
    failure = record("start failed", exc=ValueError(f"The token `{token}` was rejected"))
    assert token not in failure and "`<token>` was rejected" in failure
    other = record("another bot: 987654321:ZZZdqTcvCH1vGWJxfSeofSAs0K5PALDsaw")
    assert "ZZZ" not in other


def test_a_library_printing_an_update_leaves_no_name_phone_or_text_in_the_log() -> None:
    formatter = RedactingFormatter("%(message)s", None)
    raw = {"update_id": 7, "message": {
        "from": {"id": 5, "first_name": "Vàng", "last_name": "Thị Mai", "username": "maivt"},
        "contact": {"phone_number": "84912000001", "first_name": "Vàng"},
        "text": 'Tôi là "Mai", ở xã Pả Vi',
    }}  # fmt: skip
    printed = [
        f"Error while processing update {raw}",  # a dict, as PTB prints it
        json.dumps(raw, ensure_ascii=False),  # JSON, as a server sends it
        "User(first_name='Vàng', id=5, last_name='Thị Mai', username='maivt')",  # a repr
    ]
    for line in printed:
        entry = logging.LogRecord("telegram.ext", logging.ERROR, __file__, 1, line, (), None)
        text = formatter.format(entry)
        assert not any(word in text for word in ("Vàng", "Mai", "maivt", "912000001", "Pả Vi"))
        assert "update_id" in text or "User(" in text  # the record still says what happened


def test_arrivals_tell_a_button_press_too_old_to_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr("handlers.context.time.monotonic", lambda: clock[0])
    arrivals = Arrivals(size=2)
    arrivals.note(1)
    clock[0] += 13.0
    arrivals.note(2)
    assert not arrivals.too_late_to_answer(1)
    clock[0] += 2.0
    assert arrivals.too_late_to_answer(1) and not arrivals.too_late_to_answer(2)
    arrivals.note(3)  # the oldest is forgotten: unknown ones are answered
    assert not arrivals.too_late_to_answer(1)

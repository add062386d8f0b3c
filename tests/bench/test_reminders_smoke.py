"""bench.reminders at a toy size: every cadre reminded once, through a restart too."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.common import server_root
from bench.reminders import main
from tests.bench.test_updates_smoke import ROOT, _standalone_emulator

pytestmark = pytest.mark.slow

KEYS = {
    "due", "sent", "duplicates", "lost", "http_429", "rate_per_s", "limit_per_s", "ratio",
    "first_ms", "last_ms", "other", "in_flight", "database", "api_url",
}  # fmt: skip


ARGV = ["--count", "30", "--timeout", "120"]


def _result(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict[str, object]:
    assert main([*ARGV, *argv]) == 0
    return _checked(capsys.readouterr().out)


def _checked(out: str) -> dict[str, object]:
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result: dict[str, object] = json.loads(lines[0])
    assert result.keys() >= KEYS
    assert (result["due"], result["sent"]) == (30, 30), result
    assert (result["duplicates"], result["lost"], result["other"]) == (0, 0, 0), result
    return result


def test_every_cadre_is_reminded_once(capsys: pytest.CaptureFixture[str]) -> None:
    # PostgreSQL's fresh database is bench.common's, exercised by bench.enrol's smoke test.
    result = _result(capsys, [])
    assert result["database"] == "sqlite" and result["api_url"] is None
    assert "kills" not in result


def test_a_graceful_restart_loses_and_doubles_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    # 10 a second: the bot is stopped after 15 of the 30 reminders, mid-run.
    result = _result(capsys, ["--limit", "10", "--kill-every", "15", "--signal", "TERM"])
    assert result["kills"] == 1 and result["signal"] == "TERM"


def test_runs_against_a_standalone_emulator() -> None:
    child, base_url = _standalone_emulator()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "bench.reminders", "--api-url", base_url, *ARGV],
            cwd=ROOT, capture_output=True, text=True, timeout=150,
        )  # fmt: skip
    finally:
        child.kill()
        child.wait()
    assert run.returncode == 0, run.stderr
    result = _checked(run.stdout)
    assert server_root(str(result["api_url"])) == server_root(base_url)

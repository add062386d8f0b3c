"""bench.enrol at a toy size: every seat taken once, the rest waitlisted 1..n, no error."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from bench.common import server_root
from bench.enrol import main
from tests.bench.test_updates_smoke import ROOT, _standalone_emulator
from tests.conftest import POSTGRES_UP, POSTGRES_URL

KEYS = {
    "cadres", "capacity", "enrolled", "waitlisted", "over_capacity", "errors", "p50_ms",
    "p99_ms", "database", "api_url",
}  # fmt: skip


def _checked(result: dict[str, object], database: str) -> None:
    assert result.keys() >= KEYS
    assert (result["cadres"], result["capacity"]) == (12, 3)
    assert (result["enrolled"], result["waitlisted"]) == (3, 9)
    assert result["over_capacity"] == 0 and result["errors"] == 0, result
    assert 0 < result["p50_ms"] <= result["p99_ms"] < 30_000  # type: ignore[operator]
    assert result["database"] == database


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_prints_one_json_line_with_every_seat_taken_once(
    capsys: pytest.CaptureFixture[str], database: str
) -> None:
    url = []
    if database == "postgresql":
        if not POSTGRES_UP:
            pytest.skip("PostgreSQL server not reachable")
        url = ["--database-url", POSTGRES_URL]
    assert main(["--cadres", "12", "--capacity", "3", "--timeout", "60", *url]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    _checked(result, database)
    assert result["api_url"] is None


def test_runs_against_a_standalone_emulator() -> None:
    child, base_url = _standalone_emulator()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "bench.enrol", "--api-url", base_url, "--cadres", "12",
             "--capacity", "3", "--timeout", "60"],
            cwd=ROOT, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
    finally:
        child.kill()
        child.wait()
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    _checked(result, "sqlite")
    assert server_root(result["api_url"]) == server_root(base_url)

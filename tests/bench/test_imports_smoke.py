"""bench.imports at a toy size: every row saved, the same file again changes nothing; in
process and against a standalone emulator, whose remote admin sends the workbook over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from bench.common import server_root
from bench.imports import main
from tests.bench.test_updates_smoke import ROOT, _standalone_emulator


def test_prints_one_json_line_with_every_row_saved_and_an_unchanged_reimport(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--rows", "300", "--timeout", "120"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (result["rows"], result["inserted"], result["updated"]) == (300, 300, 0), result
    assert result["stored"] == 300 and result["reimport_changed"] == 0
    assert result["errors"] == 0 and result["seconds"] > 0 and result["rss_mb"] > 0
    assert result["api_url"] is None


def test_runs_against_a_standalone_emulator() -> None:
    child, base_url = _standalone_emulator()
    try:
        run = subprocess.run(
            [sys.executable, "-m", "bench.imports", "--api-url", base_url, "--rows", "200",
             "--timeout", "60"],
            cwd=ROOT, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        stats = httpx.get(f"{server_root(base_url)}/_emulator/stats", timeout=5).json()
    finally:
        child.kill()
        child.wait()
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert (result["rows"], result["inserted"], result["stored"]) == (200, 200, 200), result
    assert result["reimport_changed"] == 0 and result["errors"] == 0
    assert result["api_url"] == base_url and result["database"] == "sqlite"
    # The bot downloaded the workbook from the standalone emulator, once per import.
    assert stats["result"]["methods"]["getFile"] >= 2

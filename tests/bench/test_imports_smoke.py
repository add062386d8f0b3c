"""bench.imports at a toy size: every row saved, the same file again changes nothing."""

from __future__ import annotations

import json

import pytest

from bench.imports import main


def test_prints_one_json_line_with_every_row_saved_and_an_unchanged_reimport(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--rows", "300", "--timeout", "120"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (result["rows"], result["inserted"], result["updated"]) == (300, 300, 0), result
    assert result["stored"] == 300 and result["reimport_changed"] == 0
    assert result["errors"] == 0 and result["seconds"] > 0 and result["rss_mb"] > 0

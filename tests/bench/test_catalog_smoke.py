"""bench.catalog at a toy size: the three timed requests are answered, the line complete."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.catalog import main

KEYS = {
    "page_p50_ms", "page_p99_ms", "filter_p50_ms", "filter_p99_ms", "search_p50_ms",
    "search_p99_ms", "pages", "classes", "people", "cadres", "database", "api_url",
}  # fmt: skip


def test_prints_one_json_line_with_sane_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--classes", "50", "--people", "300", "--cadres", "4", "--timeout", "120"]
    assert main([*argv, "--cache-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result.keys() >= KEYS
    assert (result["classes"], result["people"], result["cadres"]) == (50, 300, 4)
    assert result["database"] == "sqlite" and result["api_url"] is None
    for name in ("page", "filter", "search"):
        assert 0 < result[f"{name}_p50_ms"] <= result[f"{name}_p99_ms"] < 30_000


def test_an_unreachable_api_url_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--api-url", "http://127.0.0.1:9/bot"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "nothing answers" in captured.err

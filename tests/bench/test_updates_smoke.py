"""bench.updates end to end at toy sizes: the JSON line is complete and its figures sane."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bench.updates import main
from bot.emulator import BotApiEmulator

KEYS = {
    "users", "messages", "people", "per_s", "p50_ms", "p99_ms", "baseline_per_s",
    "baseline_p50_ms", "baseline_p99_ms", "ratio", "rss_mb", "cpu_ms", "baseline_cpu_ms",
}  # fmt: skip


def test_prints_one_json_line_with_sane_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--users", "3", "--messages", "2", "--people", "300", "--timeout", "60"]
    assert main([*argv, "--cache-dir", str(tmp_path)]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result.keys() >= KEYS
    assert (result["users"], result["messages"], result["people"]) == (3, 2, 300)
    for prefix in ("", "baseline_"):
        assert result[f"{prefix}per_s"] > 0 and result[f"{prefix}cpu_ms"] > 0
        assert 0 < result[f"{prefix}p50_ms"] <= result[f"{prefix}p99_ms"] < 30_000
    assert result["ratio"] == pytest.approx(result["per_s"] / result["baseline_per_s"], rel=0.01)
    assert 10 < result["rss_mb"] < 4096


def test_an_unreachable_api_url_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--api-url", "http://127.0.0.1:9/bot"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "nothing answers" in captured.err


async def test_an_external_emulator_is_recognised_but_cannot_take_users(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with BotApiEmulator() as emulator:
        # main() is synchronous and probes over HTTP: keep this loop free to answer it.
        code = await asyncio.to_thread(main, ["--api-url", emulator.base_url])
    assert code == 2
    assert "cannot inject user messages" in capsys.readouterr().err

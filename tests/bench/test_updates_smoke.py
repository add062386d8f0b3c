"""bench.updates end to end at toy sizes: the JSON line is complete and its figures sane."""

from __future__ import annotations

import asyncio
import json
import os
import re
import select
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from bench.common import server_root
from bench.updates import main
from tools.emulator import BotApiEmulator, Faults

ROOT = Path(__file__).resolve().parents[2]

KEYS = {
    "users", "messages", "people", "per_s", "p50_ms", "p99_ms", "baseline_per_s",
    "baseline_p50_ms", "baseline_p99_ms", "ratio", "rss_mb", "cpu_ms", "baseline_cpu_ms",
    "send_rate_per_s", "api_url",
}  # fmt: skip


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded toy database for the module's runs, seeded by the first that needs it."""
    return tmp_path_factory.mktemp("bench-cache")


@pytest.mark.parametrize(
    ("flags", "rate"), [([], 100_000), (["--telegram-rate"], 25)], ids=["unbound", "telegram"]
)
def test_prints_one_json_line_with_sane_figures(
    cache_dir: Path, capsys: pytest.CaptureFixture[str], flags: list[str], rate: float
) -> None:
    argv = ["--users", "3", "--messages", "2", "--people", "300", "--timeout", "60", *flags]
    assert main([*argv, "--cache-dir", str(cache_dir)]) == 0

    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result.keys() >= KEYS
    assert (result["users"], result["messages"], result["people"]) == (3, 2, 300)
    assert result["send_rate_per_s"] == rate and result["api_url"] is None
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


def _standalone_emulator() -> tuple[subprocess.Popen[str], str]:
    """`python -m tools.emulator --port <free>` in a child process, and its base URL.

    Port 0 lets the emulator pick a free port itself (no race with other tests for it); it
    prints the base_url it listens on, which is read back here.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "tools.emulator", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    ready, _, _ = select.select([child.stdout], [], [], 10)
    line = child.stdout.readline() if ready else ""
    match = re.search(r"base_url=(\S+)", line)
    if match is None:
        child.kill()
        child.wait()
        raise AssertionError(f"the emulator did not start: {line!r}")
    return child, match.group(1)


def test_runs_against_a_standalone_emulator(cache_dir: Path) -> None:
    child, base_url = _standalone_emulator()
    try:
        argv = ["--api-url", base_url, "--users", "2", "--messages", "2", "--people", "300"]
        run = subprocess.run(
            [sys.executable, "-m", "bench.updates", *argv, "--cache-dir", str(cache_dir)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
        )
        stats = httpx.get(f"{server_root(base_url)}/_emulator/stats", timeout=5).json()
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    assert run.returncode == 0, run.stderr
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result.keys() >= KEYS
    assert (result["users"], result["messages"], result["people"]) == (2, 2, 300)
    assert result["api_url"] == base_url and result["send_rate_per_s"] == 100_000
    for prefix in ("", "baseline_"):
        assert result[f"{prefix}per_s"] > 0 and result[f"{prefix}cpu_ms"] > 0
    # Both bots replied through the standalone emulator, in each of the 3 rounds: warm-up
    # (every user, 2 messages each) plus 2 x 2 timed.
    assert stats["result"]["delivered"] == 3 * 2 * (2 * 2 + 2 * 2)


async def test_another_bot_api_server_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def not_found(request: web.Request) -> web.Response:
        body = {"ok": False, "error_code": 404, "description": "Not Found"}
        return web.json_response(body, status=404)

    server = web.Application()
    server.router.add_route("*", "/{tail:.*}", not_found)
    runner = web.AppRunner(server)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        # main() is synchronous and probes over HTTP: keep this loop free to answer it.
        code = await asyncio.to_thread(main, ["--api-url", f"http://127.0.0.1:{port}/bot"])
    finally:
        await runner.cleanup()
    assert code == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "no way to inject users' messages" in captured.err


async def test_an_emulator_with_rate_limits_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    async with BotApiEmulator(faults=Faults.telegram_limits()) as emulator:
        code = await asyncio.to_thread(main, ["--api-url", emulator.base_url])
    assert code == 2
    err = capsys.readouterr().err
    assert "overall_per_s, private_chat_per_s, group_chat_per_min" in err and "--limits" in err

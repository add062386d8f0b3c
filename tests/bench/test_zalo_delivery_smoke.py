"""bench.zalo_delivery at a toy size: every message (long ones in parts) reaches its Zalo user
once; and its counting tells a part sent twice or out of order from a whole message."""

from __future__ import annotations

import json
import re
import select
import subprocess
import sys

import httpx
import pytest

from bench.common import server_root
from bench.zalo_delivery import Due, figures, main, plan
from tests.bench.test_updates_smoke import ROOT

KEYS = {
    "due", "sent", "duplicates", "lost", "rate_per_s", "limit_per_s", "ratio", "first_ms",
    "last_ms", "split_messages", "split_parts", "split_whole", "other", "http_429", "refused",
    "log_errors", "chats", "in_flight", "database", "api_url",
}  # fmt: skip
# A limit the toy run never reaches: no 429, so nothing is sent twice.
ARGV = ["--count", "20", "--chats", "12", "--long", "2", "--limit", "200", "--timeout", "90"]


def _checked(out: str) -> dict[str, object]:
    lines = out.strip().splitlines()
    assert len(lines) == 1
    result: dict[str, object] = json.loads(lines[0])
    assert result.keys() >= KEYS
    assert (result["due"], result["sent"], result["lost"]) == (20, 20, 0), result
    assert (result["split_messages"], result["split_parts"], result["split_whole"]) == (2, 4, 2)
    assert (result["duplicates"], result["other"], result["http_429"]) == (0, 0, 0), result
    assert (result["refused"], result["log_errors"]) == (0, 0), result
    return result


@pytest.mark.slow
def test_every_message_reaches_its_zalo_user_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(ARGV) == 0
    result = _checked(capsys.readouterr().out)
    assert result["api_url"] is None and result["database"] == "sqlite"


@pytest.mark.slow
def test_runs_against_a_standalone_zalo_emulator() -> None:
    child = subprocess.Popen(
        [sys.executable, "-m", "tools.zalo_emulator", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert child.stdout is not None
        ready, _, _ = select.select([child.stdout], [], [], 10)
        match = re.search(r"base_url=(\S+)", child.stdout.readline() if ready else "")
        assert match is not None, "the Zalo emulator did not start"
        base_url = match.group(1)
        run = subprocess.run(
            [sys.executable, "-m", "bench.zalo_delivery", "--api-url", base_url, *ARGV],
            cwd=ROOT, capture_output=True, text=True, timeout=110,
        )  # fmt: skip
        config = httpx.get(f"{server_root(base_url)}/_emulator/config", timeout=5).json()
    finally:
        child.kill()
        child.wait()
    assert run.returncode == 0, run.stderr
    assert _checked(run.stdout)["api_url"] == base_url
    assert config["result"]["overall_per_s"] is None  # the limits are lifted after the run


def test_an_unreachable_api_url_is_refused_in_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--api-url", "http://127.0.0.1:9/bot"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1


def test_long_messages_are_split_and_their_parts_told_apart() -> None:
    messages = plan(4, ["a", "b"], long=2, run="t")
    assert [len(m.parts) for m in messages] == [2, 1, 2, 1]
    assert all(len(part) <= 2000 for m in messages for part in m.parts)
    (long,) = plan(1, ["a"], 1, "k")
    assert "\n\n".join(long.parts) == long.text  # cut between paragraphs, nothing lost


def _received(*texts: str) -> dict[str, list[tuple[str, int]]]:
    return {"a": [(text, 1_000 + n) for n, text in enumerate(texts)]}


def test_a_part_sent_twice_or_out_of_order_is_no_whole_message() -> None:
    long = Due("k", "a", "", ("one", "two"))
    short = Due("s", "a", "", ("short",))
    whole = figures([long, short], _received("one", "two", "short"), due_at=0.0, limit=10)
    assert (whole["sent"], whole["split_whole"], whole["duplicates"]) == (2, 1, 0)
    again = figures([long, short], _received("one", "one", "two", "short"), due_at=0.0, limit=10)
    assert (again["sent"], again["split_whole"], again["duplicates"]) == (2, 0, 1)
    apart = figures([long, short], _received("one", "short", "two"), due_at=0.0, limit=10)
    assert (apart["sent"], apart["split_whole"]) == (2, 0)
    lost = figures([long, short], _received("two", "x"), due_at=0.0, limit=10)
    assert (lost["sent"], lost["lost"], lost["split_whole"], lost["other"]) == (0, 2, 0, 1)

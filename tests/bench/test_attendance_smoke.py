"""bench.attendance at a toy size: good codes recorded, bad ones refused, the roll saved."""

from __future__ import annotations

import json

import pytest

from bench.attendance import main


def test_prints_one_json_line_with_good_codes_in_and_bad_ones_out(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--learners", "16", "--bad", "4", "--grace", "4", "--spread", "2", "--timeout", "120"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (result["checkins"], result["rejected"], result["wrongly_accepted"]) == (12, 4, 0)
    assert result["marked"] == 16 and result["errors"] == 0, result
    assert 0 < result["p50_ms"] <= result["p99_ms"] and result["rollcall_ms"] > 0

"""The real Zalo Bot API, not the emulator: what the bridge and the emulator assume of it.

Runs only when ZALO_TEST_TOKEN holds a test bot's token (never the office's bot: nothing
here changes its webhook, but a poll takes an event meant for it). ZALO_TEST_CHAT_ID (a
chat that wrote to that bot once) adds a message the user did not trigger, which the docs
say nothing about: the outcome is printed and recorded (`pytest -s` or `--junitxml`):

    ZALO_TEST_TOKEN=… ZALO_TEST_CHAT_ID=… pytest -s tests/zalo_emulator/test_zalo_contract.py
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.zalo.client import DEFAULT_BASE_URL, POLL_SLACK_S, ZaloClient, ZaloError

TOKEN = os.environ.get("ZALO_TEST_TOKEN", "")
CHAT_ID = os.environ.get("ZALO_TEST_CHAT_ID", "")
BASE_URL = os.environ.get("ZALO_TEST_BASE_URL", DEFAULT_BASE_URL)
POLL_S = 3

pytestmark = pytest.mark.skipif(
    not TOKEN, reason="ZALO_TEST_TOKEN is not set: the contract test needs the real Zalo API"
)

Record = Callable[[str, object], None]


def _report(record_property: Record, name: str, outcome: str) -> None:
    print(f"zalo contract: {name}: {outcome}")
    record_property(name, outcome)


async def test_get_me_names_the_bot(record_property: Record) -> None:
    async with ZaloClient(TOKEN, BASE_URL) as client:
        me = await client.get_me()
    _report(record_property, "getMe", f"id={me.id} name={me.name!r} type={me.account_type}")
    assert me.id and me.name


async def test_get_updates_waits_for_its_timeout_or_gives_one_event(
    record_property: Record,
) -> None:
    async with ZaloClient(TOKEN, BASE_URL) as client:
        if (await client.get_webhook_info()).url:
            pytest.skip("this bot has a webhook: getUpdates would be refused (left as it is)")
        started = time.monotonic()
        event = await client.get_updates(timeout=POLL_S)
        waited = time.monotonic() - started
    if event is not None:
        _report(record_property, "getUpdates", f"one event, {event.name}, after {waited:.1f}s")
        assert event.message_id and event.chat_id
    else:
        _report(record_property, "getUpdates", f"no event; answered after {waited:.1f}s")
        assert POLL_S - 1 <= waited <= POLL_S + POLL_SLACK_S, "not a long poll"


@pytest.mark.skipif(not CHAT_ID, reason="ZALO_TEST_CHAT_ID is not set")
async def test_a_message_the_user_did_not_trigger(record_property: Record) -> None:
    """Reminders are sent unprompted: does Zalo deliver them, or only answers?"""
    text = (
        f"Kiểm thử kết nối Zalo ({datetime.now(UTC):%d/%m/%Y %H:%M} UTC): trợ lý tự gửi tin "
        "này, đồng chí không cần trả lời."
    )
    async with ZaloClient(TOKEN, BASE_URL) as client:
        try:
            sent = await client.send_message(CHAT_ID, text)
        except ZaloError as exc:
            assert exc.error_code is not None, f"no answer from Zalo: {exc.description}"
            outcome = f"refused: error {exc.error_code}: {exc.description}"
        else:
            outcome = f"delivered: message_id={sent.message_id}"
    _report(record_property, "unprompted sendMessage", outcome)

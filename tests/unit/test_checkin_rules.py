"""The pure pieces of self check-in: the deep link's payload, the QR PNG, and which messages
are taken as a typed code."""

from __future__ import annotations

import pytest

from bot.deeplinks import parse_payload
from bot.errors import InvalidInput
from bot.qr import qr_png
from bot.services.checkin import link_payload, parse_link
from handlers.checkin import deep_link, is_code

PNG = b"\x89PNG\r\n\x1a\n"


def test_a_check_in_link_round_trips_through_the_deep_link_parser() -> None:
    payload = link_payload(4021, "012345")
    assert payload == "ci-4021_012345"
    link = parse_payload(payload)
    assert link is not None and link.destination == "ci"
    assert parse_link(link.argument) == (4021, "012345")


@pytest.mark.parametrize("argument", ["", "12", "x_123456", "12_12345", "12_1234567", "12-123456",
                                      "1" * 19 + "_123456", "12_12a456"])  # fmt: skip
def test_a_malformed_check_in_link_is_refused(argument: str) -> None:
    with pytest.raises(InvalidInput):
        parse_link(argument)


def test_the_qr_code_is_a_png_big_enough_for_a_projector() -> None:
    png = qr_png(deep_link("cadre_demo_bot", link_payload(4021, "012345")))
    assert png.startswith(PNG)
    width = int.from_bytes(png[16:20], "big")
    assert width >= 600


@pytest.mark.parametrize(
    ("text", "taken"),
    [("123456", True), ("123 456", True), ("  123-456 ", True), ("12345", False),
     ("1234567", False), ("2026", False), ("123456 ok", False), ("0912 345 678", False)],
)  # fmt: skip
def test_only_a_message_that_is_just_a_code_looks_like_one(text: str, taken: bool) -> None:
    assert is_code(text) is taken

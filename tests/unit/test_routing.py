"""Which messenger a message goes out on (bot.delivery.routing), for each kind of person."""

from __future__ import annotations

import pytest

from bot.channels import ZALO_ID_BASE, Channel, NotifyVia
from bot.delivery.routing import JoinedZalo, Route, copy_key, route

TG = 4242
ZALO = ZALO_ID_BASE + 77


def joined(
    via: NotifyVia, *, telegram_blocked: bool = False, zalo_blocked: bool = False
) -> JoinedZalo:
    return JoinedZalo(ZALO, via, telegram_blocked, zalo_blocked)


def test_without_a_zalo_account_telegram_alone() -> None:
    assert route(TG) == Route(Channel.TELEGRAM, TG)


def test_a_zalo_number_goes_through_the_zalo_bot_as_it_knows_the_chat() -> None:
    assert route(ZALO) == Route(Channel.ZALO, ZALO)  # someone on Zalo only
    assert route(ZALO, presented=TG) == Route(Channel.ZALO, TG)  # joined: their Telegram id
    # The channel not running here changes nothing: the sender keeps the message for later.
    assert route(ZALO, zalo_running=False) == Route(Channel.ZALO, ZALO)


@pytest.mark.parametrize(
    ("via", "expected"),
    [
        (NotifyVia.BOTH, Route(Channel.TELEGRAM, TG, copy_to=ZALO)),
        (NotifyVia.TELEGRAM, Route(Channel.TELEGRAM, TG)),
        (NotifyVia.ZALO, Route(Channel.ZALO, TG, move_to=ZALO)),
    ],
)
def test_a_joined_person_by_their_choice(via: NotifyVia, expected: Route) -> None:
    assert route(TG, joined=joined(via)) == expected


def test_without_the_zalo_channel_both_means_telegram_and_zalo_only_still_waits() -> None:
    assert route(TG, joined=joined(NotifyVia.BOTH), zalo_running=False) == Route(
        Channel.TELEGRAM, TG
    )
    assert route(TG, joined=joined(NotifyVia.ZALO), zalo_running=False).move_to == ZALO


def test_an_unreachable_chat_of_a_person_on_both_leaves_the_other() -> None:
    telegram_gone = joined(NotifyVia.BOTH, telegram_blocked=True)
    assert route(TG, joined=telegram_gone).move_to == ZALO
    zalo_gone = joined(NotifyVia.BOTH, zalo_blocked=True)
    assert route(TG, joined=zalo_gone) == Route(Channel.TELEGRAM, TG)
    # A person who chose Telegram alone is not sent to Zalo because Telegram is gone.
    only = joined(NotifyVia.TELEGRAM, telegram_blocked=True)
    assert route(TG, joined=only) == Route(None, TG)


def test_an_edit_goes_only_where_its_row_was_sent() -> None:
    for via in NotifyVia:
        assert route(TG, edit=True, joined=joined(via)) == Route(Channel.TELEGRAM, TG)


def test_the_copy_key_is_fixed_and_fits() -> None:
    assert copy_key("reminder:1:2:day") == "reminder:1:2:day:zalo"
    long = "k" * 199
    assert copy_key(long) == copy_key(long) and len(copy_key(long)) <= 200
    assert copy_key(long).startswith("k" * 100) and copy_key(long) != copy_key("k" * 198 + "x")

"""Pure rules about people: search folding, phone numbers, names, birth years, links, menus."""

from __future__ import annotations

from datetime import date

import pytest

from bot.deeplinks import DeepLink, parse_payload
from bot.domain import Role
from bot.errors import InvalidInput
from bot.menus import LEARNER_COMMANDS, commands_for, is_staff
from bot.phones import normalize_contact_phone, normalize_phone
from bot.text_search import fold
from bot.validation import clean_full_name, parse_birth_year


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Nguyễn Thị Phương", "nguyen thi phuong"),
        ("ĐẶNG  Văn   Đức", "dang van duc"),
        ("Xã Đồng Văn", "xa dong van"),
        ("Ơ Đu", "o du"),
        ("\u0110\u1ed3ng", "dong"),  # precomposed
        ("D\u0300ong", "dong"),  # combining mark
    ],
)
def test_fold_removes_diacritics_including_d_bar(raw: str, folded: str) -> None:
    assert fold(raw) == folded


@pytest.mark.parametrize(
    "raw", ["0912345678", "84912345678", "+84 912 345 678", "+84-912-345-678", " 0912.345.678 "]
)
def test_phone_numbers_have_one_canonical_form(raw: str) -> None:
    assert normalize_phone(raw) == "+84912345678"


@pytest.mark.parametrize("raw", ["", "abc", "12", "+84" + "9" * 20])
def test_impossible_phone_numbers_are_refused(raw: str) -> None:
    assert normalize_phone(raw) is None


@pytest.mark.parametrize(
    ("shared", "e164"),
    [
        ("84912345678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("2389912345", "+2389912345"),  # Cape Verde, not a Vietnamese landline
        ("12025550123", "+12025550123"),
    ],
)
def test_numbers_from_shared_contacts_are_international(shared: str, e164: str) -> None:
    assert normalize_contact_phone(shared) == e164


def test_full_names_are_tidied() -> None:
    assert clean_full_name("  vàng   thị  DUNG ") == "Vàng Thị Dung"
    assert clean_full_name("Nguye\u0302\u0303n Văn A") == "Nguyễn Văn A"  # NFC


@pytest.mark.parametrize("raw", ["A", "Lan", "Nguyễn Văn 3", "Lò 😀 Pọm", "x" * 81, "<b>A B</b>"])
def test_bad_names_are_refused(raw: str) -> None:
    with pytest.raises(InvalidInput):
        clean_full_name(raw)


def test_birth_years_cover_a_working_life() -> None:
    today = date(2026, 11, 22)
    assert parse_birth_year(" 1990 ", today) == 1990
    for raw in ("1950", "2009", "199", "abcd", "19９0x", ""):
        with pytest.raises(InvalidInput):
            parse_birth_year(raw, today)


def test_deep_link_payloads() -> None:
    assert parse_payload("profile") == DeepLink("profile")
    assert parse_payload("help-x_1") == DeepLink("help", "x_1")
    for bad in (None, "", "x" * 65, "profile!", "khoá", "unknown"):
        assert parse_payload(bad) is None


def test_menus_grow_with_roles_without_repeats() -> None:
    assert commands_for([]) == list(LEARNER_COMMANDS)
    head = commands_for([Role.UNIT_HEAD, Role.ADMIN])
    assert head[: len(LEARNER_COMMANDS)] == list(LEARNER_COMMANDS)
    assert head.count("people") == 1
    assert not is_staff([Role.LEARNER]) and is_staff([Role.ADMIN])

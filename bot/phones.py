"""Phone numbers in one canonical form (E.164), so a contact matches the roster however typed."""

from __future__ import annotations

import phonenumbers

VIETNAM = 84


def normalize_phone(raw: str, region: str = "VN") -> str | None:
    """A number as people type it: '0912 345 678', '+84 912-345-678' → '+84912345678'."""
    text = raw.strip()
    if text.isdigit() and text.startswith("84") and len(text) >= 11:
        text = "+" + text  # written the international way without the plus
    return _e164(text, region)


def looks_like_phone(raw: str) -> bool:
    """Typed as a phone number is ("12345", "0999 999 999 999"), valid or not: digits and
    the signs people write between them, so the answer can say the number is wrong."""
    text = raw.strip()
    digits = sum(ch.isdigit() for ch in text)
    return digits >= 3 and all(ch.isdigit() or ch in " +-.()" for ch in text)


def normalize_contact_phone(raw: str) -> str | None:
    """A number from a shared contact: Telegram sends it international, without the plus
    ('84912345678', or '2389912345' for Cape Verde), so it is never read as Vietnamese."""
    text = raw.strip()
    return _e164(text if text.startswith("+") else "+" + text, None)


def is_vietnamese(e164: str) -> bool:
    return e164.startswith(f"+{VIETNAM}")


def _e164(text: str, region: str | None) -> str | None:
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """'+84912345678' → '0912 345 678': how people in Vietnam write and read numbers."""
    try:
        number = phonenumbers.parse(e164, "VN")
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if number.country_code == VIETNAM
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)

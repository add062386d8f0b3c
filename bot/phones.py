"""Phone numbers in one canonical form (E.164), so a contact matches the roster however typed."""

from __future__ import annotations

import phonenumbers


def normalize_phone(raw: str, region: str = "VN") -> str | None:
    """'0912 345 678', '84912345678' and '+84 912-345-678' all become '+84912345678'."""
    text = raw.strip()
    if text.isdigit() and text.startswith("84") and len(text) >= 11:
        text = "+" + text  # Telegram sends contacts without the plus sign
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
        if number.country_code == 84
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)

"""The delivery report lists whom to phone, and stays one Telegram message however many."""

from __future__ import annotations

from bot.delivery.model import Unreached
from bot.i18n import Texts
from bot.validation import telegram_length
from handlers.announce import REPORT_NAMES_MAX, unreached_lines


def test_a_short_list_is_given_in_full_by_unit() -> None:
    lines = unreached_lines(
        Texts("vi"),
        {"Xã Đồng Văn": [Unreached("Lò Văn A", "+84912345678"), Unreached("Lò Văn B", None)],
         "Sở Nội vụ": [Unreached("Đinh Thị C", None)]},
    )  # fmt: skip
    assert lines == [
        "• <b>Xã Đồng Văn</b>: Lò Văn A (0912 345 678), Lò Văn B (—)",
        "• <b>Sở Nội vụ</b>: Đinh Thị C (—)",
    ]


def test_one_unit_with_hundreds_unreached_is_cut_and_says_how_many_more() -> None:
    many = [Unreached(f"Nguyễn Thị Phương 👩‍🌾 {i}", "+84912345678") for i in range(500)]
    lines = unreached_lines(Texts("vi"), {"Xã Đồng Văn": many, "Sở Nội vụ": many[:3]})
    listed = lines[0].count("Nguyễn Thị Phương")
    assert 0 < listed < 500
    assert lines[-1] == f"… và {500 + 3 - listed} đồng chí khác."
    assert sum(telegram_length(line) for line in lines) <= REPORT_NAMES_MAX + 100

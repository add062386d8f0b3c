"""The nomination messages stay within Telegram's length and valid HTML, however long the
names, units, classes and reasons (the longest the database holds)."""

from __future__ import annotations

import pytest

from bot.i18n import Texts
from bot.services.nomination import Nominated, Nominee, StaffList
from bot.training import (
    ClassFormat,
    ClassKind,
    ClassStatus,
    EnrolmentStatus,
    Programme,
    TrainingClass,
)
from handlers.nomination import compose, done_text, staff_text, waitlist_warning
from storage.repositories.nominations import StaffEntry
from tools.emulator.entities import parse_html

NAME = "Nguyễn <Thị> & " + "Phương " * 19  # 150 characters, with markup to escape
UNIT = "Ủy ban nhân dân " * 12  # 192
CLASS = "Bồi dưỡng cập nhật kiến thức " * 6  # 174
REASON = "Đang điều trị dài ngày tại bệnh viện " * 8  # 296


def _fits(text: str) -> None:
    plain, _ = parse_html(text)
    assert 0 < len(plain) <= 4096


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_the_heads_list_and_the_nomination_done_fit_one_message(lang: str) -> None:
    texts = Texts(lang)
    c = TrainingClass(7, "CBCX.2026.12", CLASS, Programme(1, "CBCX", CLASS, ClassKind.UPDATE, 24),
                      1, 2026, True, ClassKind.UPDATE, ClassFormat.ON_SITE, 120, 90, 0,
                      ClassStatus.OPEN)  # fmt: skip
    entries = [
        StaffEntry(NAME, UNIT, "CBCX.2026.12", CLASS, EnrolmentStatus.DECLINED, True, REASON)
        for _ in range(15)
    ]
    listed = staff_text(texts, StaffList(None, entries, 40, 0, 3))
    _fits(listed)
    assert "<Thị>" in parse_html(listed)[0]
    nominees = [Nominee(NAME, UNIT, EnrolmentStatus.WAITLISTED, n, False) for n in range(30)]
    done = done_text(texts, Nominated(c, nominees))
    _fits(done)
    assert done.endswith(texts("nomination.done_seats", seats=30))
    assert "…" in done  # the nominees that did not fit were counted


def test_compose_keeps_every_line_that_fits_and_counts_the_rest() -> None:
    texts = Texts("vi")
    assert compose(texts, ["Đầu"], ["a", "b"], ["Cuối"]) == "Đầu\n\na\nb\n\nCuối"
    long = compose(texts, ["Đầu"], ["x" * 1500] * 4)
    assert long.endswith(texts("nomination.more", count=2)) and len(long) <= 4096


def test_the_review_says_plainly_who_waits_for_a_seat() -> None:
    texts = Texts("vi")
    assert waitlist_warning(texts, 2, 2) == []
    (all_wait,) = waitlist_warning(texts, 2, 0)
    assert "cả 2 đồng chí sẽ vào danh sách chờ" in all_wait and "cuối" not in all_wait
    (some,) = waitlist_warning(texts, 5, 2)
    assert "2 đồng chí đầu danh sách trên vào lớp; 3 đồng chí còn lại vào danh sách chờ" in some

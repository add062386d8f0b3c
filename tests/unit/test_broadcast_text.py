"""An audience in words, and the progress message of a delivery: how they read, and that the
final report stays one message however long its names."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.audience import AudienceKind, AudienceLabel, Recipients
from bot.delivery.model import BatchReport, Unreached
from bot.i18n import Texts
from bot.validation import telegram_length
from handlers.announce import audience_words, progress_view
from tools.emulator.entities import parse_html

VI = Texts("vi")


def test_an_audience_names_its_class_or_unit_and_keeps_a_head_within_their_units() -> None:
    assert audience_words(VI, AudienceLabel(AudienceKind.ALL)) == "tất cả cán bộ trong tỉnh"
    assert (
        audience_words(VI, AudienceLabel(AudienceKind.ALL, within="Xã Đồng Văn"))
        == "tất cả cán bộ thuộc Xã Đồng Văn"
    )
    waitlist = AudienceLabel(AudienceKind.WAITLIST, "Chuyển đổi số (BD.01)")
    assert audience_words(VI, waitlist) == "danh sách chờ của lớp Chuyển đổi số (BD.01)"
    women = AudienceLabel(AudienceKind.WOMEN, within="Xã Đồng Văn")
    assert audience_words(VI, women) == "cán bộ nữ, chỉ gồm cán bộ thuộc Xã Đồng Văn"
    assert audience_words(VI, AudienceLabel(AudienceKind.YOUNG)) == "cán bộ trẻ (dưới 35 tuổi)"
    odd = AudienceLabel(AudienceKind.UNIT, "<b>Sở</b> & Ban")  # a name is text, never markup
    assert "&lt;b&gt;" in audience_words(VI, odd)
    assert (
        audience_words(Texts("en"), AudienceLabel(AudienceKind.SOURCE_POOL))
        == "cadres in the leadership source pool"
    )


def test_an_audience_of_a_class_or_unit_needs_its_id_and_no_other_does() -> None:
    assert Recipients(AudienceKind.CLASS, 3).ref == 3
    for wrong in ((AudienceKind.CLASS, None), (AudienceKind.UNIT, None), (AudienceKind.WOMEN, 3)):
        with pytest.raises(ValueError):
            Recipients(*wrong)
    assert AudienceKind.MINORITY.group is not None and AudienceKind.UNIT.group is None


def _report(pending: int = 0) -> BatchReport:
    many = {
        f"Xã số {u} — Huyện miền núi có tên rất dài": [
            Unreached(f"Nguyễn Thị Phương {u}.{n}", "+84912345678") for n in range(60)
        ]
        for u in range(30)
    }
    return BatchReport(
        batch_id=12, kind="announcement", title="Họp " + "🙂" * 199, created_by=1,
        created_by_name="Đinh Văn Quản", created_at=datetime(2026, 3, 5, tzinfo=UTC),
        total=2000, delivered=200 - pending, pending=pending,
        unreachable=1800, failed=0, unreachable_by_unit=many,
        audience=AudienceLabel(AudienceKind.CLASS, "Lớp " + "rất dài " * 24, "Xã " * 60),
    )  # fmt: skip


@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_progress_message_and_its_final_report_fit_one_message(language: str) -> None:
    texts = Texts(language)
    going, markup = progress_view(texts, _report(pending=100), final=False)
    assert markup is None
    assert "1900/2000" in going.replace(".", "").replace(",", "")  # 1.900/2.000 or 1,900/2,000
    final, refresh = progress_view(texts, _report(), final=True)
    assert refresh is not None
    stopped, _ = progress_view(texts, _report(pending=5), final=True)
    for text in (going, final, stopped):
        parse_html(text)
        assert telegram_length(parse_html(text)[0]) <= 4096
    assert "Nguyễn Thị Phương 0.0" in final
    assert final != stopped

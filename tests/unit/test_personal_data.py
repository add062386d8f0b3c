"""/mydata reads as words, in the person's language: no codes, no internal ids."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import openpyxl

from bot.domain import AuditEntry, Person, PersonalData, PersonSource
from bot.i18n import Texts
from handlers.personal_data import workbook

AT = datetime(2026, 12, 2, 8, 30, tzinfo=UTC)


def test_the_history_sheet_says_what_each_entry_recorded_in_words() -> None:
    person = Person(id=1, full_name="Lò Thị Mai", source=PersonSource.SELF, verified=False,
                    source_pool=False)  # fmt: skip
    entries = [
        {"field": "unit"},
        {"role": "unit_head", "unit_id": 5},
        {"reason": "not_in_unit", "unit_id": 5},
        {"merged": 2001, "merged_name": "Lò Thị Mai"},
        {"flag": True},
        {"role": "lecturer", "unit_id": None},
    ]
    data = PersonalData(
        person=person,
        audit=[AuditEntry(AT, "profile_edited", details) for details in entries],
        unit_labels={5: "Xã Đồng Văn"},
    )
    book = openpyxl.load_workbook(
        io.BytesIO(workbook(Texts("vi"), data, ZoneInfo("Asia/Ho_Chi_Minh")))
    )
    rows = list(book["Nhật ký"].iter_rows(min_row=2, values_only=True))
    assert [row[2] for row in rows] == [
        "Thông tin: Đơn vị",
        "Vai trò: Thủ trưởng đơn vị; Đơn vị: Xã Đồng Văn",
        "Lý do: Không thuộc đơn vị; Đơn vị: Xã Đồng Văn",
        "Gộp từ hồ sơ: Lò Thị Mai",
        "Cán bộ nguồn: Có",
        "Vai trò: Giảng viên",
    ]
    assert rows[0][0] == datetime(2026, 12, 2, 15, 30)  # local time, as the person lives it

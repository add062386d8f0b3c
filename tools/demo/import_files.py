"""Example spreadsheets of the office for the sandbox and the tests: next year's plan, two new
programmes, three classes of this year's plan with their sessions, and a classes file with
mistakes in it, to try the dry run on. Headers are the catalogs' (Vietnamese), as the
templates have them; dates are real Excel dates, as offices type them.

They fit the demo province (tools.demo): its unit codes, its programme CDS, this year's
approved plan; the classes open for enrolment from `today`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path

import xlsxwriter  # type: ignore[import-untyped]

from bot.imports.cells import header
from bot.imports.classes import ClassImporter
from bot.imports.model import Column, ImportKind
from bot.imports.plan import PlanImporter
from bot.imports.programmes import ProgrammeImporter
from bot.imports.sessions import SessionImporter
from tools.demo.data import HOME_COMMUNE_CODE, SCHOOL_CODE

Cell = str | int | date
#: Days from `today` to each demo class's enrolment deadline; its sessions follow it.
DEADLINE_IN = 20


def _sheet(path: Path, kind: ImportKind, columns: Sequence[Column],
           rows: Sequence[dict[str, Cell]]) -> Path:  # fmt: skip
    """One sheet: the catalog's headers in bold, frozen, and the rows under them."""
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    for x, column in enumerate(columns):
        sheet.write_string(0, x, header(kind, column.key), bold)
        sheet.set_column(x, x, 22)
        for y, row in enumerate(rows, 1):
            value = row.get(column.key, "")
            if isinstance(value, date):
                sheet.write_datetime(y, x, value, day)
            elif isinstance(value, int):
                sheet.write_number(y, x, value)
            elif value:
                sheet.write_string(y, x, value)
    sheet.freeze_panes(1, 0)
    book.close()
    return path


def _weekdays(first: date, count: int) -> list[date]:
    days: list[date] = []
    day = first
    while len(days) < count:
        if day.weekday() < 5:
            days.append(day)
        day += timedelta(days=1)
    return days


def write_import_files(folder: Path, today: date) -> list[Path]:
    """The example files under `folder` (made if missing), in the order to import them."""
    folder.mkdir(parents=True, exist_ok=True)
    year, deadline = today.year, today + timedelta(days=DEADLINE_IN)
    plan_name = f"Kế hoạch đào tạo, bồi dưỡng CBCCVC năm {year + 1}"
    plan: list[dict[str, Cell]] = [
        {"year": year + 1, "name": plan_name, "kind": kind, "classes": classes,
         "learners": learners}
        for kind, classes, learners in (
            ("Tổng", 30, 3000), ("Bồi dưỡng cập nhật kiến thức", 12, 1400),
            ("Chuyên đề, tập huấn nghiệp vụ", 10, 900), ("Lý luận chính trị", 3, 150),
        )
    ]  # fmt: skip
    programmes: list[dict[str, Cell]] = [
        {"code": "KNS", "name": "Kỹ năng số cho cán bộ, công chức cấp xã",
         "kind": "Chuyên đề, tập huấn nghiệp vụ", "validity_months": 24},
        {"code": "HNQT", "name": "Kiến thức hội nhập quốc tế",
         "kind": "Chuyên đề, tập huấn nghiệp vụ", "validity_months": 36},
        {"code": "CDS", "name": "Chuyển đổi số trong cơ quan nhà nước",
         "kind": "Chuyên đề, tập huấn nghiệp vụ", "validity_months": 24},
    ]  # fmt: skip
    common: dict[str, Cell] = {"plan_year": year, "organiser": "Phòng Quản lý đào tạo",
                               "enrol_opens": today, "enrol_deadline": deadline}  # fmt: skip
    classes: list[dict[str, Cell]] = [
        {**common, "code": f"KNS.{year}.01", "name": "Kỹ năng số cho cán bộ cấp xã, khóa 1",
         "programme": "KNS", "format": "Tập trung",
         "location": "Hội trường A, Trường Chính trị tỉnh", "capacity": 60,
         "audience": HOME_COMMUNE_CODE, "requires_approval": "Có"},
        {**common, "code": f"HNQT.{year}.01", "name": "Kiến thức hội nhập quốc tế, khóa 1",
         "programme": "HNQT", "format": "Trực tuyến",
         "meeting_link": "https://meet.google.com/hnq-tkhb-one", "capacity": 200,
         "late_after": 10},
        {**common, "code": f"CDS.{year}.09", "name": "Chuyển đổi số, lớp kết hợp",
         "programme": "CDS", "format": "Kết hợp", "location": f"Phòng 201, {SCHOOL_CODE}",
         "meeting_link": "https://meet.google.com/cds-kbhp-nine", "capacity": 80,
         "completion_pct": 75},
    ]  # fmt: skip
    sessions: list[dict[str, Cell]] = []
    for row in classes:
        days = _weekdays(deadline + timedelta(days=3), 3)
        for number, day in enumerate(days, 1):
            sessions.append({"class": row["code"], "date": day, "start": "07:30",
                             "end": "11:00", "topic": f"Chuyên đề {number}"})  # fmt: skip
    sessions.append({"class": f"KNS.{year}.01", "date": days[0], "start": "13:30", "end": "16:30",
                     "topic": "Thực hành trên máy", "room": "Phòng máy 2"})  # fmt: skip
    mistakes: list[dict[str, Cell]] = [
        {**classes[0], "code": f"KNS.{year}.02", "format": "Học từ xa", "capacity": "sáu mươi"},
        {**classes[1], "code": f"HNQT.{year}.02", "programme": "KHONGCO",
         "enrol_deadline": "31/02"},
    ]  # fmt: skip
    return [
        _sheet(folder / f"ke-hoach-{year + 1}.xlsx", ImportKind.PLAN, PlanImporter.columns, plan),
        _sheet(folder / "chuong-trinh.xlsx", ImportKind.PROGRAMMES, ProgrammeImporter.columns,
               programmes),
        _sheet(folder / "lop-hoc.xlsx", ImportKind.CLASSES, ClassImporter.columns, classes),
        _sheet(folder / "buoi-hoc.xlsx", ImportKind.SESSIONS, SessionImporter.columns, sessions),
        _sheet(folder / "lop-hoc-co-loi.xlsx", ImportKind.CLASSES, ClassImporter.columns,
               mistakes),
    ]  # fmt: skip

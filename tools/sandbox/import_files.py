"""Spreadsheets to try /import with in the sandbox, written from the demo roster at start:
`roster-update.xlsx` (three cadres changed, three as they are, three new) and
`roster-error.xlsx` (the same with an unknown unit code, a bad birth year, a new cadre
without a unit and one with a phone already another cadre's)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font

from bot.i18n import Texts
from bot.imports.model import ImportKind
from bot.imports.roster import RosterImporter
from bot.imports.workbooks import column_name
from storage.database import Database
from storage.repositories.roster_import import RosterImportRepository, RosterPerson
from tools.demo.seed import STAFF_CODE_PREFIX

UPDATE_FILE = "roster-update.xlsx"
ERROR_FILE = "roster-error.xlsx"
_ROMAN = {1: "I", 2: "II", 3: "III", 4: "IV"}
_DEMO_CODE = re.compile(re.escape(STAFF_CODE_PREFIX) + r"\d{6}")
#: The unknown unit code and the bad birth year of the error file.
UNKNOWN_UNIT = "XA.KHONGCO"
BAD_YEAR = "19888"


async def write_import_files(db: Database, folder: Path) -> list[Path]:
    """Both files, from the demo roster as it is now; none without staff codes."""
    async with db.read() as conn:
        repo = RosterImportRepository(conn)
        everyone = await repo.people()
        unit_codes = {u.id: u.code for u in await repo.units()}
        lists = await repo.code_lists()
    roster = sorted(
        (p for p in everyone if p.staff_code and _DEMO_CODE.fullmatch(p.staff_code)
         and p.phone and p.unit_id in unit_codes),
        key=lambda p: p.id,
    )[-6:]  # fmt: skip
    if len(roster) < 6:
        return []
    names = {
        "title": {i.id: i.name for i in lists.titles},
        "grade": {i.id: i.name for i in lists.grades},
        "professional": {i.id: i.name for i in lists.professional_titles},
        "ethnicity": {i.id: i.name for i in lists.ethnicities},
    }
    texts = Texts("vi")
    keys = [column.key for column in RosterImporter.columns]
    rows = [_row(p, unit_codes, names, texts) for p in roster]
    # Three changes: a new phone, a position, a corrected birth year.
    rows[0]["phone"] = "0988112201"
    rows[1]["title"] = "Phó Chủ tịch UBND"
    rows[2]["birth_year"] = "1985"
    unit = rows[0]["unit"]
    for n, (name, gender) in enumerate(
        (("Hà Thị Lan Anh", "Nữ"), ("Sầm Văn Toản", "Nam"), ("Vi Thị Hồng Nhung", "Nữ")), 1
    ):
        rows.append({"staff_code": f"{STAFF_CODE_PREFIX}MOI{n:03d}", "full_name": name,
                     "unit": unit, "title": "", "employment": "Công chức", "grade": "Chuyên viên",
                     "rank": "", "gender": gender, "birth_year": str(1990 + n),
                     "ethnicity": "Tày", "phone": f"098811230{n}", "source_pool": ""})  # fmt: skip
    header = [column_name(texts, ImportKind.ROSTER, key) for key in keys]
    good = [[row[key] for key in keys] for row in rows]
    rows[7]["unit"] = UNKNOWN_UNIT
    rows[4]["birth_year"] = BAD_YEAR
    rows[6]["unit"] = ""
    rows[8]["phone"] = rows[1]["phone"]
    bad = [[row[key] for key in keys] for row in rows]
    return await asyncio.to_thread(_write, folder, header, good, bad)


def _row(
    person: RosterPerson, unit_codes: dict[int, str], names: dict[str, dict[int, str]],
    texts: Texts,
) -> dict[str, str]:  # fmt: skip
    """A person as the office's spreadsheet has them."""

    def name_of(kind: str, item_id: int | None) -> str:
        return names[kind].get(item_id, "") if item_id is not None else ""

    assert person.unit_id is not None and person.phone is not None
    grade = name_of("grade", person.grade_id) or name_of(
        "professional", person.professional_title_id
    )
    return {
        "staff_code": person.staff_code or "",
        "full_name": person.full_name,
        "unit": unit_codes[person.unit_id],
        "title": name_of("title", person.title_id) or (person.title_other or ""),
        "employment": texts(f"profile.employment_{person.employment}")
        if person.employment else "",
        "grade": grade,
        "rank": _ROMAN.get(person.professional_rank or 0, ""),
        "gender": texts(f"gender.{person.gender}") if person.gender else "",
        "birth_year": str(person.birth_year or ""),
        "ethnicity": name_of("ethnicity", person.ethnicity_id),
        "phone": "0" + person.phone.removeprefix("+84"),
        "source_pool": texts("import.yes") if person.source_pool else "",
    }  # fmt: skip


def _write(
    folder: Path, header: list[str], good: list[list[str]], bad: list[list[str]]
) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    update, error = folder / UPDATE_FILE, folder / ERROR_FILE
    _save(update, header, good)
    _save(error, header, bad)
    return [update, error]


def _save(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Cán bộ"
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    sheet.freeze_panes = "A2"
    book.save(path)

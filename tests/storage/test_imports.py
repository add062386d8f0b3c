"""Imports on both databases: the dry run writes nothing, one bad row saves nothing, people are
updated by their staff code (or claimed by phone), a re-import changes nothing, and the unit
tree and its closure follow a units sheet whatever the order of its rows."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from bot.clock import SystemClock
from bot.domain import Actor, Role, RoleGrant
from bot.errors import PermissionDenied
from bot.i18n import DEFAULT_TIMEZONE
from bot.imports.kinds import importers
from bot.imports.model import ImportKind
from bot.services.imports import ImportService
from storage.database import Database
from storage.schema import audit_log, people, unit_closure, units
from tests.factories import add_person, count, make_province

ADMIN = Actor(7001, grants=(RoleGrant(Role.ADMIN),))
ROSTER_HEAD = ["Mã cán bộ", "Họ và tên", "Mã đơn vị", "Giới tính", "Năm sinh", "Số điện thoại",
               "Dân tộc", "Ghi chú"]  # fmt: skip
UNITS_HEAD = ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Loại đơn vị"]


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


ROWS: list[list[object]] = [
    ["CB001", "Nguyễn Thị Phương", "XA.DONGVAN", "Nữ", 1988, 912345678, "Tày", "x"],
    ["CB002", "Lò Văn Pó", "SNV", "Nam", "1979", "0987 654 321", "Thái", ""],
    ["CB003", "Hà Thị Mai", "XA.DONGVAN", "nu", 1990, "", "kinh", ""],
]


async def _progress(done: int, total: int) -> None:
    assert 0 <= done <= total


async def _names(db: Database) -> dict[str, tuple[str, str | None]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(people.c.staff_code, people.c.full_name, people.c.phone).where(
                people.c.staff_code.is_not(None)
            )
        )
        return {r.staff_code: (r.full_name, r.phone) for r in rows}


async def test_a_roster_is_checked_then_saved_and_a_reimport_changes_nothing(db: Database) -> None:
    await make_province(db)
    # On the roster without a code: the row with the same phone claims this person.
    known = await add_person(db, "Nguyễn Thị Phương", unit_id=None, phone="+84912345678")
    service = ImportService(db, importers(SystemClock(), DEFAULT_TIMEZONE))
    data = _xlsx({"Cán bộ": [ROSTER_HEAD, *ROWS]})

    preview = await service.preview(ADMIN, ImportKind.ROSTER, data, "ds.xlsx", _progress)
    assert preview.clean and not preview.saved
    (outcome,) = preview.outcomes
    assert (outcome.rows, outcome.added, outcome.changed, outcome.unchanged) == (3, 2, 1, 0)
    assert preview.ignored == ["Ghi chú"]
    assert await _names(db) == {}

    saved = await service.save(ADMIN, ImportKind.ROSTER, data, "ds.xlsx", _progress)
    assert saved.saved and saved.clean
    assert await _names(db) == {
        "CB001": ("Nguyễn Thị Phương", "+84912345678"),
        "CB002": ("Lò Văn Pó", "+84987654321"),
        "CB003": ("Hà Thị Mai", None),
    }
    async with db.read() as conn:
        claimed = (await conn.execute(sa.select(people.c.staff_code, people.c.name_search)
                                      .where(people.c.id == known))).one()  # fmt: skip
    assert claimed == ("CB001", "nguyen thi phuong")
    assert await count(db, people) == 3
    assert await count(db, audit_log) == 1

    again = await service.save(ADMIN, ImportKind.ROSTER, data, "ds.xlsx", _progress)
    (outcome,) = again.outcomes
    assert (outcome.added, outcome.changed, outcome.unchanged) == (0, 0, 3)
    assert not again.saved and await count(db, audit_log) == 1

    # An update by key: one name and one phone changed, the rest left alone.
    rows = [list(r) for r in ROWS]
    rows[1][1], rows[2][5] = "Lò Văn Póng", "0977000111"
    update = _xlsx({"Cán bộ": [ROSTER_HEAD, *rows]})
    done = await service.save(ADMIN, ImportKind.ROSTER, update, "ds.xlsx", _progress)
    (outcome,) = done.outcomes
    assert (outcome.added, outcome.changed, outcome.unchanged) == (0, 2, 1)
    assert {(c.row, c.column, c.after) for c in outcome.changes} == {
        (3, "full_name", "Lò Văn Póng"), (4, "phone", "0977 000 111"),
    }  # fmt: skip
    names = await _names(db)
    assert names["CB002"][0] == "Lò Văn Póng" and names["CB003"][1] == "+84977000111"


async def test_one_bad_row_saves_nothing(db: Database) -> None:
    await make_province(db)
    service = ImportService(db, importers(SystemClock(), DEFAULT_TIMEZONE))
    rows = [list(r) for r in ROWS]
    rows[1][2] = "KHONGCO"
    rows[2][4] = "19x0"
    data = _xlsx({"Sheet1": [ROSTER_HEAD, *rows]})
    report = await service.save(ADMIN, ImportKind.ROSTER, data, "ds.xlsx", _progress)
    assert not report.saved
    assert [(e.row, e.column, e.key) for e in report.outcomes[0].errors] == [
        (3, "unit", "import.err.unit_unknown"), (4, "birth_year", "import.err.birth_year"),
    ]  # fmt: skip
    assert await count(db, people) == 0 and await count(db, audit_log) == 0


async def test_a_missing_column_is_named_and_non_admins_are_refused(db: Database) -> None:
    service = ImportService(db, importers(SystemClock(), DEFAULT_TIMEZONE))
    data = _xlsx({"Sheet1": [["Họ và tên", "Mã đơn vị"], ["Lò Văn Pó", "SNV"]]})
    report = await service.preview(ADMIN, ImportKind.ROSTER, data, "ds.xlsx", _progress)
    assert [(e.row, e.column, e.key) for e in report.outcomes[0].errors] == [
        (1, "staff_code", "import.err.missing_column")
    ]
    with pytest.raises(PermissionDenied):
        await service.preview(Actor(5), ImportKind.ROSTER, data, "ds.xlsx", _progress)


async def test_units_sheet_builds_the_tree_whatever_the_row_order(db: Database) -> None:
    province = await make_province(db)
    service = ImportService(db, importers(SystemClock(), DEFAULT_TIMEZONE))
    units_rows: list[list[object]] = [
        UNITS_HEAD,
        ["TH.A", "Thôn A", "X.MOI", "village"],  # its parent comes below
        ["X.MOI", "Xã Mới", "TINH", "commune"],
        ["SNV", "Sở Nội vụ tỉnh", "", ""],  # renamed; the parent is kept
    ]
    roster = [ROSTER_HEAD, ["CB009", "Vàng Thị Sua", "TH.A", "Nữ", 1985, "", "Mông", ""]]
    data = _xlsx({"Cán bộ": roster, "Đơn vị": units_rows})
    preview = await service.preview(ADMIN, ImportKind.ROSTER, data, "ds.xlsx", _progress)
    assert preview.clean, preview.outcomes
    assert [(o.kind, o.added, o.changed) for o in preview.outcomes] == [
        (ImportKind.UNITS, 2, 1), (ImportKind.ROSTER, 1, 0),
    ]  # fmt: skip
    assert await count(db, units) == 3  # rolled back
    report = await service.save(ADMIN, ImportKind.ROSTER, data, "ds.xlsx", _progress)
    assert report.saved
    async with db.read() as conn:
        ids = dict((await conn.execute(sa.select(units.c.code, units.c.id))).all())
        pairs = set((await conn.execute(
            sa.select(unit_closure.c.ancestor_id, unit_closure.c.descendant_id,
                      unit_closure.c.depth))).all())  # fmt: skip
        renamed = (await conn.execute(sa.select(units.c.name, units.c.parent_id)
                                      .where(units.c.code == "SNV"))).one()  # fmt: skip
    assert renamed == ("Sở Nội vụ tỉnh", province.root_id)
    village = ids["TH.A"]
    assert {(a, d) for a, d, _ in pairs if d == village} == {
        (village, village),
        (ids["X.MOI"], village),
        (province.root_id, village),
    }
    assert (province.root_id, village, 2) in pairs
    assert len(pairs) == 1 + 2 + 2 + 2 + 3  # each unit with its ancestors, itself included

    # A cycle and an unknown parent are row errors; nothing is saved.
    cycle = [UNITS_HEAD, ["X.MOI", "Xã Mới", "TH.A", ""], ["SNV", "Sở", "KHONGCO", ""]]
    units_only = _xlsx({"Đơn vị": cycle})
    refused = await service.save(ADMIN, ImportKind.UNITS, units_only, "dv.xlsx", _progress)
    assert [(e.row, e.key) for e in refused.outcomes[0].errors] == [
        (2, "import.err.cycle"), (3, "import.err.parent_unknown"),
    ]  # fmt: skip
    async with db.read() as conn:
        assert len((await conn.execute(sa.select(unit_closure))).all()) == len(pairs)

"""What a tester found in the imports, on both databases: a row without a required cell is an
error (never saved half empty, never dropped, never a crash), a unit's kind is one the bot
knows, a phone already someone else's is an error naming them, and the counts show the rows
with errors."""

from __future__ import annotations

import csv
import io

import pytest
import sqlalchemy as sa

from bot.clock import SystemClock
from bot.domain import Actor, Role, RoleGrant
from bot.i18n import DEFAULT_TIMEZONE
from bot.imports.cells import header
from bot.imports.kinds import importers
from bot.imports.model import ImportKind
from bot.services.imports import ImportService
from storage.database import Database
from storage.schema import audit_log, people, units
from tests.factories import add_person, count, make_province

ADMIN = Actor(7001, grants=(RoleGrant(Role.ADMIN),))
ROSTER_HEAD = ["Mã cán bộ", "Họ và tên", "Mã đơn vị", "Năm sinh", "Số điện thoại"]
UNITS_HEAD = ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Loại đơn vị"]


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


async def _progress(done: int, total: int) -> None:
    assert 0 <= done <= total


def _service(db: Database) -> ImportService:
    return ImportService(db, importers(SystemClock(), DEFAULT_TIMEZONE))


async def test_a_roster_row_needs_every_required_cell(db: Database) -> None:
    await make_province(db)
    service = _service(db)
    first = _csv([ROSTER_HEAD, ["CB001", "Hà Thị Mai", "SNV", "1990", ""]])
    assert (await service.save(ADMIN, ImportKind.ROSTER, first, "ds.csv", _progress)).saved
    data = _csv([
        ROSTER_HEAD,
        ["CBX9", "Lò Văn Chín", "", "1990", ""],  # new, no unit
        ["CBX2", "", "", "", ""],  # new, no name nor unit: the save crashed
        ["", "Lò Văn Pó", "SNV", "", ""],  # no staff code: was dropped
        ["CB001", "Hà Thị Mai", "", "", ""],  # stored: a required cell is never blanked
        ["CB003", "Vàng Thị Sua", "XA.DONGVAN", "1985", ""],
    ])  # fmt: skip
    preview = await service.preview(ADMIN, ImportKind.ROSTER, data, "ds.csv", _progress)
    (outcome,) = preview.outcomes
    assert [(e.row, e.column, e.key) for e in outcome.errors] == [
        (2, "unit", "import.error.cell.required"),
        (3, "full_name", "import.error.cell.required"),
        (3, "unit", "import.error.cell.required"),
        (4, "staff_code", "import.error.cell.required"),
        (5, "unit", "import.error.cell.required"),
    ]
    assert (outcome.rows, outcome.added, outcome.changed, outcome.unchanged) == (5, 1, 0, 0)
    assert outcome.failed == 4
    report = await service.save(ADMIN, ImportKind.ROSTER, data, "ds.csv", _progress)
    assert not report.saved and report.error_count == 5
    assert await count(db, people) == 1 and await count(db, audit_log) == 1


async def test_units_need_a_name_and_a_kind_the_bot_knows(db: Database) -> None:
    await make_province(db)
    service = _service(db)
    data = _csv([
        UNITS_HEAD,
        ["X.MOI", "", "TINH", "Xã"],  # new without a name: was dropped
        ["X.HAI", "Xã Hai", "TINH", "Khu"],
    ])  # fmt: skip
    report = await service.save(ADMIN, ImportKind.UNITS, data, "dv.csv", _progress)
    (outcome,) = report.outcomes
    assert [(e.row, e.column, e.key) for e in outcome.errors] == [
        (2, "name", "import.error.cell.required"),
        (3, "kind", "import.error.cell.choice"),
    ]
    assert "Xã" in outcome.errors[1].params["choices"]
    assert (outcome.added, outcome.failed) == (0, 2) and not report.saved
    good = _csv([
        UNITS_HEAD,
        ["X.MOI", "Xã Mới", "TINH", "Xã"],
        ["TT.MOI", "Thị trấn Mới", "TINH", "thi tran"],
        ["H.MOI", "Huyện Mới", "TINH", "Huyen"],
        ["S.MOI", "Sở Mới", "TINH", "Sở/Ban/Ngành"],
        ["P.MOI", "Phường Mới", "TINH", "ward"],
        ["SNV", "Sở Nội vụ", "TINH", "Cơ quan"],  # stored as a department: unchanged
    ])  # fmt: skip
    saved = await service.save(ADMIN, ImportKind.UNITS, good, "dv.csv", _progress)
    assert saved.saved, saved.outcomes
    (outcome,) = saved.outcomes
    assert (outcome.added, outcome.changed, outcome.unchanged) == (5, 0, 1)
    async with db.read() as conn:
        kinds = dict((await conn.execute(sa.select(units.c.code, units.c.kind))).all())
    assert {code: kinds[code] for code in ("X.MOI", "TT.MOI", "H.MOI", "S.MOI", "P.MOI")} == {
        "X.MOI": "commune", "TT.MOI": "commune", "H.MOI": "district", "S.MOI": "department",
        "P.MOI": "ward",
    }  # fmt: skip
    moved = _csv([UNITS_HEAD, ["X.MOI", "Xã Mới", "TINH", "Phường"]])
    preview = await service.preview(ADMIN, ImportKind.UNITS, moved, "dv.csv", _progress)
    (change,) = preview.outcomes[0].changes
    assert (change.column, change.before, change.after, change.keyed, change.who) == (
        "kind", "import.unit_kind.commune", "import.unit_kind.ward", True, "X.MOI",
    )  # fmt: skip


async def test_a_phone_already_someone_elses_is_an_error_naming_them(db: Database) -> None:
    province = await make_province(db)
    service = _service(db)
    stored = _csv([ROSTER_HEAD, ["CB001", "Hà Thị Mai", "SNV", "1990", "0912345678"]])
    assert (await service.save(ADMIN, ImportKind.ROSTER, stored, "ds.csv", _progress)).saved
    await add_person(db, "Lò Thị Dung", unit_id=province.commune_id, phone="+84977000111")
    data = _csv([
        ROSTER_HEAD,
        ["CB009", "Vàng Thị Sua", "SNV", "1985", "0912 345 678"],  # CB001's
        ["CB001", "Hà Thị Mai", "SNV", "1990", "0912345678"],  # her own: fine
        ["CB010", "Giàng A Páo", "SNV", "1980", "0988000222"],
        ["CB011", "Giàng Thị Mỷ", "SNV", "1982", "0988000222"],  # the row above's
        ["CB012", "Lò Thị Dung", "SNV", "1991", "0977000111"],  # claims her: fine
    ])  # fmt: skip
    preview = await service.preview(ADMIN, ImportKind.ROSTER, data, "ds.csv", _progress)
    (outcome,) = preview.outcomes
    assert [(e.row, e.column, e.key, dict(e.params)) for e in outcome.errors] == [
        (2, "phone", "import.err.phone_taken", {"name": "Hà Thị Mai", "code": "CB001"}),
        (5, "phone", "import.err.phone_repeated", {"number": 4}),
    ]
    assert (outcome.added, outcome.changed, outcome.unchanged, outcome.failed) == (1, 1, 1, 2)
    # The first row claims the person without a code who has the phone; the next one may not.
    two = [ROSTER_HEAD, ["CB013", "Lò Thị Dung", "SNV", "1991", "0977000111"]]
    two.append(["CB014", "Mùa Thị Dế", "SNV", "1979", "0977000111"])
    report = await service.save(ADMIN, ImportKind.ROSTER, _csv(two), "ds.csv", _progress)
    assert [(e.row, e.key, dict(e.params)) for e in report.outcomes[0].errors] == [
        (3, "import.err.phone_taken_uncoded", {"name": "Lò Thị Dung"}),
    ]
    assert not report.saved and await count(db, people) == 2


@pytest.mark.parametrize("kind", list(ImportKind))
async def test_every_kind_names_each_empty_required_cell(db: Database, kind: ImportKind) -> None:
    """The template's example row with one required cell emptied at a time: an error on that
    row and column, whatever else the example row gets wrong today."""
    await make_province(db)
    service = _service(db)
    columns = service.columns(ADMIN, kind)
    heads = [header(kind, c.key) for c in columns]
    required = [c for c in columns if c.required]
    assert required
    rows = [heads]
    for emptied in required:
        rows.append(["" if c is emptied else c.example for c in columns])
    report = await service.save(ADMIN, kind, _csv(rows), "mau.csv", _progress)
    found = {(e.row, e.column) for o in report.outcomes for e in o.errors
             if e.key == "import.error.cell.required"}  # fmt: skip
    assert found == {(number, c.key) for number, c in enumerate(required, 2)}
    # Each row counted once: added, changed, kept or with errors.
    assert [(o.added, o.changed, o.unchanged, o.failed) for o in report.outcomes] == [
        (0, 0, 0, len(required))
    ]
    assert not report.saved

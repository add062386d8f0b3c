"""The unit tree in SQL: subtrees and ancestors by the closure table, scopes inside queries."""

from __future__ import annotations

import pytest

from bot.domain import NewUnit, UnitScope
from bot.errors import NotFound
from storage.database import Database
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.units import UnitRepository
from tests.factories import add_person, add_role, add_unit


async def _tree(db: Database) -> dict[str, int]:
    """province ─ district ─ commune ─ village; province ─ department."""
    province = await add_unit(db, "P", "Tỉnh", None, "province")
    district = await add_unit(db, "D", "Huyện Miền Núi", province, "district")
    commune = await add_unit(db, "C", "Xã Lũng Cú", district, "commune")
    village = await add_unit(db, "V", "Thôn Lô Lô Chải", commune, "village")
    department = await add_unit(db, "S", "Sở Nội vụ", province, "department")
    return {"P": province, "D": district, "C": commune, "V": village, "S": department}


async def test_ancestors_come_nearest_first(db: Database) -> None:
    ids = await _tree(db)
    async with db.read() as conn:
        chain = await UnitRepository(conn).ancestor_ids(ids["V"])
    assert chain == [ids["V"], ids["C"], ids["D"], ids["P"]]


async def test_scopes_are_subtrees_resolved_inside_the_query(db: Database) -> None:
    ids = await _tree(db)
    in_village = await add_person(db, "Lò Thị Dung", unit_id=ids["V"], telegram_id=1)
    in_district = await add_person(db, "Sùng Mí Chá", unit_id=ids["D"], telegram_id=2)
    in_department = await add_person(db, "Lê Văn Tám", unit_id=ids["S"], telegram_id=3)
    async with db.read() as conn:
        people = PeopleRepository(conn)
        district = UnitScope((ids["D"],))
        assert await people.count_reachable(district) == 2
        assert await people.count_reachable(UnitScope((ids["C"], ids["S"]))) == 2
        assert await people.count_reachable(UnitScope.province()) == 3
        assert await people.count_reachable(UnitScope(())) == 0
        found = await people.search("o", [district])
        assert {p.id for p in found.people} <= {in_village, in_district}
        assert (await people.get(in_village, district)).id == in_village
        with pytest.raises(NotFound):  # out of scope looks the same as unknown
            await people.get(in_department, district)


async def test_unit_heads_above_a_unit_are_found_through_the_tree(db: Database) -> None:
    ids = await _tree(db)
    district_head = await add_person(db, "Giàng A Páo", unit_id=ids["D"], telegram_id=11)
    await add_role(db, district_head, "unit_head", ids["D"])
    department_head = await add_person(db, "Lê Thị Ngọc", unit_id=ids["S"], telegram_id=12)
    await add_role(db, department_head, "unit_head", ids["S"])
    async with db.read() as conn:
        heads = await RoleRepository(conn).heads_above(ids["V"])
    assert heads == [(district_head, 11)]


async def test_a_unit_added_later_joins_the_subtrees_above_it(db: Database) -> None:
    ids = await _tree(db)
    async with db.write() as conn:
        hamlet = await UnitRepository(conn).add(NewUnit("H", "Xóm Mới", ids["V"], "village"))
    person = await add_person(db, "Vừ Thị Sua", unit_id=hamlet.id, telegram_id=21)
    async with db.read() as conn:
        assert await PeopleRepository(conn).count_reachable(UnitScope((ids["D"],))) == 1
        assert (await PeopleRepository(conn).get(person, UnitScope((ids["P"],)))).unit
        assert await UnitRepository(conn).ancestor_ids(hamlet.id) == [
            hamlet.id, ids["V"], ids["C"], ids["D"], ids["P"],
        ]  # fmt: skip


async def test_a_search_lists_units_named_so_first(db: Database) -> None:
    province = await add_unit(db, "P", "Tỉnh", None, "province")
    court = await add_unit(db, "TA", "Tòa án nhân dân tỉnh", province, "department")
    await add_unit(db, "TA.VP", "Phòng Văn phòng tòa", court, "office")
    ubnd = await add_unit(db, "VP.UB", "Văn phòng UBND tỉnh", province, "department")
    async with db.read() as conn:
        found = await UnitRepository(conn).search("van phong", 2)
    assert [u.id for u in found][:1] == [ubnd]

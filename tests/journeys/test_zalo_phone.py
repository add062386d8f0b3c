"""A cadre on Zalo, which cannot share a contact, gives their phone number by typing it: a
wrong one is said to be wrong; one that finds no record goes into the profile they declare,
and they can change it later (the profile goes back to their unit head, as any edit)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from storage.schema import people
from tests.factories import add_person, add_role
from tests.journeys.conftest import World, declare_the_rest


@pytest.mark.parametrize("world", ["zalo"], indirect=True)
async def test_a_zalo_cadre_declares_with_the_typed_number_and_changes_it(world: World) -> None:
    cadre = await world.cadre(1)
    await cadre.send("/start")
    await cadre.expect("dữ liệu cá nhân")
    await cadre.choose("Tôi đồng ý")
    await cadre.expect("gõ số điện thoại")
    for wrong in ("12345", "0999999999999"):
        await cadre.send(wrong)
        invalid = await cadre.expect("không hợp lệ")
        assert "0912 345 678" in invalid  # with an example, not only the question again
    await cadre.send("0977 000 111")
    await cadre.expect("Họ và tên đầy đủ")
    await cadre.send("Giàng Thị Dợ")
    await cadre.expect("Đã ghi số điện thoại 0977 000 111 vào hồ sơ đang khai báo")
    review = await declare_the_rest(cadre)
    assert "0977 000 111" in review
    await cadre.choose("Xác nhận")
    await cadre.expect("hồ sơ tự khai báo")
    row = await _row(world, cadre.account_id)
    assert row.phone == "+84977000111" and not row.verified

    admin = await add_person(world.harness.db, "Quản Trị", unit_id=None, telegram_id=99)
    await add_role(world.harness.db, admin, "admin")
    await world.services.people.verify(await world.actor(99), row.id)

    await cadre.send("/profile")
    await cadre.expect("Số điện thoại")
    await cadre.choose("📱 Số điện thoại")
    await cadre.expect("gõ số điện thoại")
    await cadre.send("12345")
    await cadre.expect("không hợp lệ")
    assert (await _row(world, cadre.account_id)).phone == "+84977000111"  # bad input: unchanged
    await cadre.send("0977 000 222")
    saved = await cadre.expect("Đã lưu số điện thoại 0977 000 222")
    assert "gửi lại để xác nhận" in saved
    row = await _row(world, cadre.account_id)
    assert row.phone == "+84977000222" and not row.verified  # back to the unit head


async def _row(world: World, account_id: int) -> sa.Row[tuple[object, ...]]:
    async with world.harness.db.read() as conn:
        found = await conn.execute(sa.select(people).where(people.c.telegram_id == account_id))
        return found.one()

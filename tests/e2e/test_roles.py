"""Roles are checked on the server for every call, and the command menu follows them."""

from __future__ import annotations

import sqlalchemy as sa

from bot.actions import SetRole, SetSourcePool
from bot.domain import Role
from storage.schema import audit_log, people, roles
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, tap_answer
from tests.factories import add_person, count


async def test_a_learner_is_refused_admin_commands_and_buttons(harness: Harness) -> None:
    learner_id = await add_person(
        harness.db, "Hoàng Văn Nam", unit_id=harness.province.commune_id, telegram_id=701
    )
    learner = harness.user(701)
    before = await count(harness.db, audit_log)
    for command in ("/people nam", "/pending"):
        await learner.send(command)
        await learner.expect("chỉ dành cho cán bộ quản lý")
    await learner.send("/help")
    await learner.expect("/profile")
    # A forged button press: granting oneself the admin role.
    for forged in (SetRole(learner_id, Role.ADMIN, True), SetSourcePool(learner_id, True)):
        assert "chỉ dành cho cán bộ quản lý" in await forged_tap(learner, forged.pack())
    assert await count(harness.db, roles) == 0
    assert await count(harness.db, audit_log) == before
    async with harness.db.read() as conn:
        pool = (
            await conn.execute(sa.select(people.c.source_pool).where(people.c.id == learner_id))
        ).scalar_one()
    assert pool is False


async def test_granting_a_role_changes_that_persons_menu_and_is_audited(harness: Harness) -> None:
    await add_person(harness.db, "Đặng Thị Hoa", unit_id=harness.province.commune_id,
                     telegram_id=702)  # fmt: skip
    hoa = harness.user(702)
    await hoa.send("/help")
    await hoa.expect("/profile")
    assert "people" not in harness.menu(702)

    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/people dang thi hoa")
    await admin.tap("Đặng Thị Hoa")
    await admin.next_answer()
    await admin.expect("Đặng Thị Hoa")
    assert "people" in harness.menu(SUPERADMIN_ID)  # published with their first message
    await admin.tap("Thủ trưởng đơn vị")
    await admin.expect(
        "Giao vai trò Thủ trưởng đơn vị (Xã Đồng Văn) cho đồng chí Đặng Thị Hoa? "
        "Đồng chí ấy sẽ được báo qua Telegram."
    )
    assert not any(a == "Đã cập nhật quyền." for a in admin.callback_answers)  # not yet
    assert await tap_answer(admin, "Xác nhận") == "Đã cập nhật quyền."
    card = await admin.expect("Đặng Thị Hoa")
    assert any("✅ Thủ trưởng đơn vị" in label for label in card.labels)
    assert "Vai trò: Thủ trưởng đơn vị (Xã Đồng Văn)" in card.text
    assert {"pending", "people"} <= set(harness.menu(702))
    await hoa.expect("được giao vai trò Thủ trưởng đơn vị")  # the person is told
    assert "📋 Hồ sơ chờ xác nhận" in [b.text for row in hoa.keyboard or [] for b in row]

    await hoa.send("/pending")
    await hoa.expect("Không có hồ sơ nào")

    await admin.tap("Thủ trưởng đơn vị")
    await admin.tap("Xác nhận")
    await admin.expect("Đặng Thị Hoa")
    await hoa.expect("đã được thu hồi")
    assert [b.text for row in hoa.keyboard or [] for b in row] == [
        "📚 Lớp học",
        "🗓 Lịch học",
        "👤 Hồ sơ của tôi",
        "❓ Hướng dẫn",
        "📒 Quá trình học tập",
    ]
    assert "people" not in harness.menu(702)
    await hoa.send("/pending")
    await hoa.expect("chỉ dành cho cán bộ quản lý")

    async with harness.db.read() as conn:
        rows = (await conn.execute(sa.select(audit_log).order_by(audit_log.c.id))).all()
    role_rows = [r for r in rows if r.action.startswith("role_")]
    assert [r.action for r in role_rows] == ["role_granted", "role_revoked"]
    assert all(r.actor_telegram_id == SUPERADMIN_ID for r in role_rows)
    assert role_rows[0].details["unit_id"] == harness.province.commune_id


async def test_only_super_administrators_grant_roles(harness: Harness) -> None:
    admin_id = await add_person(harness.db, "Lò Văn Hùng", unit_id=harness.province.root_id,
                                telegram_id=703)  # fmt: skip
    target = await add_person(harness.db, "Vàng Seo Páo", unit_id=harness.province.commune_id,
                              telegram_id=704)  # fmt: skip
    async with harness.db.write() as conn:
        await conn.execute(
            roles.insert().values(person_id=admin_id, role="admin", granted_at=sa.func.now())
        )
    admin, cadre = harness.user(703), harness.user(704)
    await admin.send("/people vang seo pao")
    await admin.tap("Vàng Seo Páo")
    await admin.next_answer()
    card = await admin.expect("Vàng Seo Páo")
    assert not any("Giảng viên" in label for label in card.labels)  # no role buttons
    assert "chỉ dành cho" in await forged_tap(admin, SetRole(target, Role.LECTURER, True).pack())
    # An administrator may set the source pool flag, once sure.
    await admin.tap("cán bộ nguồn")
    await admin.expect("vào diện cán bộ nguồn?")
    await admin.tap("Xác nhận")
    card = await admin.expect("Cán bộ nguồn")
    async with harness.db.read() as conn:
        held = (await conn.execute(sa.select(roles.c.role))).scalars().all()
        pool = (
            await conn.execute(sa.select(people.c.source_pool).where(people.c.id == target))
        ).scalar_one()
    assert held == ["admin"] and pool is True
    await cadre.expect("được đưa vào diện cán bộ nguồn")
    # And back out, asked and told the same way.
    await admin.tap("Bỏ khỏi diện")
    await admin.expect("ra khỏi diện cán bộ nguồn?")
    await admin.tap("Xác nhận")
    card = await admin.expect("Vàng Seo Páo")
    assert "Cán bộ nguồn" not in card.text
    await cadre.expect("không còn trong diện cán bộ nguồn")
    async with harness.db.read() as conn:
        pool = (
            await conn.execute(sa.select(people.c.source_pool).where(people.c.id == target))
        ).scalar_one()
        audited = (
            await conn.execute(
                sa.select(audit_log.c.actor_telegram_id, audit_log.c.person_id)
                .where(audit_log.c.action == "source_pool_set")
            )
        ).all()  # fmt: skip
    assert pool is False and audited == [(703, target), (703, target)]

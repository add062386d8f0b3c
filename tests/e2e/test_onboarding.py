"""Onboarding through the real protocol: consent, roster match, self-declared profile."""

from __future__ import annotations

import sqlalchemy as sa

from bot.actions import VerifyPerson
from storage.schema import audit_log, consents, people
from tests.e2e.conftest import Harness, consent, forged_tap, tap_answer
from tests.factories import add_person, add_role, count

PHONE = "+84912000111"


async def test_cadre_is_linked_to_roster_record_by_contact(harness: Harness) -> None:
    await add_person(harness.db, "Giàng Thị Mỷ", unit_id=harness.province.commune_id, phone=PHONE)
    cadre = harness.user(501, first_name="Mỷ", phone=PHONE)
    await cadre.send("/start")
    notice = await cadre.expect("dữ liệu cá nhân")
    assert "nhạy cảm" in notice.text
    await cadre.tap("Tôi đồng ý")
    await cadre.expect("Chia sẻ số điện thoại")
    await cadre.press("📱 Chia sẻ số điện thoại")
    card = await cadre.expect("Đây có phải là đồng chí không?")
    assert "Giàng Thị Mỷ" in card.text and "Xã Đồng Văn" in card.text
    await cadre.tap("Đúng, là tôi")
    linked = await cadre.expect("đã được liên kết")
    assert "Giàng Thị Mỷ" in linked.text

    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.phone == PHONE))).one()
        consent = (await conn.execute(sa.select(consents))).one()
    assert row.telegram_id == 501 and row.consent_at is not None
    assert consent.person_id == row.id and consent.given_at == row.consent_at

    await cadre.send("/profile")
    profile = await cadre.expect("Giàng Thị Mỷ")
    assert "danh sách của tỉnh" in profile.text


async def test_refusing_consent_stores_nothing(harness: Harness) -> None:
    before = (await count(harness.db, people), await count(harness.db, audit_log))
    cadre = harness.user(502)
    await cadre.send("/start")
    await cadre.tap("Không đồng ý")
    refused = await cadre.expect("không lưu")
    assert refused.edited
    after = (await count(harness.db, people), await count(harness.db, audit_log))
    assert after == before
    await cadre.send("/profile")
    await cadre.expect("chưa có hồ sơ")


async def test_self_declared_profile_is_confirmed_by_the_unit_head(harness: Harness) -> None:
    head_id = await add_person(
        harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id, telegram_id=601
    )
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)

    cadre = harness.user(602, phone="+84987654321")
    await consent(cadre)
    await cadre.press("📱 Chia sẻ số điện thoại")
    await cadre.expect("chưa có trong danh sách")
    await cadre.expect("họ và tên")
    await cadre.send("  vàng   thị  dung ")
    await cadre.expect("tên đơn vị")
    await cadre.send("dong van")  # no diacritics, đ folded to d
    await cadre.tap("Xã Đồng Văn")
    await cadre.expect("chức vụ")
    await cadre.tap("Phó Chủ tịch UBND")
    await cadre.tap("Nữ")
    await cadre.expect("năm sinh")
    await cadre.send("1995")
    await cadre.expect("dân tộc")
    await cadre.send("giay")
    await cadre.tap("Giáy")
    review = await cadre.expect("kiểm tra lại")
    assert "Vàng Thị Dung" in review.text and "0987 654 321" in review.text
    await cadre.tap("Xác nhận")
    created = await cadre.expect("hồ sơ tự khai báo")
    assert "chờ xác nhận" in created.text

    # The unit head is asked, through the outbox, without having to look.
    head = harness.user(601)
    request = await head.expect("Hồ sơ tự khai báo mới chờ xác nhận")
    assert "Vàng Thị Dung" in request.text and "Xã Đồng Văn" in request.text
    await head.tap("Xem hồ sơ")
    await head.expect("Vàng Thị Dung")
    await head.tap("Xác nhận hồ sơ")
    card = await head.expect("đã xác nhận")
    assert "Vàng Thị Dung" in card.text
    await cadre.expect("Hồ sơ của đồng chí đã được xác nhận")
    await head.send("/pending")
    await head.expect("Không có hồ sơ nào")

    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.telegram_id == 602))).one()
        actions = (await conn.execute(sa.select(audit_log.c.action))).scalars().all()
    assert row.verified and row.verified_by == head_id and row.source == "self"
    assert row.gender == "female" and row.birth_year == 1995
    assert {"self_registered", "profile_verified"} <= set(actions)


async def test_unit_head_cannot_confirm_outside_their_units(harness: Harness) -> None:
    head_id = await add_person(
        harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id, telegram_id=611
    )
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    other = await add_person(
        harness.db, "Lê Văn Tám", unit_id=harness.province.department_id, telegram_id=612,
        source="self", verified=False,
    )  # fmt: skip
    head = harness.user(611)
    await head.send("/pending")
    await head.expect("Không có hồ sơ nào")
    await head.send("/start")
    await head.expect("quay lại")
    assert "Không tìm thấy" in await forged_tap(head, VerifyPerson(other).pack())
    async with harness.db.read() as conn:
        verified = (
            await conn.execute(sa.select(people.c.verified).where(people.c.id == other))
        ).scalar_one()
    assert verified is False


async def test_a_unit_head_returns_a_profile_and_the_cadre_chooses_the_right_unit(
    harness: Harness,
) -> None:
    head_id = await add_person(
        harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id, telegram_id=621
    )
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    other_head = await add_person(
        harness.db, "Lê Thị Ngọc", unit_id=harness.province.department_id, telegram_id=622
    )
    await add_role(harness.db, other_head, "unit_head", harness.province.department_id)
    cadre_id = await add_person(harness.db, "Hầu A Lử", unit_id=harness.province.commune_id,
                                telegram_id=623, source="self", verified=False)  # fmt: skip

    head = harness.user(621)
    await head.send("/pending")
    await head.tap("Hầu A Lử")
    await head.next_answer()
    await head.expect("Hầu A Lử")
    await head.tap("Trả lại hồ sơ")
    await head.tap("Không thuộc đơn vị")
    assert "Đã trả lại hồ sơ" in await tap_answer(head, "Bỏ qua")

    cadre = harness.user(623)
    notice = await cadre.expect("không có tên trong đơn vị Xã Đồng Văn")
    await cadre.tap("Đơn vị", message_id=notice.message_id)
    await cadre.expect("tên đơn vị")
    await cadre.send("noi vu")
    await cadre.tap("Sở Nội vụ")
    await cadre.expect("Đã lưu")

    await harness.user(622).expect("Hầu A Lử")  # the new unit's head is asked in turn
    await head.send("/pending")
    await head.expect("Không có hồ sơ nào")
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.id == cadre_id))).one()
        actions = (await conn.execute(sa.select(audit_log.c.action))).scalars().all()
    assert (row.unit_id, row.verified) == (harness.province.department_id, False)
    assert "profile_rejected" in actions

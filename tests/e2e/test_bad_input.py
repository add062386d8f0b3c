"""Bad input at every onboarding step: a clear Vietnamese prompt, and nothing changes."""

from __future__ import annotations

import sqlalchemy as sa

from storage.schema import audit_log, consents, people
from tests.e2e.conftest import Harness, forged_tap
from tests.factories import add_person, count

HUGE = "Nguyễn " * 2000
ODD = "\u202e\u200b\U0001f600 𝕬𝖇𝖈 <b>x</b> &amp; \x00"


async def _tables(h: Harness) -> tuple[int, int, int]:
    return (await count(h.db, people), await count(h.db, consents), await count(h.db, audit_log))


async def test_bad_input_at_each_step_is_refused_and_stores_nothing(harness: Harness) -> None:
    await add_person(harness.db, "Lò Văn Hải", unit_id=harness.province.commune_id,
                     phone="+84912999000")  # fmt: skip
    before = await _tables(harness)
    cadre = harness.user(801, phone="+84900000801")

    await cadre.send("/start")
    await cadre.expect("dữ liệu cá nhân")
    # Consent step: text, a file and a sticker instead of a button.
    await cadre.send("ok")
    await cadre.expect("chưa đúng yêu cầu")
    await cadre.upload("cv.pdf", b"%PDF-1.4", "application/pdf")
    await cadre.expect("chưa đúng yêu cầu")
    await cadre.send_sticker()
    await cadre.expect("chưa đúng yêu cầu")
    await cadre.tap("Tôi đồng ý")
    await cadre.expect("Chia sẻ số điện thoại")

    # Contact step: someone else's contact, a random text, a photo.
    await cadre.share_contact(phone="+84912999000", user_id=999)
    await cadre.expect("số điện thoại của chính đồng chí")
    await cadre.send("0912999000")  # typed: it cannot be vouched for, and the bot says so
    await cadre.expect("không gõ số")
    await cadre.send_photo(b"\x89PNG\r\n")
    await cadre.expect("chưa đúng yêu cầu")
    await cadre.press("Tự khai báo hồ sơ")

    # Name step.
    await cadre.expect("họ và tên")
    for bad, answer in ((HUGE, "tối đa 80"), (ODD, "chỉ gồm chữ cái"), ("Dung", "hai từ"),
                        ("Nguyễn Văn 3", "chỉ gồm chữ cái")):  # fmt: skip
        await cadre.send(bad)
        await cadre.expect(answer)
    await cadre.send("/help")  # help, then the question again: the sign-up goes on
    helped = await cadre.expect("đang trả lời câu hỏi")
    assert "/checkin" not in helped.body  # no command works before sign-up
    await cadre.expect("họ và tên")
    await cadre.send("Lò Thị Mai")

    # Unit step: nothing found, a huge query, a forged unit id.
    await cadre.expect("tên đơn vị")
    await cadre.send("không có đơn vị này")
    await cadre.expect("Không tìm thấy đơn vị")
    await cadre.send(HUGE)
    await cadre.expect("Không tìm thấy đơn vị")
    await cadre.send("Đồng Văn")
    await cadre.tap("Xã Đồng Văn")
    await cadre.tap("Bỏ qua")
    await cadre.send("Đàn ông")  # text where a button is expected, and not its label
    await cadre.expect("chưa đúng yêu cầu")
    await cadre.tap("Nam")

    # Birth year step.
    await cadre.expect("năm sinh")
    for bad in ("88", "1850", "2020", "năm 1990", "-1990", ODD):
        await cadre.send(bad)
        await cadre.expect("4 chữ số")
    await cadre.send("1990")

    # Ethnicity step: an unknown group.
    await cadre.expect("dân tộc")
    await cadre.send("Klingon")
    await cadre.expect("54 dân tộc")
    # Back goes one step back, Cancel ends with nothing stored.
    await cadre.tap("Quay lại")
    await cadre.expect("năm sinh")
    await cadre.press("Hủy")
    await cadre.expect("Chưa có thông tin nào được lưu")
    assert await _tables(harness) == before

    # An old button after the conversation ended still gets an answer.
    assert "hết hiệu lực" in await forged_tap(cadre, "ob:yes")
    assert await _tables(harness) == before


async def test_unknown_commands_and_stray_messages_get_help(harness: Harness) -> None:
    await add_person(harness.db, "Lò Văn Hải", unit_id=harness.province.commune_id,
                     telegram_id=802)  # fmt: skip
    cadre = harness.user(802)
    await cadre.send("/xoa_het_du_lieu")
    await cadre.expect("không có lệnh này")
    await cadre.expect("/profile")
    await cadre.send(HUGE[:4000])
    await cadre.expect("chọn chức năng bằng các nút")
    await cadre.upload("danh-sach.xlsx", b"PK\x03\x04", "application/vnd.ms-excel")
    await cadre.expect("chọn chức năng bằng các nút")
    await cadre.send("/people")
    await cadre.expect("chỉ dành cho cán bộ quản lý")


async def test_deep_links_are_validated_and_land_after_consent(harness: Harness) -> None:
    await add_person(harness.db, "Vừ Thị Sua", unit_id=harness.province.commune_id,
                     phone="+84912777000")  # fmt: skip
    cadre = harness.user(803, phone="+84912777000")
    await cadre.send("/start " + "x" * 65)
    await cadre.expect("không hợp lệ")
    await cadre.expect("dữ liệu cá nhân")
    await cadre.send("/start mydata")
    await cadre.expect("dữ liệu cá nhân")
    await cadre.tap("Tôi đồng ý")
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.tap("Đúng, là tôi")
    await cadre.expect("đã được liên kết")
    welcome = await cadre.expect("các nút bên dưới")
    assert welcome.reply_keyboard is not None  # the main keyboard comes with it
    landed = await cadre.next_message()
    assert landed.document is not None and landed.document.file_name == "du-lieu-ca-nhan.xlsx"
    # A registered cadre follows a link straight to its destination.
    await cadre.send("/start profile")
    await cadre.expect("Vừ Thị Sua")


async def test_a_contact_already_linked_to_another_account_is_not_taken_over(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Lý Thị Phin", unit_id=harness.province.commune_id,
                     phone="+84912555000", telegram_id=804)  # fmt: skip
    intruder = harness.user(805, phone="+84912555000")
    await intruder.send("/start")
    await intruder.tap("Tôi đồng ý")
    await intruder.press("Chia sẻ số điện thoại")
    await intruder.expect("đã được liên kết với một tài khoản khác")
    async with harness.db.read() as conn:
        owner = (
            await conn.execute(
                sa.select(people.c.telegram_id).where(people.c.phone == "+84912555000")
            )
        ).scalar_one()
    assert owner == 804

"""/profile, /mydata, /language and withdrawing consent."""

from __future__ import annotations

import io
import json
from datetime import datetime

import openpyxl
import sqlalchemy as sa

from bot.actions import EditProfile
from bot.domain import ProfileField
from storage.schema import consents, people, roles
from tests.e2e.conftest import Harness, consent, declare, forged_tap, link_by_contact, withdraw
from tests.factories import add_person, add_role
from tools.emulator.users import ScriptedUser


async def test_mydata_sends_everything_stored_as_a_file(harness: Harness) -> None:
    await add_person(harness.db, "Hoàng Thị Thu", unit_id=harness.province.commune_id,
                     phone="+84912000333", telegram_id=901)  # fmt: skip
    cadre = harness.user(901)
    await cadre.send("/mydata")
    readable = await cadre.next_message()
    assert readable.document is not None and readable.caption
    assert readable.document.file_name == "du-lieu-ca-nhan.xlsx"
    assert "Toàn bộ dữ liệu" in readable.caption
    book = openpyxl.load_workbook(io.BytesIO(readable.document.content))
    assert book.sheetnames == [
        "Hồ sơ",
        "Đồng ý",
        "Vai trò",
        "Nhật ký",
        "Tin nhắn",
        "Điểm danh",
        "Đơn xin nghỉ",
        "Kết quả học tập",
    ]
    fields = {row[0]: row[1] for row in book["Hồ sơ"].iter_rows(min_row=2, values_only=True)}
    assert fields["Họ và tên"] == "Hoàng Thị Thu" and fields["Điện thoại"] == "0912 000 333"
    assert fields["Dân tộc"] == "Mông" and fields["Số tài khoản Telegram"] == 901
    consent_at = fields["Đồng ý xử lý dữ liệu lúc"]
    assert isinstance(consent_at, datetime) and consent_at.tzinfo is None  # local time
    machine = await cadre.next_message()
    assert machine.document is not None and machine.document.file_name == "du-lieu-ca-nhan.json"
    data = json.loads(machine.document.content)
    assert data["full_name"] == "Hoàng Thị Thu"
    assert data["phone"] == "+84912000333" and data["unit"] == "Xã Đồng Văn"
    assert data["ethnicity"] == "Mông" and data["telegram_id"] == 901


async def test_mydata_comes_in_the_language_the_person_chose(harness: Harness) -> None:
    await add_person(harness.db, "Hà Thị Lan", unit_id=harness.province.commune_id,
                     phone="+84912000555", telegram_id=909)  # fmt: skip
    cadre = harness.user(909)
    await cadre.send("/language")
    await cadre.tap("English")
    await cadre.expect("Switched to English")
    await cadre.send("/mydata")
    readable = await cadre.expect("Everything the system stores about you")
    assert readable.document is not None and readable.document.file_name == "my-data.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(readable.document.content))
    assert book.sheetnames == [
        "Profile",
        "Consents",
        "Roles",
        "History",
        "Messages",
        "Attendance",
        "Leave requests",
        "Results",
    ]
    fields = {row[0]: row[1] for row in book["Profile"].iter_rows(min_row=2, values_only=True)}
    assert (fields["Full name"], fields["Phone"]) == ("Hà Thị Lan", "0912 000 555")
    assert fields["Gender"] == "Female" and fields["Language"] == "🇬🇧 English"
    machine = await cadre.expect("JSON for machines")
    assert machine.document is not None and machine.document.file_name == "my-data.json"


async def test_withdrawing_consent_erases_optional_data_and_keeps_the_record(
    harness: Harness,
) -> None:
    cadre = harness.user(902, phone="+84912000444")
    person_id = await add_person(harness.db, "Nông Văn Dũng", phone="+84912000444",
                                 unit_id=harness.province.commune_id)  # fmt: skip
    await link_by_contact(cadre)

    await cadre.send("/profile")
    await cadre.tap("Rút lại đồng ý")
    asked = await cadre.expect("có chắc chắn muốn rút lại")
    assert "Vẫn được lưu" in asked.text and "nhật ký thao tác" in asked.text  # what, and why
    await cadre.tap("Có, rút lại")
    await cadre.expect("Đã rút lại đồng ý")

    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.id == person_id))).one()
        consent = (await conn.execute(sa.select(consents))).one()
    assert row.full_name == "Nông Văn Dũng" and row.unit_id == harness.province.commune_id
    # The roster's phone is the office's: kept, so that a return is recognised.
    assert (row.phone, row.telegram_id, row.consent_at) == ("+84912000444", None, None)
    assert consent.withdrawn_at is not None

    await cadre.expect("Gõ /start nếu muốn đăng ký lại")
    assert cadre.keyboard is None  # the main keyboard went with the profile
    await cadre.send("/profile")
    await cadre.expect("chưa có hồ sơ")

    # Coming back, the cadre finds the old record again: no second profile.
    await link_by_contact(cadre)
    async with harness.db.read() as conn:
        rows = (await conn.execute(sa.select(people.c.id, people.c.telegram_id))).all()
    assert rows == [(person_id, 902)]


async def test_a_self_declared_cadre_who_comes_back_gets_the_earlier_profile(
    harness: Harness,
) -> None:
    person_id = await add_person(harness.db, "Lù Thị Páo", unit_id=harness.province.commune_id,
                                 telegram_id=910, source="self", birth_year=1988)  # fmt: skip
    cadre = harness.user(910)
    await withdraw(cadre)
    await consent(cadre)
    await cadre.press("Tự khai báo hồ sơ")
    await declare(cadre, "Lù Thị Páo", "dong van", "Xã Đồng Văn", year="1988")
    async with harness.db.read() as conn:
        rows = (await conn.execute(sa.select(people.c.id, people.c.telegram_id,
                                             people.c.verified))).all()  # fmt: skip
    assert rows == [(person_id, 910, False)]  # the same profile, to be confirmed again


async def test_language_switch_is_remembered(harness: Harness) -> None:
    await add_person(harness.db, "Hà Văn Minh", unit_id=harness.province.commune_id,
                     telegram_id=903)  # fmt: skip
    cadre = harness.user(903)
    await cadre.send("/language")
    await cadre.tap("English")
    await cadre.expect("Switched to English")
    await cadre.expect("buttons below are in English")
    await cadre.press("My profile")  # the main keyboard came back in English
    card = await cadre.expect("Hà Văn Minh")
    assert "Unit: Xã Đồng Văn" in card.text
    await cadre.send("/help")
    await cadre.expect("My profile")


async def test_newcomer_can_read_the_notice_in_english(harness: Harness) -> None:
    cadre = harness.user(904)
    await cadre.send("/start")
    await cadre.tap("English")
    notice = await cadre.expect("Personal data notice")
    assert notice.edited and "sensitive personal data" in notice.text
    await cadre.tap("I do not agree")
    await cadre.expect("Nothing")


async def test_the_language_can_change_in_the_middle_of_signing_up(harness: Harness) -> None:
    cadre = harness.user(908)
    await consent(cadre)
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.send("Lò Thị Mai")
    await cadre.expect("đơn vị công tác")
    await cadre.send("/language")
    await cadre.tap("English")
    await cadre.expect("Switched to English")
    await cadre.send("dong van")  # the sign-up went on where it was
    await cadre.expect("Choose your unit")


async def test_a_language_chosen_while_editing_asks_the_question_again_in_it(
    harness: Harness,
) -> None:
    person_id = await add_person(harness.db, "Lù Thị Mai", unit_id=harness.province.commune_id,
                                 telegram_id=911, source="self", verified=False)  # fmt: skip
    cadre = harness.user(911)
    await cadre.send("/profile")
    await cadre.tap("Họ tên")
    await cadre.expect("họ và tên")
    await cadre.send("/language")
    await cadre.tap("English")
    await cadre.expect("Switched to English")
    await cadre.expect("full name")  # the open question, now in English
    assert cadre.keyboard is not None and "⬅️ Back" in [b.text for b in cadre.keyboard[0]]
    await cadre.send("Lù Thị Mai Anh")
    await cadre.expect("Saved")
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.id == person_id))).one()
    assert (row.full_name, row.language) == ("Lù Thị Mai Anh", "en")


async def test_a_self_declared_profile_can_be_edited_and_needs_confirming_again(
    harness: Harness,
) -> None:
    person_id = await add_person(harness.db, "Lù Thị Mai", unit_id=harness.province.commune_id,
                                 telegram_id=905, source="self", verified=True)  # fmt: skip
    cadre = harness.user(905)
    await cadre.send("/profile")
    await cadre.tap("Họ tên")
    await cadre.expect("họ và tên")
    await cadre.send("Lù Thị 123")
    await cadre.expect("chỉ gồm chữ cái")
    await cadre.send("Lù Thị Mai Anh")
    await cadre.expect("Đã lưu")
    card = await cadre.expect("Lù Thị Mai Anh")
    assert "chờ xác nhận" in card.text
    await cadre.send("/profile")
    await cadre.tap("Năm sinh")
    await cadre.send("1992")
    await cadre.expect("Đã lưu")
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.id == person_id))).one()
    assert (row.full_name, row.birth_year, row.verified) == ("Lù Thị Mai Anh", 1992, False)


async def test_roster_profiles_cannot_be_edited_by_the_cadre(harness: Harness) -> None:
    person_id = await add_person(harness.db, "Lò Văn Pọm", unit_id=harness.province.commune_id,
                                 telegram_id=906)  # fmt: skip
    cadre = harness.user(906)
    await cadre.send("/profile")
    card = await cadre.expect("Lò Văn Pọm")
    assert "liên hệ Phòng Quản lý đào tạo" in card.text  # the one office, OFFICE_NAME
    assert not any("Họ tên" in label for label in card.labels)
    refused = await forged_tap(cadre, EditProfile(ProfileField.FULL_NAME).pack())
    assert "không tự sửa được" in refused
    await cadre.send("Lò Văn Khác")
    await cadre.expect("chọn chức năng bằng các nút")
    async with harness.db.read() as conn:
        name = (
            await conn.execute(sa.select(people.c.full_name).where(people.c.id == person_id))
        ).scalar_one()
    assert name == "Lò Văn Pọm"


async def test_another_command_ends_an_edit_so_later_text_is_not_taken_as_the_name(
    harness: Harness,
) -> None:
    person_id = await add_person(harness.db, "Lù Văn Sáng", unit_id=harness.province.commune_id,
                                 telegram_id=907, source="self", verified=False)  # fmt: skip
    cadre = harness.user(907)
    await cadre.send("/profile")
    await cadre.tap("Họ tên")
    await cadre.expect("họ và tên")
    await cadre.send("/mydata")
    await cadre.expect("Đã dừng chỉnh sửa hồ sơ")
    await cadre.expect("Toàn bộ dữ liệu")  # the command itself ran
    await cadre.send("Xin chào mọi người")
    await cadre.expect("chọn chức năng bằng các nút")
    async with harness.db.read() as conn:
        name = (
            await conn.execute(sa.select(people.c.full_name).where(people.c.id == person_id))
        ).scalar_one()
    assert name == "Lù Văn Sáng"


async def test_an_edited_message_is_never_taken_as_an_answer_or_a_command(
    harness: Harness,
) -> None:
    person_id = await add_person(harness.db, "Lù Thị Dung", unit_id=harness.province.commune_id,
                                 telegram_id=908, source="self", verified=False)  # fmt: skip
    cadre = harness.user(908)
    hello = await cadre.send("Xin chào")
    await cadre.expect("chọn chức năng bằng các nút")
    await cadre.send("/profile")
    await cadre.tap("Họ tên")
    await cadre.expect("họ và tên")
    await cadre.edit(hello, "Lù Thị Hoa")  # an old message corrected: not the name asked for
    await cadre.expect("không được ghi nhận")
    await cadre.edit(hello, "/withdraw")  # nor a command
    await cadre.expect("không được ghi nhận")
    await cadre.no_message()
    await cadre.send("Lù Thị Dung Anh")  # the question is still open
    await cadre.expect("Đã lưu")
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.id == person_id))).one()
    assert (row.full_name, row.telegram_id) == ("Lù Thị Dung Anh", 908)


async def test_withdrawal_revokes_roles_and_erases_what_a_cadre_declared(
    harness: Harness,
) -> None:
    head_id = await add_person(harness.db, "Thào Mí Lử", unit_id=harness.province.commune_id,
                               telegram_id=905, source="self", verified=True)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    head = harness.user(905)
    await head.send("/profile")
    await head.tap("Rút lại đồng ý")
    await head.expect("thu hồi các vai trò")
    await head.tap("Có, rút lại")
    await head.expect("Gõ /start nếu muốn đăng ký lại")
    assert "pending" not in harness.menu(905)
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.id == head_id))).one()
        held = (await conn.execute(sa.select(roles))).all()
    assert (row.ethnicity_id, row.telegram_id, held) == (None, None, [])


async def _declare_up_to_review(cadre: ScriptedUser) -> None:
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.send("Triệu Thị Đào")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.tap("Bỏ qua")
    await cadre.tap("Nữ")
    await cadre.send("1995")
    await cadre.tap("Không khai")
    await cadre.expect("kiểm tra lại thông tin")


async def test_a_contact_shared_while_declaring_still_finds_the_roster_record(
    harness: Harness,
) -> None:
    record = await add_person(harness.db, "Triệu Thị Đào", phone="+84912000455",
                              unit_id=harness.province.commune_id)  # fmt: skip
    cadre = harness.user(906, phone="+84912000455")
    await consent(cadre)
    await _declare_up_to_review(cadre)

    await cadre.share_contact()
    await cadre.expect("Đây có phải là đồng chí")
    await cadre.tap("Đúng")
    await cadre.expect("Tài khoản đã được liên kết với hồ sơ cán bộ")
    async with harness.db.read() as conn:
        rows = (await conn.execute(sa.select(people.c.id, people.c.telegram_id))).all()
    assert rows == [(record, 906)]


async def test_a_self_declared_cadre_whose_phone_is_on_the_roster_moves_to_that_record(
    harness: Harness,
) -> None:
    record = await add_person(harness.db, "Triệu Thị Đào", phone="+84912000466",
                              unit_id=harness.province.commune_id)  # fmt: skip
    other = await add_person(harness.db, "Lò Văn Khác", phone="+84912000999",
                             unit_id=harness.province.commune_id)  # fmt: skip
    await add_person(harness.db, "Triệu Thị Đào", unit_id=harness.province.commune_id,
                     telegram_id=907, source="self", verified=False)  # fmt: skip
    cadre = harness.user(907, phone="+84912000466")
    await cadre.send("/profile")
    await cadre.tap("Số điện thoại")
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.expect("Đã lưu số điện thoại 0912 000 466")
    await cadre.expect("Đây có phải là đồng chí?")
    # A forged button for someone else's record links nothing.
    assert "không còn nhận liên kết" in await forged_tap(cadre, f"claim:{other}")
    await cadre.tap("Đúng, đây là tôi")
    await cadre.expect("đã được liên kết với hồ sơ trong danh sách")
    async with harness.db.read() as conn:
        rows = (await conn.execute(sa.select(people.c.id, people.c.telegram_id))).all()
    assert sorted(rows) == [(record, 907), (other, None)]

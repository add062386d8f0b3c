"""The existing flows as their users expect them: what a cadre, a unit head and an
administrator met when they tried the sandbox, each now answered."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from storage.schema import people
from tests.e2e.conftest import (
    SUPERADMIN_ID,
    Harness,
    consent,
    declare,
    forged_tap,
    running_bot,
    tap_answer,
    withdraw,
)
from tests.factories import add_person, add_role, add_unit


async def _to_name_step(harness: Harness, user_id: int) -> None:
    cadre = harness.user(user_id)
    await consent(cadre)
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.expect("họ và tên")


async def test_help_at_every_step_of_sign_up_then_the_same_question(harness: Harness) -> None:
    cadre = harness.user(1402)
    await cadre.send("/start")
    await cadre.expect("dữ liệu cá nhân")

    async def helped(question: str) -> None:
        await cadre.send("/help")
        await cadre.expect("đang trả lời câu hỏi")
        await cadre.expect(question)

    await helped("xử lý dữ liệu cá nhân như thông báo ở trên")  # the short question
    await cadre.tap("Tôi đồng ý")
    await cadre.expect("Chia sẻ số điện thoại")
    await helped("Chia sẻ số điện thoại")
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.expect("họ và tên")
    for question, answer in (
        ("họ và tên", "Giàng Thị Dợ"),
        ("tên đơn vị công tác", "noi vu"),
        ("tên đơn vị công tác", "tap:Sở Nội vụ"),  # asked again; the list stays usable
        ("chức vụ", "tap:Bỏ qua"),
        ("giới tính", "tap:Nữ"),
        ("năm sinh", "1990"),
        ("dân tộc", "tap:Không khai"),
        ("kiểm tra lại", "tap:Xác nhận"),
    ):
        await helped(question)
        if answer.startswith("tap:"):
            await cadre.tap(answer.removeprefix("tap:"))
        else:
            await cadre.send(answer)
    await cadre.expect("Đã tạo hồ sơ tự khai báo")


async def test_a_name_typed_without_diacritics_is_questioned(harness: Harness) -> None:
    await _to_name_step(harness, 1401)
    cadre = harness.user(1401)
    await cadre.send("nguyen thi phuong")
    await cadre.expect("không dấu")
    await cadre.tap("Nhập lại có dấu")
    await cadre.expect("họ và tên")
    await cadre.send("nguyen thi phuong")
    await cadre.tap("Đúng, giữ nguyên")
    await cadre.expect("Họ tên: Nguyen Thi Phuong")
    await cadre.expect("tên đơn vị")


async def test_name_feedback_says_what_is_wrong(harness: Harness) -> None:
    await _to_name_step(harness, 1402)
    cadre = harness.user(1402)
    await cadre.send("Đào 😀")
    await cadre.expect("biểu tượng cảm xúc")  # about the characters, not the length
    await cadre.send("Đào")
    await cadre.expect("hai từ")
    await cadre.send("Lò " + "Thị " * 30 + "Mai")
    await cadre.expect("tối đa 80 ký tự (vừa nhập 126)")


async def test_units_are_told_apart_by_their_parent_and_found_by_it(harness: Harness) -> None:
    home = await add_unit(harness.db, "SNV.VP", "Văn phòng Sở", harness.province.department_id,
                          "office")  # fmt: skip
    health = await add_unit(harness.db, "SYT", "Sở Y tế", harness.province.root_id, "department")
    await add_unit(harness.db, "SYT.VP", "Văn phòng Sở", health, "office")
    await _to_name_step(harness, 1403)
    cadre = harness.user(1403)
    await cadre.send("Lò Thị Mai")
    await cadre.send("van phong noi vu")  # the parent's name narrows it down
    found = await cadre.expect("Chọn đơn vị")
    assert [b.text for row in found.buttons for b in row][:1] == ["Văn phòng Sở — Sở Nội vụ"]
    await cadre.send("van phong so")
    both = await cadre.expect("Chọn đơn vị")
    labels = {b.text for row in both.buttons for b in row}
    assert {"Văn phòng Sở — Sở Nội vụ", "Văn phòng Sở — Sở Y tế"} <= labels
    await cadre.tap("Văn phòng Sở — Sở Nội vụ")
    await cadre.tap("Bỏ qua")
    await cadre.tap("Nữ")
    await cadre.send("1990")
    await cadre.tap("Mông")
    review = await cadre.expect("kiểm tra lại")
    assert "Đơn vị: Văn phòng Sở — Sở Nội vụ" in review.text
    assert home


async def test_an_announcement_is_signed_and_not_sent_to_its_sender(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    head_id = await add_person(harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id,
                               telegram_id=1404)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1405)
    cadre, head = harness.user(1405), harness.user(1404)
    await head.send("/announce")
    await head.tap("Tất cả cán bộ")
    await head.expect("gửi đến 1 cán bộ")
    await head.send("Họp chi bộ lúc 14:00")
    await head.tap("Gửi")
    queued = len(head.inbox)
    await head.expect("hàng đợi")
    notice = await cadre.expect("Họp chi bộ lúc 14:00")
    assert "Thông báo của Xã Đồng Văn" in notice.text
    await head.expect("Đã gửi xong", timeout=10)
    # The sender is not among the recipients: they see the delivery, not the notice.
    assert not any("Thông báo của" in m.body for m in head.inbox[queued:])

    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("Lịch học tháng 12")
    await admin.tap("Gửi")
    notice = await cadre.expect("Lịch học tháng 12")
    assert "Thông báo của Phòng Quản lý đào tạo" in notice.text


async def test_delivery_reports_list_recent_batches_and_say_when_nothing_changed(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id,
                     telegram_id=1406, phone="+84912000406")  # fmt: skip
    admin, cadre = harness.user(SUPERADMIN_ID), harness.user(1406)
    await admin.send("/delivery")
    await admin.expect("Chưa có đợt gửi nào")
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("Họp giao ban")
    await admin.tap("Gửi")
    await admin.expect("hàng đợi")
    await cadre.expect("Họp giao ban")
    await admin.send("/delivery 99")
    await admin.expect("Không có đợt gửi số 99")
    await admin.send("/delivery")
    listed = await admin.expect("Các đợt gửi gần đây")
    await admin.tap("Số 1", message_id=listed.message_id)
    report = await admin.expect("Đợt gửi số 1")
    assert "bởi Đinh Văn Quản" in report.text and "Gửi lúc" in report.text
    while "Đã gửi: 1" not in report.text:  # the outcome is written just after the send
        await admin.send("/delivery 1")
        report = await admin.expect("Đợt gửi số 1")
    assert "chưa có gì mới" in (await tap_answer(admin, "Cập nhật", report.message_id)).lower()


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_the_office_to_contact_is_the_one_configured(
    database_kind: str, tmp_path: Path
) -> None:
    office = {"office_name": "Phòng Đào tạo, Trường Chính trị Hà Giang",
              "office_phone": "0219 3866 123"}  # fmt: skip
    async with running_bot(database_kind, tmp_path, **office) as h:
        await add_person(h.db, "Lò Văn Pọm", unit_id=h.province.commune_id, telegram_id=1407)
        cadre = h.user(1407)
        await cadre.send("/profile")
        card = await cadre.expect("Lò Văn Pọm")
        assert "Phòng Đào tạo, Trường Chính trị Hà Giang (0219 3866 123)" in card.text


async def test_a_stray_message_repeats_the_short_question_not_the_whole_card(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Giàng Thị Mỷ", unit_id=harness.province.commune_id,
                     phone="+84912000408")  # fmt: skip
    cadre = harness.user(1408, phone="+84912000408")
    await cadre.send("/start")
    await cadre.expect("dữ liệu cá nhân")
    await cadre.send("xin chào")
    reminder = await cadre.expect("có đồng ý")
    assert "Thông báo về dữ liệu cá nhân" not in reminder.text  # not the notice again
    await cadre.tap("Tôi đồng ý")
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.expect("Đây có phải là đồng chí không?")
    await cadre.send("ừ")
    reminder = await cadre.expect("có phải là của đồng chí không?")
    assert "Giàng Thị Mỷ" not in reminder.text
    await cadre.tap("Đúng, là tôi")
    await cadre.expect("đã được liên kết")


async def test_a_contact_before_consent_is_explained_and_after_it_is_kept(
    harness: Harness,
) -> None:
    cadre = harness.user(1409, phone="+84912000409")
    await cadre.send("/start")
    await cadre.expect("dữ liệu cá nhân")
    await cadre.share_contact()  # nothing is taken before consent
    await cadre.expect("bước này chưa cần đến")
    await cadre.tap("Tôi đồng ý")
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.expect("họ và tên")
    await cadre.share_contact()  # declaring: the number goes into the profile
    await cadre.expect("Đã ghi số điện thoại 0912 000 409")
    await cadre.expect("họ và tên")


async def test_a_self_declared_profile_gets_its_phone_by_sharing_the_contact(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Lù Thị Mai", unit_id=harness.province.commune_id,
                     telegram_id=1410, source="self", verified=False)  # fmt: skip
    cadre = harness.user(1410, phone="+84912000410")
    await cadre.send("/profile")
    await cadre.tap("Số điện thoại")
    await cadre.expect("Chia sẻ số điện thoại")
    await cadre.send("0912000410")
    await cadre.expect("không gõ số")
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.expect("Đã lưu số điện thoại 0912 000 410")
    await cadre.share_contact()  # outside any dialogue, the same number again
    await cadre.expect("đã có trong hồ sơ")
    await cadre.send("/profile")
    card = await cadre.expect("Lù Thị Mai")
    assert "0912 000 410" in card.text


async def test_editing_a_confirmed_profile_says_first_that_it_will_be_confirmed_again(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Lù Thị Mai", unit_id=harness.province.commune_id,
                     telegram_id=1411, source="self", verified=True)  # fmt: skip
    cadre = harness.user(1411)
    await cadre.send("/profile")
    await cadre.tap("Chức vụ")
    await cadre.expect("xác nhận lại")
    question = await cadre.expect("Chọn chức vụ")
    assert "Bước" not in question.text  # one field: no "Step 3/6"


async def test_the_command_menu_follows_the_language_chosen_in_the_bot(harness: Harness) -> None:
    await add_person(harness.db, "Hà Văn Minh", unit_id=harness.province.commune_id,
                     telegram_id=1412)  # fmt: skip
    cadre = harness.user(1412)  # a phone in Vietnamese
    await cadre.send("/language")
    await cadre.tap("English")
    await cadre.expect("Switched to English")
    menu = harness.emulator.commands_for(None, 1412, "vi")
    assert {c["command"]: c["description"] for c in menu}["profile"] == "My profile"


async def test_the_language_chosen_last_is_the_one_used_before_and_after_a_profile(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Hà Thị Lan", unit_id=harness.province.commune_id,
                     phone="+84912000414")  # fmt: skip
    cadre = harness.user(1414, phone="+84912000414")  # a phone in Vietnamese
    await cadre.send("/start")
    await cadre.tap("English")  # chosen on the notice, before there is a profile
    await cadre.tap("I agree")
    await cadre.press("Share my phone number")
    await cadre.tap("Yes, that's me")
    await cadre.expect("buttons below")
    menu = harness.emulator.commands_for(None, 1414, "vi")  # the menu followed at once
    assert {c["command"]: c["description"] for c in menu}["profile"] == "My profile"
    await cadre.send("/language")
    await cadre.tap("Tiếng Việt")
    await cadre.expect("Đã chuyển sang tiếng Việt")
    await withdraw(cadre)
    await cadre.send("/start")  # the choice on the old notice does not come back
    await cadre.expect("Thông báo về dữ liệu cá nhân")


async def test_after_sign_up_a_main_keyboard_does_what_cadres_do(harness: Harness) -> None:
    await add_person(harness.db, "Giàng Thị Mỷ", unit_id=harness.province.commune_id,
                     phone="+84912000413")  # fmt: skip
    cadre = harness.user(1413, phone="+84912000413")
    await consent(cadre)
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.tap("Đúng, là tôi")
    await cadre.expect("các nút bên dưới")
    assert cadre.keyboard is not None
    assert [b.text for row in cadre.keyboard for b in row] == [
        "📚 Lớp học", "🗓 Lịch học", "👤 Hồ sơ của tôi", "❓ Hướng dẫn", "📒 Quá trình học tập",
    ]  # fmt: skip
    await cadre.press("Lớp học")
    await cadre.expect("Lớp học đồng chí có thể đăng ký")
    await cadre.press("Lịch học")
    await cadre.expect("Lịch học 7 ngày tới")
    await cadre.press("Hồ sơ của tôi")
    await cadre.expect("Giàng Thị Mỷ")
    await cadre.tap("Dữ liệu của tôi")
    await cadre.expect("Toàn bộ dữ liệu")
    await cadre.press("Hướng dẫn")
    await cadre.expect("/mydata")


async def test_staff_find_people_by_name_page_through_them_and_narrow_by_unit(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    for i in range(14):
        await add_person(harness.db, f"Lò Văn Số {chr(ord('A') + i)}",
                         unit_id=harness.province.commune_id)  # fmt: skip
    for i in range(9):
        await add_person(harness.db, f"Lò Văn Sở {chr(ord('A') + i)}",
                         unit_id=harness.province.department_id)  # fmt: skip
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/start")
    await admin.press("Tra cứu cán bộ")  # the main keyboard sends a bare /people
    await admin.expect("Nhập họ tên cán bộ cần tìm")
    await admin.send("lo van so")
    first = await admin.expect("Tìm thấy 23 người")
    assert "Trang 1/3" in first.text and len(first.buttons) == 10 + 2
    await admin.tap("Trang sau")
    second = await admin.expect("Trang 2/3")
    assert second.edited
    await admin.tap("Lọc theo đơn vị")
    await admin.send("noi vu")
    await admin.expect("Chọn đơn vị để lọc")
    await admin.tap("Sở Nội vụ")
    narrowed = await admin.expect("Tìm thấy 9 người")
    assert all("Sở Nội vụ" in b.text for row in narrowed.buttons[:9] for b in row)
    assert "Chỉ trong: Sở Nội vụ" in narrowed.text
    await admin.tap("Bỏ lọc đơn vị")
    await admin.expect("Tìm thấy 23 người")
    # Searching never took the main keyboard away: the next search is one tap.
    assert any("Tra cứu cán bộ" in b.text for row in admin.keyboard or [] for b in row)
    await admin.press("Tra cứu cán bộ")
    await admin.expect("Nhập họ tên cán bộ cần tìm")
    await admin.tap("Hủy")
    await admin.expect("Đã dừng tìm kiếm")


async def test_pending_profiles_page_through_and_stay_within_the_heads_unit(
    harness: Harness,
) -> None:
    head_id = await add_person(harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id,
                               telegram_id=1401)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    office = await add_unit(harness.db, "XA.DONGVAN.VP", "Văn phòng", harness.province.commune_id,
                            "office")  # fmt: skip
    for i in range(12):
        await add_person(harness.db, f"Lò Thị Chờ {chr(ord('A') + i)}", source="self",
                         verified=False, telegram_id=1410 + i,
                         unit_id=office if i == 11 else harness.province.commune_id)  # fmt: skip
    await add_person(harness.db, "Lê Văn Ngoài", unit_id=harness.province.department_id,
                     source="self", verified=False, telegram_id=1430)  # fmt: skip
    head = harness.user(1401)
    await head.send("/pending")
    first = await head.expect("Có 12 hồ sơ chờ xác nhận")
    assert "Trang 1/2" in first.text and len(first.buttons) == 10 + 1
    await head.tap("Trang sau")
    second = await head.expect("Trang 2/2")
    assert second.edited and len(second.buttons) == 2 + 1
    assert "Trang trước" in second.buttons[-1][0].text
    assert not any("Ngoài" in b.text for row in first.buttons + second.buttons for b in row)
    assert "Lò Thị Chờ L (1988) · Văn phòng — Xã Đồng Văn" in second.labels  # units told apart
    await head.tap("Lò Thị Chờ L")
    await head.next_answer()
    card = await head.expect("Lò Thị Chờ L")
    assert "Đơn vị: Văn phòng — Xã Đồng Văn" in card.text


async def test_a_unit_head_narrows_a_list_to_units_they_answer_for_only(
    harness: Harness,
) -> None:
    head_id = await add_person(harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id,
                               telegram_id=1403)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    await add_person(harness.db, "Lò Văn Số", unit_id=harness.province.commune_id)
    head = harness.user(1403)
    await head.send("/people lo van so")
    await head.expect("Tìm thấy 1 người")
    await head.tap("Lọc theo đơn vị")
    await head.send("noi vu")  # a department outside the commune: not offered
    await head.expect("Không tìm thấy đơn vị nào")
    await head.send("dong van")
    picker = await head.expect("Chọn đơn vị để lọc")
    assert "Xã Đồng Văn" in picker.labels


async def test_bad_searches_are_answered_and_the_search_goes_on(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Lò Văn Số", unit_id=harness.province.commune_id)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/start")
    for bad, told in (("/people !!!", "ít nhất 2 ký tự"), ("/people l", "ít nhất 2 ký tự"),
                      ("/people " + "Nguyễn " * 2000, "Không tìm thấy"),
                      ("/people \u202e\u200b\U0001f600 <b>x</b>", "Không tìm thấy")):  # fmt: skip
        await admin.send(bad)
        await admin.expect(told)
    assert "không hợp lệ" in await forged_tap(admin, "people:lo.van:0:99999")
    await admin.press("Tra cứu cán bộ")
    await admin.send("?!")
    await admin.expect("ít nhất 2 ký tự")
    await admin.send("lo van so")  # still searching
    await admin.expect("Tìm thấy 1 người")


async def test_a_bare_people_command_from_a_learner_is_refused_before_asking(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Hoàng Văn Nam", unit_id=harness.province.commune_id,
                     telegram_id=1414)  # fmt: skip
    learner = harness.user(1414)
    await learner.send("/people")
    await learner.expect("chỉ dành cho cán bộ quản lý")
    await learner.send("lo van")
    await learner.expect("chọn chức năng bằng các nút")  # no search was opened


async def test_a_position_not_in_the_list_is_typed_and_ethnicity_may_be_left_out(
    harness: Harness,
) -> None:
    head_id = await add_person(harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id,
                               telegram_id=1415)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    head = harness.user(1415)  # the head's chat exists before the request to confirm is sent
    await _to_name_step(harness, 1416)
    cadre = harness.user(1416)
    await cadre.send("Giàng Thị Dợ")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.tap("Khác (tự nhập)")
    await cadre.expect("Nhập tên chức vụ")
    await cadre.send("Phó Chánh Văn phòng Đảng ủy")
    await cadre.expect("Chức vụ: Phó Chánh Văn phòng Đảng ủy")
    await cadre.tap("Nữ")
    await cadre.send("1990")
    await cadre.expect("dân tộc")
    await cadre.send("hmong")  # another name of the Mông, without its marks
    await cadre.expect("Dân tộc khớp «hmong»")
    await cadre.send("Mèo")
    found = await cadre.expect("Dân tộc khớp «Mèo» (kể cả tên gọi khác)")
    assert "Mông" in [b.text for row in found.buttons for b in row]
    await cadre.tap("Không khai")
    review = await cadre.expect("kiểm tra lại")
    assert "Dân tộc: —" in review.text and "Phó Chánh Văn phòng Đảng ủy" in review.text
    await cadre.tap("Xác nhận")
    await cadre.expect("hồ sơ tự khai báo")
    await head.expect("chờ xác nhận")
    await head.tap("Xem hồ sơ")
    card = await head.expect("Giàng Thị Dợ")
    assert "Chức vụ: Phó Chánh Văn phòng Đảng ủy (tự khai)" in card.text


async def test_typing_a_buttons_label_answers_like_tapping_it(harness: Harness) -> None:
    await _to_name_step(harness, 1430)
    cadre = harness.user(1430)
    await cadre.send("Giàng Thị Dợ")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.expect("Chọn chức vụ")
    await cadre.send("123")  # neither a position of the list nor one in words
    await cadre.expect("Tên chức vụ cần có chữ")
    await cadre.send("pho chu tich ubnd")
    await cadre.expect("giới tính")
    await cadre.send("nữ")
    await cadre.expect("Giới tính: Nữ")
    await cadre.send("1990")
    await cadre.send("Mông")
    review = await cadre.expect("kiểm tra lại")
    assert "Chức vụ: Phó Chủ tịch UBND" in review.text and "Dân tộc: Mông" in review.text
    await cadre.tap("Chức vụ")
    await cadre.send("Cán bộ văn hóa xã")  # not in the list: typed without tapping "Other"
    review = await cadre.expect("kiểm tra lại")
    assert "Chức vụ: Cán bộ văn hóa xã" in review.text


async def test_every_question_takes_its_buttons_labels_typed_without_emoji(
    harness: Harness,
) -> None:
    cadre = harness.user(1431)
    await cadre.send("/start")
    await cadre.expect("dữ liệu cá nhân")
    await cadre.send("tôi đồng ý")
    await cadre.expect("Chia sẻ số điện thoại")
    await cadre.send("Tự khai báo hồ sơ")
    await cadre.expect("họ và tên")
    await cadre.send("giang thi do")
    await cadre.expect("không dấu")
    await cadre.send("Đúng, giữ nguyên")  # the answer to the question, not a new name
    await cadre.expect("Họ tên: Giang Thi Do")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.send("Khác")  # "✍️ Khác (tự nhập)": asks for the position, stores nothing
    await cadre.expect("Nhập tên chức vụ")
    await cadre.send("Quay lại")  # back to the list, not to the unit
    await cadre.expect("Chọn chức vụ")
    await cadre.send("Khác")  # and "Other" again is still "Other"
    await cadre.expect("Nhập tên chức vụ")
    await cadre.send("Bỏ qua")  # still "none", while the position is being typed
    await cadre.expect("giới tính")
    await cadre.send("Quay lại")
    await cadre.expect("Chọn chức vụ")
    await cadre.send("bo qua")  # "Không có / Bỏ qua"
    await cadre.expect("giới tính")
    await cadre.send("Nữ")
    await cadre.send("1990")
    await cadre.send("Không khai")  # "Không khai (thông tin nhạy cảm)"
    review = await cadre.expect("kiểm tra lại")
    assert "Chức vụ: —" in review.text and "Dân tộc: —" in review.text
    await cadre.send("xác nhận")
    await cadre.expect("Đã tạo hồ sơ tự khai báo")


async def test_a_profile_returned_for_wrong_details_comes_back_once_corrected(
    harness: Harness,
) -> None:
    head_id = await add_person(harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id,
                               telegram_id=1417)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    await add_person(harness.db, "Hầu A Lử", unit_id=harness.province.commune_id,
                     telegram_id=1418, source="self", verified=False)  # fmt: skip
    head, cadre = harness.user(1417), harness.user(1418)
    await head.send("/pending")
    await head.tap("Hầu A Lử")
    await head.tap("Trả lại hồ sơ")
    await head.expect("Vì sao trả lại")
    await head.tap("Không thuộc đơn vị")
    await head.expect("Nhập ghi chú")
    await head.tap("Quay lại")  # to the reasons, to choose again
    await head.expect("Vì sao trả lại")
    await head.tap("Thông tin chưa đúng")
    await head.expect("Nhập ghi chú")
    await head.send("Năm sinh chưa đúng")
    done = await head.expect("Đã trả lại hồ sơ Hầu A Lử (Thông tin chưa đúng)")
    assert done.labels == ["📋 Các hồ sơ chờ xác nhận"]
    told = await cadre.expect("thông tin chưa đúng")
    assert told.text.endswith("\n📝 Ghi chú: Năm sinh chưa đúng")
    await head.tap("Các hồ sơ chờ xác nhận")
    await head.expect("Không có hồ sơ nào")  # it waits for the cadre, not the head
    await cadre.tap("Xem hồ sơ", message_id=told.message_id)
    own = await cadre.expect("Lý do trả lại: Thông tin chưa đúng")
    assert "đã trả lại để sửa" in own.text and "Ghi chú: Năm sinh chưa đúng" in own.text
    await cadre.tap("Năm sinh")
    await cadre.send("1991")
    await cadre.expect("Đã lưu")
    await cadre.expect("gửi lại để xác nhận")
    await head.expect("đã được sửa, chờ xác nhận lại: Hầu A Lử")  # asked again, once corrected


async def test_a_profile_in_a_unit_with_no_head_goes_to_the_administrators(
    harness: Harness,
) -> None:
    admin_id = await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                                telegram_id=1419)  # fmt: skip
    await add_role(harness.db, admin_id, "admin")
    admin = harness.user(1419)
    await _to_name_step(harness, 1420)
    cadre = harness.user(1420)
    await declare(cadre, "Giàng Thị Dợ", "noi vu", "Sở Nội vụ")
    await admin.expect("chờ xác nhận: Giàng Thị Dợ")


async def test_a_profile_confirmed_meanwhile_says_by_whom(harness: Harness) -> None:
    head_id = await add_person(harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id,
                               telegram_id=1440)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    admin_id = await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                                telegram_id=1441)  # fmt: skip
    await add_role(harness.db, admin_id, "admin")
    await add_person(harness.db, "Giàng Thị Pà", unit_id=harness.province.commune_id,
                     telegram_id=1442, source="self", verified=False)  # fmt: skip
    head, admin = harness.user(1440), harness.user(1441)
    for staff in (head, admin):  # both open the card
        await staff.send("/pending")
        await staff.tap("Giàng Thị Pà")
        await staff.next_answer()
        card = await staff.expect("Giàng Thị Pà")
        assert "✅ Xác nhận hồ sơ" in card.labels
    assert "Đã xác nhận hồ sơ Giàng Thị Pà" in await tap_answer(admin, "Xác nhận hồ sơ")
    told = await tap_answer(head, "Xác nhận hồ sơ")
    assert "đã được đồng chí Đinh Văn Quản xác nhận lúc" in told


async def test_a_self_declared_duplicate_is_flagged_and_merged_by_an_administrator(
    harness: Harness,
) -> None:
    roster_id = await add_person(harness.db, "Triệu Thị Đào", unit_id=harness.province.commune_id,
                                 phone="+84912000421", birth_year=1995)  # fmt: skip
    await add_role(harness.db, roster_id, "unit_head", harness.province.commune_id)
    admin_id = await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                                telegram_id=1421)  # fmt: skip
    await add_role(harness.db, admin_id, "admin")
    self_id = await add_person(harness.db, "Triệu Thị Đào", unit_id=harness.province.commune_id,
                               telegram_id=1422, source="self", verified=False,
                               birth_year=1995)  # fmt: skip
    admin, cadre = harness.user(1421), harness.user(1422)
    await admin.send("/pending")
    await admin.tap("Triệu Thị Đào")
    card = await admin.expect("Có thể trùng")
    assert "🔗 Gộp vào hồ sơ Triệu Thị Đào (1995)" in card.labels
    await admin.tap("⚠️ Triệu Thị Đào")  # the other record, and back to this one
    await admin.expect("Hồ sơ theo danh sách của tỉnh")
    await admin.tap("Quay lại")
    await admin.expect("Có thể trùng")
    await admin.tap("Gộp vào hồ sơ")
    await admin.expect("Gộp hồ sơ tự khai báo này vào hồ sơ Triệu Thị Đào?")
    assert await tap_answer(admin, "Xác nhận") == "Đã gộp hồ sơ."
    kept = await admin.expect("Hồ sơ theo danh sách của tỉnh")
    assert "Đã liên kết Telegram" in kept.text
    await cadre.expect("đã được gộp")
    assert "pending" in harness.menu(1422)  # the roster record heads the commune
    async with harness.db.read() as conn:
        rows = (
            await conn.execute(sa.select(people.c.id, people.c.telegram_id).order_by(people.c.id))
        ).all()
    assert (roster_id, 1422) in rows and self_id not in [r.id for r in rows]


async def test_a_newcomer_is_shown_the_way_in_not_commands_that_need_a_profile(
    harness: Harness,
) -> None:
    newcomer = harness.user(1403)
    await newcomer.send("/help")
    help_text = await newcomer.expect("Gõ /start để đăng ký")
    assert "/checkin" not in help_text.body and "/leave" not in help_text.body
    # A button of an old message (an expired consent, say) points the same way.
    refused = await forged_tap(newcomer, "zz:gone")
    assert "hết hiệu lực" in refused
    again = await newcomer.expect("Gõ /start để đăng ký")
    assert "/schedule" not in again.body

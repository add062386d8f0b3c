"""Nomination through the real app: a unit head opens a class's card, searches and picks two
of their staff (one on Telegram, one not yet; a restart in between keeps the choice) and
confirms; the one on Telegram is told and declines with a reason (odd and empty reasons
refused), the head is told and the seat is freed; the other is told when they first link
their account. A forged tap for someone outside the head's units, and a learner's tap,
change nothing."""

from __future__ import annotations

import sqlalchemy as sa

from bot.actions import DeclineNomination, DialogueChoice, NominateStaff, Withdraw, unpack
from bot.training import Audience, PriorityGroup
from storage.schema import classes, enrolments
from tests.e2e.conftest import Harness, forged_tap, link_by_contact, no_dialogue_left
from tests.factories import add_class, add_person, add_role
from tools.emulator.users import BotMessage

HEAD, ON_TELEGRAM, NEWCOMER, LEARNER = 6101, 6102, 6103, 6104
NEWCOMER_PHONE = "+84912000222"
REASON = "Đang tham gia đoàn công tác của tỉnh đến hết tháng"


def _choice_data(message: BotMessage, label: str, value: str) -> str:
    """The data of a picker button with another value: a tap the bot never offered."""
    data = next(b.callback_data for row in message.buttons for b in row if label in b.text)
    assert data is not None
    tapped = unpack(data)
    assert isinstance(tapped, DialogueChoice)
    return DialogueChoice(tapped.dialogue, tapped.token, value).pack()


async def _state(harness: Harness, class_id: int) -> tuple[dict[int, str], int]:
    async with harness.db.read() as conn:
        rows = await conn.execute(
            sa.select(enrolments.c.person_id, enrolments.c.status).where(
                enrolments.c.class_id == class_id
            )
        )
        seats = await conn.execute(
            sa.select(classes.c.enrolled_count).where(classes.c.id == class_id)
        )
        return {r.person_id: r.status for r in rows}, int(seats.scalar_one())


async def test_a_head_nominates_one_declines_and_the_other_is_told_on_first_contact(
    harness: Harness,
) -> None:
    db, commune = harness.db, harness.province.commune_id
    head_id = await add_person(db, "Lò Văn Thủ", unit_id=commune, telegram_id=HEAD,
                               gender="male", ethnicity_id=1, birth_year=1975)  # fmt: skip
    await add_role(db, head_id, "unit_head", commune)
    on_telegram = await add_person(db, "Hà Thị Mai", unit_id=commune, telegram_id=ON_TELEGRAM)
    newcomer = await add_person(db, "Vàng A Chứ", unit_id=commune, phone=NEWCOMER_PHONE,
                                gender="male", birth_year=1995)  # fmt: skip
    outsider = await add_person(db, "Người Sở Khác", unit_id=harness.province.department_id)
    await add_person(db, "Học Viên Thường", unit_id=commune, telegram_id=LEARNER)
    class_id = await add_class(db, "CU1", name="Chuyển đổi số cấp xã", capacity=5)
    await add_class(db, "TRE1", name="Bồi dưỡng cán bộ trẻ",
                    audience=Audience(groups=(PriorityGroup.YOUNG,)))  # fmt: skip
    head, mai = harness.user(HEAD), harness.user(ON_TELEGRAM)  # their chats are open

    # The class's card offers the head to nominate; the picker lists the commune's staff.
    await head.send("/classes")
    await head.tap("Chuyển đổi số cấp xã")
    card = await head.expect("📘 Chuyển đổi số cấp xã")
    assert "👥 Cử cán bộ đi học" in card.labels and "👥 Cán bộ được cử" in card.labels
    await head.tap("👥 Cử cán bộ đi học")
    picker = await head.expect("Cử cán bộ đi học")
    assert "Còn 5 chỗ trống" in picker.body
    assert "Vàng A Chứ — Xã Đồng Văn · 🌱 trẻ · 🏔 DTTS" in picker.body
    assert "Người Sở Khác" not in picker.body  # another unit's

    # Someone outside the head's units, by a forged tap: refused, nothing chosen.
    forged = _choice_data(picker, "Hà Thị Mai", f"t{outsider}")
    assert "không thuộc đơn vị đồng chí phụ trách" in await forged_tap(head, forged)

    # A search without diacritics, then the two chosen (✅ in front), then confirmed.
    await head.send("x" * 300)
    await head.expect("tối đa 50 ký tự")
    await head.send("ha thi")
    found = await head.expect("Tìm «ha thi»")
    assert "Hà Thị Mai" in found.body and "Vàng A Chứ" not in found.body
    await head.tap("Hà Thị Mai")
    await head.expect("đã chọn 1 đồng chí")
    await harness.restart()  # a deploy mid-way: the selection is kept with the dialogue
    await head.tap("Bỏ tìm kiếm")
    await head.tap("Vàng A Chứ")
    chosen = await head.expect("đã chọn 2 đồng chí")
    assert "✅ 1. Hà Thị Mai" in chosen.labels[0] and "✅" in " ".join(chosen.labels[1:4])
    await head.tap("Tiếp tục")
    review = await head.expect("kiểm tra lại danh sách")
    assert "Hà Thị Mai" in review.body and "Vàng A Chứ" in review.body
    await head.tap("Xác nhận cử 2 đồng chí")
    done = await head.expect("Đã cử 2 đồng chí")
    assert "sẽ được báo khi lần đầu mở bot" in done.body
    await no_dialogue_left(db)
    statuses, seats = await _state(harness, class_id)
    assert statuses == {on_telegram: "enrolled", newcomer: "enrolled"} and seats == 2

    # The nominee on Telegram is told, and declines with a reason.
    told = await mai.expect("đã được thủ trưởng đơn vị cử tham gia lớp")
    assert "🙅 Từ chối" in told.labels
    # Her class card offers to decline, not to withdraw unseen by her head.
    await mai.tap("Xem lớp")
    card = await mai.expect("Chuyển đổi số cấp xã")
    assert "🙅 Từ chối" in card.labels and not any("Rút" in label for label in card.labels)
    refused = await forged_tap(mai, Withdraw(class_id, confirmed=True).pack())
    assert "nêu lý do để thủ trưởng đơn vị biết" in refused
    await mai.tap("🙅 Từ chối")
    await mai.expect("Vui lòng nhập lý do")
    await mai.send("   ")
    await mai.expect("Lý do cần từ 3 đến 300 ký tự")
    await mai.send("x" * 2000)
    await mai.expect("Lý do cần từ 3 đến 300 ký tự")
    await mai.send("Bận\u202e việc")
    await mai.expect("Lý do cần viết thành lời")
    await mai.send(REASON)
    await mai.expect("Đã ghi nhận đồng chí từ chối lớp")
    declined = await head.expect("từ chối tham gia lớp")
    assert "Hà Thị Mai" in declined.body and REASON in declined.body
    statuses, seats = await _state(harness, class_id)
    assert statuses[on_telegram] == "declined" and seats == 1
    await head.tap("👥 Cán bộ được cử")
    listed = await head.expect("Cán bộ của đơn vị ở lớp")
    assert "Vàng A Chứ — Xã Đồng Văn: được cử" in listed.body
    assert "Hà Thị Mai — Xã Đồng Văn: từ chối" in listed.body and REASON in listed.body

    await head.send("/nominated")  # every class not over: the class named on each line
    overall = await head.expect("Cán bộ của đơn vị đi học")
    assert "Vàng A Chứ — Xã Đồng Văn: được cử\n   lớp Chuyển đổi số cấp xã (CU1)" in overall.body
    # A class for the young, not in the head's own catalog, is reached from there.
    await head.tap("👥 Cử cán bộ đi học")
    choice = await head.expect("chọn lớp (2 lớp đang nhận đăng ký)")
    assert "Bồi dưỡng cán bộ trẻ (TRE1)" in choice.body
    await head.tap("Bồi dưỡng cán bộ trẻ")
    young = await head.expect("Bồi dưỡng cán bộ trẻ (TRE1)\nCòn 30 chỗ trống")
    assert "Hà Thị Mai (Xã Đồng Văn): không thuộc đối tượng của lớp." in young.body
    assert any("Vàng A Chứ" in label for label in young.labels)
    # The one who can go comes first; those who cannot are counted and listed after.
    assert "1 · 4 cán bộ (trong đó 3 đồng chí không cử được, xếp ở cuối)" in young.body
    assert "\n1. Vàng A Chứ — Xã Đồng Văn" in young.body
    await head.tap("✖️ Hủy")
    await head.expect("Đã hủy, chưa cử ai.")

    # Back to the first class: the one who declined may be sent again, her reason in sight.
    await head.send("/classes")
    await head.tap("Chuyển đổi số cấp xã")
    await head.tap("👥 Cử cán bộ đi học")
    again = await head.expect("Còn 4 chỗ trống")
    assert (
        f"Hà Thị Mai — Xã Đồng Văn · 👩 nữ · 🏔 DTTS\n   ↩️ đã từ chối lần cử trước, lý do: {REASON}."
        in (again.body)
    )
    assert any("Hà Thị Mai" in label for label in again.labels)
    await head.tap("✖️ Hủy")
    await head.expect("Đã hủy, chưa cử ai.")

    # The newcomer links their account and is told then, on first contact.
    chu = harness.user(NEWCOMER, phone=NEWCOMER_PHONE)
    await link_by_contact(chu)
    first = await chu.expect("đã được thủ trưởng đơn vị cử tham gia lớp")
    assert "Chuyển đổi số cấp xã" in first.body and "🙅 Từ chối" in first.labels

    # A learner who is not a head: no button on the card, and a forged tap is refused.
    learner = harness.user(LEARNER)
    await learner.send("/classes")
    await learner.tap("Chuyển đổi số cấp xã")
    plain = await learner.expect("📘 Chuyển đổi số cấp xã")
    assert "👥 Cử cán bộ đi học" not in plain.labels
    refused = await forged_tap(learner, NominateStaff(class_id).pack())
    assert refused == "Xin lỗi, chức năng này chỉ dành cho cán bộ quản lý được phân quyền."
    not_nominated = await forged_tap(learner, DeclineNomination(class_id).pack())
    assert "không còn được cử tham gia lớp này" in not_nominated
    assert (await _state(harness, class_id))[0] == {on_telegram: "declined", newcomer: "enrolled"}

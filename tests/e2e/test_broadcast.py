"""Announcements to an audience through the real protocol: a class, a priority group, a unit
head's unit; exactly that audience receives it, and the sender's progress message ends as
the final report (a restart in the middle included); odd input gets a clear answer."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from bot.actions import DialogueChoice
from bot.training import EnrolmentStatus
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import delivery_batches, outbox
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, running_bot, tap_answer
from tests.factories import add_class, add_person, add_role, count
from tools.emulator.users import ScriptedUser

FINAL_WITHIN_S = 20.0  # the progress message is edited every 2 s once the outbox settles


async def _admin(h: Harness) -> ScriptedUser:
    await add_person(h.db, "Đinh Văn Quản", unit_id=h.province.root_id, telegram_id=SUPERADMIN_ID,
                     gender="male")  # fmt: skip
    return h.user(SUPERADMIN_ID)


async def _cadre(
    h: Harness, tid: int, name: str, unit: int | None = None, gender: str = "female"
) -> int:
    """A linked cadre (of the commune, unless told) whose chat with the bot is open."""
    unit = unit or h.province.commune_id
    person = await add_person(h.db, name, unit_id=unit, telegram_id=tid,
                              phone=f"+849120{tid:05d}", gender=gender)  # fmt: skip
    h.user(tid)
    return person


def _got(user: ScriptedUser, text: str) -> bool:
    return any(text in m.body for m in user.inbox)


async def test_an_administrator_announces_to_a_class_and_watches_it_to_the_report(
    database_kind: str, tmp_path: Path
) -> None:
    slow = {"send_rate_per_s": 3}  # the delivery lasts a second: its progress is seen
    async with running_bot(database_kind, tmp_path, refusals_allowed=("blocked",), **slow) as h:
        admin = await _admin(h)
        learners = {
            8101: await _cadre(h, 8101, "Lò Thị Lan"),
            8102: await _cadre(h, 8102, "Hà Văn Bình", h.province.department_id),
            8103: await _cadre(h, 8103, "Vàng Thị Mỷ"),  # blocked the bot
        }
        waiting = await _cadre(h, 8104, "Mùa A Dế")
        await _cadre(h, 8105, "Sầm Văn Khác")  # in no class
        class_id = await add_class(h.db, "BD.01", name="Bồi dưỡng chuyển đổi số")
        await add_class(h.db, "BD.02", name="Bồi dưỡng kỹ năng số")
        async with h.db.write() as conn:
            enrol = EnrolmentRepository(conn)
            for person in learners.values():
                await enrol.put(class_id, person, EnrolmentStatus.ENROLLED)
            await enrol.put(class_id, waiting, EnrolmentStatus.WAITLISTED, 1)
        h.emulator.faults.blocked.add(8103)

        await admin.send("/announce")
        await admin.tap("Học viên của một lớp")
        await admin.expect("mã lớp")
        await admin.send("chuyen doi so")
        found = await admin.expect("Các lớp tìm được")
        assert found.labels[0].startswith("BD.01") and not any("BD.02" in b for b in found.labels)
        await admin.tap("BD.01")
        chosen = await admin.expect("Gửi tới: học viên lớp Bồi dưỡng chuyển đổi số (BD.01)")
        assert "3 cán bộ" in chosen.text
        await admin.expect("Nhập nội dung thông báo")
        await admin.send("Lớp khai giảng lúc 7h30 thứ Hai, hội trường A")
        confirm = await admin.expect("xác nhận gửi")
        assert "Gửi tới: học viên lớp" in confirm.text and "3 cán bộ" in confirm.text
        await admin.tap("Gửi")
        await admin.expect("hàng đợi")
        progress = await admin.expect("Đang gửi")
        assert "/3" in progress.text and not progress.buttons

        for tid in (8101, 8102):
            notice = await h.user(tid).expect("Lớp khai giảng lúc 7h30")
            assert "Thông báo của Phòng Quản lý đào tạo" in notice.text
        final = await admin.expect("Đã gửi xong", timeout=FINAL_WITHIN_S)
        assert final.edited and final.message_id == progress.message_id
        for figure in ("Tổng số: 3", "Đã gửi: 2", "Đang chờ: 0", "Không liên lạc được: 1",
                       "Gửi không thành công: 0", "Gửi tới: học viên lớp Bồi dưỡng chuyển đổi số",
                       "Xã Đồng Văn", "Vàng Thị Mỷ (0912 008 103)"):  # fmt: skip
            assert figure in final.text, figure
        assert "Cập nhật báo cáo" in final.labels[0]
        for tid in (8103, 8104, 8105):  # the blocked one, the waitlist, someone else
            assert not _got(h.user(tid), "Lớp khai giảng")
        await admin.no_message(2.5)  # left alone once final: no edit that changes nothing

        await admin.send("/delivery 1")
        report = await admin.expect("Đợt gửi số 1")
        assert "Gửi tới: học viên lớp Bồi dưỡng chuyển đổi số (BD.01)" in report.text


async def test_a_priority_group_is_reached_and_a_restart_resumes_the_progress_message(
    database_kind: str, tmp_path: Path
) -> None:
    async with running_bot(database_kind, tmp_path, send_rate_per_s=3) as h:
        admin = await _admin(h)
        women = [8201, 8202, 8203, 8204, 8205, 8206]
        for n, tid in enumerate(women):
            await _cadre(h, tid, f"Lò Thị {'ABCDEF'[n]}", gender="female")
        await _cadre(h, 8207, "Lò Văn Nam", gender="male")
        await _cadre(h, 8208, "Lò Văn Hùng", h.province.department_id, gender="male")

        await admin.send("/announce")
        await admin.tap("Cán bộ nữ")
        chosen = await admin.expect("Gửi tới: cán bộ nữ")
        assert "6 cán bộ" in chosen.text
        await admin.send("Hội nghị cán bộ nữ ngày 8/3")
        await admin.tap("Gửi")
        progress = await admin.expect("Đang gửi")
        await h.restart()  # a deploy while it is sent: the new bot takes the message over
        final = await admin.expect("Đã gửi xong", timeout=FINAL_WITHIN_S)
        assert final.message_id == progress.message_id
        assert "Đã gửi: 6" in final.text and "Gửi tới: cán bộ nữ" in final.text
        for tid in women:
            await h.user(tid).expect("Hội nghị cán bộ nữ")
        for tid in (8207, 8208):
            assert not _got(h.user(tid), "Hội nghị cán bộ nữ")
        async with h.db.read() as conn:
            sent = await conn.scalar(sa.select(sa.func.count()).where(outbox.c.state == "sent"))
        assert sent == 6  # nothing sent twice across the restart


async def test_a_unit_head_announces_to_their_unit_and_no_further(harness: Harness) -> None:
    h = harness
    commune = h.province.commune_id
    head_id = await _cadre(h, 8301, "Sùng Mí Chá", gender="male")
    await add_role(h.db, head_id, "unit_head", commune)
    await _cadre(h, 8302, "Giàng Thị Dợ")
    await _cadre(h, 8303, "Hà Văn Bình", h.province.department_id)
    head = h.user(8301)

    await head.send("/announce")
    audience = await head.expect("Đồng chí gửi thông báo đến ai?")
    assert "Xã Đồng Văn" in audience.text
    await head.tap("Một đơn vị")
    await head.expect("chọn đơn vị")
    state = h.app.bot_data.services.dialogues.current(8301)
    assert state is not None
    outside = DialogueChoice("announce", state.token, str(h.province.department_id)).pack()
    assert "chỉ gửi được thông báo đến các đơn vị mình phụ trách" in await forged_tap(head, outside)
    await head.send("so noi vu")  # a search finds only the head's own units
    await head.expect("Không tìm thấy đơn vị")
    await head.tap("Xã Đồng Văn")
    chosen = await head.expect("Gửi tới: cán bộ thuộc Xã Đồng Văn")
    assert "1 cán bộ" in chosen.text
    await head.send("Họp giao ban xã lúc 14:00")
    await head.tap("Gửi")
    notice = await h.user(8302).expect("Họp giao ban xã")
    assert "Thông báo của Xã Đồng Văn" in notice.text
    await head.expect("Đã gửi xong", timeout=FINAL_WITHIN_S)
    assert not _got(h.user(8303), "Họp giao ban xã")
    async with h.db.read() as conn:
        queued = (await conn.execute(sa.select(outbox.c.chat_id))).scalars().all()
    assert queued == [8302]


async def test_odd_input_while_choosing_an_audience_gets_a_clear_answer(harness: Harness) -> None:
    h = harness
    admin = await _admin(h)
    await _cadre(h, 8401, "Lò Thị Lan")
    await add_class(h.db, "BD.01", name="Bồi dưỡng chuyển đổi số")

    await admin.send("/announce")
    assert "chưa có cán bộ nào" in await tap_answer(admin, "Cán bộ nguồn")  # no one in it
    await admin.tap("Danh sách chờ của một lớp")
    await admin.send("lớp không hề có")
    await admin.expect("Không tìm thấy lớp nào với «lớp không hề có»")
    await admin.send("\u202e\x00\u200b")  # invisible characters only
    await admin.expect("ít nhất 2 ký tự")
    huge = "🙂" * 3000
    await admin.send(huge)
    answer = await admin.expect("Không tìm thấy lớp nào")
    assert len(answer.text or "") < 500
    await admin.send("chuyen doi")
    await admin.expect("Các lớp tìm được")
    assert "chưa có cán bộ nào" in await tap_answer(admin, "BD.01")  # nobody waits in it
    state = h.app.bot_data.services.dialogues.current(SUPERADMIN_ID)
    assert state is not None
    for forged in ("999999", "9" * 20, "-1"):  # unknown, longer than any id, not an id
        data = DialogueChoice("announce", state.token, forged).pack()
        said = await forged_tap(admin, data)
        assert any(words in said for words in ("Không tìm thấy lớp", "chọn bằng các nút")), said
    await admin.tap("Quay lại")
    await admin.expect("Đồng chí gửi thông báo đến ai?")
    await admin.tap("Hủy")
    await admin.expect("không gửi thông báo nào")
    assert await count(h.db, delivery_batches) == await count(h.db, outbox) == 0

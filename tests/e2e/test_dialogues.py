"""Dialogues through the real protocol: they survive a restart, time out, take Back and edits
from the summary, refuse buttons of past steps, and give way to a command."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from bot.actions import DialogueChoice, DialogueNav
from bot.clock import FrozenClock
from bot.domain import DialogueState, NavOp
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, register
from storage.repositories.dialogues import DialogueRepository
from storage.schema import delivery_batches, dialogues, people
from tests.e2e.conftest import (
    SUPERADMIN_ID,
    Harness,
    consent,
    forged_tap,
    no_dialogue_left,
    running_bot,
    tap_answer,
)
from tests.factories import add_person, count


async def test_a_restart_in_the_middle_of_sign_up_resumes_it(harness: Harness) -> None:
    cadre = harness.user(1201, phone="+84987000001")
    await cadre.send("/start")
    await cadre.tap("English")  # chosen before there is a profile to keep it in
    await cadre.tap("I agree")
    await cadre.press("Share my phone number")
    await cadre.expect("full name")
    await cadre.send("Sùng Thị Vân")
    await cadre.expect("unit's name")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.expect("position")

    await harness.restart()

    await cadre.tap("None / Skip")  # a button sent by the bot before the restart
    await cadre.tap("Female")
    await cadre.expect("birth year")
    await cadre.send("1994")
    await cadre.tap("Mông")
    review = await cadre.expect("Please check your details")
    assert "Sùng Thị Vân" in review.text and "Xã Đồng Văn" in review.text
    await cadre.tap("Confirm")
    await cadre.expect("self-declared profile is created")
    async with harness.db.read() as conn:
        row = (await conn.execute(sa.select(people).where(people.c.telegram_id == 1201))).one()
    assert (row.full_name, row.birth_year, row.language) == ("Sùng Thị Vân", 1994, "en")
    await no_dialogue_left(harness.db)


async def test_a_restart_in_the_middle_of_a_profile_edit_resumes_it(harness: Harness) -> None:
    person_id = await add_person(harness.db, "Lù Thị Mai", unit_id=harness.province.commune_id,
                                 telegram_id=1202, source="self", verified=False)  # fmt: skip
    cadre = harness.user(1202)
    await cadre.send("/profile")
    await cadre.tap("Họ tên")
    await cadre.expect("họ và tên")

    await harness.restart()

    await cadre.send("Lù Thị Mai Anh")
    await cadre.expect("Đã lưu")
    async with harness.db.read() as conn:
        name = (
            await conn.execute(sa.select(people.c.full_name).where(people.c.id == person_id))
        ).scalar_one()
    assert name == "Lù Thị Mai Anh"


async def test_an_announcement_waiting_for_confirmation_survives_a_restart(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1203)
    cadre = harness.user(1203)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.expect("Nhập nội dung thông báo")
    await admin.send("Họp giao ban lúc 14:00 thứ Hai.")
    await admin.expect("xác nhận gửi")

    await harness.restart()

    await admin.tap("Gửi")
    await admin.expect("hàng đợi")
    await cadre.expect("Họp giao ban lúc 14:00")
    assert await count(harness.db, delivery_batches) == 1


async def test_a_field_changed_from_the_summary_comes_back_to_the_summary(
    harness: Harness,
) -> None:
    cadre = harness.user(1204, phone="+84987000004")
    await consent(cadre)
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.expect("Bước 1/6")
    await cadre.send("Giàng Thị Dợ")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.tap("Bỏ qua")
    await cadre.tap("Nữ")
    await cadre.send("1990")
    await cadre.tap("Mông")
    await cadre.expect("kiểm tra lại")
    await cadre.tap("Năm sinh")
    await cadre.expect("năm sinh")
    await cadre.send("1991")
    review = await cadre.expect("kiểm tra lại")
    assert "1991" in review.text and "Giàng Thị Dợ" in review.text
    await cadre.tap("Xác nhận")
    await cadre.expect("hồ sơ tự khai báo")


async def test_a_button_of_a_past_step_is_expired_and_the_current_step_is_asked_again(
    harness: Harness,
) -> None:
    cadre = harness.user(1205)
    await consent(cadre)
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.send("Giàng Thị Dợ")
    await cadre.expect("tên đơn vị")
    stale = DialogueChoice("onboarding", "consent", "no").pack()
    assert "bước đã qua" in await forged_tap(cadre, stale)
    await cadre.expect("tên đơn vị")
    assert await count(harness.db, people) == 0


async def test_another_command_ends_an_announcement_and_runs(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1291)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.expect("Nhập nội dung thông báo")
    await admin.send("/help")  # help keeps the dialogue, and asks its question again
    await admin.expect("/announce")
    await admin.expect("Nhập nội dung thông báo")
    await admin.send("/start")  # so does /start: where was I?
    await admin.expect("Nhập nội dung thông báo")
    await admin.send("/mydata")
    await admin.expect("Đã hủy soạn thông báo")
    await admin.expect("Toàn bộ dữ liệu")  # the command itself ran
    await admin.send("Một câu bình thường")
    await admin.expect("chọn chức năng bằng các nút")
    assert await count(harness.db, delivery_batches) == 0


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_an_idle_sign_up_is_over_and_its_draft_forgotten(
    database_kind: str, tmp_path: Path
) -> None:
    clock = FrozenClock(datetime.now(UTC))
    async with running_bot(database_kind, tmp_path, clock=clock) as h:
        cadre = h.user(1206)
        await consent(cadre)
        await cadre.press("Tự khai báo hồ sơ")
        await cadre.expect("họ và tên")
        clock.advance(timedelta(minutes=31))
        await cadre.send("Giàng Thị Dợ")  # no longer taken as the name
        await cadre.expect("Gõ /start để đăng ký")
        assert await h.app.bot_data.services.dialogues.purge() == 1
        assert await count(h.db, dialogues) == 0


async def test_a_dialogue_left_by_an_older_version_is_closed_politely(harness: Harness) -> None:
    now = datetime.now(UTC)
    retired = DialogueState(
        telegram_id=1207, dialogue="retired_dialogue", step="x", history=(), draft={},
        updated_at=now, expires_at=now + timedelta(minutes=10),
    )  # fmt: skip
    async with harness.db.write() as conn:
        await DialogueRepository(conn).save(retired)
    await harness.restart()
    cadre = harness.user(1207)
    await cadre.send("xin chào")
    await cadre.expect("hết hiệu lực")
    await cadre.expect("Gõ /start")
    await no_dialogue_left(harness.db)


async def test_a_send_button_of_a_cancelled_announcement_sends_nothing(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1292)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("Bản nháp MỘT")
    first = await admin.expect("xác nhận gửi")
    send = next(b.callback_data for row in first.buttons for b in row if "Gửi" in b.text)
    assert send is not None
    await admin.tap("Hủy", message_id=first.message_id)
    cancelled = await admin.expect("không gửi thông báo nào")
    assert cancelled.edited and not cancelled.buttons  # the preview's buttons are gone
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("Bản nháp HAI")
    await admin.expect("xác nhận gửi")
    assert "bước đã qua" in await forged_tap(admin, send)  # kept from the cancelled preview
    assert await count(harness.db, delivery_batches) == 0


async def test_typing_at_the_preview_replaces_the_text_and_old_previews_expire(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1293)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("Bản nháp có lỗi chính tả")
    old = await admin.expect("xác nhận gửi")
    await admin.send("Bản nháp đã sửa")
    await admin.expect("Bản nháp đã sửa")
    await admin.expect("xác nhận gửi")
    assert "bước đã qua" in await tap_answer(admin, "Gửi", old.message_id)
    await admin.tap("Gửi")
    await admin.expect("hàng đợi")
    async with harness.db.read() as conn:
        titles = (await conn.execute(sa.select(delivery_batches.c.title))).scalars().all()
    assert titles == ["Bản nháp đã sửa"]


async def test_back_after_not_me_returns_to_the_phone_step(harness: Harness) -> None:
    await add_person(harness.db, "Giàng Thị Mỷ", unit_id=harness.province.commune_id,
                     phone="+84912000777")  # fmt: skip
    cadre = harness.user(1208, phone="+84912000777")
    await consent(cadre)
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.tap("Không phải tôi")
    await cadre.expect("họ và tên")
    await cadre.press("Quay lại")
    await cadre.expect("Chia sẻ số điện thoại")
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.expect("họ và tên")


async def test_back_from_the_summary_after_a_change_goes_to_the_step_before_it(
    harness: Harness,
) -> None:
    cadre = harness.user(1209, phone="+84987000009")
    await consent(cadre)
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.send("Giàng Thị Dợ")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.tap("Bỏ qua")
    await cadre.tap("Nữ")
    await cadre.send("1990")
    await cadre.tap("Mông")
    await cadre.expect("kiểm tra lại")
    await cadre.tap("Họ tên")
    await cadre.press("Quay lại")  # changing one answer: Back returns to the summary
    await cadre.expect("kiểm tra lại")
    await cadre.tap("Họ tên")
    await cadre.send("Giàng Thị Dung")
    review = await cadre.expect("kiểm tra lại")
    assert "Giàng Thị Dung" in review.text
    await forged_tap(cadre, DialogueNav("onboarding", _token(harness, 1209), NavOp.BACK).pack())
    await cadre.expect("dân tộc")  # the step before the summary, not the summary again


async def test_a_record_taken_meanwhile_ends_sign_up_with_the_reason(harness: Harness) -> None:
    person_id = await add_person(harness.db, "Giàng Thị Mỷ", unit_id=harness.province.commune_id,
                                 phone="+84912000888")  # fmt: skip
    cadre = harness.user(1210, phone="+84912000888")
    await consent(cadre)
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.expect("Đây có phải là đồng chí không?")
    services = harness.app.bot_data.services
    await services.people.link(1299, person_id, "+84912000888", "vi", datetime.now(UTC))
    assert "vừa được liên kết với tài khoản khác" in await tap_answer(cadre, "Đúng, là tôi")
    await no_dialogue_left(harness.db)


async def test_a_button_of_another_dialogue_leaves_the_current_one_alone(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1294)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.expect("Nhập nội dung thông báo")
    other = DialogueChoice("profile", _token(harness, SUPERADMIN_ID), "1").pack()
    assert "bước đã qua" in await forged_tap(admin, other)
    await admin.send("Vẫn soạn thông báo")
    await admin.expect("xác nhận gửi")


def _token(harness: Harness, telegram_id: int) -> str:
    state = harness.app.bot_data.services.dialogues.current(telegram_id)
    assert state is not None
    return str(state.token)


class _Asks(Step[Any]):
    async def ask(self, turn: Turn[Any]) -> None:
        await turn.say("Câu hỏi thử")

    async def on_text(self, turn: Turn[Any], text: str) -> Move:
        return Flow.NEXT


class _Breaks(Step[Any]):
    async def ask(self, turn: Turn[Any]) -> None:
        raise RuntimeError("a bug in a question")


@dataclass
class _Nothing:
    pass


async def _no_finish(turn: Turn[Any]) -> None:
    raise AssertionError("never reached")


BREAKING = register(
    Dialogue(name="test_breaking", draft=_Nothing, steps=[_Asks("a"), _Breaks("b")],
             finish=_no_finish, cancelled="announce.cancelled", interrupted="announce.stopped")
)  # fmt: skip


async def test_a_question_that_fails_leaves_the_person_where_they_were(harness: Harness) -> None:
    now = datetime.now(UTC)
    async with harness.db.write() as conn:
        await DialogueRepository(conn).save(
            DialogueState(1211, "test_breaking", "a", (), {}, now, now + timedelta(minutes=5))
        )
    await harness.restart()
    cadre = harness.user(1211)
    await cadre.send("trả lời")
    await cadre.expect("hệ thống gặp sự cố")
    state = harness.app.bot_data.services.dialogues.current(1211)
    assert state is not None and state.step == "a"
    async with harness.db.read() as conn:
        step = (await conn.execute(sa.select(dialogues.c.step))).scalar_one()
    assert step == "a"


async def test_start_during_sign_up_asks_the_current_question_again(harness: Harness) -> None:
    cadre = harness.user(1212)
    await consent(cadre)
    await cadre.press("Tự khai báo hồ sơ")
    await cadre.send("Giàng Thị Dợ")
    await cadre.expect("tên đơn vị")
    await cadre.send("/start")  # the first item of the menu, what a lost person taps
    await cadre.expect("tên đơn vị")
    await cadre.send("dong van")
    await cadre.tap("Xã Đồng Văn")
    await cadre.expect("chức vụ")


async def test_back_from_the_phone_step_takes_the_phone_keyboard_away(harness: Harness) -> None:
    cadre = harness.user(1213)
    await consent(cadre)
    assert cadre.keyboard is not None
    await cadre.press("Quay lại")
    await cadre.expect("Đã quay lại bước trước")
    assert cadre.keyboard is None
    await cadre.expect("dữ liệu cá nhân")
    await cadre.tap("Tôi đồng ý")
    await cadre.expect("Chia sẻ số điện thoại")


async def test_a_newcomers_language_is_kept_after_they_refuse(harness: Harness) -> None:
    cadre = harness.user(1214)
    await cadre.send("/start")
    await cadre.tap("English")
    await cadre.tap("I do not agree")
    await cadre.expect("Nothing")
    await cadre.send("hello")
    await cadre.expect("Type /start")
    assert await count(harness.db, people) == 0

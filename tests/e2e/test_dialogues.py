"""Dialogues through the real protocol: they survive a restart, time out, take Back and edits
from the summary, refuse buttons of past steps, and give way to a command."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.actions import DialogueChoice
from bot.clock import FrozenClock
from bot.domain import DialogueState
from storage.repositories.dialogues import DialogueRepository
from storage.schema import delivery_batches, dialogues, people
from tests.e2e.conftest import (
    SUPERADMIN_ID,
    Harness,
    consent,
    forged_tap,
    no_dialogue_left,
    running_bot,
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
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.expect("Nhập nội dung thông báo")
    await admin.send("/help")
    await admin.expect("Đã hủy soạn thông báo")
    await admin.expect("/announce")  # the help itself
    await admin.send("Một câu bình thường")
    await admin.expect("chọn chức năng trong menu")
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

"""What attacking the bot through the emulator found: odd updates, replays, probes, failures."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa

from bot.actions import OpenPerson, VerifyPerson
from storage.schema import delivery_batches, people
from tests.e2e.conftest import (
    SUPERADMIN_ID,
    Harness,
    consent,
    declare,
    forged_tap,
    tap_answer,
)
from tests.factories import add_person, add_role, count


async def test_an_update_the_library_cannot_read_is_skipped_and_nobody_else_waits(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    cadre = harness.user(1301)
    other = harness.user(1302)
    bot = harness.emulator.bot()
    # A poll without the fields PTB 22 requires, as an older Bot API server sends it.
    await bot.push_update(
        "message",
        {"message_id": 77, "date": 0, "chat": cadre.chat, "from": cadre.user,
         "poll": {"id": "1", "question": "Lò Thị Mai, 0912345678?"}},
    )  # fmt: skip
    await other.send("/help")
    await other.expect("/start")
    await cadre.send("/help")
    await cadre.expect("/start")
    skipped = [r.getMessage() for r in caplog.records if "cannot be read" in r.getMessage()]
    assert len(skipped) == 1
    assert "Lò Thị Mai" not in caplog.text and "0912345678" not in caplog.text


async def test_the_same_update_delivered_twice_is_acted_on_once(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1391)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("Họp lúc 8 giờ")
    preview = await admin.expect("xác nhận gửi")
    send = next(b.callback_data for row in preview.buttons for b in row if "Gửi" in b.text)
    bot = harness.emulator.bot()
    message = bot.messages[(admin.id, preview.message_id)].data
    tap = {"id": bot.new_callback(admin.id), "from": admin.user, "message": message,
           "chat_instance": "1", "data": send}  # fmt: skip
    update_id = bot._next_update_id
    for _ in range(2):  # as a webhook retry brings it again
        bot.updates.append({"update_id": update_id, "callback_query": tap})
    bot._next_update_id += 1
    await bot.push_update("message", {"message_id": 999, "date": 0, "chat": admin.chat,
                                      "from": admin.user, "text": "xong"})  # fmt: skip
    await admin.expect("hàng đợi")
    await admin.expect("chọn chức năng bằng các nút")  # the message after: both were read
    assert await count(harness.db, delivery_batches) == 1


async def test_a_foreign_number_shared_as_a_contact_never_matches_the_roster(
    harness: Harness,
) -> None:
    # A Vietnamese landline on the roster, and a Cape Verde mobile that reads like it
    # when the plus Telegram leaves out is not put back.
    await add_person(harness.db, "Lò Văn Hải", unit_id=harness.province.commune_id,
                     phone="+842389912345")  # fmt: skip
    cadre = harness.user(1303, phone="2389912345")
    await consent(cadre)
    await cadre.press("Chia sẻ số điện thoại")
    await cadre.expect("chưa có trong danh sách")
    # The number is kept as it is, international, in the profile the cadre declares.
    review = await declare(cadre, "Lò Văn Hải", "noi vu", "Sở Nội vụ", gender="Nam")
    assert "+238" in review.text
    async with harness.db.read() as conn:
        phones = (await conn.execute(sa.select(people.c.phone, people.c.telegram_id))).all()
    assert sorted(phones, key=str) == sorted([("+842389912345", None), ("+2389912345", 1303)],
                                             key=str)  # fmt: skip


async def test_odd_input_gets_an_answer_not_an_apology(harness: Harness) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1392)
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/delivery ²")
    await admin.expect("/delivery số_đợt")
    await admin.send("/people lo\x00van")
    await admin.expect("Không tìm thấy")
    assert "hết hiệu lực" in await forged_tap(admin, "person:" + "9" * 20)
    assert "hết hiệu lực" in await forged_tap(admin, OpenPerson(1).pack() + "\n")
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("😀" * 2100)  # 4,200 units as Telegram counts: over the limit
    refused = await admin.expect("4.200")
    assert "3.500" in refused.text
    assert await count(harness.db, delivery_batches) == 0
    assert not any("sự cố" in m.body for m in admin.inbox)


async def test_probes_learn_nothing_about_who_exists(harness: Harness) -> None:
    commune = harness.province.commune_id
    learner_id = await add_person(harness.db, "Hoàng Văn Nam", unit_id=commune, telegram_id=1304)
    head_id = await add_person(harness.db, "Sùng Mí Chá", unit_id=harness.province.commune_id,
                               telegram_id=1305)  # fmt: skip
    await add_role(harness.db, head_id, "unit_head", harness.province.commune_id)
    outside = await add_person(harness.db, "Lê Văn Tám", unit_id=harness.province.department_id,
                               source="self", verified=False, telegram_id=1306)  # fmt: skip
    learner, head = harness.user(1304), harness.user(1305)
    await learner.send("/help")
    await learner.expect("/profile")
    answers = {await forged_tap(learner, OpenPerson(pid).pack()) for pid in (learner_id, 999)}
    assert len(answers) == 1 and "chỉ dành cho" in answers.pop()
    await head.send("/help")
    await head.expect("/pending")
    answers = {await forged_tap(head, VerifyPerson(pid).pack()) for pid in (outside, 999)}
    assert len(answers) == 1 and "Không tìm thấy" in answers.pop()


async def test_a_failure_after_a_tap_still_gets_an_apology(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    await add_person(harness.db, "Sầm Thị Nguyệt", unit_id=harness.province.commune_id,
                     telegram_id=1307)  # fmt: skip
    cadre = harness.user(1307)
    await cadre.send("/profile")
    await cadre.expect("Sầm Thị Nguyệt")
    async with harness.db.write() as conn:  # the database loses a table under the bot's feet
        await conn.execute(sa.text("ALTER TABLE consents RENAME TO consents_gone"))
    try:
        with caplog.at_level(logging.CRITICAL):  # the traceback is expected here
            assert await tap_answer(cadre, "Dữ liệu của tôi") == ""
            await cadre.expect("hệ thống gặp sự cố")
    finally:
        async with harness.db.write() as conn:
            await conn.execute(sa.text("ALTER TABLE consents_gone RENAME TO consents"))


async def test_a_revoked_administrator_pressing_send_is_told_and_nothing_is_sent(
    harness: Harness,
) -> None:
    admin_id = await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                                telegram_id=1308)  # fmt: skip
    await add_role(harness.db, admin_id, "admin")
    await add_person(harness.db, "Mùa A Dế", unit_id=harness.province.commune_id, telegram_id=1393)
    admin = harness.user(1308)
    await admin.send("/announce")
    await admin.tap("Tất cả cán bộ")
    await admin.send("Họp lúc 8 giờ")
    await admin.expect("xác nhận gửi")
    async with harness.db.write() as conn:
        await conn.execute(sa.text("DELETE FROM roles"))
    harness.app.bot_data.services.access.changed()
    assert "chỉ dành cho" in await tap_answer(admin, "Gửi")
    assert await count(harness.db, delivery_batches) == 0
    await admin.send("Một câu khác")
    await admin.expect("chọn chức năng bằng các nút")  # the dialogue is over

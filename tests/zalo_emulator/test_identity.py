"""Who a Zalo user is, on the real bot reached from Zalo: a typed phone number proves nothing,
so the full name is asked after it and nothing of a record is shown before both match it;
a matching roster record is linked unconfirmed until a unit head confirms it; one already on
Telegram is joined by a one-time code sent to its Telegram chat, which is then told."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from bot.errors import PermissionDenied
from bot.services import Services
from storage.schema import outbox, people, units
from tests.e2e.conftest import Both
from tests.factories import add_class, add_person, add_role
from tests.zalo_emulator.test_bridge import Running, running  # noqa: F401  (the fixture)
from tools.zalo_emulator import ZaloUser

PHONE = "+84912345678"
#: What a Zalo user reads after a number and a name that match no roster record.
NOT_FOUND = "Không tìm thấy hồ sơ nào trong danh sách cán bộ của tỉnh khớp với"


def _services(running: Running) -> Services:  # noqa: F811
    services = running.app.bot_data.services
    assert services is not None
    return services


async def _commune(services: Services) -> int:
    async with services.db.read() as conn:
        found = await conn.execute(sa.select(units.c.id).where(units.c.code == "XA.DONGVAN"))
        return int(found.scalar_one())


async def _to_the_number(user: ZaloUser) -> None:
    """Consent given, the phone number asked for."""
    await user.send("/start")
    await user.expect("Tôi đồng ý", timeout=10)
    await user.send("1")
    await user.expect("gõ số điện thoại")


async def _linked_to(services: Services, person_id: int) -> int | None:
    async with services.db.read() as conn:
        found = await conn.execute(sa.select(people.c.telegram_id).where(people.c.id == person_id))
        return found.scalar_one()


async def _codes_sent(services: Services) -> int:
    async with services.db.read() as conn:
        found = await conn.execute(
            sa.select(sa.func.count()).where(outbox.c.kind == "zalo_link_code")
        )
        return int(found.scalar_one())


async def test_a_typed_phone_links_the_record_until_its_unit_head_confirms(
    running: Running,  # noqa: F811
) -> None:
    services = _services(running)
    commune = await _commune(services)
    tu = await add_person(services.db, "Cà Văn Tú", unit_id=commune, phone=PHONE)
    head = await add_person(services.db, "Vì Văn Sơn", unit_id=commune, telegram_id=55)
    await add_role(services.db, head, "unit_head", commune)

    user = running.zemu.user("Tú")
    await user.send("/start")
    await user.expect("Tôi đồng ý", timeout=10)
    await user.send("1")
    asked = await user.expect("gõ số điện thoại")
    assert "Chia sẻ" not in asked.text and "1 · ✍️ Tự khai báo hồ sơ" in asked.text
    await user.send("xin chào")
    await user.expect("Vui lòng gõ số điện thoại")
    await user.send("0912 345 678")
    await user.expect("Họ và tên đầy đủ của đồng chí?")
    await user.send("ca van  TU")  # as typed on a phone: no marks, odd spacing and case
    linked = await user.expect("yêu cầu liên kết")
    assert "Cà Văn Tú" in linked.text and "chờ thủ trưởng đơn vị xác nhận" in linked.text

    boss = await services.access.actor(55)
    waiting = await services.people.pending(boss)
    assert [p.id for p in waiting.people] == [tu]
    assert not waiting.people[0].verified
    await services.people.verify(boss, tu)
    await user.expect("Hồ sơ của đồng chí đã được xác nhận", timeout=10)  # told on Zalo


async def test_a_typed_roster_number_with_another_name_shows_nothing_and_links_nothing(
    running: Running,  # noqa: F811
) -> None:
    services = _services(running)
    commune = await _commune(services)
    tu = await add_person(services.db, "Cà Văn Tú", unit_id=commune, phone=PHONE, birth_year=1984)
    mai = await add_person(
        services.db, "Lò Thị Mai", unit_id=commune, phone="+84987654321", telegram_id=77
    )

    # A number off the roster: the same question, then "not found" and a profile to declare.
    off = running.zemu.user("Khách")
    await _to_the_number(off)
    await off.send("0977 000 111")
    off_asked = await off.next_message()
    await off.send("Cà Văn Tú")
    off_answer = await off.next_message()
    assert off_answer.startswith(NOT_FOUND)

    stranger = running.zemu.user("Lạ")
    await _to_the_number(stranger)
    await stranger.send("0912 345 678")
    assert await stranger.next_message() == off_asked  # the question tells nothing either
    await stranger.send("Cà Văn Tuấn")
    assert await stranger.next_message() == off_answer
    await stranger.expect("Họ tên: Cà Văn Tuấn.")  # the declared profile goes on
    await stranger.expect("đơn vị")
    # The record's card never came: not its name, its unit or its birth year.
    seen = "\n".join(message.text for message in stranger.inbox)
    assert "Cà Văn Tú" not in seen and "1984" not in seen and "Xã Đồng Văn" not in seen
    assert await _linked_to(services, tu) is None

    # The same for a record on Telegram: no code is sent to it.
    await stranger.send("quay lai")  # back to the phone number
    await stranger.expect("gõ số điện thoại")
    await stranger.send("0987 654 321")
    await stranger.expect("Họ và tên đầy đủ")
    await stranger.send("Lò Thị Hoa")
    assert await stranger.next_message() == off_answer
    assert await _codes_sent(services) == 0
    assert await _linked_to(services, mai) == 77

    # Three names in a sign-up: from then on, a number is not looked up at all.
    await stranger.send("quay lai")
    await stranger.expect("gõ số điện thoại")
    await stranger.send("0912 345 678")
    await stranger.expect("Họ và tên đầy đủ")
    await stranger.send("Cà Văn Tám")
    assert await stranger.next_message() == off_answer
    await stranger.send("quay lai")
    await stranger.expect("gõ số điện thoại")
    await stranger.send("0912 345 678")
    assert await stranger.next_message() == off_answer  # not even the right name is asked
    assert await _linked_to(services, tu) is None


async def test_a_code_from_telegram_joins_the_zalo_user_who_is_then_told_on_telegram(
    both: Both,
) -> None:
    services: Services = both.harness.app.bot_data.services
    mai_telegram = both.harness.user(77)  # Mai's Telegram chat, where the code goes
    await add_person(
        services.db, "Lò Thị Mai", unit_id=both.harness.province.commune_id, phone=PHONE,
        telegram_id=77,
    )  # fmt: skip

    mai = both.zemu.user("Mai")
    await _to_the_number(mai)
    await mai.send("0912345678")
    await mai.expect("Họ và tên đầy đủ")
    await mai.send("Lò Thị Mai")
    asked = await mai.expect("mã 6 số")
    assert "1 · 🔁 Gửi lại mã" in asked.text and "Telegram" not in asked.text
    assert "Lò Thị Mai" not in "\n".join(message.text for message in mai.inbox)
    sent = await mai_telegram.expect("Mã xác nhận", timeout=10)
    found = re.search(r"Mã xác nhận: (\d{6})", sent.body)
    assert found is not None
    code = found[1]

    await mai.send("000000" if code != "000000" else "111111")
    wrong = await mai.expect("Mã không đúng")
    assert "còn 4 lần" in wrong.text
    await mai.send(code)
    joined = await mai.expect("Tài khoản Zalo đã được liên kết")
    assert "Lò Thị Mai" in joined.text
    told = await mai_telegram.expect("cũng được dùng trên Zalo", timeout=10)
    assert "Nếu không phải đồng chí" in told.body and not told.labels  # nothing to tap
    async with services.db.read() as conn:
        asked_heads = await conn.scalar(
            sa.select(sa.func.count()).where(outbox.c.kind == "verify_request")
        )
    assert asked_heads == 0  # the code proved it: the unit head has nothing to do

    # From the next message on, the bridge presents this Zalo user as Mai's Telegram id.
    assert await both.zalo.bridge.accounts.presented(mai.id) == 77
    await mai.send("/profile")
    profile = await mai.expect("Lò Thị Mai")
    assert "0912 345 678" in profile.text


#: What the holder of an unconfirmed typed link reads, whatever they ask of the record.
AWAITS = "Hồ sơ của đồng chí đang chờ thủ trưởng đơn vị xác nhận"


async def test_an_unconfirmed_typed_link_sees_and_does_nothing_until_its_head_undoes_it(
    both: Both,
) -> None:
    services: Services = both.harness.app.bot_data.services
    commune = both.harness.province.commune_id
    tu = await add_person(services.db, "Cà Văn Tú", unit_id=commune, phone=PHONE, birth_year=1984)
    head = await add_person(services.db, "Vì Văn Sơn", unit_id=commune, telegram_id=55)
    await add_role(services.db, head, "unit_head", commune)
    class_id = await add_class(services.db, "ZL.01")
    boss = both.harness.user(55)
    await boss.send("/start")  # a chat the bot can write to
    await boss.expect("Chào mừng")

    stranger = both.zemu.user("Lạ")
    await _to_the_number(stranger)
    await stranger.send("0912 345 678")
    await stranger.expect("Họ và tên đầy đủ")
    await stranger.send("Cà Văn Tú")
    await stranger.expect("chờ thủ trưởng đơn vị xác nhận")
    for asked in ("/profile", "/mydata", "/schedule", "/record", "/leave"):
        await stranger.send(asked)
        await stranger.expect(AWAITS)
    seen = "\n".join(message.text for message in stranger.inbox)
    assert "1984" not in seen and "Đồng Văn" not in seen  # nor the card, nor anything of it

    # The services refuse it too, whatever a menu or a forged answer asks.
    account = await both.zalo.bridge.accounts.presented(stranger.id)
    actor = await services.access.actor(account)
    for attempt in (
        services.enrolment.enrol(actor, class_id, clashes_seen=True),
        services.enrolment.withdraw(actor, class_id),
        services.checkin.by_code(actor, "123456"),
        services.leave.ask(actor, 1, "ốm"),
        services.people.export(account),
    ):
        with pytest.raises(PermissionDenied, match=r"profile\.awaits_head"):
            await attempt

    # The head undoes it from the card, asked first.
    request = await boss.expect("số điện thoại tự nhập trên Zalo", timeout=10)
    await boss.tap("Xem hồ sơ", request.message_id)
    card = await boss.expect("Đã liên kết Zalo")
    assert "Telegram" not in card.body
    await boss.tap("🚫 Không phải người này", card.message_id)
    question = await boss.expect("Chắc chắn")
    assert await _linked_to(services, tu) == account  # nothing done before the answer
    assert "Đồng chí ấy sẽ được báo qua Zalo." in question.body
    await boss.tap("✅ Xác nhận", question.message_id)
    await boss.expect("Chưa liên kết trợ lý")
    assert await _linked_to(services, tu) is None
    await stranger.expect("liên kết đã được hủy", timeout=10)

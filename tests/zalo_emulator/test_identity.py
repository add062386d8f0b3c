"""Who a Zalo user is, on the real bot reached from Zalo: a typed phone number links a roster
record unconfirmed until a unit head confirms it; a record already on Telegram is joined by a
one-time code sent to its Telegram chat."""

from __future__ import annotations

import sqlalchemy as sa

from bot.services import Services
from storage.schema import outbox, units
from tests.factories import add_person, add_role
from tests.zalo_emulator.test_bridge import Running, running  # noqa: F401  (the fixture)

PHONE = "+84912345678"


def _services(running: Running) -> Services:  # noqa: F811
    services = running.app.bot_data.services
    assert services is not None
    return services


async def _commune(services: Services) -> int:
    async with services.db.read() as conn:
        found = await conn.execute(sa.select(units.c.id).where(units.c.code == "XA.DONGVAN"))
        return int(found.scalar_one())


async def _sent_code(services: Services, to: int) -> str:
    async with services.db.read() as conn:
        payload = (
            await conn.execute(
                sa.select(outbox.c.payload)
                .where(outbox.c.kind == "zalo_link_code", outbox.c.chat_id == to)
                .order_by(outbox.c.id.desc())
            )
        ).first()
    assert payload is not None
    return str(payload[0]["params"]["code"])


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
    await user.expect("Cà Văn Tú")  # is this you?
    await user.send("1")
    linked = await user.expect("đã được liên kết")
    assert "thủ trưởng đơn vị sẽ xác nhận" in linked.text

    boss = await services.access.actor(55)
    waiting = await services.people.pending(boss)
    assert [p.id for p in waiting.people] == [tu]
    assert not waiting.people[0].verified
    await services.people.verify(boss, tu)
    await user.expect("Hồ sơ của đồng chí đã được xác nhận", timeout=10)  # told on Zalo


async def test_a_code_from_telegram_joins_the_zalo_user_to_the_person(
    running: Running,  # noqa: F811
) -> None:
    services = _services(running)
    commune = await _commune(services)
    await add_person(services.db, "Lò Thị Mai", unit_id=commune, phone=PHONE, telegram_id=77)

    mai = running.zemu.user("Mai")
    await mai.send("/start")
    await mai.expect("Tôi đồng ý", timeout=10)
    await mai.send("1")
    await mai.expect("gõ số điện thoại")
    await mai.send("0912345678")
    asked = await mai.expect("mã 6 số")
    assert "1 · 🔁 Gửi lại mã" in asked.text and "Telegram" not in asked.text
    code = await _sent_code(services, 77)

    await mai.send("000000" if code != "000000" else "111111")
    wrong = await mai.expect("Mã không đúng")
    assert "còn 4 lần" in wrong.text
    await mai.send(code)
    joined = await mai.expect("Tài khoản Zalo đã được liên kết")
    assert "Lò Thị Mai" in joined.text

    # From the next message on, the bridge presents this Zalo user as Mai's Telegram id.
    assert await running.bridge.accounts.presented(mai.id) == 77
    await mai.send("/profile")
    profile = await mai.expect("Lò Thị Mai")
    assert "0912 345 678" in profile.text

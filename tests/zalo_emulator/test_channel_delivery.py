"""The outbox on both channels at once: the Telegram application leads (against the Telegram
emulator) and sends Zalo's messages through the Zalo channel (bridge and Zalo emulator)."""

from __future__ import annotations

import sqlalchemy as sa

from bot.actions import MuteClass
from bot.delivery.model import NewMessage
from storage.repositories.outbox import OutboxRepository
from storage.schema import outbox, zalo_accounts
from tests.e2e.conftest import Both
from tests.factories import add_person
from tools.zalo_emulator.users import ZaloUser

REMINDER = (
    "⏰ <b>Nhắc lịch học ngày mai</b>\n📘 Bồi dưỡng kỹ năng số (KNS-01) · buổi 2\n"
    "🕗 07:30–11:00\n📍 Hội trường tầng 2"
)


async def _met(both: Both, name: str) -> tuple[ZaloUser, int]:
    """A Zalo user who wrote once (so the bot knows their account), and its number."""
    user = both.zemu.user(name)
    await user.send("/start")
    await user.expect("Tôi đồng ý", timeout=10)
    return user, await both.zalo.bridge.accounts.presented(user.id)


async def _queue(both: Both, key: str, chat_id: int, person_id: int) -> None:
    payload = {
        "text": REMINDER,
        "buttons": [[{"key": "reminder.mute_class", "data": MuteClass(7).pack()}]],
    }
    async with both.harness.db.write() as conn:
        await OutboxRepository(conn).add(
            [NewMessage(key, chat_id, "reminder", payload, person_id=person_id)]
        )
    both.harness.app.bot_data.services.delivery.wake()


async def _states(both: Both) -> dict[str, str]:
    async with both.harness.db.read() as conn:
        return dict((await conn.execute(sa.select(outbox.c.dedup_key, outbox.c.state))).all())


async def test_a_reminder_reaches_a_zalo_only_cadre_as_plain_text(both: Both) -> None:
    lan, number = await _met(both, "Lan")
    commune = both.harness.province.commune_id
    person = await add_person(both.harness.db, "Lò Thị Lan", unit_id=commune, telegram_id=number)
    await _queue(both, "reminder:lan", number, person)

    shown = await lan.expect("Nhắc lịch học ngày mai", timeout=10)
    assert "<b>" not in shown.text and "<" not in (shown.raw or "")
    assert "📍 Hội trường tầng 2" in shown.text
    assert "1 · 🔕 Tắt nhắc lịch lớp này" in shown.text
    await lan.no_message(0.5)
    assert (await _states(both))["reminder:lan"] == "sent"


async def test_a_cadre_on_both_gets_a_reminder_once_on_each(both: Both) -> None:
    mai_tg = both.harness.user(5001)
    mai_zalo, _ = await _met(both, "Mai")
    commune = both.harness.province.commune_id
    person = await add_person(both.harness.db, "Hà Thị Mai", unit_id=commune, telegram_id=5001)
    async with both.harness.db.write() as conn:  # joined, as the one-time code does it
        await conn.execute(
            sa.update(zalo_accounts)
            .where(zalo_accounts.c.zalo_id == mai_zalo.id)
            .values(person_id=person)
        )
    await _queue(both, "reminder:mai", 5001, person)

    on_telegram = await mai_tg.expect("Nhắc lịch học ngày mai", timeout=10)
    assert on_telegram.labels == ["🔕 Tắt nhắc lịch lớp này"]
    on_zalo = await mai_zalo.expect("Nhắc lịch học ngày mai", timeout=10)
    assert "<b>" not in on_zalo.text and "1 · 🔕 Tắt nhắc lịch lớp này" in on_zalo.text
    await mai_tg.no_message(0.5)
    await mai_zalo.no_message(0.1)
    assert await _states(both) == {"reminder:mai": "sent", "reminder:mai:zalo": "sent"}

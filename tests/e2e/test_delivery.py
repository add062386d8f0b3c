"""The delivery engine through the emulator: limits, 429, 403, 5xx, reports."""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.delivery.model import NewMessage
from storage.repositories.outbox import OutboxRepository
from storage.schema import outbox, unreachable_chats
from tests.e2e.conftest import SUPERADMIN_ID, Harness, running_bot
from tests.factories import add_person
from tools.emulator.faults import Faults, FaultSpec


async def enqueue(h: Harness, chats: list[int], prefix: str = "m") -> list[str]:
    keys = [f"{prefix}:{i}" for i in range(len(chats))]
    async with h.db.write() as conn:
        await OutboxRepository(conn).add(
            [
                NewMessage(key, chat, "test", {"text": f"tin {key}"})
                for key, chat in zip(keys, chats, strict=True)
            ]
        )
    h.app.bot_data.services.delivery.wake()
    return keys


async def states(h: Harness) -> Counter[str]:
    async with h.db.read() as conn:
        return Counter((await conn.execute(sa.select(outbox.c.state))).scalars())


async def settled(h: Harness, total: int, seconds: float = 15.0) -> Counter[str]:
    for _ in range(int(seconds / 0.05)):
        counts = await states(h)
        if sum(v for k, v in counts.items() if k not in ("pending", "sending")) >= total:
            return counts
        await asyncio.sleep(0.05)
    raise AssertionError(f"outbox not settled: {await states(h)}")


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_limits_are_respected_overall_and_per_chat(
    database_kind: str, tmp_path: Path
) -> None:
    faults = Faults(overall_per_s=20, private_chat_per_s=1)
    # The bot is told a little less than the server allows: requests reach the server with
    # the jitter of a loaded machine, which can bunch two paced sends into one window.
    async with running_bot(
        database_kind, tmp_path, faults=faults, send_rate_per_s=18, send_rate_per_chat_s=0.9
    ) as h:
        chats = [5000 + i % 20 for i in range(40)]  # 20 chats, two messages each
        for chat in set(chats):
            h.user(chat)
        await enqueue(h, chats)
        counts = await settled(h, 40)
        delivered = h.emulator.delivered()
    assert counts == {"sent": 40}
    assert h.emulator.stats.rate_limited == 0
    assert len({d.text for d in delivered}) == 40
    by_chat: dict[int, list[float]] = {}
    for d in delivered:
        by_chat.setdefault(d.chat_id, []).append(d.monotonic)
    gaps = [b - a for times in by_chat.values() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.0


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_429_is_honoured_and_nothing_is_lost_or_doubled(
    database_kind: str, tmp_path: Path
) -> None:
    faults = Faults(overall_per_s=5)  # the server allows less than the bot is told
    async with running_bot(database_kind, tmp_path, faults=faults, send_rate_per_s=50) as h:
        chats = list(range(6000, 6015))
        for chat in chats:
            h.user(chat)
        await enqueue(h, chats)
        counts = await settled(h, 15, seconds=20)
        delivered = h.emulator.delivered()
    assert counts == {"sent": 15}
    assert h.emulator.stats.rate_limited > 0
    assert sorted(d.text for d in delivered) == sorted({d.text for d in delivered})
    # After each 429 the sender waited: no burst of rejected requests.
    assert h.emulator.stats.rate_limited < 15


async def test_blocked_chats_are_marked_unreachable_until_they_write_again(
    database_kind: str, tmp_path: Path
) -> None:
    async with running_bot(database_kind, tmp_path, refusals_allowed=("blocked",)) as h:
        await add_person(h.db, "Vàng Thị Mỷ", unit_id=h.province.commune_id, telegram_id=7001)
        user = h.user(7001)
        h.emulator.faults.blocked.add(7001)
        await enqueue(h, [7001, 7001, 7001], prefix="b")
        counts = await settled(h, 3)
        assert counts == {"unreachable": 3}
        assert h.emulator.stats.methods["sendMessage"] == 1  # one try, no retry storm
        async with h.db.read() as conn:
            assert (await conn.execute(sa.select(unreachable_chats.c.chat_id))).scalars().all() == [
                7001
            ]

        h.emulator.faults.blocked.discard(7001)
        await user.send("/help")  # writing again makes the chat reachable
        await user.expect("/profile")
        await enqueue(h, [7001], prefix="again")
        await user.expect("tin again:0")
        async with h.db.read() as conn:
            assert (await conn.execute(sa.select(unreachable_chats))).all() == []


async def test_blocking_the_bot_is_learnt_from_my_chat_member(
    database_kind: str, tmp_path: Path
) -> None:
    async with running_bot(database_kind, tmp_path) as h:
        user = h.user(7002)
        await user.send("/help")
        await user.expect("/start")
        await user.block()
        for _ in range(100):
            async with h.db.read() as conn:
                marked = (
                    (await conn.execute(sa.select(unreachable_chats.c.chat_id))).scalars().all()
                )
            if marked:
                break
            await asyncio.sleep(0.02)
        assert marked == [7002]
        calls = h.emulator.stats.methods["sendMessage"]
        await enqueue(h, [7002], prefix="blocked")
        assert await settled(h, 1) == {"unreachable": 1}
        assert h.emulator.stats.methods["sendMessage"] == calls  # not even tried


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_5xx_and_dropped_connections_are_retried(database_kind: str, tmp_path: Path) -> None:
    faults = Faults(server_error=FaultSpec(every_nth=3), drop=FaultSpec(every_nth=5))
    async with running_bot(database_kind, tmp_path, faults=faults) as h:
        chats = list(range(7100, 7110))
        for chat in chats:
            h.user(chat)
        await enqueue(h, chats, prefix="r")
        counts = await settled(h, 10, seconds=20)
        async with h.db.read() as conn:
            attempts = (await conn.execute(sa.select(sa.func.max(outbox.c.attempts)))).scalar()
    assert counts == {"sent": 10}
    assert h.emulator.stats.server_errors > 0 and h.emulator.stats.dropped > 0
    assert attempts >= 2
    assert len(h.emulator.delivered()) == 10


async def test_an_announcement_reaches_cadres_and_reports_the_unreachable_by_unit(
    database_kind: str, tmp_path: Path
) -> None:
    async with running_bot(database_kind, tmp_path, refusals_allowed=("blocked",)) as h:
        for i, name in enumerate(["Lò Văn A", "Lò Văn B", "Lò Văn C"]):
            await add_person(h.db, name, unit_id=h.province.commune_id, telegram_id=7200 + i)
            h.user(7200 + i)
        h.emulator.faults.blocked.add(7202)
        admin = h.user(SUPERADMIN_ID)
        await admin.send("/announce")
        await admin.tap("Tất cả cán bộ")
        await admin.expect("gửi đến 3 cán bộ")
        await admin.send("Họp trực tuyến lúc 14:00 <thứ Sáu> & đúng giờ")
        preview = await admin.expect("Thông báo")
        assert "<thứ Sáu> & đúng giờ" in preview.text
        await admin.tap("Gửi")
        await admin.expect("đưa vào hàng đợi")
        first = h.user(7200)
        notice = await first.expect("Họp trực tuyến")
        assert "<thứ Sáu>" in notice.text
        await settled(h, 3)
        await admin.tap("Cập nhật báo cáo")
        report = await admin.expect("Không liên lạc được: 1")
        assert "Đã gửi: 2" in report.text
        assert "Xã Đồng Văn" in report.text and "Lò Văn C" in report.text


async def test_a_learner_cannot_announce_or_read_reports(harness: Harness) -> None:
    await add_person(harness.db, "Lò Văn D", unit_id=harness.province.commune_id, telegram_id=7300)
    learner = harness.user(7300)
    await learner.send("/announce")
    await learner.expect("chỉ dành cho cán bộ quản lý")
    await learner.send("/delivery 1")
    await learner.expect("chỉ dành cho cán bộ quản lý")
    assert await states(harness) == Counter()


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_a_person_is_answered_at_once_while_a_broadcast_is_under_way(
    database_kind: str, tmp_path: Path
) -> None:
    async with running_bot(database_kind, tmp_path, send_rate_per_s=10) as h:
        chats = list(range(7400, 7450))  # five seconds of outbox at 10/s
        for chat in chats:
            h.user(chat)
        await enqueue(h, chats, prefix="flood")
        await asyncio.sleep(0.5)
        cadre = h.user(7499)
        started = asyncio.get_running_loop().time()
        await cadre.send("/help")
        await cadre.expect("/start")
        answered_in = asyncio.get_running_loop().time() - started
        pending = (await states(h))["pending"]
    assert answered_in < 1.0
    assert pending > 20  # the broadcast was still going


async def test_the_bot_stays_silent_in_groups(harness: Harness) -> None:
    await add_person(harness.db, "Lò Văn E", unit_id=harness.province.commune_id, telegram_id=7500)
    group = harness.emulator.add_chat(-100500, title="Lớp bồi dưỡng")
    member = harness.user(7500)
    bot = harness.emulator.bot()
    for text in ("/mydata", "/profile", "/people lo van"):
        await bot.push_update(
            "message",
            {"message_id": 1, "date": 0, "chat": group, "from": member.user, "text": text,
             "entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]},
        )  # fmt: skip
    await member.send("/help")  # a private message after them is answered: nothing was stuck
    await member.expect("/profile")
    assert [d.chat_id for d in harness.emulator.delivered()] == [7500]

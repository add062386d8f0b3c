"""Dialogues in progress: written at every step, read back after a restart, purged when idle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import FrozenClock
from bot.domain import DialogueState
from bot.services.dialogues import DialogueStore
from storage.database import Database
from storage.schema import dialogues
from tests.factories import count

START = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def _state(telegram_id: int, step: str = "name") -> DialogueState:
    return DialogueState(
        telegram_id=telegram_id, dialogue="onboarding", step=step, history=("consent", "contact"),
        draft={"full_name": "Lò Thị Dung", "language": "en"}, updated_at=START, expires_at=START,
        return_to="review",
    )  # fmt: skip


async def test_a_new_process_reads_the_dialogues_where_they_were(db: Database) -> None:
    clock = FrozenClock(START)
    before = DialogueStore(db, clock)
    saved = await before.save(_state(1), timedelta(minutes=30))
    assert saved.expires_at == START + timedelta(minutes=30)
    await before.save(_state(1, step="unit"), timedelta(minutes=30))  # the next step
    await before.save(_state(2), timedelta(minutes=30))
    await before.end(2)

    after = DialogueStore(db, clock)  # a restart
    assert await after.load() == 1
    resumed = after.current(1)
    assert resumed is not None
    assert (resumed.step, resumed.history, resumed.return_to) == (
        "unit", ("consent", "contact"), "review",
    )  # fmt: skip
    assert resumed.draft == {"full_name": "Lò Thị Dung", "language": "en"}
    assert after.current(2) is None


async def test_an_idle_dialogue_is_over_at_once_and_purged_later(db: Database) -> None:
    clock = FrozenClock(START)
    store = DialogueStore(db, clock)
    await store.save(_state(1), timedelta(minutes=30))
    await store.save(_state(2), timedelta(minutes=60))
    clock.advance(timedelta(minutes=31))
    assert store.current(1) is None and store.current(2) is not None
    assert await store.purge() == 1
    assert await count(db, dialogues) == 1
    assert await DialogueStore(db, clock).load() == 1

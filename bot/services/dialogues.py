"""Dialogues in progress: kept in the database, mirrored in memory.

Every step is written before the bot answers it, so a restart (a deploy, a crash) resumes
each dialogue at the same step with the same draft. The mirror answers "is this person in a
dialogue?" for every update without a query; it stays exact because one process polls
Telegram for a bot, and every change goes through here. A dialogue idle past its timeout is
over: it is ignored at once, and its row (with the personal data of its draft) is purged.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from bot.clock import Clock
from bot.domain import DialogueState
from storage.database import Database
from storage.repositories.dialogues import DialogueRepository


class DialogueStore:
    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._current: dict[int, DialogueState] = {}

    async def load(self) -> int:
        """Reads the dialogues still in progress; at start, before the first update."""
        async with self.db.read() as conn:
            active = await DialogueRepository(conn).active(self.clock.now())
        self._current = {state.telegram_id: state for state in active}
        return len(active)

    def current(self, telegram_id: int) -> DialogueState | None:
        state = self._current.get(telegram_id)
        if state is not None and state.expires_at <= self.clock.now():
            return None
        return state

    async def save(self, state: DialogueState, idle: timedelta) -> DialogueState:
        """Writes the state as of now; its idle timeout starts again."""
        now = self.clock.now()
        state = replace(state, updated_at=now, expires_at=now + idle)
        async with self.db.write() as conn:
            await DialogueRepository(conn).save(state)
        self._current[state.telegram_id] = state
        return state

    async def restore(self, state: DialogueState) -> None:
        """Puts back a state read earlier, as it was (an update that failed changes nothing)."""
        async with self.db.write() as conn:
            await DialogueRepository(conn).save(state)
        self._current[state.telegram_id] = state

    async def end(self, telegram_id: int) -> None:
        async with self.db.write() as conn:
            await DialogueRepository(conn).delete(telegram_id)
        self._current.pop(telegram_id, None)

    async def purge(self) -> int:
        """Forgets abandoned dialogues, in the database and here."""
        now = self.clock.now()
        async with self.db.write() as conn:
            purged = await DialogueRepository(conn).purge(now)
        for telegram_id, state in list(self._current.items()):
            if state.expires_at <= now:
                del self._current[telegram_id]
        return purged

"""Dialogues in progress, one row per person, rewritten at every step."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import DialogueState
from storage.schema import dialogues


def _state(row: Any) -> DialogueState:
    return DialogueState(
        telegram_id=row.telegram_id,
        dialogue=row.dialogue,
        step=row.step,
        history=tuple(row.state.get("history", ())),
        return_to=row.state.get("return_to"),
        draft=dict(row.state.get("draft", {})),
        run=str(row.state.get("run", "")),
        asked=int(row.state.get("asked", 0)),
        updated_at=row.updated_at,
        expires_at=row.expires_at,
    )


class DialogueRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def active(self, now: datetime) -> list[DialogueState]:
        rows = await self.conn.execute(sa.select(dialogues).where(dialogues.c.expires_at > now))
        return [_state(r) for r in rows]

    async def save(self, state: DialogueState) -> None:
        values = {
            "telegram_id": state.telegram_id,
            "dialogue": state.dialogue,
            "step": state.step,
            "state": {
                "history": list(state.history),
                "return_to": state.return_to,
                "draft": state.draft,
                "run": state.run,
                "asked": state.asked,
            },
            "updated_at": state.updated_at,
            "expires_at": state.expires_at,
        }
        insert = (sqlite if self.conn.dialect.name == "sqlite" else postgresql).insert(dialogues)
        await self.conn.execute(
            insert.values(values).on_conflict_do_update(
                index_elements=["telegram_id"],
                set_={k: v for k, v in values.items() if k != "telegram_id"},
            )
        )

    async def delete(self, telegram_id: int) -> None:
        await self.conn.execute(dialogues.delete().where(dialogues.c.telegram_id == telegram_id))

    async def purge(self, now: datetime) -> int:
        """Forgets dialogues abandoned past their timeout: drafts hold personal data."""
        result = await self.conn.execute(dialogues.delete().where(dialogues.c.expires_at <= now))
        return result.rowcount

"""Concurrent across people, in order for each person.

PTB's default processes updates one at a time (one slow user blocks everyone) or, with
`concurrent_updates(True)`, all at once (a double tap runs twice in parallel and
conversations race). This processor serialises updates per user and runs users in parallel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerUserOrderedProcessor(BaseUpdateProcessor):
    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def _key(update: object) -> int | None:
        if isinstance(update, Update):
            if update.effective_user is not None:
                return update.effective_user.id
            if update.effective_chat is not None:
                return update.effective_chat.id
        return None

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Waits for the person's earlier updates first, and only then for one of the shared
        slots: a person tapping twenty times holds one slot, not twenty."""
        key = self._key(update)
        if key is None:
            await super().process_update(update, coroutine)
            return
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            # asyncio.Lock wakes waiters first-in first-out: arrival order is kept.
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        await coroutine

    async def initialize(self) -> None:
        """Nothing to open: locks are made on demand."""

    async def shutdown(self) -> None:
        """Nothing to close."""

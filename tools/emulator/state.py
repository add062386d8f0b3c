"""Per-bot state of the emulator: chats, messages, the update queue, files and commands.

Kept apart from the HTTP layer so scripted users can push updates without going through HTTP.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
import time
import zlib
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.emulator.users import ScriptedUser

# A BotCommandScope as a hashable key: its type, then any chat id and user id.
ScopeKey = tuple[str | int, ...]

# Telegram sends these only when asked for explicitly in allowed_updates.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


class ApiError(Exception):
    """An error answer of the Bot API: HTTP status, description and optional parameters."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            data["parameters"] = self.parameters
        return data


def bad_request(reason: str) -> ApiError:
    return ApiError(400, f"Bad Request: {reason}")


@dataclass
class StoredFile:
    """Bytes uploaded by the bot or a user, downloadable through the file URL."""

    file_id: str
    file_unique_id: str
    content: bytes
    file_name: str | None
    mime_type: str | None
    file_path: str

    def as_document(self) -> dict[str, Any]:
        data = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def as_photo(self) -> list[dict[str, Any]]:
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": len(self.content),
                "width": 320,
                "height": 320,
            }
        ]


class FileStore:
    """All files of the emulator, shared by its bots (file ids are unique anyway)."""

    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._ids = itertools.count(1)

    def add(
        self, content: bytes, file_name: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        n = next(self._ids)
        suffix = PurePosixPath(file_name or "").suffix
        suffix = suffix if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", suffix) else ""
        stored = StoredFile(
            file_id=f"EMU{folder[:3].upper()}{n:06d}",
            file_unique_id=hashlib.sha1(content).hexdigest()[:16],
            content=content,
            file_name=file_name,
            mime_type=mime_type,
            file_path=f"{folder}/file_{n}{suffix}",
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, path: str) -> StoredFile | None:
        return self._by_path.get(path)


@dataclass
class StoredMessage:
    """A message as the API returns it, plus what only the recipient sees."""

    data: dict[str, Any]
    from_bot: bool
    raw: str | None = None  # text or caption as sent, before HTML parsing
    markup: dict[str, Any] | None = None  # any reply_markup, including reply keyboards

    @property
    def chat_id(self) -> int:
        chat_id: int = self.data["chat"]["id"]
        return chat_id

    @property
    def message_id(self) -> int:
        message_id: int = self.data["message_id"]
        return message_id


@dataclass
class PendingCallback:
    user_id: int
    created: float


def bot_id_from_token(token: str) -> int:
    """Telegram tokens start with the bot id; others get a stable made-up id."""
    head, sep, _ = token.partition(":")
    if sep and head.isdigit():
        return int(head)
    return 7_000_000_000 + zlib.crc32(token.encode())


def scope_key(scope: dict[str, Any] | None) -> ScopeKey:
    """Hashable key of a BotCommandScope."""
    scope = scope or {"type": "default"}
    kind = scope.get("type", "default")
    if kind in ("default", "all_private_chats", "all_group_chats", "all_chat_administrators"):
        return (kind,)
    if kind in ("chat", "chat_administrators"):
        return (kind, int(scope["chat_id"]))
    if kind == "chat_member":
        return (kind, int(scope["chat_id"]), int(scope["user_id"]))
    raise bad_request("can't parse BotCommandScope")


class BotState:
    """Everything one bot token sees."""

    def __init__(self, token: str, files: FileStore) -> None:
        self.token = token
        self.files = files
        self.id = bot_id_from_token(token)
        self.username = "cadre_demo_bot"
        self.first_name = "Cadre Demo"
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, ScriptedUser] = {}
        self.blocked: set[int] = set()
        self.messages: dict[tuple[int, int], StoredMessage] = {}
        self.commands: dict[tuple[ScopeKey, str], list[dict[str, str]]] = {}
        self.profile: dict[tuple[str, str], str] = {}
        self.callbacks: dict[str, PendingCallback] = {}
        self.updates: list[dict[str, Any]] = []
        self.allowed_updates: frozenset[str] | None = None  # None: Telegram's default set
        self.closing = False
        self._next_update_id = 1
        self._next_message_id: dict[int, int] = {}
        self._callback_ids = itertools.count(1)
        self._poll_generation = 0
        self._cond = asyncio.Condition()

    @property
    def user(self) -> dict[str, Any]:
        """The bot as the `from` of its messages."""
        return {
            "id": self.id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def me(self) -> dict[str, Any]:
        """The getMe answer."""
        return {
            **self.user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # -- messages ---------------------------------------------------------------------------

    def new_message(
        self, chat_id: int, sender: dict[str, Any], content: dict[str, Any], *, from_bot: bool
    ) -> StoredMessage:
        """Store a new message in the chat with the next message id of that chat."""
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        data = {
            "message_id": message_id,
            "from": sender,
            "chat": self.chats[chat_id],
            "date": int(time.time()),
            **content,
        }
        stored = StoredMessage(data=data, from_bot=from_bot)
        self.messages[(chat_id, message_id)] = stored
        return stored

    def chat_instance(self, chat_id: int) -> str:
        return str(zlib.crc32(f"{self.id}:{chat_id}".encode()))

    def new_callback(self, user_id: int) -> str:
        query_id = str(self.id * 1_000_000 + next(self._callback_ids))
        self.callbacks[query_id] = PendingCallback(user_id, time.monotonic())
        return query_id

    def commands_for(self, chat_id: int, language_code: str | None) -> list[dict[str, str]]:
        """Resolve the menu a chat sees, most specific scope first, as Telegram does."""
        if chat_id > 0:
            scopes: list[ScopeKey] = [("chat", chat_id), ("all_private_chats",), ("default",)]
        else:
            scopes = [("chat", chat_id), ("all_group_chats",), ("default",)]
        for scope in scopes:
            for lang in (language_code or "", ""):
                if (scope, lang) in self.commands:
                    return self.commands[(scope, lang)]
        return []

    # -- updates ------------------------------------------------------------------------------

    async def push_update(self, kind: str, payload: dict[str, Any]) -> None:
        """Queue an update unless allowed_updates excludes its type; wake a long poll."""
        allowed = self.allowed_updates
        if (kind not in allowed) if allowed is not None else kind in _OPT_IN_UPDATES:
            return
        async with self._cond:
            self.updates.append({"update_id": self._next_update_id, kind: payload})
            self._next_update_id += 1
            self._cond.notify_all()

    def confirm(self, offset: int) -> None:
        """Forget updates before offset; a negative offset keeps only the last -offset."""
        if offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif offset < 0:
            self.updates = self.updates[offset:]

    async def get_updates(self, offset: int, limit: int, wait: float) -> list[dict[str, Any]]:
        """Long poll: wait up to `wait` s for an update; a newer poll ends this one with 409."""
        self.confirm(offset)
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._cond:
            self._cond.notify_all()
            if not self.updates and wait > 0:
                try:
                    async with asyncio.timeout(wait):
                        await self._cond.wait_for(
                            lambda: (
                                bool(self.updates)
                                or self.closing
                                or generation != self._poll_generation
                            )
                        )
                except TimeoutError:
                    pass
        if generation != self._poll_generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        return self.updates[: max(1, min(limit, 100))]

    async def close(self) -> None:
        """Release pending long polls (getUpdates and inbox reads) so the server stops at once."""
        async with self._cond:
            self.closing = True
            self._cond.notify_all()
        for user in self.users.values():
            await user._interrupt()

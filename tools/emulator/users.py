"""Scripted Telegram users that talk to a bot through the emulator, for end-to-end tests.

A ScriptedUser pushes realistic updates into its bot's queue and records what the bot sends
back; every wait is event-driven and bounded by a timeout, so tests are fast and never hang.
"""

# Test code reads best with `timeout=` arguments, so ASYNC109 does not apply here.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tools.emulator.entities import utf16_len
from tools.emulator.state import BotState, FileStore, StoredMessage

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")


def _text(text: str) -> dict[str, Any]:
    """A text message's content; a leading /command gets its bot_command entity."""
    content: dict[str, Any] = {"text": text}
    if m := _COMMAND.match(text):
        length = utf16_len(m.group(0))
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


@dataclass(frozen=True)
class InlineButton:
    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class ReplyButton:
    text: str
    request_contact: bool = False


@dataclass(frozen=True)
class Attachment:
    file_name: str | None
    content: bytes
    mime_type: str | None


@dataclass(frozen=True)
class BotMessage:
    """What the user sees of one bot action: a new, edited or deleted message."""

    message_id: int
    text: str | None
    html: str | None
    buttons: list[list[InlineButton]]
    reply_keyboard: list[list[ReplyButton]] | None
    remove_keyboard: bool
    document: Attachment | None
    photo: bytes | None
    caption: str | None
    edited: bool = False
    deleted: bool = False

    @property
    def body(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text or self.caption or ""

    @property
    def labels(self) -> list[str]:
        """Texts of all inline buttons, row by row."""
        return [b.text for row in self.buttons for b in row]

    @classmethod
    def from_stored(
        cls, stored: StoredMessage, files: FileStore, *, edited: bool = False, deleted: bool = False
    ) -> BotMessage:
        data, markup = stored.data, stored.markup or {}
        keyboard = markup.get("keyboard")
        document = photo = None
        if "document" in data and (file := files.get(data["document"]["file_id"])):
            document = Attachment(file.file_name, file.content, file.mime_type)
        if "photo" in data and (file := files.get(data["photo"][-1]["file_id"])):
            photo = file.content
        return cls(
            message_id=stored.message_id,
            text=data.get("text"),
            html=stored.raw,
            buttons=[
                [InlineButton(b["text"], b.get("callback_data"), b.get("url")) for b in row]
                for row in markup.get("inline_keyboard", [])
            ],
            reply_keyboard=None
            if keyboard is None
            else [[_reply_button(b) for b in row] for row in keyboard],
            remove_keyboard=bool(markup.get("remove_keyboard")),
            document=document,
            photo=photo,
            caption=data.get("caption"),
            edited=edited,
            deleted=deleted,
        )

    def to_json(self) -> dict[str, Any]:
        """The form GET /_emulator/inbox sends, so users in another process see what ours see.

        Bytes travel as base64; `from_json` gives back an equal BotMessage.
        """
        document = self.document
        return {
            "message_id": self.message_id,
            "text": self.text,
            "html": self.html,
            "buttons": [
                [{"text": b.text, "callback_data": b.callback_data, "url": b.url} for b in row]
                for row in self.buttons
            ],
            "reply_keyboard": None
            if self.reply_keyboard is None
            else [
                [{"text": b.text, "request_contact": b.request_contact} for b in row]
                for row in self.reply_keyboard
            ],
            "remove_keyboard": self.remove_keyboard,
            "document": None
            if document is None
            else {
                "file_name": document.file_name,
                "mime_type": document.mime_type,
                "content": _b64(document.content),
            },
            "photo": None if self.photo is None else _b64(self.photo),
            "caption": self.caption,
            "edited": self.edited,
            "deleted": self.deleted,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BotMessage:
        """Read back what `to_json` wrote (extra keys, such as the inbox's seq, are ignored)."""
        keyboard, document, photo = data["reply_keyboard"], data["document"], data["photo"]
        return cls(
            message_id=data["message_id"],
            text=data["text"],
            html=data["html"],
            buttons=[[InlineButton(**b) for b in row] for row in data["buttons"]],
            reply_keyboard=None
            if keyboard is None
            else [[ReplyButton(**b) for b in row] for row in keyboard],
            remove_keyboard=data["remove_keyboard"],
            document=None
            if document is None
            else Attachment(
                document["file_name"], base64.b64decode(document["content"]), document["mime_type"]
            ),
            photo=None if photo is None else base64.b64decode(photo),
            caption=data["caption"],
            edited=data["edited"],
            deleted=data["deleted"],
        )

    def __str__(self) -> str:
        flags = "edited " if self.edited else "deleted " if self.deleted else ""
        body = self.body if len(self.body) <= 80 else self.body[:77] + "..."
        extra = f" buttons={self.labels}" if self.buttons else ""
        if self.reply_keyboard:
            extra += f" keyboard={[b.text for row in self.reply_keyboard for b in row]}"
        if self.document:
            extra += f" document={self.document.file_name!r}"
        return f"#{self.message_id} {flags}{body!r}{extra}"


def _b64(content: bytes) -> str:
    return base64.b64encode(content).decode("ascii")


def _reply_button(button: str | dict[str, Any]) -> ReplyButton:
    if isinstance(button, str):
        return ReplyButton(button)
    return ReplyButton(button["text"], bool(button.get("request_contact")))


def _describe(events: list[BotMessage]) -> str:
    return "; ".join(map(str, events)) or "nothing"


def user_object(person: Any) -> dict[str, Any]:
    """A Telegram User object from anything with id, first_name and the optional fields."""
    data: dict[str, Any] = {"id": person.id, "is_bot": False, "first_name": person.first_name}
    for key in ("last_name", "username", "language_code"):
        if value := getattr(person, key):
            data[key] = value
    return data


class ScriptedUser:
    """A private-chat user of one bot; create with `BotApiEmulator.user(...)`."""

    def __init__(
        self,
        bot: BotState,
        user_id: int,
        first_name: str = "Lan",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "vi",
        phone: str = "+84912345678",
    ) -> None:
        self.id = user_id
        self.first_name = first_name
        self.last_name = last_name
        self.username = username
        self.language_code = language_code
        self.phone = phone
        self.inbox: list[BotMessage] = []
        self.callback_answers: list[str] = []
        #: The answer to each button press, by its callback query id (`tap` returns it).
        self.answer_of: dict[str, str] = {}
        self.keyboard: list[list[ReplyButton]] | None = None
        self._bot = bot
        self._current: dict[int, BotMessage] = {}
        self._cursor = 0
        self._answer_cursor = 0
        self._cond = asyncio.Condition()
        bot.chats[user_id] = self.chat
        bot.users[user_id] = self

    def __repr__(self) -> str:
        return f"ScriptedUser({self.id}, {self.first_name!r})"

    @property
    def user(self) -> dict[str, Any]:
        """The Telegram User object of this user."""
        return user_object(self)

    @property
    def chat(self) -> dict[str, Any]:
        """The private Chat object between this user and the bot."""
        data: dict[str, Any] = {"id": self.id, "type": "private", "first_name": self.first_name}
        for key in ("last_name", "username"):
            if value := getattr(self, key):
                data[key] = value
        return data

    @property
    def last(self) -> BotMessage | None:
        """Current state (after edits) of the latest bot message still in the chat."""
        return self._current[max(self._current)] if self._current else None

    # -- acting ---------------------------------------------------------------------------------

    async def _message(self, content: dict[str, Any]) -> dict[str, Any]:
        if self.id in self._bot.blocked:  # writing to a blocked bot unblocks it first
            await self.unblock()
        stored = self._bot.new_message(self.id, self.user, content, from_bot=False)
        await self._bot.push_update("message", stored.data)
        return stored.data

    async def send(self, text: str) -> dict[str, Any]:
        """Send a text message; a leading /command gets its bot_command entity."""
        return await self._message(_text(text))

    async def edit(self, sent: dict[str, Any], text: str) -> dict[str, Any]:
        """Edit a text this user sent earlier: Telegram delivers it as an `edited_message`
        with the same message_id and an edit_date."""
        edited = {k: v for k, v in sent.items() if k != "entities"}
        edited.update(_text(text), edit_date=int(time.time()))
        await self._bot.push_update("edited_message", edited)
        return edited

    async def share_contact(
        self, phone: str | None = None, user_id: int | None = None, first_name: str | None = None
    ) -> dict[str, Any]:
        """Send a contact: by default one's own; pass user_id to share somebody else's."""
        contact: dict[str, Any] = {
            "phone_number": phone or self.phone,
            "first_name": first_name or self.first_name,
            "user_id": self.id if user_id is None else user_id,
        }
        if self.last_name and contact["user_id"] == self.id and first_name is None:
            contact["last_name"] = self.last_name
        return await self._message({"contact": contact})

    async def upload(
        self,
        filename: str,
        content: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> dict[str, Any]:
        """Send a document; the bot can getFile and download these bytes."""
        stored = self._bot.files.add(content, filename, mime_type, "documents")
        message: dict[str, Any] = {"document": stored.as_document()}
        if caption:
            message["caption"] = caption
        return await self._message(message)

    async def send_photo(self, content: bytes, caption: str | None = None) -> dict[str, Any]:
        stored = self._bot.files.add(content, None, "image/jpeg", "photos")
        message: dict[str, Any] = {"photo": stored.as_photo()}
        if caption:
            message["caption"] = caption
        return await self._message(message)

    async def send_sticker(self) -> dict[str, Any]:
        """Input a text-only bot does not expect."""
        stored = self._bot.files.add(b"RIFF\0\0\0\0WEBP", None, "image/webp", "stickers")
        sticker = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return await self._message({"sticker": sticker})

    async def tap(self, label: str, message_id: int | None = None, timeout: float = 5.0) -> str:
        """Tap an inline button (exact label, else substring); returns the callback query id.

        Waits up to timeout for the button to appear on the latest bot message with an
        inline keyboard (or on message_id).
        """
        async with self._cond:
            found = await self._wait(lambda: self._find_inline(label, message_id), timeout)
        if not found:
            target = self._current.get(message_id) if message_id else self._latest_inline()
            available = target.labels if target else []
            raise AssertionError(
                f"{self}: no inline button {label!r} on "
                f"{target or 'any bot message'}; available: {available}"
            )
        message, button = found
        if button.callback_data is None:
            raise AssertionError(f"{self}: button {button.text!r} is a URL button ({button.url})")
        return await self.tap_data(button.callback_data, message.message_id)

    async def tap_data(self, callback_data: str, message_id: int) -> str:
        """Send a callback query with any data, e.g. a stale or forged one."""
        stored = self._bot.messages.get((self.id, message_id))
        # Telegram marks a message the bot can no longer access with date 0.
        inaccessible = {"chat": self.chat, "message_id": message_id, "date": 0}
        message = stored.data if stored else inaccessible
        query_id = self._bot.new_callback(self.id)
        query = {
            "id": query_id,
            "from": self.user,
            "message": message,
            "chat_instance": self._bot.chat_instance(self.id),
            "data": callback_data,
        }
        await self._bot.push_update("callback_query", query)
        return query_id

    async def press(self, label: str, timeout: float = 5.0) -> dict[str, Any]:
        """Press a reply-keyboard button: sends its text, or one's contact if it asks for it."""
        async with self._cond:
            button = await self._wait(lambda: self._find_reply(label), timeout)
        if not button:
            shown = [b.text for row in self.keyboard or [] for b in row]
            raise AssertionError(f"{self}: no keyboard button {label!r}; keyboard: {shown}")
        return await (self.share_contact() if button.request_contact else self.send(button.text))

    async def choose(self, label: str, timeout: float = 5.0) -> None:
        """Tap the inline button or press the keyboard button with this label (exact, else
        substring), whichever the chat shows; inline first. For tests written once for every
        channel, where a choice is a choice however it is drawn."""

        def shown() -> tuple[BotMessage, InlineButton] | ReplyButton | None:
            return self._find_inline(label, None) or self._find_reply(label)

        async with self._cond:
            found = await self._wait(shown, timeout)
        if isinstance(found, ReplyButton):
            await self.press(found.text)
        elif found:
            await self.tap(found[1].text, found[0].message_id)
        else:
            latest = self._latest_inline()
            keyboard = [b.text for row in self.keyboard or [] for b in row]
            raise AssertionError(
                f"{self}: no button {label!r}; inline: {latest.labels if latest else []}, "
                f"keyboard: {keyboard}"
            )

    async def block(self) -> None:
        """Block the bot: later sends get 403 and the bot receives my_chat_member."""
        self._bot.blocked.add(self.id)
        await self._member_update("member", "kicked")

    async def unblock(self) -> None:
        self._bot.blocked.discard(self.id)
        await self._member_update("kicked", "member")

    async def _member_update(self, old: str, new: str) -> None:
        bot_user = self._bot.user
        update: dict[str, Any] = {
            "chat": self.chat,
            "from": self.user,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot_user},
            "new_chat_member": {"status": new, "user": bot_user},
        }
        for member in (update["old_chat_member"], update["new_chat_member"]):
            if member["status"] == "kicked":
                member["until_date"] = 0
        await self._bot.push_update("my_chat_member", update)

    # -- observing ------------------------------------------------------------------------------

    async def next_message(self, timeout: float = 5.0) -> BotMessage:
        """The next bot event (new, edited or deleted message) not yet consumed."""
        async with self._cond:
            if not await self._wait(lambda: self._cursor < len(self.inbox), timeout):
                raise TimeoutError(
                    f"{self}: no new bot message within {timeout}s; "
                    f"received so far: {_describe(self.inbox)}"
                )
            self._cursor += 1
            return self.inbox[self._cursor - 1]

    async def expect(self, substring: str, timeout: float = 5.0) -> BotMessage:
        """Consume bot messages until one's text or caption contains substring."""
        deadline = asyncio.get_running_loop().time() + timeout
        skipped: list[BotMessage] = []
        while True:
            remaining = max(0.0, deadline - asyncio.get_running_loop().time())
            try:
                event = await self.next_message(remaining)
            except TimeoutError:
                raise AssertionError(
                    f"{self}: expected a bot message containing {substring!r} within "
                    f"{timeout}s; got instead: {_describe(skipped)}"
                ) from None
            if not event.deleted and substring in event.body:
                return event
            skipped.append(event)

    async def no_message(self, within: float = 0.3) -> None:
        """Assert the bot sends, edits or deletes nothing in this chat for `within` seconds."""
        async with self._cond:
            if await self._wait(lambda: self._cursor < len(self.inbox), within):
                raise AssertionError(
                    f"{self}: expected no bot message, got {_describe(self.inbox[self._cursor :])}"
                )

    async def answer_to(self, query_id: str, timeout: float = 5.0) -> str:
        """The bot's answer to one button press (its alert text, or "")."""
        async with self._cond:
            if not await self._wait(lambda: query_id in self.answer_of, timeout):
                raise TimeoutError(f"{self}: the button press {query_id} was never answered")
            return self.answer_of[query_id]

    async def next_answer(self, timeout: float = 5.0) -> str:
        """The next answerCallbackQuery text (\"\" if none) not yet consumed."""
        async with self._cond:
            if not await self._wait(
                lambda: self._answer_cursor < len(self.callback_answers), timeout
            ):
                raise TimeoutError(f"{self}: no callback answer within {timeout}s")
            self._answer_cursor += 1
            return self.callback_answers[self._answer_cursor - 1]

    async def events_after(self, cursor: int, timeout: float) -> list[BotMessage]:
        """Bot events in this chat past the first `cursor` ones, waiting up to timeout for one.

        For readers in another process (GET /_emulator/inbox). Unlike next_message it consumes
        nothing: each reader keeps its own cursor, so a repeated request loses no event. An
        empty list means the timeout passed, or the emulator is stopping.
        """
        async with self._cond:
            await self._wait(lambda: len(self.inbox) > cursor or self._bot.closing, timeout)
            return self.inbox[cursor:]

    # -- internals ------------------------------------------------------------------------------

    async def _wait(self, predicate: Callable[[], Any], seconds: float) -> Any:
        """Wait (lock held) until predicate() is truthy; returns its value or None on timeout."""
        try:
            async with asyncio.timeout(seconds):
                return await self._cond.wait_for(predicate)
        except TimeoutError:
            return None

    def _latest_inline(self) -> BotMessage | None:
        with_buttons = [m for m in self._current.values() if m.buttons]
        return max(with_buttons, key=lambda m: m.message_id, default=None)

    def _find_inline(
        self, label: str, message_id: int | None
    ) -> tuple[BotMessage, InlineButton] | None:
        message = self._current.get(message_id) if message_id else self._latest_inline()
        if message is None:
            return None
        buttons = [b for row in message.buttons for b in row]
        match = next((b for b in buttons if b.text == label), None)
        match = match or next((b for b in buttons if label in b.text), None)
        return (message, match) if match else None

    def _find_reply(self, label: str) -> ReplyButton | None:
        buttons = [b for row in self.keyboard or [] for b in row]
        return next((b for b in buttons if b.text == label), None) or next(
            (b for b in buttons if label in b.text), None
        )

    async def _receive(self, event: BotMessage) -> None:
        """Called by the emulator for every bot action in this chat."""
        async with self._cond:
            self.inbox.append(event)
            if event.deleted:
                self._current.pop(event.message_id, None)
            else:
                self._current[event.message_id] = event
            if not event.edited and not event.deleted:
                if event.reply_keyboard is not None:
                    self.keyboard = event.reply_keyboard
                elif event.remove_keyboard:
                    self.keyboard = None
            self._cond.notify_all()

    async def _interrupt(self) -> None:
        """Wake every wait on this chat, so that it sees the emulator is closing."""
        async with self._cond:
            self._cond.notify_all()

    async def _answered(self, query_id: str, text: str) -> None:
        async with self._cond:
            self.callback_answers.append(text)
            self.answer_of[query_id] = text
            self._cond.notify_all()

"""Typed access to the services from every callback (PTB's contexttypesbot pattern)."""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.ext import Application, CallbackContext, ExtBot

from bot.channels import Channel
from bot.config import Settings
from bot.domain import Actor
from bot.i18n import Texts, texts
from bot.services import Services

if TYPE_CHECKING:  # the runtime module imports the handlers in turn
    from bot.app.delivery_runtime import DeliveryRuntime


class RecentUpdates:
    """The ids of the last updates seen: a webhook retry or a replayed update is the same
    update again, and must not be acted on twice."""

    def __init__(self, size: int = 10_000) -> None:
        self._order: deque[int] = deque(maxlen=size)
        self._seen: set[int] = set()

    def first_time(self, update_id: int) -> bool:
        if update_id in self._seen:
            return False
        if len(self._order) == self._order.maxlen:
            self._seen.discard(self._order[0])
        self._order.append(update_id)
        self._seen.add(update_id)
        return True


class Arrivals:
    """When each update reached the bot. In a rush a button press can wait in line past
    the window Telegram allows for answering it (about 15 seconds); answering then is
    refused, so the late ones are not answered (their work is still done and shown)."""

    ANSWER_WINDOW_S = 14.0  # a little under Telegram's, which counts from the tap

    def __init__(self, size: int = 10_000) -> None:
        self._at: OrderedDict[int, float] = OrderedDict()
        self._size = size

    def note(self, update_id: int) -> None:
        self._at[update_id] = time.monotonic()
        while len(self._at) > self._size:
            self._at.popitem(last=False)

    def too_late_to_answer(self, update_id: int) -> bool:
        arrived = self._at.get(update_id)
        return arrived is not None and time.monotonic() - arrived > self.ANSWER_WINDOW_S


@dataclass
class AppData:
    """The application's shared objects; PTB builds it empty, build_application fills it."""

    services: Services | None = None
    settings: Settings | None = None
    delivery: DeliveryRuntime | None = None
    #: The messenger this application answers on (Telegram, or Zalo through the bridge).
    channel: Channel = Channel.TELEGRAM
    recent_updates: RecentUpdates = field(default_factory=RecentUpdates)
    arrivals: Arrivals = field(default_factory=Arrivals)
    extra: dict[str, Any] = field(default_factory=dict)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], AppData]):
    """Adds the services, the actor of the update and their language to the callback context.

    Nothing is kept in PTB's user_data or chat_data: they live in memory and a restart would
    lose them; what must last is in the database.
    """

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self._actor: Actor | None = None
        self._telegram_id: int | None = None
        #: Whether the button press of this update has been answered (Telegram takes one
        #: answer; a second is refused).
        self.answered = False
        #: Whether the tapped message has been replaced already (see handlers.ui.show).
        self.replaced = False

    @property
    def services(self) -> Services:
        assert self.bot_data.services is not None
        return self.bot_data.services

    @property
    def settings(self) -> Settings:
        assert self.bot_data.settings is not None
        return self.bot_data.settings

    async def actor(self, update: Update) -> Actor:
        """Loaded once per update: the roles are checked on every call, never cached longer."""
        if self._actor is None:
            assert update.effective_user is not None
            self._telegram_id = update.effective_user.id
            self._actor = await self.services.access.actor(self._telegram_id)
        return self._actor

    def forget_actor(self) -> None:
        self._actor = None

    @property
    def language(self) -> str:
        """The person's language; a newcomer's choice lives in their sign-up draft (and, for
        this run of the bot, in memory: see PeopleService.set_language)."""
        if self._actor is not None and self._actor.person and self._actor.person.language:
            return self._actor.person.language
        if self._telegram_id is not None:
            # The latest choice in this run first; the draft's survives a restart.
            remembered = self.services.people.chosen_language(self._telegram_id)
            if remembered is not None:
                return remembered
            state = self.services.dialogues.current(self._telegram_id)
            chosen = state.draft.get("language") if state else None
            if isinstance(chosen, str):
                return chosen
        return self.settings.default_language

    @property
    def texts(self) -> Texts:
        return texts(self.language, self.settings.tz, self.settings.office, self.bot_data.channel)

    def t(self, key: str, /, **params: Any) -> str:
        return self.texts(key, **params)

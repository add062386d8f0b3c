"""Where one session happens, for administrators: a room or hall of its own, a meeting link
(the session switched online), both (blended), or back to its class's place. Typed in one
message, confirmed showing the place now and the new one; the people of the class are told
by the notifier once the changes to the class have settled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from telegram import Update

from bot.actions import ChangeSessionPlace, ClassSessions, PickSession
from bot.errors import InvalidInput
from bot.i18n import Raw, Texts
from bot.places import place_words
from bot.services.planning import check_changeable, parse_place
from bot.training import Place, Session, TrainingClass, session_place
from handlers.admin_steps import Confirm, Typed
from handlers.class_labels import moment
from handlers.class_text import words
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Turn, begin, register
from handlers.routing import Handler, button
from handlers.ui import Button, answer, inline


def class_place(c: TrainingClass) -> Place:
    """Where a session without a place of its own is."""
    return session_place(None, None, c.format, c.location, c.meeting_link)


def own_place(session: Session) -> Place | None:
    """The session's own place, if it has one (else it is where its class is)."""
    return Place.own(session.room, session.link) if session.room or session.link else None


def place_label(texts: Texts, own: Place | None, of_class: Place) -> Raw:
    """The place as the office reads it, link included; the class's, said to be so."""
    if own is not None:
        return words(texts, place_words(own, shows_link=True))
    return Raw(texts("class_admin.place_of_class",
                     place=words(texts, place_words(of_class, shows_link=True))))  # fmt: skip


@dataclass
class PlaceChange:
    session_id: int = 0
    class_id: int = 0
    starts_at: datetime | None = None
    #: The session's own place when the dialogue began (None: its class's).
    own: Place | None = None
    of_class: Place | None = None
    #: The answer: a place of its own, or None for the class's.
    chosen: Place | None = None


def _when(turn: Turn[PlaceChange]) -> str:
    assert turn.draft.starts_at is not None
    return moment(turn.texts, turn.draft.starts_at)


def _now(turn: Turn[PlaceChange]) -> Raw:
    assert turn.draft.of_class is not None
    return place_label(turn.texts, turn.draft.own, turn.draft.of_class)


async def _new_place(turn: Turn[PlaceChange], raw: str) -> Place:
    chosen = Place.own(*parse_place(raw))
    if chosen == turn.draft.own:
        raise InvalidInput("class_admin.place_unchanged")
    return chosen


def _prompt_params(turn: Turn[Any]) -> dict[str, Any]:
    return {"when": _when(turn), "now": _now(turn)}


async def _summary(turn: Turn[PlaceChange]) -> str:
    draft = turn.draft
    assert draft.of_class is not None
    new = place_label(turn.texts, draft.chosen, draft.of_class)
    return turn.t("class_admin.confirm_place", when=_when(turn), old=_now(turn), new=new)


async def _change(turn: Turn[PlaceChange]) -> None:
    draft = turn.draft
    actor = await turn.ctx.actor(turn.update)
    assert draft.of_class is not None
    room, link = (draft.chosen.room, draft.chosen.link) if draft.chosen else (None, None)
    await turn.services.planning.change_place(actor, draft.session_id, room, link)
    place = place_label(turn.texts, draft.chosen, draft.of_class)
    rows: list[list[Button]] = [
        [(turn.t("class_admin.back_to_session"), PickSession(draft.session_id))],
        [(turn.t("class_admin.back_to_sessions"), ClassSessions(draft.class_id))],
    ]
    await turn.show(turn.t("class_admin.place_changed", when=_when(turn), place=place),
                    inline(rows))  # fmt: skip


CHANGE_PLACE = register(
    Dialogue(
        name="session_place", draft=PlaceChange,
        steps=[Typed("where", "chosen", prompt="class_admin.ask_place", parse=_new_place,
                     skip="class_admin.use_class_place",
                     skip_if=lambda turn: turn.draft.own is not None, params=_prompt_params),
               Confirm("confirm", render=_summary, button="class_admin.confirm")],
        finish=_change, cancelled="class_admin.change_cancelled",
        interrupted="class_admin.change_cancelled", timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def change_place(update: Update, ctx: BotContext, tapped: ChangeSessionPlace) -> None:
    planning = ctx.services.planning
    actor = await ctx.actor(update)
    session = await planning.session(actor, tapped.session_id)
    check_changeable(session, ctx.services.clock.now())
    of_class = class_place(await planning.admin_class(actor, session.class_id))
    await answer(update, ctx)
    draft = PlaceChange(session.id, session.class_id, session.starts_at, own_place(session),
                        of_class)  # fmt: skip
    await begin(update, ctx, CHANGE_PLACE, draft)


def handlers() -> list[Handler]:
    return [button(ChangeSessionPlace, change_place)]

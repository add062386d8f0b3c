"""/people and /pending: find people in one's reach, page through them, narrow by unit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardMarkup, Update

from bot.actions import (
    Action,
    NarrowPeopleByUnit,
    OpenPerson,
    PendingPage,
    PeoplePage,
    search_key,
    search_words,
)
from bot.domain import Page, ProfileField
from bot.services.access import staff_scope
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.profile_fields import unit_options
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import ChoiceStep, Option
from handlers.ui import Button, inline, person_label, say, show


async def people(update: Update, ctx: BotContext) -> None:
    """/people <name>; alone (as the main keyboard sends it), it asks for the name."""
    query = argument_text(ctx)
    if not query.strip():
        staff_scope(await ctx.actor(update))  # a learner is refused before being asked
        await begin(update, ctx, SEARCH, Search())
        return
    await _results(update, ctx, query, unit_id=None, page=0)


async def _results(
    update: Update, ctx: BotContext, query: str, *, unit_id: int | None, page: int
) -> bool:
    """A page of results (True), or says nothing matched (False)."""
    actor = await ctx.actor(update)
    found = await ctx.services.people.search(actor, query, unit_id=unit_id, page=page)
    key = search_key(query)  # what the paging buttons carry
    if not found.total:
        await say(update, ctx, ctx.t("admin.people_none", query=query[:100]))
        return False
    text = ctx.t("admin.people_found", count=found.total, query=query[:100])
    pager = _pager(ctx, found, lambda n: PeoplePage(key, unit_id or 0, n))
    narrow: list[list[Button]] = [[(ctx.t("admin.narrow_by_unit"), NarrowPeopleByUnit(key))]]
    if unit_id:  # say where the list is narrowed to, and offer the whole list back
        unit = await ctx.services.directory.unit(unit_id)
        text += "\n" + ctx.t("admin.narrowed_to", unit=unit.label)
        narrow = [[(ctx.t("admin.narrow_off"), PeoplePage(key, 0, 0))]]
    await show(update, ctx, _with_page(ctx, text, found), _list(found, [*pager, *narrow]))
    return True


async def people_page(update: Update, ctx: BotContext, tapped: PeoplePage) -> None:
    words = search_words(tapped.query)
    await _results(update, ctx, words, unit_id=tapped.unit_id or None, page=tapped.page)


async def pending(update: Update, ctx: BotContext, tapped: PendingPage | None = None) -> None:
    """/pending: profiles waiting for confirmation in the actor's units (self-declared, or
    roster records linked by a phone number typed on Zalo)."""
    page = tapped.page if tapped else 0
    waiting = await ctx.services.people.pending(await ctx.actor(update), page)
    if not waiting.total:
        await say(update, ctx, ctx.t("admin.pending_none"))
        return
    text = ctx.t("admin.pending_list", count=waiting.total)
    pager = _pager(ctx, waiting, PendingPage)
    await show(update, ctx, _with_page(ctx, text, waiting), _list(waiting, pager))


def _with_page(ctx: BotContext, text: str, page: Page) -> str:
    if page.pages == 1:
        return text
    return text + "\n" + ctx.t("admin.page_of", page=page.number + 1, pages=page.pages)


def _pager(ctx: BotContext, page: Page, to: Any) -> list[list[Button]]:
    row: list[Button] = []
    if page.number > 0:
        row.append((ctx.t("admin.previous"), to(page.number - 1)))
    if page.number + 1 < page.pages:
        row.append((ctx.t("admin.next"), to(page.number + 1)))
    return [row] if row else []


def _list(page: Page, more: Sequence[Sequence[tuple[str, Action]]]) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = []
    for p in page.people:
        unit = f" · {p.unit.label}" if p.unit else ""
        rows.append([(f"{person_label(p)}{unit}", OpenPerson(p.id))])
    return inline([*rows, *(list(row) for row in more)])


# --- asking for the name, and for a unit to narrow to -------------------------------------------


@dataclass
class Search:
    query: str | None = None
    unit_id: int | None = None


class Name(Step[Search]):
    """The name to look for; the results end the dialogue, or it asks again. Back and
    Cancel are inline: staff keep their main keyboard, as the search ends with a list."""

    async def ask(self, turn: Turn[Search]) -> None:
        await turn.say(turn.t("admin.people_ask"), inline([turn.nav_row()]))

    async def on_text(self, turn: Turn[Search], text: str) -> Move:
        found = await _results(turn.update, turn.ctx, text, unit_id=None, page=0)
        return Flow.END if found else Flow.STAY

    def retry_markup(self, turn: Turn[Search]) -> Any:
        return inline([turn.nav_row()])


async def _not_used(turn: Turn[Search]) -> None:
    raise AssertionError("the search ends with its results")


SEARCH = register(
    Dialogue(
        name="people", draft=Search, steps=[Name("name")], finish=_not_used,
        cancelled="admin.search_cancelled", interrupted="admin.search_cancelled",
        timeout=timedelta(minutes=10),
    )
)  # fmt: skip


async def _narrowed(turn: Turn[Search]) -> None:
    assert turn.draft.query is not None
    await _results(turn.update, turn.ctx, turn.draft.query, unit_id=turn.draft.unit_id, page=0)


async def _unit(turn: Turn[Any], value: str) -> Any:
    return await turn.services.people.parse_field(ProfileField.UNIT, value)


async def _units_in_reach(turn: Turn[Any], query: str) -> Sequence[Option]:
    """Units matching a few typed words, among those the staff member answers for."""
    return await unit_options(turn, query, within=staff_scope(await turn.ctx.actor(turn.update)))


NARROW = register(
    Dialogue(
        name="people.unit", draft=Search,
        steps=[ChoiceStep("unit", "unit_id", prompt="admin.narrow_ask", resolve=_unit,
                          search=_units_in_reach, found="admin.narrow_pick",
                          none_found="fields.unit_none", keep_keyboard=True)],
        finish=_narrowed, cancelled="admin.search_cancelled",
        interrupted="admin.search_cancelled", single_answer=True,
        timeout=timedelta(minutes=10),
    )
)  # fmt: skip


async def narrow(update: Update, ctx: BotContext, tapped: NarrowPeopleByUnit) -> None:
    staff_scope(await ctx.actor(update))
    await begin(update, ctx, NARROW, Search(query=search_words(tapped.query)))


def handlers() -> list[Handler]:
    return [
        command("people", people),
        command("pending", pending),
        button(PeoplePage, people_page),
        button(PendingPage, pending),
        button(NarrowPeopleByUnit, narrow),
    ]

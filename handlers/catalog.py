"""/classes: the classes a cadre may enrol in, filtered and searched; a class's card;
enrolment, the waitlist and withdrawal, each confirmed first."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from telegram import InlineKeyboardMarkup, Update

from bot.actions import (
    BrowseCatalog,
    CatalogFilterMenu,
    CatalogSearch,
    CatalogSetFilter,
    ClassCalendarFile,
    ClassTimetable,
    DeclineNomination,
    Enrol,
    OpenClass,
    ShowClassList,
    ShowSchedule,
    Withdraw,
)
from bot.errors import DomainError, NotFound
from bot.i18n import Raw
from bot.services.calendar import CLASS_FILE_FOR
from bot.services.catalog import CatalogView
from bot.timetable import summarise
from bot.training import (
    CatalogFilter,
    ClassFormat,
    ClassKind,
    ClassStatus,
    Enrolment,
    EnrolmentStatus,
    session_place,
)
from handlers import nomination
from handlers.class_labels import FORMAT, KIND
from handlers.class_text import by_day, card_text, list_line, session_line, summary_text
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Turn, begin, register
from handlers.routing import Handler, argument_text, button, command
from handlers.steps import TextStep
from handlers.ui import Button, inline, say, show

TIMETABLE_BUDGET = 3300  # characters of sessions in one message (Telegram takes 4096)
MONTHS_OFFERED = 12


# --- the list ---------------------------------------------------------------------------------


async def classes(update: Update, ctx: BotContext) -> None:
    """/classes [words]: a new view of the catalog, searching the words if given."""
    actor = await ctx.actor(update)
    key = await ctx.services.catalog.new_view(actor, argument_text(ctx))
    await _send_page(update, ctx, key, page=None, replace=False)


async def browse(update: Update, ctx: BotContext, tapped: BrowseCatalog) -> None:
    """A page of a view; an empty view key (a button offering the catalog) opens a new one."""
    if not tapped.view:
        key = await ctx.services.catalog.new_view(await ctx.actor(update))
        await _send_page(update, ctx, key, page=None, replace=False)
        return
    async with _view_kept(update, ctx):
        await _send_page(update, ctx, tapped.view, page=tapped.page, replace=True)


@asynccontextmanager
async def _view_kept(update: Update, ctx: BotContext) -> AsyncIterator[None]:
    """A button of a view that has expired says so, and offers the catalog afresh."""
    try:
        yield
    except NotFound as exc:
        if exc.key != "catalog.expired":
            raise
        again = inline([[(ctx.t("catalog.reopen"), BrowseCatalog(""))]])
        await show(update, ctx, ctx.t("catalog.expired"), again)


async def _send_page(
    update: Update, ctx: BotContext, key: str, *, page: int | None, replace: bool
) -> None:
    found = await ctx.services.catalog.page(await ctx.actor(update), key, page)
    text, markup = _render_page(ctx, key, found)
    await (show if replace else say)(update, ctx, text, markup)


def _filters_text(ctx: BotContext, view: CatalogFilter) -> str:
    parts = []
    if view.kind is not None:
        parts.append(ctx.t(KIND[view.kind]))
    if view.month is not None:
        parts.append(
            ctx.t("catalog.month", month=view.month,
                  year=ctx.services.catalog.month_year(view.month))
        )  # fmt: skip
    if view.format is not None:
        parts.append(ctx.t(FORMAT[view.format]))
    if view.query:
        parts.append(ctx.t("catalog.searching", query=view.query))
    return ctx.t("catalog.filtered", filters=" · ".join(parts)) if parts else ""


def _render_page(ctx: BotContext, key: str, found: CatalogView) -> tuple[str, InlineKeyboardMarkup]:
    view, page = found.filter, found.page
    filtered = _filters_text(ctx, view)
    lines = [ctx.t("catalog.heading", count=page.total, page=page.page + 1, pages=page.pages)]
    if filtered:
        lines.append(filtered)
    if not page.classes:
        lines.append(ctx.t("catalog.none_filtered" if filtered else "catalog.none"))
    rows: list[list[Button]] = []
    for number, c in enumerate(page.classes, start=page.page * page.size + 1):
        held = found.enrolments.get(c.id)
        lines.append(
            list_line(
                ctx.texts,
                number,
                c,
                found.sessions.get(c.id, []),
                ctx.settings.tz,
                held.status if held else None,
            )
        )
        rows.append([(f"{number}. {c.name}", OpenClass(c.id, key))])
    if page.full_hidden and not view.include_full:
        lines.append(ctx.t("catalog.full_hidden", count=page.full_hidden))
    nav: list[Button] = []
    if page.page > 0:
        nav.append((ctx.t("catalog.previous"), BrowseCatalog(key, page.page - 1)))
    if page.page + 1 < page.pages:
        nav.append((ctx.t("catalog.next"), BrowseCatalog(key, page.page + 1)))
    if nav:
        rows.append(nav)
    rows.append(
        [
            (ctx.t("catalog.by_kind"), CatalogFilterMenu(key, "kind")),
            (ctx.t("catalog.by_month"), CatalogFilterMenu(key, "month")),
            (ctx.t("catalog.by_format"), CatalogFilterMenu(key, "format")),
        ]
    )
    last: list[Button] = [(ctx.t("catalog.search"), CatalogSearch(key))]
    if filtered:
        last.append((ctx.t("catalog.clear"), CatalogSetFilter(key, "clear")))
    if page.full_hidden and not view.include_full:
        last.append((ctx.t("catalog.show_full"), CatalogSetFilter(key, "full", "1")))
    elif view.include_full:
        last.append((ctx.t("catalog.hide_full"), CatalogSetFilter(key, "full", "")))
    rows.append(last)
    return "\n\n".join(lines), inline(rows)


async def filter_menu(update: Update, ctx: BotContext, tapped: CatalogFilterMenu) -> None:
    """The choices of one filter, in place of the list."""
    async with _view_kept(update, ctx):
        await ctx.services.catalog.view(await ctx.actor(update), tapped.view)  # still there?
        await _filter_choices(update, ctx, tapped.view, tapped.field)


async def _filter_choices(update: Update, ctx: BotContext, key: str, field: str) -> None:
    options: list[tuple[str, str]]
    if field == "kind":
        options = [(ctx.t(KIND[k]), k.value) for k in ClassKind]
    elif field == "format":
        options = [(ctx.t(FORMAT[f]), f.value) for f in ClassFormat]
    elif field == "month":
        today = ctx.services.clock.now().astimezone(ctx.settings.tz).date()
        months = [(today.month - 1 + i) % 12 + 1 for i in range(MONTHS_OFFERED)]
        year_of = ctx.services.catalog.month_year
        options = [(ctx.t("catalog.month", month=m, year=year_of(m)), str(m)) for m in months]
    else:
        return
    rows: list[list[Button]] = [
        [(label, CatalogSetFilter(key, field, value))] for label, value in options
    ]
    if field == "month":  # twelve months fit better three to a row
        flat = [row[0] for row in rows]
        rows = [flat[i : i + 3] for i in range(0, len(flat), 3)]
    rows.append(
        [
            (ctx.t("catalog.any"), CatalogSetFilter(key, field, "")),
            (ctx.t("button.back"), BrowseCatalog(key)),
        ]
    )
    await show(update, ctx, ctx.t(f"catalog.choose_{field}"), inline(rows))


async def set_filter(update: Update, ctx: BotContext, tapped: CatalogSetFilter) -> None:
    actor = await ctx.actor(update)
    async with _view_kept(update, ctx):
        await ctx.services.catalog.set_filter(actor, tapped.view, tapped.field, tapped.value)
        await _send_page(update, ctx, tapped.view, page=0, replace=True)


# --- searching --------------------------------------------------------------------------------


@dataclass
class SearchDraft:
    view: str = ""
    query: str = ""


async def _checked_query(turn: Turn[SearchDraft], text: str) -> str:
    return turn.services.catalog.clean_query(text)


async def _search(turn: Turn[SearchDraft]) -> None:
    actor = await turn.ctx.actor(turn.update)
    catalog = turn.services.catalog
    key = turn.draft.view
    if key:
        try:
            await catalog.set_filter(actor, key, "query", turn.draft.query)
        except NotFound:  # the view expired meanwhile: search in a new one
            key = ""
    if not key:
        key = await catalog.new_view(actor, turn.draft.query)
    await turn.say(
        turn.t("catalog.search_done", query=turn.draft.query), await turn.resting_keyboard()
    )
    await _send_page(turn.update, turn.ctx, key, page=None, replace=False)


SEARCH = register(
    Dialogue(
        name="catalog_search",
        draft=SearchDraft,
        steps=[TextStep("query", "query", prompt="catalog.search_ask", parse=_checked_query)],
        finish=_search,
        cancelled="catalog.search_cancelled",
        interrupted="catalog.search_cancelled",
        timeout=timedelta(minutes=10),
    )
)


async def search(update: Update, ctx: BotContext, tapped: CatalogSearch) -> None:
    await begin(update, ctx, SEARCH, SearchDraft(view=tapped.view))


# --- a class ----------------------------------------------------------------------------------


def _card_buttons(
    ctx: BotContext,
    class_id: int,
    view: str,
    enrolment: Enrolment | None,
    full: bool,
    can_enrol: bool,
    class_list: bool = False,
    staff_rows: list[list[Button]] | None = None,
) -> InlineKeyboardMarkup:
    rows: list[list[Button]] = []
    if enrolment is None and can_enrol:
        label = "catalog.join_waitlist" if full else "catalog.enrol"
        rows.append([(ctx.t(label), Enrol(class_id, view=view))])
    elif enrolment is not None and enrolment.nominated:
        rows.append([(ctx.t("nomination.decline_button"), DeclineNomination(class_id))])
    elif enrolment is not None:
        label = (
            "catalog.leave_waitlist"
            if enrolment.status is EnrolmentStatus.WAITLISTED
            else "catalog.withdraw"
        )
        rows.append([(ctx.t(label), Withdraw(class_id, view=view))])
    rows.append([(ctx.t("catalog.timetable"), ClassTimetable(class_id, view))])
    rows += staff_rows or []
    if class_list:
        rows.append([(ctx.t("class_list.button"), ShowClassList(class_id))])
    if view:
        rows.append([(ctx.t("catalog.back_to_list"), BrowseCatalog(view))])
    if enrolment is not None and enrolment.status in CLASS_FILE_FOR:
        rows.append([(ctx.t("calendar.button_class"), ClassCalendarFile(class_id))])
    return inline(rows)


#: The stages whose card says why the cadre cannot enrol (a cancelled or finished class's
#: card already says what became of it).
_MAY_EXPLAIN = (ClassStatus.PLANNED, ClassStatus.OPEN, ClassStatus.RUNNING)


async def open_class(update: Update, ctx: BotContext, tapped: OpenClass) -> None:
    await _show_card(update, ctx, tapped.class_id, tapped.view)


async def send_card(update: Update, ctx: BotContext, class_id: int) -> None:
    """A class's card in a new message, outside any list: where a class's link lands."""
    await _show_card(update, ctx, class_id, "", new_message=True)


async def _show_card(
    update: Update, ctx: BotContext, class_id: int, view: str, *, new_message: bool = False
) -> None:
    actor = await ctx.actor(update)
    card = await ctx.services.catalog.card(actor, class_id)
    c = card.training_class
    text = card_text(ctx.texts, card, ctx.settings.tz)
    now = ctx.services.clock.now()
    open_now = c.enrolment_open(now)
    can_enrol = card.enrolment is None and open_now
    if card.enrolment is None and c.stage(now) in _MAY_EXPLAIN:
        try:  # why this cadre may not enrol now (not open yet, deadline passed, not for them)
            await ctx.services.enrolment.prospect(actor, c.id)
        except DomainError as refused:
            can_enrol = False
            text += "\n\n" + ctx.t(
                "catalog.not_for_you", reason=Raw(ctx.t(refused.key, **refused.params))
            )
        else:
            if c.full:  # the button joins the waitlist: say so before the tap
                text += "\n\n" + ctx.t("catalog.full_waitlist")
    staff_rows = nomination.card_rows(ctx, actor.roles, c, open_now=open_now)
    class_list = ctx.services.class_lists.may_offer(actor, card.teaches)
    markup = _card_buttons(
        ctx, c.id, view, card.enrolment, c.full, can_enrol, class_list, staff_rows
    )
    await (say if new_message else show)(update, ctx, text, markup)


async def class_timetable(update: Update, ctx: BotContext, tapped: ClassTimetable) -> None:
    """A class's sessions; from a notice, in a new message, so that the notice stays."""
    card = await ctx.services.catalog.card(await ctx.actor(update), tapped.class_id)
    c = card.training_class
    lines = []
    for s in card.sessions:
        # Each line names its place: from a reminder, the class's card is not on screen.
        place = session_place(s.room, s.link, c.format, c.location, c.meeting_link)
        lines.append((s, session_line(ctx.texts, s, place, shows_link=card.shows_link)))
    heading = ctx.t(
        "catalog.timetable_of",
        name=c.name,
        code=c.code,
        summary=summary_text(ctx.texts, summarise(card.sessions, ctx.settings.tz)),
    )
    body = (
        by_day(ctx.texts, lines, ctx.settings.tz, TIMETABLE_BUDGET)
        if lines
        else ctx.t("catalog.no_sessions")
    )
    back = inline([[(ctx.t("catalog.back_to_class"), OpenClass(c.id, tapped.view))]])
    # From a reminder or a change notice, that message stays: the timetable comes below it.
    await (say if tapped.fresh else show)(update, ctx, heading + "\n\n" + body, back)


# --- enrolment --------------------------------------------------------------------------------


async def enrol(update: Update, ctx: BotContext, tapped: Enrol) -> None:
    actor = await ctx.actor(update)
    if not tapped.confirmed:
        await _confirm_enrolment(update, ctx, tapped)
        return
    result = await ctx.services.enrolment.enrol(
        actor, tapped.class_id, clashes_seen=tapped.clashes_seen
    )
    c = result.training_class
    if result.status is EnrolmentStatus.ENROLLED:
        text = ctx.t("enrol.done", name=c.name, code=c.code)
        if c.meeting_link:  # for enrolled learners only, which this cadre now is
            text += "\n" + ctx.t("enrol.link", link=c.meeting_link)
    elif result.status is EnrolmentStatus.PENDING:
        text = ctx.t("enrol.pending", name=c.name, code=c.code, until=result.enrolment.expires_at)
    else:
        text = ctx.t("enrol.waiting", name=c.name, code=c.code, position=result.position)
    markup = inline(
        [
            [
                (ctx.t("enrol.my_schedule"), ShowSchedule("all")),
                (ctx.t("catalog.open_card"), OpenClass(c.id, tapped.view)),
            ]
        ]
    )
    await show(update, ctx, text, markup)


async def _confirm_enrolment(update: Update, ctx: BotContext, tapped: Enrol) -> None:
    """What enrolling means (the timetable, any clash, the waitlist), then Confirm or Back."""
    prospect = await ctx.services.enrolment.prospect(await ctx.actor(update), tapped.class_id)
    c = prospect.training_class
    sessions = prospect.sessions
    lines = [
        ctx.t(
            "enrol.confirm",
            name=c.name,
            code=c.code,
            summary=summary_text(ctx.texts, summarise(sessions, ctx.settings.tz)),
        )
    ]
    if prospect.clashes:
        lines.append(ctx.t("enrol.clashes"))
        for clash in prospect.clashes[:10]:
            lines.append(
                ctx.t(
                    "enrol.clash",
                    start=clash.session.starts_at,
                    end=clash.session.ends_at,
                    other=clash.other_class,
                    other_start=clash.other.starts_at,
                    other_end=clash.other.ends_at,
                )
            )
        if len(prospect.clashes) > 10:
            lines.append(ctx.t("schedule.more", count=len(prospect.clashes) - 10))
    if prospect.waitlist:
        lines.append(ctx.t("enrol.will_wait", waiting=c.waiting))
    if c.requires_approval:
        lines.append(ctx.t("enrol.will_need_approval"))
    label = "enrol.confirm_wait" if prospect.waitlist else "enrol.confirm_yes"
    if prospect.clashes:
        label = "enrol.confirm_despite"
    markup = inline(
        [
            [
                (
                    ctx.t(label),
                    Enrol(
                        c.id, confirmed=True, clashes_seen=bool(prospect.clashes), view=tapped.view
                    ),
                )
            ],
            [(ctx.t("button.back"), OpenClass(c.id, tapped.view))],
        ]
    )
    await show(update, ctx, "\n\n".join(lines), markup)


async def withdraw(update: Update, ctx: BotContext, tapped: Withdraw) -> None:
    actor = await ctx.actor(update)
    card = await ctx.services.catalog.card(actor, tapped.class_id)
    c = card.training_class
    back = inline([[(ctx.t("catalog.open_card"), OpenClass(c.id, tapped.view))]])
    if not tapped.confirmed:
        if card.enrolment is None:
            await show(update, ctx, ctx.t("enrol.not_enrolled"), back)
            return
        waiting = card.enrolment.status is EnrolmentStatus.WAITLISTED
        markup = inline(
            [
                [(ctx.t("enrol.withdraw_yes"), Withdraw(c.id, confirmed=True, view=tapped.view))],
                [(ctx.t("enrol.withdraw_no"), OpenClass(c.id, tapped.view))],
            ]
        )
        key = "enrol.leave_waitlist_ask" if waiting else "enrol.withdraw_ask"
        if not waiting and c.waiting:
            key = "enrol.withdraw_ask_waiting"
        await show(update, ctx, ctx.t(key, name=c.name, code=c.code), markup)
        return
    had = await ctx.services.enrolment.withdraw(actor, c.id)
    key = "enrol.left_waitlist" if had.status is EnrolmentStatus.WAITLISTED else "enrol.withdrawn"
    await show(update, ctx, ctx.t(key, name=c.name, code=c.code), back)


def handlers() -> list[Handler]:
    return [
        command("classes", classes),
        button(BrowseCatalog, browse),
        button(CatalogFilterMenu, filter_menu),
        button(CatalogSetFilter, set_filter),
        button(CatalogSearch, search),
        button(OpenClass, open_class),
        button(ClassTimetable, class_timetable),
        button(Enrol, enrol),
        button(Withdraw, withdraw),
    ]

"""Staff tools: find people, confirm self-declared profiles, the source pool flag, roles.

Every callback re-checks the actor's rights in the service: a forged or stale button from a
learner is refused there, whatever the menu showed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler

from bot.domain import GRANTABLE_ROLES, Actor, Person, Role
from bot.errors import DomainError
from bot.services.access import require
from handlers.context import BotContext
from handlers.menus import sync_chat_menu
from handlers.ui import inline, person_card, say, show

QUERY_MAX = 100


async def refuse(update: Update, ctx: BotContext, exc: DomainError) -> None:
    text = ctx.t(exc.key, **exc.params)
    if update.callback_query:
        await update.callback_query.answer(text[:200], show_alert=True)
    else:
        await say(update, ctx, text)


async def people(update: Update, ctx: BotContext) -> None:
    """/people <name>: search within the actor's reach (the province, or their units)."""
    actor = await ctx.actor(update)
    query = " ".join(ctx.args or [])[:QUERY_MAX]
    try:
        require(actor, Role.ADMIN, Role.UNIT_HEAD)
        if not query.strip():
            await say(update, ctx, ctx.t("admin.people_usage"))
            return
        found = await ctx.services.people.search(actor, query)
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return
    if not found:
        await say(update, ctx, ctx.t("admin.people_none", query=query))
        return
    await say(update, ctx, ctx.t("admin.people_found", count=len(found)), _list(found))


async def pending(update: Update, ctx: BotContext) -> None:
    """/pending: self-declared profiles waiting for confirmation in the actor's units."""
    actor = await ctx.actor(update)
    try:
        waiting = await ctx.services.people.pending(actor)
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return
    if not waiting:
        await say(update, ctx, ctx.t("admin.pending_none"))
        return
    await say(update, ctx, ctx.t("admin.pending_list", count=len(waiting)), _list(waiting))


def _list(found: list[Person]) -> Any:
    rows = []
    for p in found:
        unit = f" · {p.unit.name}" if p.unit else ""
        rows.append([(f"{p.full_name}{unit}"[:60], f"ad:p:{p.id}")])
    return inline(rows)


async def _card(update: Update, ctx: BotContext, actor: Actor, person: Person) -> None:
    rows: list[list[tuple[str, str]]] = []
    if not person.verified and person.unit is not None:  # returned profiles wait for a unit
        row = [(ctx.t("admin.verify"), f"ad:v:{person.id}")]
        if not person.from_roster:
            row.append((ctx.t("admin.reject"), f"ad:x:{person.id}"))
        rows.append(row)
    if actor.is_admin:
        key = "admin.source_pool_off" if person.source_pool else "admin.source_pool_on"
        rows.append([(ctx.t(key), f"ad:sp:{person.id}:{0 if person.source_pool else 1}")])
    if actor.is_superadmin:
        held = await ctx.services.access.grants_of(person.id)
        for role in GRANTABLE_ROLES:
            has = role in held
            label = f"{'✅' if has else '➕'} {ctx.t(f'role.{role.value}')}"
            rows.append([(label, f"ad:r:{person.id}:{role.value}:{0 if has else 1}")])
    text = person_card(person, ctx.language, staff_view=True)
    await show(update, ctx, text, inline(rows) if rows else None)


async def open_person(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    actor = await ctx.actor(update)
    try:
        person = await ctx.services.people.person_for(actor, int(query.data.split(":")[2]))
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return
    await query.answer()
    await _card(update, ctx, actor, person)


async def verify(update: Update, ctx: BotContext) -> None:
    await _review(update, ctx, ctx.services.people.verify, "admin.verified")


async def reject(update: Update, ctx: BotContext) -> None:
    await _review(update, ctx, ctx.services.people.reject, "admin.rejected")


async def _review(
    update: Update,
    ctx: BotContext,
    decide: Callable[[Actor, int], Awaitable[Person]],
    done_key: str,
) -> None:
    """Confirms or returns a self-declared profile from its card, then shows the new card."""
    query = update.callback_query
    assert query is not None and query.data is not None
    actor = await ctx.actor(update)
    try:
        person = await decide(actor, int(query.data.split(":")[2]))
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return
    await query.answer(ctx.t(done_key, name=person.full_name)[:200])
    await _card(update, ctx, actor, person)


async def source_pool(update: Update, ctx: BotContext) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    _, _, person_id, flag = query.data.split(":")
    actor = await ctx.actor(update)
    try:
        person = await ctx.services.people.set_source_pool(actor, int(person_id), flag == "1")
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return
    await query.answer()
    await _card(update, ctx, actor, person)


async def set_role(update: Update, ctx: BotContext) -> None:
    """A role button carries the wanted state; then that person's menu is refreshed."""
    query = update.callback_query
    assert query is not None and query.data is not None
    _, _, person_id, role_name, wanted = query.data.split(":")
    actor = await ctx.actor(update)
    access = ctx.services.access
    try:
        person = await access.set_role(actor, int(person_id), Role(role_name), wanted == "1")
    except DomainError as exc:
        await refuse(update, ctx, exc)
        return
    await query.answer(ctx.t("admin.roles_saved"))
    if person.telegram_id is not None:
        roles = await access.menu_roles(person)
        language = person.language or ctx.settings.default_language
        await sync_chat_menu(ctx.bot, person.telegram_id, roles, language)
    await _card(update, ctx, actor, person)


def register(app: Any) -> None:
    app.add_handler(CommandHandler("people", people))
    app.add_handler(CommandHandler("pending", pending))
    app.add_handler(CallbackQueryHandler(open_person, pattern=r"^ad:p:\d+$"))
    app.add_handler(CallbackQueryHandler(verify, pattern=r"^ad:v:\d+$"))
    app.add_handler(CallbackQueryHandler(reject, pattern=r"^ad:x:\d+$"))
    app.add_handler(CallbackQueryHandler(source_pool, pattern=r"^ad:sp:\d+:[01]$"))
    roles = "|".join(r.value for r in GRANTABLE_ROLES)
    app.add_handler(CallbackQueryHandler(set_role, pattern=rf"^ad:r:\d+:({roles}):[01]$"))

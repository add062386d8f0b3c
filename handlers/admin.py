"""Staff tools on a person's card: confirm or return a self-declared profile, the source
pool flag, roles.

Every callback leaves the actor's rights to the service: a forged or stale button from a
learner is refused there, whatever the menu showed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from telegram import Update

from bot.actions import OpenPerson, ReturnPerson, SetRole, SetSourcePool, VerifyPerson
from bot.domain import GRANTABLE_ROLES, Actor, Person
from handlers.context import BotContext
from handlers.menus import sync_chat_menu
from handlers.routing import Handler, button
from handlers.ui import Button, answer, inline, person_card, show


async def _card(update: Update, ctx: BotContext, actor: Actor, person: Person) -> None:
    rows: list[list[Button]] = []
    if not person.verified and person.unit is not None:  # returned profiles wait for a unit
        row: list[Button] = [(ctx.t("admin.verify"), VerifyPerson(person.id))]
        if not person.from_roster:
            row.append((ctx.t("admin.reject"), ReturnPerson(person.id)))
        rows.append(row)
    if actor.is_admin:
        key = "admin.source_pool_off" if person.source_pool else "admin.source_pool_on"
        rows.append([(ctx.t(key), SetSourcePool(person.id, not person.source_pool))])
    if actor.is_superadmin:
        held = await ctx.services.access.roles_of(person.id)
        for role in GRANTABLE_ROLES:
            has = role in held
            label = f"{'✅' if has else '➕'} {ctx.t(f'role.{role.value}')}"
            rows.append([(label, SetRole(person.id, role, not has))])
    text = person_card(ctx.texts, person, staff_view=True)
    await show(update, ctx, text, inline(rows) if rows else None)


async def open_person(update: Update, ctx: BotContext, tapped: OpenPerson) -> None:
    actor = await ctx.actor(update)
    person = await ctx.services.people.person_for(actor, tapped.person_id)
    await _card(update, ctx, actor, person)


async def _review(
    update: Update,
    ctx: BotContext,
    decide: Callable[[Actor, int], Awaitable[Person]],
    person_id: int,
    done_key: str,
) -> None:
    """Confirms or returns a self-declared profile from its card, then shows the new card."""
    actor = await ctx.actor(update)
    person = await decide(actor, person_id)
    await answer(update, ctx, ctx.t(done_key, name=person.full_name))
    await _card(update, ctx, actor, person)


async def verify(update: Update, ctx: BotContext, tapped: VerifyPerson) -> None:
    await _review(update, ctx, ctx.services.people.verify, tapped.person_id, "admin.verified")


async def reject(update: Update, ctx: BotContext, tapped: ReturnPerson) -> None:
    await _review(update, ctx, ctx.services.people.reject, tapped.person_id, "admin.rejected")


async def source_pool(update: Update, ctx: BotContext, tapped: SetSourcePool) -> None:
    actor = await ctx.actor(update)
    person = await ctx.services.people.set_source_pool(actor, tapped.person_id, tapped.member)
    await _card(update, ctx, actor, person)


async def set_role(update: Update, ctx: BotContext, tapped: SetRole) -> None:
    """A role button carries the wanted state; then that person's menu is refreshed."""
    actor = await ctx.actor(update)
    access = ctx.services.access
    person = await access.set_role(actor, tapped.person_id, tapped.role, tapped.held)
    await answer(update, ctx, ctx.t("admin.roles_saved"))
    if person.telegram_id is not None:
        roles = await access.menu_roles(person)
        language = person.language or ctx.settings.default_language
        await sync_chat_menu(ctx.bot, person.telegram_id, roles, language)
    await _card(update, ctx, actor, person)


def handlers() -> list[Handler]:
    return [
        button(OpenPerson, open_person),
        button(VerifyPerson, verify),
        button(ReturnPerson, reject),
        button(SetSourcePool, source_pool),
        button(SetRole, set_role),
    ]

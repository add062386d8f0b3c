"""Staff tools on a person's card: confirm or return a self-declared profile, the source
pool flag, roles.

Every callback leaves the actor's rights to the service: a forged or stale button from a
learner is refused there, whatever the menu showed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from telegram import Update

from bot.actions import (
    Action,
    MergeProfile,
    OpenPerson,
    PendingPage,
    RefuseTypedLink,
    ReturnPerson,
    ReturnPersonFor,
    SetRole,
    SetSourcePool,
    ShowRecord,
    VerifyPerson,
)
from bot.channels import Channel, channel_of
from bot.domain import GRANTABLE_ROLES, Actor, NavOp, Person, ReturnReason, Role
from bot.errors import InvalidInput
from bot.validation import clean_note
from handlers.context import BotContext
from handlers.dialogue import Dialogue, Flow, Move, Step, Turn, begin, register
from handlers.menus import sync_chat_menu
from handlers.routing import Handler, button
from handlers.ui import Button, answer, inline, person_card, person_label, show


async def _card(
    update: Update, ctx: BotContext, actor: Actor, person: Person, back: int = 0
) -> None:
    people = ctx.services.people
    held = await ctx.services.access.roles_of(person.id)
    rows: list[list[Button]] = []
    if person.awaits_decision:
        row: list[Button] = [(ctx.t("admin.verify"), VerifyPerson(person.id))]
        if not person.from_roster:
            row.append((ctx.t("admin.return"), ReturnPerson(person.id)))
        if person.typed_link:
            row.append((ctx.t("admin.refuse_link"), RefuseTypedLink(person.id)))
        rows.append(row)
    doubles = [] if person.from_roster else await people.possible_duplicates(actor, person.id)
    for double in doubles:
        seen = f"⚠️ {person_label(double)} · {double.unit.label if double.unit else '—'}"
        rows.append([(seen, OpenPerson(double.id, back=person.id))])
        if actor.is_admin:
            merge = ctx.t("admin.merge_into", who=person_label(double))
            rows.append([(merge, MergeProfile(person.id, double.id))])
    if actor.is_admin and not person.withdrawn:
        key = "admin.source_pool_off" if person.source_pool else "admin.source_pool_on"
        rows.append([(ctx.t(key), SetSourcePool(person.id, not person.source_pool))])
    if actor.is_superadmin and not person.withdrawn:
        for role in GRANTABLE_ROLES:
            has = role in held
            label = f"{'✅' if has else '➕'} {ctx.t(f'role.{role.value}')}"
            rows.append([(label, SetRole(person.id, role, not has))])
    rows.append([(ctx.t("record.open"), ShowRecord(person.id))])
    if back:
        rows.append([(ctx.t("button.back"), OpenPerson(back))])
    roles = await ctx.services.access.grants_of(person.id)
    text: str = person_card(ctx.texts, person, staff_view=True, roles=roles)
    if doubles:
        text += "\n" + ctx.t("admin.possible_duplicates", count=len(doubles))
    await show(update, ctx, text, inline(rows) if rows else None)


async def _confirm(
    update: Update,
    ctx: BotContext,
    question: str,
    confirmed: Action,
    person: Person,
    *,
    told: Person | None = None,
) -> None:
    """Privileged changes are asked about first, on the card itself, saying whether the
    person (`told`: the one the change is about) will hear of it."""
    told = told or person
    question += " " + ctx.t(_told_key(told.telegram_id))
    rows = [[(ctx.t("admin.confirm"), confirmed), (ctx.t("button.cancel"), OpenPerson(person.id))]]
    await show(update, ctx, question, inline(rows))


def _told_key(account: int | None) -> str:
    """Where the person will hear of the change: on the messenger of their account."""
    if account is None:
        return "admin.not_told"
    return (
        "admin.will_be_told_zalo" if channel_of(account) is Channel.ZALO else "admin.will_be_told"
    )


async def open_person(update: Update, ctx: BotContext, tapped: OpenPerson) -> None:
    actor = await ctx.actor(update)
    person = await ctx.services.people.person_for(actor, tapped.person_id)
    await _card(update, ctx, actor, person, back=tapped.back)


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


async def refuse_link(update: Update, ctx: BotContext, tapped: RefuseTypedLink) -> None:
    """Asked first; then the account's dialogue ends too, so nothing it had begun goes on
    in the record's name."""
    actor = await ctx.actor(update)
    people = ctx.services.people
    if not tapped.confirmed:
        person = await people.typed_link_to_refuse(actor, tapped.person_id)
        question = ctx.t("admin.confirm_refuse_link", name=person.full_name)
        await _confirm(update, ctx, question, RefuseTypedLink(person.id, confirmed=True), person)
        return
    person, account = await people.refuse_typed_link(actor, tapped.person_id)
    await ctx.services.dialogues.end(account)
    await answer(update, ctx, ctx.t("admin.link_refused", name=person.full_name))
    await _card(update, ctx, actor, person)


async def ask_return_reason(update: Update, ctx: BotContext, tapped: ReturnPerson) -> None:
    """Returning a profile starts with why: the cadre is told, and what they do depends on it."""
    person = await ctx.services.people.returnable(await ctx.actor(update), tapped.person_id)
    await answer(update, ctx)
    await begin(update, ctx, RETURN, ReturnNote(person.id, name=person.full_name))


@dataclass
class ReturnNote:
    person_id: int = 0
    reason: ReturnReason = ReturnReason.NOT_IN_UNIT
    note: str | None = None
    name: str = ""


class Reason(Step[ReturnNote]):
    """Why the profile goes back; the note's Back comes here to choose again."""

    async def ask(self, turn: Turn[ReturnNote]) -> None:
        reasons = [[(label, turn.choice(value))] for label, value in await self.typed_labels(turn)]
        cancel = [(turn.t("button.cancel"), turn.nav(NavOp.CANCEL))]
        question = turn.t("admin.return_why", name=turn.draft.name)
        await turn.show(question, inline([*reasons, cancel]))

    async def typed_labels(self, turn: Turn[ReturnNote]) -> Sequence[tuple[str, str]]:
        return [(turn.t(f"admin.reason_{reason.value}"), reason.value) for reason in ReturnReason]

    async def on_choice(self, turn: Turn[ReturnNote], value: str) -> Move:
        try:
            turn.draft.reason = ReturnReason(value)
        except ValueError:
            raise InvalidInput() from None
        return Flow.NEXT


class Note(Step[ReturnNote]):
    """A note for the cadre, or none (inline buttons: the main keyboard stays)."""

    async def ask(self, turn: Turn[ReturnNote]) -> None:
        await turn.say(
            turn.t("admin.return_note"),
            inline([[(turn.t("admin.note_skip"), turn.choice("skip"))], turn.nav_row()]),
        )

    async def on_text(self, turn: Turn[ReturnNote], text: str) -> Move:
        turn.draft.note = clean_note(text)
        return Flow.FINISH

    async def on_choice(self, turn: Turn[ReturnNote], value: str) -> Move:
        turn.draft.note = None
        return Flow.FINISH


async def _return(turn: Turn[ReturnNote]) -> None:
    actor = await turn.ctx.actor(turn.update)
    draft = turn.draft
    person = await turn.services.people.reject(actor, draft.person_id, draft.reason, draft.note)
    await answer(turn.update, turn.ctx, turn.t("admin.rejected", name=person.full_name))
    # Not the card: a profile returned as "not in this unit" has left the head's units.
    reason = turn.t(f"admin.reason_{draft.reason.value}")
    done = turn.t("admin.returned_done", name=person.full_name, reason=reason)
    await turn.show(done, inline([[(turn.t("admin.back_to_pending"), PendingPage(0))]]))


RETURN = register(
    Dialogue(
        name="return", draft=ReturnNote, steps=[Reason("reason"), Note("note")], finish=_return,
        cancelled="admin.return_cancelled", interrupted="admin.return_cancelled",
        timeout=timedelta(minutes=15),
    )
)  # fmt: skip


async def return_for(update: Update, ctx: BotContext, tapped: ReturnPersonFor) -> None:
    """A reason tapped under a question sent before reasons were a step of the dialogue."""
    person = await ctx.services.people.returnable(await ctx.actor(update), tapped.person_id)
    await answer(update, ctx)
    draft = ReturnNote(person.id, tapped.reason, name=person.full_name)
    await begin(update, ctx, RETURN, draft, at="note")


async def source_pool(update: Update, ctx: BotContext, tapped: SetSourcePool) -> None:
    actor = await ctx.actor(update)
    people = ctx.services.people
    if not tapped.confirmed:
        person = await people.source_pool_change(actor, tapped.person_id)
        key = "admin.confirm_pool_on" if tapped.member else "admin.confirm_pool_off"
        confirmed = SetSourcePool(person.id, tapped.member, confirmed=True)
        await _confirm(update, ctx, ctx.t(key, name=person.full_name), confirmed, person)
        return
    person = await people.set_source_pool(actor, tapped.person_id, tapped.member)
    await _card(update, ctx, actor, person)


async def set_role(update: Update, ctx: BotContext, tapped: SetRole) -> None:
    """A role button carries the wanted state and asks first; then that person's menu is
    refreshed."""
    actor = await ctx.actor(update)
    access = ctx.services.access
    if not tapped.confirmed:
        person = await access.role_change(actor, tapped.person_id, tapped.role)
        key = "admin.confirm_grant" if tapped.held else "admin.confirm_revoke"
        role = ctx.t(f"role.{tapped.role.value}")
        if tapped.role is Role.UNIT_HEAD and person.unit is not None:
            role += f" ({person.unit.label})"  # a head heads the unit of their own record
        confirmed = SetRole(person.id, tapped.role, tapped.held, confirmed=True)
        await _confirm(update, ctx, ctx.t(key, name=person.full_name, role=role), confirmed, person)
        return
    person = await access.set_role(actor, tapped.person_id, tapped.role, tapped.held)
    await answer(update, ctx, ctx.t("admin.roles_saved"))
    await _sync_menu(ctx, person)
    await _card(update, ctx, actor, person)


async def _sync_menu(ctx: BotContext, person: Person) -> None:
    """The person's command menu, after their roles changed (or came with a merge)."""
    if person.telegram_id is None:
        return
    roles = await ctx.services.access.menu_roles(person)
    language = person.language or ctx.settings.default_language
    await sync_chat_menu(ctx.bot, person.telegram_id, roles, language)


async def merge(update: Update, ctx: BotContext, tapped: MergeProfile) -> None:
    """Two records of one cadre become one: asked first, then done, then the kept card."""
    actor = await ctx.actor(update)
    people = ctx.services.people
    if not tapped.confirmed:
        keeper = await people.merge_preview(actor, tapped.duplicate_id, tapped.keeper_id)
        question = ctx.t("admin.confirm_merge", name=keeper.full_name)
        confirmed = MergeProfile(tapped.duplicate_id, tapped.keeper_id, confirmed=True)
        duplicate = await people.person_for(actor, tapped.duplicate_id)
        await _confirm(update, ctx, question, confirmed, keeper, told=duplicate)
        return
    kept = await people.merge(actor, tapped.duplicate_id, tapped.keeper_id)
    await answer(update, ctx, ctx.t("admin.merged"))
    await _sync_menu(ctx, kept)  # the roles of both records are now the account's
    await _card(update, ctx, actor, kept)


def handlers() -> list[Handler]:
    return [
        button(OpenPerson, open_person),
        button(VerifyPerson, verify),
        button(ReturnPerson, ask_return_reason),
        button(RefuseTypedLink, refuse_link),
        button(ReturnPersonFor, return_for),
        button(SetSourcePool, source_pool),
        button(SetRole, set_role),
        button(MergeProfile, merge),
    ]

"""A class's deep link in the chat: the office's panel under the class's admin card (the
link, the printable QR poster, revoke, a new link; rights checked by the service on every
tap), and where a link lands (/start c-<token>): the class's card, ready to enrol."""

from __future__ import annotations

import asyncio
import re
from datetime import tzinfo

from telegram import InputFile, LinkPreviewOptions, Update

from bot.actions import ClassAdminCard, ClassLinks, ClassPoster, RenewClassLink, RevokeClassLink
from bot.class_links import link_url
from bot.class_poster import PosterText, poster_png
from bot.deeplinks import DeepLink
from bot.errors import DomainError
from bot.i18n import Texts, texts
from bot.record_labels import plain
from bot.services.class_links import LinkPanel, PosterData
from bot.timetable import summarise
from bot.training import ClassFormat
from handlers import catalog
from handlers.class_labels import parts_label, weekdays_label
from handlers.class_text import summary_text
from handlers.context import BotContext
from handlers.routing import Handler, button
from handlers.ui import Button, Markup, answer, inline, resting_keyboard, say, show

#: How each format reads on the poster (no emoji: the print font has none).
POSTER_FORMAT = {
    ClassFormat.ON_SITE: "class_links.poster_on_site",
    ClassFormat.ONLINE: "class_links.poster_online",
    ClassFormat.BLENDED: "class_links.poster_blended",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
#: The pasted link is the message: no preview card of the bot under it.
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# --- the office's panel ------------------------------------------------------------------------


async def panel(update: Update, ctx: BotContext, tapped: ClassLinks) -> None:
    state = await ctx.services.class_links.panel(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    await show(update, ctx, *_panel(ctx, state))


def _panel(ctx: BotContext, state: LinkPanel) -> tuple[str, Markup]:
    c = state.training_class
    back: list[Button] = [(ctx.t("button.back"), ClassAdminCard(c.id))]
    if state.link is None:
        text = (
            ctx.t("class_links.panel_revoked", name=c.name, code=c.code,
                  at=state.revoked.revoked_at)
            if state.revoked is not None and state.revoked.revoked_at is not None
            else ctx.t("class_links.none_live")
        )  # fmt: skip
        return text, inline([[(ctx.t("class_links.renew"), RenewClassLink(c.id))], back])
    url = link_url(ctx.bot.username, state.link.token)
    text = ctx.t("class_links.panel", name=c.name, code=c.code, url=url,
                 created=state.link.created_at)  # fmt: skip
    rows: list[list[Button]] = [
        [(ctx.t("class_links.poster"), ClassPoster(c.id))],
        [(ctx.t("class_links.renew"), RenewClassLink(c.id, state.link.id)),
         (ctx.t("class_links.revoke"), RevokeClassLink(c.id, state.link.id))],
        back,
    ]  # fmt: skip
    return text, inline(rows)


async def revoke(update: Update, ctx: BotContext, tapped: RevokeClassLink) -> None:
    """Asked first: printed posters stop working."""
    actor = await ctx.actor(update)
    if not tapped.confirmed:
        c = await ctx.services.planning.admin_class(actor, tapped.class_id)
        rows = [[(ctx.t("class_admin.confirm"), RevokeClassLink(c.id, tapped.link_id, True)),
                 (ctx.t("button.back"), ClassLinks(c.id))]]  # fmt: skip
        await show(update, ctx, ctx.t("class_links.confirm_revoke", code=c.code), inline(rows))
        return
    state, revoked = await ctx.services.class_links.revoke(actor, tapped.class_id, tapped.link_id)
    await answer(update, ctx, ctx.t("class_links.revoked_done" if revoked else "class_links.stale"))
    await show(update, ctx, *_panel(ctx, state))


async def renew(update: Update, ctx: BotContext, tapped: RenewClassLink) -> None:
    """A new link; asked first when it revokes a live one."""
    actor = await ctx.actor(update)
    if not tapped.confirmed and tapped.link_id:
        c = await ctx.services.planning.admin_class(actor, tapped.class_id)
        rows = [[(ctx.t("class_admin.confirm"), RenewClassLink(c.id, tapped.link_id, True)),
                 (ctx.t("button.back"), ClassLinks(c.id))]]  # fmt: skip
        await show(update, ctx, ctx.t("class_links.confirm_renew", code=c.code), inline(rows))
        return
    state, made = await ctx.services.class_links.renew(actor, tapped.class_id, tapped.link_id)
    await answer(update, ctx, ctx.t("class_links.renewed_done" if made else "class_links.stale"))
    await show(update, ctx, *_panel(ctx, state))


# --- the poster ------------------------------------------------------------------------------


async def poster(update: Update, ctx: BotContext, tapped: ClassPoster) -> None:
    """The A4 poster as a document (a photo would be recompressed, too blurry to print), then
    the text to paste into Zalo groups. Both in the province's language: cadres read them."""
    data = await ctx.services.class_links.poster(await ctx.actor(update), tapped.class_id)
    await answer(update, ctx)
    c = data.training_class
    url = link_url(ctx.bot.username, data.link.token)
    words = texts(ctx.settings.default_language, ctx.settings.tz, ctx.settings.office)
    png = await asyncio.to_thread(poster_png, poster_text(words, data, url, ctx.settings.tz))
    chat = update.effective_chat
    assert chat is not None
    await ctx.bot.send_document(
        chat.id, InputFile(png, filename=poster_name(c.code)),
        caption=ctx.t("class_links.poster_caption", code=c.code),
    )  # fmt: skip
    summary = summary_text(words, summarise(data.sessions, ctx.settings.tz))
    share = words("class_links.share", name=c.name, code=c.code, summary=summary, url=url)
    await ctx.bot.send_message(chat.id, share, link_preview_options=NO_PREVIEW)


def poster_name(code: str) -> str:
    """`ap-phich-<code>.png`, with nothing in it a file system or a phone would trip on."""
    return f"ap-phich-{_UNSAFE.sub('-', code).strip('-.') or 'lop'}.png"


def poster_text(words: Texts, data: PosterData, url: str, tz: tzinfo) -> PosterText:
    c = data.training_class
    summary = summarise(data.sessions, tz)
    details = [
        plain(words, "class_links.poster_when", count=summary.sessions,
              parts=parts_label(words, summary.parts), days=weekdays_label(words, summary.weekdays),
              first=summary.first, last=summary.last)
        if summary is not None
        else plain(words, "class_links.poster_no_sessions"),
        plain(words, POSTER_FORMAT[c.format], place=c.location or "—"),
    ]  # fmt: skip
    if c.enrol_deadline is not None:
        details.append(plain(words, "class_links.poster_deadline", deadline=c.enrol_deadline))
    if c.organiser:
        details.append(plain(words, "class_links.poster_organiser", organiser=c.organiser))
    return PosterText(
        heading=plain(words, "class_links.poster_heading"),
        title=c.name,
        code=plain(words, "class_links.poster_code", code=c.code),
        details=details,
        call=plain(words, "class_links.poster_call"),
        url=url,
    )


# --- where a link lands ----------------------------------------------------------------------


async def landed(update: Update, ctx: BotContext, link: DeepLink) -> None:
    """A registered cadre (or one just registered) on the class's card; a link that leads
    nowhere says why, with the main keyboard to go on from."""
    try:
        c = await ctx.services.class_links.resolve(link.argument)
    except DomainError as refused:
        text = ctx.t(refused.key, **refused.params)
        await say(update, ctx, text, await resting_keyboard(update, ctx))
        return
    await catalog.send_card(update, ctx, c.id)


def handlers() -> list[Handler]:
    return [
        button(ClassLinks, panel),
        button(ClassPoster, poster),
        button(RevokeClassLink, revoke),
        button(RenewClassLink, renew),
    ]

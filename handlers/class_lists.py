"""A class's list in the chat, page by page, and as a workbook to print ("📋 Danh sách lớp" on
the class's admin card, its catalog card and a lecturer's session card). Rights are checked by
the service on every tap."""

from __future__ import annotations

from telegram import InputFile, Update

from bot.actions import ClassAdminCard, ClassListWorkbook, OpenClass, ShowClassList
from bot.class_list_text import pages
from bot.class_list_xlsx import file_name
from handlers.context import BotContext
from handlers.routing import Handler, button
from handlers.ui import Button, answer, inline, show


async def show_list(update: Update, ctx: BotContext, tapped: ShowClassList) -> None:
    """A page of the list (a page past the end shows the last: the list may have shrunk)."""
    actor = await ctx.actor(update)
    shown = await ctx.services.class_lists.view(actor, tapped.class_id)
    texts = pages(ctx.texts, shown)
    page = min(max(tapped.page, 0), len(texts) - 1)
    class_id = shown.training_class.id
    rows: list[list[Button]] = []
    nav: list[Button] = []
    if page > 0:
        nav.append((ctx.t("class_list.previous"), ShowClassList(class_id, page - 1)))
    if page < len(texts) - 1:
        nav.append((ctx.t("class_list.next"), ShowClassList(class_id, page + 1)))
    if nav:
        rows.append(nav)
    if shown.entries:
        rows.append([(ctx.t("class_list.xlsx"), ClassListWorkbook(class_id))])
    back = ClassAdminCard(class_id) if actor.is_admin else OpenClass(class_id)
    rows.append([(ctx.t("button.back"), back)])
    await show(update, ctx, texts[page], inline(rows))


async def send_workbook(update: Update, ctx: BotContext, tapped: ClassListWorkbook) -> None:
    actor = await ctx.actor(update)
    made = await ctx.services.class_lists.export(actor, tapped.class_id, ctx.texts)
    await answer(update, ctx, ctx.t("class_list.sent"))
    code = made.training_class.code
    caption = ctx.t("class_list.caption", code=code, **{s.value: n for s, n in made.counts.items()})
    chat = update.effective_chat
    assert chat is not None
    document = InputFile(made.content, filename=file_name(code))
    await ctx.bot.send_document(chat.id, document, caption=caption)


def handlers() -> list[Handler]:
    return [button(ShowClassList, show_list), button(ClassListWorkbook, send_workbook)]

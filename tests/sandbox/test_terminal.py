"""Rendering and input parsing of the sandbox chat: what a person sees and what typing means."""

from __future__ import annotations

import io

from tools.emulator import Attachment, BotMessage, InlineButton, ReplyButton
from tools.sandbox.console import Console
from tools.sandbox.terminal import (
    HELP,
    KEYBOARD_CLOSED,
    ChatView,
    Command,
    Press,
    Say,
    Tap,
    banner,
    classes_guide,
    letter,
    parse_line,
    render_answer,
    render_menu,
    render_message,
)

CONSENT = [
    [InlineButton("✅ Tôi đồng ý", "ob:yes"), InlineButton("❌ Không đồng ý", "ob:no")],
    [InlineButton("🇬🇧 English", "ob:lang:en")],
]
CONTACT_KEYBOARD = [
    [ReplyButton("📱 Chia sẻ số điện thoại", request_contact=True)],
    [ReplyButton("✍️ Tự khai báo hồ sơ")],
]


def message(
    message_id: int = 1,
    text: str | None = "Xin chào đồng chí!",
    *,
    buttons: list[list[InlineButton]] | None = None,
    keyboard: list[list[ReplyButton]] | None = None,
    remove_keyboard: bool = False,
    document: Attachment | None = None,
    caption: str | None = None,
    edited: bool = False,
    deleted: bool = False,
) -> BotMessage:
    return BotMessage(
        message_id=message_id,
        text=text,
        html=text,
        buttons=buttons or [],
        reply_keyboard=keyboard,
        remove_keyboard=remove_keyboard,
        document=document,
        photo=None,
        caption=caption,
        edited=edited,
        deleted=deleted,
    )


def view_with(*events: BotMessage) -> ChatView:
    view = ChatView()
    for event in events:
        view.apply(event)
    return view


# -- parsing ------------------------------------------------------------------------------------


def test_a_number_taps_the_inline_button_shown_last() -> None:
    view = view_with(message(7, buttons=CONSENT))
    assert parse_line("1", view) == Tap(7, CONSENT[0][0])
    assert parse_line(" [3] ", view) == Tap(7, CONSENT[1][0])


def test_a_number_beyond_the_buttons_is_text_so_a_birth_year_stays_a_year() -> None:
    view = view_with(message(7, buttons=CONSENT))
    assert parse_line("4", view) == Say("4")
    assert parse_line("1995", view) == Say("1995")
    assert parse_line("1", ChatView()) == Say("1")


def test_a_letter_presses_the_reply_keyboard_button() -> None:
    view = view_with(message(3, keyboard=CONTACT_KEYBOARD))
    assert parse_line("a", view) == Press(CONTACT_KEYBOARD[0][0])
    assert parse_line("(b)", view) == Press(CONTACT_KEYBOARD[1][0])
    assert parse_line("A", view) == Press(CONTACT_KEYBOARD[0][0])
    assert parse_line("c", view) == Say("c")
    assert parse_line("a", ChatView()) == Say("a")


def test_colon_lines_are_sandbox_commands_and_never_reach_the_bot() -> None:
    view = view_with(message(7, buttons=CONSENT))
    assert parse_line(":as admin", view) == Command("as", "admin")
    assert parse_line(":AS  Admin ", view) == Command("as", "Admin")
    assert parse_line(":file /tmp/bảng điểm.xlsx", view) == Command("file", "/tmp/bảng điểm.xlsx")
    assert parse_line(":quit", view) == Command("quit")


def test_other_lines_are_sent_as_typed_and_blank_lines_are_ignored() -> None:
    assert parse_line("  vàng   thị  dung ", ChatView()) == Say("  vàng   thị  dung ")
    assert parse_line("/people trieu thi dao", ChatView()) == Say("/people trieu thi dao")
    assert parse_line("   ", ChatView()) is None


def test_letters_go_on_past_z() -> None:
    assert [letter(i) for i in (0, 25, 26, 27, 51, 52)] == ["a", "z", "aa", "ab", "az", "ba"]


# -- which buttons are live -----------------------------------------------------------------------


def test_a_later_message_without_buttons_keeps_the_buttons_live() -> None:
    view = view_with(message(7, buttons=CONSENT), message(8, "Đang xử lý"))
    assert view.inline_message is not None and view.inline_message.message_id == 7


def test_editing_away_the_buttons_or_deleting_the_message_withdraws_them() -> None:
    edited = view_with(message(7, buttons=CONSENT), message(7, "Cảm ơn", edited=True))
    assert edited.inline == []
    deleted = view_with(message(7, buttons=CONSENT), message(7, deleted=True))
    assert deleted.inline == []
    other = view_with(message(7, buttons=CONSENT), message(5, "cũ", edited=True))
    assert len(other.inline) == 3


def test_an_edit_with_new_buttons_makes_them_the_live_ones() -> None:
    page_two = [[InlineButton("Trang 2", "p:2")]]
    view = view_with(
        message(7, buttons=CONSENT), message(9), message(7, buttons=page_two, edited=True)
    )
    assert view.inline == page_two[0]


def test_the_reply_keyboard_stays_until_removed() -> None:
    view = view_with(message(3, keyboard=CONTACT_KEYBOARD), message(4, "Gõ họ tên"))
    assert len(view.reply) == 2
    view.apply(message(5, "Đã nhận", remove_keyboard=True))
    assert view.reply == []


# -- rendering ----------------------------------------------------------------------------------


def test_inline_buttons_are_numbered_row_by_row() -> None:
    text = render_message(message(1, "Xin chào đồng chí!\n\nĐồng ý không?", buttons=CONSENT))
    assert text.splitlines() == [
        "🤖 Xin chào đồng chí!",
        "",
        "   Đồng ý không?",
        "   [1] ✅ Tôi đồng ý   [2] ❌ Không đồng ý",
        "   [3] 🇬🇧 English",
    ]


def test_reply_keyboard_buttons_get_letters() -> None:
    text = render_message(message(3, "Bấm nút bên dưới.", keyboard=CONTACT_KEYBOARD))
    assert "⌨ (a) 📱 Chia sẻ số điện thoại" in text
    assert "(b) ✍️ Tự khai báo hồ sơ" in text


def test_edits_deletions_files_and_links_are_marked() -> None:
    assert render_message(message(2, "Cảm ơn", edited=True)).startswith("🤖 ✎ (đã sửa")
    assert "«Xin chào đồng chí!»" in render_message(message(2, deleted=True))
    doc = Attachment("du-lieu.json", b"{}", "application/json")
    saved = render_message(message(4, None, document=doc, caption="Dữ liệu"), "sandbox-files/x")
    assert saved.splitlines() == ["🤖 Dữ liệu", "   📎 sandbox-files/x"]
    link = [[InlineButton("Mở", url="https://example.org/a")]]
    assert "[1] Mở ↗ https://example.org/a" in render_message(message(5, buttons=link))


def test_keyboard_closed_is_said_only_when_one_was_shown() -> None:
    assert KEYBOARD_CLOSED in render_message(message(5, remove_keyboard=True), keyboard_closed=True)
    assert KEYBOARD_CLOSED not in render_message(message(5, remove_keyboard=True))


def test_answers_menu_banner_and_help() -> None:
    assert render_answer("Đã lưu") == "   ⓘ Đã lưu"
    menu = render_menu([{"command": "people", "description": "Tra cứu cán bộ"}])
    assert menu == "   /people — Tra cứu cán bộ"
    lines = banner("Triệu Thị Đào, cán bộ mới", "+84912000005", "newcomer", "d", "f", "l")
    assert 5 <= len(lines.splitlines()) <= 8
    assert ":as admin" in lines and "[1]" in lines and "(a)" in lines and ":clock" in lines
    assert all(f":{c}" in HELP for c in ("as", "who", "contact", "file", "clock", "help", "quit"))


def test_the_classes_guide_names_the_classes_to_try() -> None:
    codes = {"week": "AI.2026.04", "full": "LDCP.2026.06", "duplicate": "CDS.2026.05",
             "running": "CNKT4.2026.12", "draft": "CNKT4.2027.01", "practice": "QPAN.2026.03",
             "results": "CNKT4.2026.11", "nominate": "CBCX.2026.10"}  # fmt: skip
    guide = classes_guide(2026, 60, codes)
    assert len(guide.splitlines()) <= 12
    assert all(len(line) <= 90 for line in guide.splitlines())
    for text in ("60 lớp", "2026", "2027", ":as learner", ":as lecturer", ":as head", ":as admin",
                 "/classes", "/schedule", "/plan", "/newclass", "/attendance", "/leave", "/record",
                 *codes.values()):  # fmt: skip
        assert text in guide


# -- output around a prompt -------------------------------------------------------------------


def test_output_redraws_the_prompt_and_the_half_typed_line_on_a_terminal() -> None:
    out = io.StringIO()
    console = Console(out, terminal=True)
    console.prompt, console.typed = "newcomer› ", lambda: "nguy"
    console.show("🤖 Nhắc lịch")
    assert out.getvalue() == "\r\x1b[K🤖 Nhắc lịch\nnewcomer› nguy"


def test_output_is_plain_when_not_a_terminal() -> None:
    out = io.StringIO()
    console = Console(out, terminal=False)
    console.prompt = "newcomer› "
    console.show("🤖 Nhắc lịch")
    assert out.getvalue() == "🤖 Nhắc lịch\n"


def test_a_bots_link_pasted_opens_it_as_telegram_does() -> None:
    view = ChatView()
    link = "https://t.me/cadre_demo_bot?start=c-AbCdEfGh-_KlMnOp"
    assert parse_line(link, view) == Say("/start c-AbCdEfGh-_KlMnOp")
    assert parse_line(" t.me/cadre_demo_bot?start=profile ", view) == Say("/start profile")
    # Typed as a command it goes as it is; anything else that looks like a link is text.
    assert parse_line("/start c-AbCdEfGhIjKlMnOp", view) == Say("/start c-AbCdEfGhIjKlMnOp")
    for text in ("https://t.me/cadre_demo_bot", "https://t.me/x?start=a b", "https://zalo.me/g/1"):
        assert parse_line(text, view) == Say(text)

"""How a Telegram message reads on Zalo: HTML as plain text, buttons as a numbered list and
the replies that pick them, edits as new messages, long texts in 2,000-character parts, the
command menu as a numbered answer; with Vietnamese, odd Unicode and broken markup."""

from __future__ import annotations

import string
import unicodedata

import pytest

from bot.i18n import Texts, catalog
from bot.menus import LEARNER_COMMANDS
from bot.zalo.render import (
    TEXT_LIMIT,
    Choice,
    Keyboard,
    asks_for_menu,
    choose,
    choose_among,
    edited,
    menu_text,
    numbered,
    plain_text,
    split,
    zalo_length,
)
from tools.emulator.entities import parse_html

VI, EN = Texts("vi"), Texts("en")
HINT = "Đồng chí trả lời bằng số thứ tự (ví dụ: 1) hoặc tên lựa chọn."
RTL, LTR = "\u200f", "\u200e"
KEYBOARD: Keyboard = [
    [("📝 Đăng ký lớp", "enrol:12"), ("📅 Lịch học", "sched:12")],
    [("Không có / Bỏ qua", "skip")],
    ["↩️ Quay lại", "❌ Hủy"],
]
CHOICES = numbered("Lớp Bồi dưỡng ngạch chuyên viên", KEYBOARD, VI).choices


# plain_text ---------------------------------------------------------------------------------


def test_formatting_tags_go_and_their_words_stay() -> None:
    html = (
        "<b>Lớp</b> <strong>CV.2026.01</strong> <i>khai giảng</i> <em>ngày</em> <u>05/03</u> "
        "<ins>tại</ins> <s>Phòng 1</s><del>x</del><strike>y</strike> <code>Hội trường A</code> "
        '<span class="tg-spoiler">mã 4821</span> <tg-spoiler>bí mật</tg-spoiler> '
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert plain_text(html) == (
        "Lớp CV.2026.01 khai giảng ngày 05/03 tại Phòng 1xy Hội trường A mã 4821 bí mật 👍"
    )


def test_entities_are_decoded_once() -> None:
    html = "5 &lt; 6 &gt; 4 &amp; &quot;Lan&quot; &#39;Hà&#39; &#x1F600; &#272;&#7891;ng &amp;lt;"
    assert plain_text(html) == "5 < 6 > 4 & \"Lan\" 'Hà' 😀 Đồng &lt;"


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        ('<a href="https://hoc.gov.vn/lop/12">Vào lớp</a>', "Vào lớp (https://hoc.gov.vn/lop/12)"),
        ('<a href="https://hoc.gov.vn/">hoc.gov.vn</a>', "hoc.gov.vn"),
        ('<a href="https://hoc.gov.vn">https://hoc.gov.vn/</a>', "https://hoc.gov.vn/"),
        ('<a href="HTTPS://Hoc.gov.vn">hoc.gov.vn</a>', "hoc.gov.vn"),
        ('<a href="mailto:daotao@tinh.gov.vn">daotao@tinh.gov.vn</a>', "daotao@tinh.gov.vn"),
        ('<a href="tg://user?id=42">Nguyễn Thị Lan</a>', "Nguyễn Thị Lan"),
        ('<a href="https://x.vn/?a=1&amp;b=2">Tải</a>', "Tải (https://x.vn/?a=1&b=2)"),
        ('<a href="https://x.vn"></a>', "https://x.vn"),
        ("<a>Không có địa chỉ</a>", "Không có địa chỉ"),
        ('<a href="">trống</a>', "trống"),
    ],
)
def test_links_are_spelled_out_unless_the_words_are_the_address(html: str, plain: str) -> None:
    assert plain_text(html) == plain


@pytest.mark.parametrize(
    ("html", "plain"),
    [
        ('<b><i>Lớp <a href="https://x.vn">mở</a> rồi</i></b>', "Lớp mở (https://x.vn) rồi"),
        ("<b><i>chéo</b> nhau</i>", "chéo nhau"),
        ("<b>chưa đóng", "chưa đóng"),
        ('Xem <a href="https://x.vn">trang <b>lớp', "Xem trang lớp (https://x.vn)"),
        ("thừa</b></a></pre></blockquote> thẻ đóng", "thừa thẻ đóng"),
        ("<unknown>lạ</unknown><br/>", "lạ"),
        ("a < b và c<", "a < b và c<"),
        ("chú thích<!-- ẩn --> bỏ", "chú thích bỏ"),
        ("", ""),
    ],
)
def test_broken_markup_still_reads(html: str, plain: str) -> None:
    assert plain_text(html) == plain


def test_preformatted_text_keeps_its_lines_and_stands_on_its_own() -> None:
    html = 'Bảng:<pre><code class="language-text">Lớp  Sĩ số\nCV01   40\n  A    3</code></pre>Hết'
    assert plain_text(html) == "Bảng:\nLớp  Sĩ số\nCV01   40\n  A    3\nHết"
    assert plain_text("Dòng 1\n<pre>x</pre>\nDòng 2") == "Dòng 1\nx\nDòng 2"


def test_a_quote_is_marked_line_by_line() -> None:
    html = "Lý do:<blockquote expandable>Con ốm\nxin nghỉ</blockquote>Đồng chí duyệt không?"
    assert plain_text(html) == "Lý do:\n│ Con ốm\n│ xin nghỉ\nĐồng chí duyệt không?"


def test_plain_text_is_left_as_it_is_whatever_the_unicode() -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Đào học ở Hà Giang")
    text = f"{RTL}مرحبا{LTR} 👨‍👩‍👧 1️⃣ {nfd}\n\n  thụt lề\t" * 80
    assert zalo_length(text) > 5000
    assert plain_text(text) == text


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_catalog_text_reads_as_telegram_shows_it(lang: str) -> None:
    """The catalogs have no links nor blocks, so the plain text is exactly what Telegram
    displays once it has parsed the markup (the emulator parses as Telegram does)."""
    texts = Texts(lang)
    for key, template in catalog(lang).items():
        for variant in template.values() if isinstance(template, dict) else [template]:
            fields = {name for _, name, _, _ in string.Formatter().parse(variant) if name}
            if fields:
                continue
            html = texts.format(variant)
            assert plain_text(html) == parse_html(html)[0], key


# numbered -----------------------------------------------------------------------------------


def test_buttons_become_a_numbered_list_row_by_row() -> None:
    result = numbered("<ignored>Lớp Bồi dưỡng\n\n", KEYBOARD, VI)
    assert result.text == (
        "<ignored>Lớp Bồi dưỡng\n\n"
        "1 · 📝 Đăng ký lớp\n2 · 📅 Lịch học\n3 · Không có / Bỏ qua\n4 · ↩️ Quay lại\n5 · ❌ Hủy\n"
        + HINT
    )
    assert result.choices == (
        Choice(1, "📝 Đăng ký lớp", "enrol:12", "📝 Đăng ký lớp"),
        Choice(2, "📅 Lịch học", "sched:12", "📅 Lịch học"),
        Choice(3, "Không có / Bỏ qua", "skip", "Không có / Bỏ qua"),
        Choice(4, "↩️ Quay lại", None, "↩️ Quay lại"),
        Choice(5, "❌ Hủy", None, "❌ Hủy"),
    )


def test_without_buttons_the_text_is_unchanged() -> None:
    assert numbered("Đã lưu.", [], VI) == numbered("Đã lưu.", [[]], VI)
    assert numbered("Đã lưu.", [], VI).text == "Đã lưu."
    assert numbered("Đã lưu.", [], VI).choices == ()


def test_a_label_on_several_lines_is_listed_on_one_and_typed_back_as_sent() -> None:
    result = numbered("", [["  Tôi\n đồng   ý "]], EN)
    hint = "Reply with the number (e.g. 1) or the name of your choice."
    assert result.text == f"1 · Tôi đồng ý\n{hint}"
    assert result.choices[0].text == "  Tôi\n đồng   ý "


def test_a_long_list_is_split_without_cutting_a_line() -> None:
    keyboard = [[(f"Lớp bồi dưỡng số {n:03} — {'Đ' * 40}", f"c:{n}")] for n in range(1, 151)]
    result = numbered("Chọn lớp:", keyboard, VI)
    lines = result.text.split("\n")[2:]
    parts = split(result.text)
    assert len(parts) > 3
    assert all(zalo_length(part) <= TEXT_LIMIT for part in parts)
    sent_lines = [line for part in parts for line in part.split("\n")]
    assert all(line in sent_lines for line in lines)
    assert choose("150", result.choices) == result.choices[-1]


def test_a_list_that_fits_in_a_message_stays_together() -> None:
    text = " ".join(["Thông báo"] * 195)  # 1,949 characters
    result = numbered(text, KEYBOARD, VI)
    parts = split(result.text)
    assert parts[0] == text
    assert parts[1].startswith("1 · 📝 Đăng ký lớp") and parts[1].endswith(HINT)


def test_a_label_that_numbers_itself_is_not_numbered_twice() -> None:
    keyboard = [
        [("1. Ứng dụng CNTT", "a"), ("2) Học trực tuyến", "b")],
        [("4. Lạc chỗ", "c"), ("4.  Đúng  chỗ", "d")],
        ["5.5 giờ", "6.Sát chữ", "7 . Cách xa"],
    ]
    result = numbered("Chọn chuyên đề:", keyboard, VI)
    assert result.text.split("\n")[2:-1] == [
        "1 · Ứng dụng CNTT", "2 · Học trực tuyến", "3 · 4. Lạc chỗ", "4 · Đúng chỗ",
        "5 · 5.5 giờ", "6 · 6.Sát chữ", "7 · 7 . Cách xa",
    ]  # fmt: skip
    # The words are those listed; a reply-keyboard button still sends its label whole.
    assert choose("ung dung cntt", result.choices) == result.choices[0]
    assert choose("1. Ứng dụng CNTT", result.choices) == result.choices[0]
    assert result.choices[3].text == "4.  Đúng  chỗ"


# choose -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "number"),
    [
        ("1", 1), (" 1 ", 1), ("2\n", 2), ("số 1", 1), ("Số 2", 2), ("so 3", 3), ("SỐ4", 4),
        ("chọn 5", 5), ("lựa chọn 2", 2), ("#3", 3), ("3.", 3), ("3)", 3), ("03", 3),
        ("１", 1), ("②", 2), ("1️⃣", 1), (f"{RTL}4{LTR}", 4), ("số thứ tự 5", 5),
        ("Đăng ký lớp", 1), ("dang ky lop", 1), ("DANG KY LOP", 1), ("  đăng  ký  lớp ", 1),
        ("📝 Đăng ký lớp", 1), (unicodedata.normalize("NFD", "đăng ký lớp"), 1),
        ("lich hoc", 2), ("Lịch Học", 2), ("khong co", 3), ("bỏ qua", 3),
        ("Không có / Bỏ qua", 3), ("quay lai", 4), ("Huỷ", 5), ("hủy", 5), (f"{RTL}huy", 5),
        ("3 · Không có / Bỏ qua", 3), ("5. huy", 5),
        # The first words of a label are enough, when they name one choice.
        ("đăng ký", 1), ("dang ky", 1), ("Lịch", 2), ("khong", 3),
    ],
)  # fmt: skip
def test_a_reply_picks_its_choice(typed: str, number: int) -> None:
    picked = choose(typed, CHOICES)
    assert picked is not None and picked.number == number


@pytest.mark.parametrize(
    "typed",
    [
        "", "   ", "\u200f", "0", "6", "99", "-1", "1 2", "số", "xin chào", "lớp", "ký lớp",
        "👍", "📝", "2 · Đăng ký lớp", "1" * 5000, "đăng ký lớp " * 500, "ا" * 5000,
    ],
)  # fmt: skip
def test_a_reply_that_names_no_choice_picks_none(typed: str) -> None:
    assert choose(typed, CHOICES) is None


def test_a_reply_that_names_two_choices_picks_none() -> None:
    keyboard = [
        [("Chi tiết", "class:1"), ("Chi tiết", "class:2")],
        [("Không có / Bỏ qua", "none"), ("⏭ Bỏ qua", "skip")],
    ]
    choices = numbered("Hai lớp", keyboard, VI).choices
    assert choose("chi tiet", choices) is None
    assert choose("bo qua", choices) is None
    assert choose("không có", choices) == choices[2]
    assert choose("2", choices) == choices[1]


def test_the_same_button_twice_is_one_choice() -> None:
    choices = numbered("", [[("Đóng", "close")], [("✖️ Đóng", "close")]], VI).choices
    assert choose("dong", choices) == choices[0]


def test_a_number_on_the_list_wins_over_a_label_that_is_a_number() -> None:
    choices = numbered("Năm nào?", [[("2025", "y:2025"), ("2026", "y:2026")], ["1"]], VI).choices
    assert choose("1", choices) == choices[0]
    assert choose("2026", choices) == choices[1]
    assert choose("số 3", choices) == choices[2]


def test_a_label_with_a_note_is_picked_without_it() -> None:
    choices = numbered("", [[("Khác (tự nhập)", "other")], [("Kinh", "kinh")]], VI).choices
    assert choose("khac", choices) == choices[0]
    assert choose("Khác (tự nhập)", choices) == choices[0]


def test_nothing_to_choose_from_picks_none() -> None:
    assert choose("1", ()) is None
    assert choose("đăng ký lớp", ()) is None


def test_a_number_picks_from_the_latest_list_and_words_from_the_newest_that_has_them() -> None:
    latest = numbered("", [[("🗓 Lịch học của lớp", "s:2")]], VI).choices
    earlier = numbered("", [[("✅ Điểm danh", "c:1"), ("🗓 Lịch học của lớp", "s:1")]], VI).choices
    main = numbered("", [["📚 Lớp học", "🧾 Điểm danh"]], VI).choices
    lists = [latest, earlier, main]
    assert choose_among("1", lists) == (0, latest[0])
    assert choose_among("2", lists) is None  # earlier numbers were shown long ago
    assert choose_among("diem danh", lists) == (1, earlier[0])
    assert choose_among("lich hoc cua lop", lists) == (0, latest[0])
    assert choose_among("1 · ✅ Điểm danh", lists) == (1, earlier[0])
    assert choose_among("lop hoc", lists) == (2, main[0])
    assert choose_among("1", [(), earlier]) is None  # the latest list is gone
    assert choose_among("diem danh", [(), earlier]) == (1, earlier[0])
    assert choose_among("xin chào", lists) is None
    assert choose_among("1", []) is None


def test_a_reply_two_choices_of_the_newest_list_name_looks_no_further() -> None:
    twice = numbered("", [[("Chi tiết", "class:1"), ("Chi tiết", "class:2")]], VI).choices
    once = numbered("", [[("Chi tiết", "class:3")]], VI).choices
    assert choose_among("chi tiet", [twice, once]) is None
    assert choose_among("chi tiet", [(), once]) == (1, once[0])


# edited -------------------------------------------------------------------------------------


def test_an_edit_that_only_changed_buttons_or_looks_sends_nothing() -> None:
    assert edited("Lớp <b>CV01</b>: 40 chỗ", "Lớp <b>CV01</b>: 40 chỗ", VI) is None
    assert edited("Lớp <b>CV01</b>: 40 chỗ", "Lớp CV01: <i>40 chỗ</i>\n", VI) is None
    assert edited("", "", VI) is None


def test_an_edit_that_changed_the_words_is_a_new_message_marked_updated() -> None:
    assert edited("Còn 40 chỗ", "<b>Còn 39 chỗ</b>", VI) == "✏️ Cập nhật: Còn 39 chỗ"
    assert edited("Còn 40 chỗ", "Còn 39 chỗ", EN) == "✏️ Updated: Còn 39 chỗ"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Còn 40 chỗ", "Còn 39 chỗ"),
        ("Đang gửi thông báo… 10/200", "Đang gửi thông báo… 20/200"),
        ("Lịch học:\n• Thứ Hai", "Lịch học:\n• Thứ Hai\n• Thứ Ba"),  # the old one, continued
        ("Đơn xin nghỉ buổi 2 của Lan", "✅ Đã duyệt: Đơn xin nghỉ buổi 2 của Lan"),
        ("", "Tin nhắn cũ đã quên"),  # nothing to compare with: an update, as it was
    ],
)  # fmt: skip
def test_a_revised_text_is_marked_updated(old: str, new: str) -> None:
    assert edited(old, new, VI) == f"✏️ Cập nhật: {new}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("Đồng chí có đồng ý cho xử lý dữ liệu cá nhân?", "Đồng chí nhập họ và tên."),
        ("Chọn đơn vị của đồng chí", "Chọn chức vụ của đồng chí hiện nay trong cơ quan, đơn vị"),
        ("Còn 40 chỗ", "Đã đăng ký lớp CDS.01 — hẹn gặp đồng chí ngày 05/03"),
    ],
)  # fmt: skip
def test_another_text_in_the_message_s_place_comes_unmarked(old: str, new: str) -> None:
    assert edited(old, f"<b>{new}</b>", VI) == new


def test_an_updated_text_keeps_its_characters_as_they_were() -> None:
    new = "Tên: &lt;b&gt;Lan&lt;/b&gt; &amp;amp; {x} %s 👨‍👩‍👧\u200f\nDòng 2"
    assert (
        edited("Tên: &lt;b&gt;Lan&lt;/b&gt;", new, VI)
        == "✏️ Cập nhật: Tên: <b>Lan</b> &amp; {x} %s 👨‍👩‍👧\u200f\nDòng 2"
    )


# split --------------------------------------------------------------------------------------


def test_a_short_text_is_one_message_and_a_blank_one_none() -> None:
    assert split("Xin chào đồng chí") == ["Xin chào đồng chí"]
    assert split("Đ" * TEXT_LIMIT) == ["Đ" * TEXT_LIMIT]
    assert split("") == []
    assert split(" \n\n \n") == []


def test_long_text_is_cut_between_lines_first() -> None:
    lines = [f"{n:04} · Nguyễn Thị Phương — Xã Tân Lập (Huyện Bắc Sơn)" for n in range(200)]
    text = "\n".join(lines)
    parts = split(text)
    assert all(zalo_length(part) <= TEXT_LIMIT for part in parts)
    assert "\n".join(parts) == text


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    paragraphs = [f"Đoạn {n}\n" + "\n".join(["dòng chữ"] * 90) for n in range(6)]
    parts = split("\n\n".join(paragraphs))
    assert all(part.startswith("Đoạn ") for part in parts)
    assert "\n\n".join(parts) == "\n\n".join(paragraphs)


def test_a_line_too_long_is_cut_between_words() -> None:
    text = " ".join(f"từ{n}" for n in range(1500))  # 9,389 characters on one line
    parts = split(text)
    assert len(parts) == 5
    assert all(TEXT_LIMIT - 7 <= zalo_length(part) <= TEXT_LIMIT for part in parts[:-1])
    assert " ".join(parts) == text


def test_a_word_too_long_is_cut_hard() -> None:
    text = "Đ" * 5000
    assert split(text) == ["Đ" * 2000, "Đ" * 2000, "Đ" * 1000]
    assert split(text, limit=3) == ["ĐĐĐ"] * 1666 + ["ĐĐ"]


def test_emoji_count_twice_as_telegram_counts_them() -> None:
    parts = split("😀" * 1500)
    assert parts == ["😀" * 1000, "😀" * 500]
    assert [zalo_length(part) for part in parts] == [2000, 1000]


def test_a_cut_never_splits_what_reads_as_one_character() -> None:
    nfd = unicodedata.normalize("NFD", "ệ") * 2500  # e, then two combining marks: 7,500
    family = "👨‍👩‍👧" * 700
    thumbs = "👍🏽" * 1000
    for text in (nfd, family, thumbs):
        parts = split(text)
        assert "".join(parts) == text
        assert all(zalo_length(part) <= TEXT_LIMIT for part in parts)
        for part in parts[1:]:
            first = part[0]
            assert unicodedata.category(first) not in {"Mn", "Me"}
            assert first != "\u200d" and not 0x1F3FB <= ord(first) <= 0x1F3FF
        assert all(not part.endswith("\u200d") for part in parts)


def test_text_from_right_to_left_scripts_is_split_like_any_other() -> None:
    text = (f"{RTL}مرحبا بالعالم{LTR} " * 400).strip()
    parts = split(text)
    assert all(zalo_length(part) <= TEXT_LIMIT for part in parts)
    assert " ".join(parts) == text


def test_a_limit_that_cannot_hold_an_emoji_is_refused() -> None:
    with pytest.raises(ValueError):
        split("😀", limit=1)


# menu_text ----------------------------------------------------------------------------------


def test_the_command_menu_is_a_numbered_answer() -> None:
    commands = [(name, VI(f"command.{name}")) for name in LEARNER_COMMANDS]
    menu = menu_text(commands, VI)
    lines = menu.text.split("\n")
    assert lines[0] == "Các chức năng của trợ lý — đồng chí trả lời bằng số thứ tự hoặc gõ lệnh:"
    assert lines[1] == "1 · Màn hình chính (đăng ký, nếu chưa có hồ sơ) — /start"
    assert lines[2] == "2 · Lớp học, đăng ký học — /classes"
    assert len(lines) == len(LEARNER_COMMANDS) + 1
    assert split(menu.text) == [menu.text]
    picked = choose("lich hoc cua toi", menu.choices)
    assert picked is not None and (picked.text, picked.callback_data) == ("/schedule", None)
    assert choose("3", menu.choices) == picked


def test_an_empty_menu_is_only_its_heading() -> None:
    menu = menu_text([], EN)
    assert menu.text == "What the assistant does — reply with the number or type the command:"
    assert menu.choices == ()


@pytest.mark.parametrize(
    ("typed", "asks"),
    [
        ("menu", True), (" MENU ", True), ("Menu", True), ("/menu", True), ("/help", True),
        ("Trợ giúp", True), ("tro giup", True), (f"{RTL}menu", True),
        ("menu lớp", False), ("/helper", False), ("1", False), ("", False), ("m" * 5000, False),
    ],
)  # fmt: skip
def test_asking_for_the_menu(typed: str, asks: bool) -> None:
    assert asks_for_menu(typed) is asks

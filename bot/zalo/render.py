"""How a Telegram message reads on Zalo, which has no buttons, no edits, no command menu and
no HTML: pure translations, from what the application sends to the plain text a Zalo user
reads, and from what they type back to the button they meant.

The application always sends Telegram HTML (its default parse mode), so texts come in as HTML.
Buttons come in as rows: an inline button as (label, callback_data), a reply-keyboard button
as its label.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Final

from bot.i18n import Texts
from bot.text_search import fold, label_words, typed_choice
from bot.validation import telegram_length

#: Zalo's sendMessage takes "from 1 to 2000 characters" without saying how it counts them
#: (https://bot.zaloplatforms.com/docs, sendMessage). UTF-16 code units are counted, as
#: Telegram does: never fewer than code points or graphemes, so a part fits however Zalo counts.
TEXT_LIMIT: Final = 2000

Button = tuple[str, str] | str
Keyboard = Sequence[Sequence[Button]]

_QUOTE: Final = "│ "  # a quoted block, as the bar Telegram draws beside it
_BLOCKS: Final = frozenset({"pre", "blockquote"})
_SEPARATORS: Final = ("\n\n", "\n", " ")  # paragraphs, then lines, then words
_SCHEME = re.compile(r"^(?:https?://|mailto:|tel:)")
#: "1", "số 1", "chọn 1", "#1", "1." once folded ("số" reads "so").
_NUMBER = re.compile(r"(?:(?:so thu tu|so|chon|lua chon|number|option)\s*)?#?\s*(\d{1,4})\s*[.)]?")
#: A line of the list copied back whole: "1 · Đăng ký lớp".
_LINE = re.compile(r"(\d{1,4})\s*[·.:)-]\s*(.+)")
#: A label that numbers itself ("1. Ứng dụng", "2) Học trực tuyến").
_OWN_NUMBER = re.compile(r"(\d{1,4})[.)]\s+(?=\S)")
#: How alike an edit's old and new words must be for the new to read as a revision of the
#: old (difflib's ratio): below it, the edit put something else in the message's place.
REVISION_RATIO: Final = 0.6
#: Letters a reply needs to pick a choice by the first words of its label.
PREFIX_MIN: Final = 4
_MENU_WORDS: Final = frozenset({"menu", "/menu", "/help", "tro giup"})
_IGNORED: Final = frozenset({"Cf", "Mn", "Me"})  # direction marks, joiners, keycaps, accents


@dataclass(frozen=True, slots=True)
class Choice:
    """One numbered option: an inline button raises a callback query with its data; a
    reply-keyboard button or a menu command is passed on as if the person had typed `text`."""

    number: int
    label: str
    callback_data: str | None
    text: str


@dataclass(frozen=True, slots=True)
class Numbered:
    """A message with its buttons written under it, and the choices the chat must remember."""

    text: str
    choices: tuple[Choice, ...]


def zalo_length(text: str) -> int:
    """Length as counted against TEXT_LIMIT (see there)."""
    return telegram_length(text)


@dataclass
class _Open:
    tag: str
    start: int  # index in the output where the element's text begins
    href: str = ""


class _PlainText(HTMLParser):
    """Telegram HTML to plain text, forgiving: unknown tags are dropped and their text kept,
    unclosed ones are closed at the end, stray end tags are ignored."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._open: list[_Open] = []
        self._after_block = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open.append(_Open(tag, len(self.out), dict(attrs).get("href") or ""))
        elif tag in _BLOCKS:
            if self.out and not self.out[-1].endswith("\n"):
                self.out.append("\n")
            self._after_block = False
            self._open.append(_Open(tag, len(self.out)))

    def handle_endtag(self, tag: str) -> None:
        at = next((i for i in reversed(range(len(self._open))) if self._open[i].tag == tag), None)
        if at is None:
            return
        while len(self._open) > at:
            self._close(self._open.pop())

    def handle_data(self, data: str) -> None:
        if not data:
            return
        if self._after_block and not data.startswith("\n"):
            data = "\n" + data
        self._after_block = False
        self.out.append(data)

    def close(self) -> None:
        super().close()
        while self._open:
            self._close(self._open.pop())

    def _close(self, element: _Open) -> None:
        body = "".join(self.out[element.start :])
        del self.out[element.start :]
        if element.tag == "a":
            body = _with_url(body, element.href)
        elif element.tag == "blockquote":
            body = "\n".join(_QUOTE + line for line in body.rstrip("\n").split("\n"))
        if body:
            self.out.append(body)
        self._after_block = element.tag in _BLOCKS


def _bare_url(url: str) -> str:
    return _SCHEME.sub("", url.strip().casefold()).rstrip("/")


def _with_url(text: str, href: str) -> str:
    """A link's words, then its address unless the words are the address; Telegram's own
    tg:// links (mentions) mean nothing on Zalo."""
    if not href or href.startswith("tg:") or _bare_url(text) == _bare_url(href):
        return text
    return f"{text} ({href})" if text.strip() else href


def plain_text(html: str) -> str:
    """Telegram HTML as a Zalo user reads it: no markup, entities decoded, links spelled
    out, preformatted and quoted blocks on their own lines."""
    parser = _PlainText()
    parser.feed(html)
    parser.close()
    return "".join(parser.out)


def _one_line(label: str) -> str:
    return " ".join(label.split())


def _listed_label(label: str, number: int) -> str:
    """The label on one line, without a number of its own that is its number on the list:
    "1. Ứng dụng" as choice 1 would read "1 · 1. Ứng dụng"."""
    line = _one_line(label)
    own = _OWN_NUMBER.match(line)
    return line[own.end() :] if own and int(own[1]) == number else line


def numbered(text: str, keyboard: Keyboard, texts: Texts) -> Numbered:
    """The text with its buttons listed under it ("1 · Đăng ký lớp"), in the order Telegram
    shows them, row by row; without buttons, the text as it is."""
    choices: list[Choice] = []
    for row in keyboard:
        for button in row:
            label, data = (button, None) if isinstance(button, str) else button
            number = len(choices) + 1
            choices.append(Choice(number, _listed_label(label, number), data, label))
    if not choices:
        return Numbered(text, ())
    lines = [f"{choice.number} · {choice.label}" for choice in choices]
    listed = "\n".join([*lines, plain_text(texts("zalo.choose_hint"))])
    head = text.rstrip()
    return Numbered(f"{head}\n\n{listed}" if head else listed, tuple(choices))


def menu_text(commands: Sequence[tuple[str, str]], texts: Texts) -> Numbered:
    """Telegram's command menu, which Zalo lacks, as the answer to "menu": numbered, so a
    cadre may reply with a number as well as type the command."""
    choices = tuple(
        Choice(number, _one_line(description), None, f"/{command}")
        for number, (command, description) in enumerate(commands, start=1)
    )
    lines = [f"{c.number} · {c.label} — {c.text}" for c in choices]
    return Numbered("\n".join([plain_text(texts("zalo.menu_heading")), *lines]), choices)


def asks_for_menu(typed: str) -> bool:
    """Whether a message asks for the command menu ("menu", "/help", "trợ giúp")."""
    return _bare(typed) in _MENU_WORDS


def _bare(typed: str) -> str:
    """Folded, with what phones add that nobody means: full-width or circled digits,
    direction marks, emoji variation selectors and keycaps ("1️⃣" reads "1")."""
    normal = unicodedata.normalize("NFKC", typed)
    return fold("".join(c for c in normal if unicodedata.category(c) not in _IGNORED))


def _names(typed: str, choice: Choice) -> bool:
    """The typed words are the choice's label, as `typed_choice` reads labels typed back."""
    return typed_choice(typed, ((choice.label, True),)) is not None


def _by_number(choices: Sequence[Choice], number: int) -> Choice | None:
    return next((choice for choice in choices if choice.number == number), None)


def _by_words(typed: str, choices: Sequence[Choice]) -> list[Choice]:
    """The choices whose label the typed words are; two buttons that do the same thing (same
    data, or the same words sent) count once."""
    matches: dict[tuple[str | None, str], Choice] = {}
    for choice in choices:
        if _names(typed, choice):
            effect = (choice.callback_data, "" if choice.callback_data is not None else choice.text)
            matches.setdefault(effect, choice)
    return list(matches.values())


def choose_among(typed: str, lists: Sequence[Sequence[Choice]]) -> tuple[int, Choice] | None:
    """The choice a reply means, and the index of its list, among lists newest first: a
    number ("1", "số 1", "1️⃣") picks from the first, the latest list, only (the others'
    numbers were shown long ago and mean something else now); a line copied back or a label
    typed, with or without diacritics, case and emoji, from the newest list that has it.
    None when nothing matches, or when the newest list with a match has two."""
    bare = _bare(typed)
    number = _NUMBER.fullmatch(bare)
    if lists and number and (picked := _by_number(lists[0], int(number[1]))):
        return 0, picked
    line = _LINE.fullmatch(bare)
    for index, choices in enumerate(lists):
        if line and (picked := _by_number(choices, int(line[1]))) and _names(line[2], picked):
            return index, picked
        if matches := _by_words(typed, choices):
            return (index, matches[0]) if len(matches) == 1 else None
    # Nobody types a whole label ("🌙 Giờ yên lặng: 21:30–06:00"): its first words do.
    for index, choices in enumerate(lists):
        if matches := _by_first_words(typed, choices):
            return (index, matches[0]) if len(matches) == 1 else None
    return None


def _by_first_words(typed: str, choices: Sequence[Choice]) -> list[Choice]:
    """The choices whose label begins with the typed words (whole words, at least
    PREFIX_MIN letters in all, so "h" or "1" picks nothing)."""
    words = label_words(typed)
    if len(words.replace(" ", "")) < PREFIX_MIN:
        return []
    return [c for c in choices if f"{label_words(c.label)} ".startswith(f"{words} ")]


def choose(typed: str, choices: Sequence[Choice]) -> Choice | None:
    """The choice a reply means on one list (see `choose_among`). A number on the list wins
    over a label that is that number."""
    found = choose_among(typed, [choices])
    return found[1] if found else None


def _revises(before: str, after: str) -> bool:
    """Whether the new text reads as the old one revised (a count changed, a line added)
    rather than something else put in its place (the next step of a dialogue). Words are
    compared, not letters: two unrelated Vietnamese texts share many letters and syllables."""
    if after.startswith(before):
        return True
    matcher = difflib.SequenceMatcher(None, before.split(), after.split(), autojunk=False)
    return matcher.ratio() >= REVISION_RATIO


def edited(old_text: str, new_text: str, texts: Texts) -> str | None:
    """An edit as Zalo can show it, as a new message: None when the text reads the same (the
    edit changed only buttons or formatting); the new text marked as updated when it revises
    the old one; else the new text as it is, since on Zalo the old message stays and a mark
    would say it had been corrected. A forgotten old text ("") reads as revised."""
    after = plain_text(new_text)
    before = plain_text(old_text).strip()
    if before == after.strip():
        return None
    if not _revises(before, after.strip()):
        return after
    return plain_text(texts("zalo.updated", text=after))


def _continues(text: str, at: int) -> bool:
    """text[at] belongs with the character before it (an accent, a joiner, a variation
    selector or skin tone), so a cut there would split what reads as one character."""
    char = text[at]
    return (
        unicodedata.category(char) in {"Mn", "Me", "Mc"}
        or char == "\u200d"
        or text[at - 1] == "\u200d"
        or 0x1F3FB <= ord(char) <= 0x1F3FF
    )


def _hard_cut(text: str, limit: int) -> list[str]:
    """A run without spaces cut into pieces of at most `limit`, between characters."""
    parts: list[str] = []
    start = 0
    while start < len(text):
        end, used = start, 0
        while end < len(text) and used + zalo_length(text[end]) <= limit:
            used += zalo_length(text[end])
            end += 1
        cut = end
        while start + 1 < cut < len(text) and _continues(text, cut):
            cut -= 1
        if cut == start + 1 and end > cut:  # one cluster longer than a message: cut it anyway
            cut = end
        parts.append(text[start:cut])
        start = cut
    return parts


def _pack(text: str, limit: int, separators: Sequence[str]) -> list[str]:
    """Pieces between the coarsest separator, joined while they fit; a piece too long for a
    part alone is split at the next separator."""
    if zalo_length(text) <= limit:
        return [text]
    if not separators:
        return _hard_cut(text, limit)
    sep, finer = separators[0], separators[1:]
    parts: list[str] = []
    current: str | None = None
    size = 0
    for piece in text.split(sep):
        length = zalo_length(piece)
        if current is not None and size + len(sep) + length <= limit:
            current, size = current + sep + piece, size + len(sep) + length
            continue
        if current is not None:
            parts.append(current)
        if length <= limit:
            current, size = piece, length
        else:
            *whole, current = _pack(piece, limit, finer)
            parts.extend(whole)
            size = zalo_length(current)
    if current is not None:
        parts.append(current)
    return parts


def split(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """The text in messages of at most `limit`: cut between paragraphs, else lines, else
    words, and only a word longer than a message is cut inside. A paragraph that fits in one
    message (a list of choices) is kept whole; a line that fits is never cut. Blank text
    gives no message: Zalo refuses an empty one."""
    if limit < 2:
        raise ValueError("a part must hold at least one character of any kind")
    parts = (part.strip("\n") for part in _pack(text, limit, _SEPARATORS))
    return [part for part in parts if part.strip()]

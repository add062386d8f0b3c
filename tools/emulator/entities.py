"""Telegram-style text parsing: a strict HTML parser and UTF-16 offsets.

Telegram measures lengths and entity offsets in UTF-16 code units and rejects malformed HTML
with "can't parse entities" errors that quote UTF-8 byte offsets; the emulator mirrors both so
a bot that passes here does not fail on the real server.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

_TAG_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6})|([a-zA-Z]+));")
_ATTR_NAME = re.compile(r"[a-zA-Z0-9_-]+")

# A MessageEntity as the Bot API sends it: type, offset, length and any extra fields.
Entity = dict[str, Any]


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message follows Telegram's wording."""


def utf16_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    name: str
    attrs: dict[str, str]
    start: int  # UTF-16 offset in the output
    begin: int  # index in the source, for error offsets


def _byte_offset(src: str, index: int) -> int:
    return len(src[:index].encode("utf-8"))


def _decode_entity(src: str, i: int) -> tuple[str, int]:
    """Decode the entity starting at src[i] == '&'; returns (character, index after it)."""
    m = _ENTITY.match(src, i)
    if m:
        if m.group(3) is not None:
            char = _NAMED.get(m.group(3).lower())
        else:
            code = int(m.group(1)) if m.group(1) else int(m.group(2), 16)
            ok = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
            char = chr(code) if ok else None
        if char is not None:
            return char, m.end()
    raise EntityParseError(
        f'Unsupported HTML entity or unescaped "&" at byte offset {_byte_offset(src, i)}'
    )


def _unescape(value: str) -> str:
    out, i = [], 0
    while i < len(value):
        if value[i] == "&":
            char, i = _decode_entity(value, i)
            out.append(char)
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _parse_attrs(src: str, j: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse `name="v" name='v' name=v name` up to '>'; returns (attrs, index after '>')."""
    attrs: dict[str, str] = {}
    offset = _byte_offset(src, begin)
    while True:
        while j < len(src) and src[j].isspace():
            j += 1
        if j >= len(src):
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        if src[j] == ">":
            return attrs, j + 1
        m = _ATTR_NAME.match(src, j)
        if not m:
            raise EntityParseError(
                f'Empty attribute name in the tag "{tag}" at byte offset {offset}'
            )
        name, j = m.group(0).lower(), m.end()
        while j < len(src) and src[j].isspace():
            j += 1
        if j >= len(src) or src[j] != "=":
            attrs[name] = ""
            continue
        j += 1
        while j < len(src) and src[j].isspace():
            j += 1
        if j < len(src) and src[j] in "\"'":
            end = src.find(src[j], j + 1)
            if end < 0:
                raise EntityParseError(
                    f"Unclosed end of an attribute value at byte offset {offset}"
                )
            raw, j = src[j + 1 : end], end + 1
        else:
            end = j
            while end < len(src) and not src[end].isspace() and src[end] != ">":
                end += 1
            raw, j = src[j:end], end
        attrs[name] = _unescape(raw)


def _entity_for(tag: _Open, length: int) -> Entity | None:
    kind = _TAG_TYPES[tag.name]
    entity: Entity = {"type": kind, "offset": tag.start, "length": length}
    if kind == "text_link":
        if not tag.attrs.get("href"):
            return None
        entity["url"] = tag.attrs["href"]
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "pre" and tag.attrs.get("language"):
        entity["language"] = tag.attrs["language"]
    return entity


def parse_html(src: str) -> tuple[str, list[Entity]]:
    """Parse Telegram HTML into (plain text, entities) or raise EntityParseError."""
    out: list[str] = []
    pos16 = 0
    stack: list[_Open] = []
    entities: list[Entity] = []
    i = 0
    while i < len(src):
        char = src[i]
        if char == "&":
            char, i = _decode_entity(src, i)
        elif char == "<":
            i = _parse_tag(src, i, stack, entities, pos16)
            continue
        else:
            i += 1
        out.append(char)
        pos16 += utf16_len(char)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _parse_tag(src: str, i: int, stack: list[_Open], entities: list[Entity], pos16: int) -> int:
    """Handle the tag at src[i] == '<'; returns the index after it."""
    offset = _byte_offset(src, i)
    closing = src.startswith("</", i)
    j = i + (2 if closing else 1)
    start = j
    while j < len(src) and not src[j].isspace() and src[j] != ">":
        j += 1
    name = src[start:j].lower()
    if not closing:
        if j >= len(src):
            raise EntityParseError(f"Unclosed start tag at byte offset {offset}")
        if name not in _TAG_TYPES:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {offset}')
        attrs, j = _parse_attrs(src, j, name, i)
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise EntityParseError(
                f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
            )
        stack.append(_Open(name, attrs, pos16, i))
        return j
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {offset}")
    while j < len(src) and src[j].isspace():
        j += 1
    if j >= len(src) or src[j] != ">":
        raise EntityParseError(f"Unclosed end tag at byte offset {offset}")
    tag = stack.pop()
    if name and name != tag.name:
        raise EntityParseError(
            f'Unmatched end tag at byte offset {offset}, expected "</{tag.name}>", '
            f'found "</{name}>"'
        )
    language = tag.attrs.get("class", "")
    in_pre = bool(stack) and stack[-1].name == "pre"
    if tag.name == "code" and in_pre and language.startswith("language-"):
        # <pre><code class="language-x"> is one pre entity carrying the language.
        stack[-1].attrs["language"] = language.removeprefix("language-")
    elif pos16 > tag.start and (entity := _entity_for(tag, pos16 - tag.start)):
        entities.append(entity)
    return j + 1


def strip_formatted(text: str, entities: list[Entity]) -> tuple[str, list[Entity]]:
    """Trim surrounding whitespace as Telegram does, shifting and clipping the entities."""
    stripped = text.strip()
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result = []
    for e in entities:
        start = max(e["offset"] - lead, 0)
        end = min(e["offset"] + e["length"] - lead, total)
        if end > start:
            result.append({**e, "offset": start, "length": end - start})
    return stripped, result

"""A class's printable poster: an A4 page (portrait, 150 dpi) with the class, its QR code
large in the middle and the link written out, for notice boards in communes and agencies.

The words come ready from the caller (in the catalogs' language); this module only lays
them out, with the bundled DejaVu fonts, which carry every Vietnamese diacritic.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

FONTS = Path(__file__).parent / "assets" / "fonts"
REGULAR = FONTS / "DejaVuSans.ttf"
BOLD = FONTS / "DejaVuSans-Bold.ttf"

#: A4 at 150 dpi: 210 × 297 mm.
WIDTH, HEIGHT = 1240, 1754
DPI = 150
MARGIN = 90
BAND = 130  # the coloured band at the top
#: The class's name: as big as fits in TITLE_LINES lines, from TITLE_PX down to TITLE_MIN_PX;
#: a long name shrinks rather than the QR code.
TITLE_PX, TITLE_MIN_PX, TITLE_LINES = 72, 44, 3
DETAIL_PX, DETAIL_LINES = 34, 2
CALL_PX = 58
URL_PX = 30
#: The QR code: never smaller than QR_MIN_PX (about 8 cm printed), at most QR_MAX_PX.
QR_MIN_PX, QR_MAX_PX = 560, 820
QR_BORDER = 4  # modules of quiet zone, as the standard asks

INK = "#1b1b1b"
MUTED = "#444444"
ACCENT = "#b71c1c"  # the red of official notices
ON_ACCENT = "#ffffff"
PAPER = "#ffffff"


@dataclass(frozen=True, slots=True)
class PosterText:
    """Everything the poster says, already in words and without markup."""

    heading: str  # in the band at the top
    title: str  # the class's name
    code: str  # "Mã lớp: …"
    details: Sequence[str]  # dates, format and place, organiser: a line each
    call: str  # "Quét mã để đăng ký"
    url: str  # the deep link, written out under the code


@cache
def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), size)


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """Lines of `text` no wider than `width`; a word too long for a line (a link) is cut."""
    lines: list[str] = []
    line = ""
    for word in text.split():
        candidate = f"{line} {word}" if line else word
        if font.getlength(candidate) <= width:
            line = candidate
            continue
        if line:
            lines.append(line)
        line = ""
        while font.getlength(word) > width:
            cut = len(word) - 1
            while cut > 1 and font.getlength(word[:cut]) > width:
                cut -= 1
            lines.append(word[:cut])
            word = word[cut:]
        line = word
    if line:
        lines.append(line)
    return lines


def _clip(lines: list[str], most: int, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    """At most `most` lines, the last one ending in "…" if text was left out."""
    if len(lines) <= most:
        return lines
    last = lines[most - 1]
    while last and font.getlength(last + "…") > width:
        last = last[:-1]
    return [*lines[: most - 1], last.rstrip() + "…"]


def _title(text: str, width: int) -> tuple[ImageFont.FreeTypeFont, list[str]]:
    """The largest size at which the name fits in TITLE_LINES lines (else cut at the smallest)."""
    size = TITLE_PX
    while True:
        font = _font(BOLD, size)
        lines = _wrap(text, font, width)
        if len(lines) <= TITLE_LINES or size <= TITLE_MIN_PX:
            return font, _clip(lines, TITLE_LINES, font, width)
        size -= 4


def _line_height(font: ImageFont.FreeTypeFont) -> int:
    ascent, descent = font.getmetrics()
    return int((ascent + descent) * 1.18)


def _qr(url: str, size: int) -> Image.Image:
    """The code of `url` (error correction Q: a smudge or a fold still reads), whole modules
    scaled to at most `size` pixels."""
    code = segno.make(url, error="q", micro=False, boost_error=False)
    modules = code.symbol_size(border=QR_BORDER)[0]
    out = io.BytesIO()
    code.save(out, kind="png", scale=max(1, size // modules), border=QR_BORDER)
    out.seek(0)
    return Image.open(out).convert("RGB")


def poster_png(text: PosterText) -> bytes:
    """The poster as a PNG of WIDTH × HEIGHT pixels, marked as 150 dpi for printing."""
    page = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(page)
    inner = WIDTH - 2 * MARGIN

    draw.rectangle((0, 0, WIDTH, BAND), fill=ACCENT)
    heading_font = _font(BOLD, 40)
    heading = _clip(_wrap(text.heading, heading_font, inner), 1, heading_font, inner)[0]
    draw.text((WIDTH / 2, BAND / 2), heading, font=heading_font, fill=ON_ACCENT, anchor="mm")

    y = BAND + 60
    title_font, title_lines = _title(text.title, inner)
    for line in title_lines:
        draw.text((WIDTH / 2, y), line, font=title_font, fill=INK, anchor="ma")
        y += _line_height(title_font)
    y += 10
    code_font = _font(BOLD, 38)
    draw.text((WIDTH / 2, y), text.code, font=code_font, fill=ACCENT, anchor="ma")
    y += _line_height(code_font) + 24
    detail_font = _font(REGULAR, DETAIL_PX)
    for detail in text.details:
        for line in _clip(_wrap(detail, detail_font, inner), DETAIL_LINES, detail_font, inner):
            draw.text((MARGIN, y), line, font=detail_font, fill=MUTED)
            y += _line_height(detail_font)

    call_font, url_font = _font(BOLD, CALL_PX), _font(REGULAR, URL_PX)
    url_lines = _wrap(text.url, url_font, inner)
    below = 30 + _line_height(call_font) + 10 + _line_height(url_font) * len(url_lines) + 70
    room = HEIGHT - below - (y + 30)
    code_image = _qr(text.url, max(QR_MIN_PX, min(QR_MAX_PX, room)))
    side = code_image.width
    top = y + 30 + max(0, (room - side) // 2)
    page.paste(code_image, ((WIDTH - side) // 2, top))

    y = top + side + 30
    draw.text((WIDTH / 2, y), text.call, font=call_font, fill=ACCENT, anchor="ma")
    y += _line_height(call_font) + 10
    for line in url_lines:
        draw.text((WIDTH / 2, y), line, font=url_font, fill=INK, anchor="ma")
        y += _line_height(url_font)

    out = io.BytesIO()
    page.save(out, format="PNG", dpi=(DPI, DPI), optimize=True)
    return out.getvalue()

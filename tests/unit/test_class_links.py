"""Class links without a database: tokens nobody can guess or derive from the class, the
payload they travel in, and the printable poster (an A4 PNG, whatever the class's words)."""

from __future__ import annotations

import dataclasses
import io
import re
from typing import Any

import pytest
import segno
from PIL import Image

from bot.class_links import TOKEN_LENGTH, is_token, link_url, new_token, payload
from bot.class_poster import HEIGHT, WIDTH, PosterText, poster_png
from bot.deeplinks import DeepLink, parse_payload
from handlers.class_links import poster_name


def test_a_token_is_16_url_safe_random_characters() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000  # no repeats
    for token in tokens:
        assert re.fullmatch(r"[A-Za-z0-9_-]{16}", token) and is_token(token)
        assert len(token) == TOKEN_LENGTH
    # Nothing like a class id: every character of the alphabet turns up, digits are rare.
    joined = "".join(tokens)
    assert len(set(joined)) == 64
    assert sum(c.isdigit() for c in joined) / len(joined) < 0.25


@pytest.mark.parametrize("text", ["", "42", "A" * 15, "A" * 17, "AAAAAAAA AAAAAAA", "Đ" * 16])
def test_anything_else_is_not_a_token(text: str) -> None:
    assert not is_token(text)


def test_the_payload_parses_back_to_the_class_destination() -> None:
    for token in (new_token(), "-AbCdEfGhIjKlMnO", "AbCdEfGh-_KlMnOp"):
        assert payload(token) == f"c-{token}"
        assert len(payload(token)) <= 64  # Telegram's limit for a start parameter
        assert parse_payload(payload(token)) == DeepLink("c", token)
    assert link_url("cadre_demo_bot", "AbCdEfGhIjKlMnOp") == (
        "https://t.me/cadre_demo_bot?start=c-AbCdEfGhIjKlMnOp"
    )
    assert parse_payload("c-abc def") is None
    assert parse_payload("class-AbCdEfGhIjKlMnOp") is None


POSTER = PosterText(
    heading="ĐĂNG KÝ LỚP HỌC QUA TELEGRAM",
    title="Bồi dưỡng kiến thức quốc phòng và an ninh cho cán bộ lãnh đạo, quản lý",
    code="Mã lớp: QPAN.2026.03",
    details=[
        "Thời gian: 10 buổi, sáng thứ 2–6, từ 02/03/2026 đến 13/03/2026",
        "Hình thức: học trực tiếp tại Hội trường A, Trường Chính trị tỉnh",
        "Đơn vị tổ chức: Phòng Quản lý đào tạo",
    ],
    call="Quét mã để đăng ký",
    url=link_url("cadre_demo_bot", "AbCdEfGhIjKlMnOp"),
)


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"title": "Lớp " * 200, "details": ["Địa điểm: " + "x" * 500] * 6},  # cut, not spilled
        {"title": "Ngữ" * 80, "url": "https://t.me/" + "b" * 32 + "?start=c-" + "A" * 16},
        {"title": "👩‍💻 ứng dụng AI ‮ trong công tác\u200b", "details": []},
    ],
)
def test_the_poster_is_an_a4_png_at_150_dpi(changes: dict[str, Any]) -> None:
    made = poster_png(dataclasses.replace(POSTER, **changes))
    image = Image.open(io.BytesIO(made))
    assert image.format == "PNG" and image.size == (WIDTH, HEIGHT) == (1240, 1754)
    assert round(image.info["dpi"][0]) == 150


def test_the_poster_carries_the_links_qr_code_large() -> None:
    text = POSTER
    page = Image.open(io.BytesIO(poster_png(text))).convert("L")
    # The code is the tallest block of rows with ink: text lines are a few dozen pixels high.
    ink = page.point(lambda v: 255 if v < 128 else 0)
    inked = [ink.crop((0, y, WIDTH, y + 1)).getbbox() is not None for y in range(HEIGHT)]
    blocks: list[tuple[int, int]] = []
    for y, has in enumerate(inked):
        if has and (not blocks or blocks[-1][1] != y):
            blocks.append((y, y + 1))
        elif has:
            blocks[-1] = (blocks[-1][0], y + 1)
    top, bottom = max(blocks, key=lambda b: b[1] - b[0])
    box = ink.crop((0, top, WIDTH, bottom)).getbbox()
    assert box is not None
    left, upper, right, lower = box
    expected = segno.make(text.url, error="q", micro=False, boost_error=False)
    modules = len(expected.matrix)
    size = right - left
    assert size == lower - upper and size % modules == 0
    assert size >= 500  # over 8 cm printed: read from a few steps away
    scale = size // modules
    for y, row in enumerate(expected.matrix):
        for x, dark in enumerate(row):
            centre = (left + x * scale + scale // 2, top + upper + y * scale + scale // 2)
            value = page.getpixel(centre)
            assert isinstance(value, int) and (value < 128) == bool(dark), (x, y)


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("CDS.01", "ap-phich-CDS.01.png"),
        ("LDCP.2026.06", "ap-phich-LDCP.2026.06.png"),
        ("A/B C", "ap-phich-A-B-C.png"),
        ("../..", "ap-phich-lop.png"),
    ],
)
def test_the_posters_file_name_is_safe(code: str, name: str) -> None:
    assert poster_name(code) == name

"""Class links through the real protocol: a newcomer who opens one signs up and lands on the
class's card, a registered cadre lands there and enrols; the office gets the link, the A4
poster and the text for Zalo, revokes and renews it; revoked, unknown and forged links and
taps are refused in Vietnamese and change nothing."""

from __future__ import annotations

import io
from datetime import timedelta

import sqlalchemy as sa
from PIL import Image

from bot.actions import ClassLinks, ClassPoster, RenewClassLink, RevokeClassLink
from bot.class_links import new_token
from storage.repositories.class_links import ClassLinkRepository
from storage.schema import audit_log, class_links, enrolments
from storage.types import utcnow
from tests.e2e.conftest import SUPERADMIN_ID, Harness, forged_tap, tap_answer
from tests.factories import add_class, add_person, count
from tools.emulator.users import ScriptedUser

CADRE, NEWCOMER = 3101, 3102
PHONE = "+84912000333"


async def _link(harness: Harness, class_id: int) -> str:
    """A live token for the class, as the office would have made it."""
    token = new_token()
    async with harness.db.write() as conn:
        await ClassLinkRepository(conn).add(class_id, token, by=SUPERADMIN_ID, at=utcnow())
    return token


async def _enrolled(harness: Harness) -> list[tuple[int, str]]:
    async with harness.db.read() as conn:
        rows = await conn.execute(sa.select(enrolments.c.person_id, enrolments.c.status))
        return [(r.person_id, r.status) for r in rows]


async def _enrol_from_card(user: ScriptedUser) -> None:
    await user.tap("Đăng ký lớp này")
    await user.expect("xác nhận đăng ký lớp")
    await user.tap("Xác nhận đăng ký")
    await user.expect("Đồng chí đã đăng ký lớp")


async def test_a_newcomer_by_a_class_link_signs_up_and_lands_on_the_class_card(
    harness: Harness,
) -> None:
    class_id = await add_class(harness.db, "CDS.01", name="Chuyển đổi số trong cơ quan")
    token = await _link(harness, class_id)
    person = await add_person(harness.db, "Giàng Thị Mỷ", unit_id=harness.province.commune_id,
                              phone=PHONE)  # fmt: skip
    newcomer = harness.user(NEWCOMER, first_name="Mỷ", phone=PHONE)
    await newcomer.send(f"/start c-{token}")
    await newcomer.expect("sẽ thấy ngay lớp học này")
    await newcomer.expect("dữ liệu cá nhân")
    await newcomer.tap("Tôi đồng ý")
    await newcomer.press("Chia sẻ số điện thoại")
    await newcomer.tap("Đúng, là tôi")
    await newcomer.expect("đã được liên kết")
    await newcomer.expect("các nút bên dưới")
    card = await newcomer.next_message()
    assert "Mã lớp: CDS.01" in card.body and "Chuyển đổi số trong cơ quan" in card.body
    assert "✅ Đăng ký lớp này" in card.labels
    await _enrol_from_card(newcomer)
    assert await _enrolled(harness) == [(person, "enrolled")]


async def test_a_link_opened_in_the_middle_of_sign_up_is_followed_at_its_end(
    harness: Harness,
) -> None:
    """As in the sandbox, or a cadre who began before seeing the poster."""
    class_id = await add_class(harness.db, "CDS.02")
    token = await _link(harness, class_id)
    await add_person(harness.db, "Giàng Thị Mỷ", unit_id=harness.province.commune_id,
                     phone=PHONE)  # fmt: skip
    newcomer = harness.user(NEWCOMER, first_name="Mỷ", phone=PHONE)
    await newcomer.send("/start")
    await newcomer.expect("dữ liệu cá nhân")
    await newcomer.send(f"/start c-{token}")
    await newcomer.expect("sẽ thấy ngay lớp học này")
    await newcomer.tap("Tôi đồng ý")
    await newcomer.press("Chia sẻ số điện thoại")
    await newcomer.tap("Đúng, là tôi")
    await newcomer.expect("đã được liên kết")
    card = await newcomer.expect("Mã lớp: CDS.02")
    assert "✅ Đăng ký lớp này" in card.labels


async def test_a_registered_cadre_by_the_link_sees_the_card_and_enrols(harness: Harness) -> None:
    class_id = await add_class(harness.db, "CDS.03", name="Chuyển đổi số")
    token = await _link(harness, class_id)
    person = await add_person(harness.db, "Lò Thị Dung", unit_id=harness.province.commune_id,
                              telegram_id=CADRE)  # fmt: skip
    cadre = harness.user(CADRE)
    await cadre.send(f"/start c-{token}")
    card = await cadre.expect("Mã lớp: CDS.03")
    assert "✅ Đăng ký lớp này" in card.labels and "còn 30 chỗ" in card.body
    await _enrol_from_card(cadre)
    assert await _enrolled(harness) == [(person, "enrolled")]
    # Opened again, the card says so and offers to withdraw.
    await cadre.send(f"/start c-{token}")
    again = await cadre.expect("Mã lớp: CDS.03")
    assert "Rút tên khỏi lớp" in again.labels


async def test_revoked_unknown_and_forged_links_say_why_and_change_nothing(
    harness: Harness,
) -> None:
    class_id = await add_class(harness.db, "CDS.04", name="Chuyển đổi số nâng cao")
    token = await _link(harness, class_id)
    cancelled = await add_class(harness.db, "HUY.01", status="cancelled")
    cancelled_token = await _link(harness, cancelled)
    async with harness.db.write() as conn:
        await conn.execute(class_links.update().where(class_links.c.token == token)
                           .values(revoked_at=utcnow(), revoked_by=SUPERADMIN_ID))  # fmt: skip
    await add_person(harness.db, "Lò Thị Dung", unit_id=harness.province.commune_id,
                     telegram_id=CADRE)  # fmt: skip
    cadre = harness.user(CADRE)
    await cadre.send(f"/start c-{token}")
    revoked = await cadre.expect("Liên kết đến lớp Chuyển đổi số nâng cao (CDS.04) đã bị thu hồi")
    assert "tìm lớp này trong mục «📚 Lớp học» (tìm theo tên hoặc mã CDS.04)" in revoked.body
    assert revoked.reply_keyboard is not None  # the main keyboard, its catalog, to go on from
    await cadre.send(f"/start c-{cancelled_token}")
    await cadre.expect("đã bị hủy")
    for payload in ("c-", "c-AAAAAAAAAAAAAAAA", "c-" + "x" * 62, f"c-{token[:-1]}", "c-1"):
        await cadre.send(f"/start {payload}")
        await cadre.expect("Liên kết lớp học này không đúng")
    for garbage in ("c-abc%20def", "c-" + "x" * 63, "c-Đào", "c-" + "𝔘\u202e" * 1500):
        await cadre.send(f"/start {garbage}")
        await cadre.expect("không hợp lệ")
    assert await _enrolled(harness) == []


async def test_a_link_to_a_class_one_cannot_enrol_in_now_says_why_on_the_card(
    harness: Harness,
) -> None:
    """Deadline passed, not open yet, full: the card says it, as the catalog's card does."""
    passed = await add_class(harness.db, "CDS.05", deadline=utcnow() - timedelta(hours=1))
    planned = await add_class(harness.db, "CDS.06", status="planned")
    full = await add_class(harness.db, "CDS.07", capacity=1)
    for telegram_id in (CADRE, NEWCOMER):
        await add_person(harness.db, f"Cán Bộ {telegram_id}", unit_id=harness.province.commune_id,
                         telegram_id=telegram_id)  # fmt: skip
    cadre, other = harness.user(CADRE), harness.user(NEWCOMER)
    await cadre.send(f"/start c-{await _link(harness, passed)}")
    late = await cadre.expect("Mã lớp: CDS.05")
    assert "⛔ Đã hết hạn đăng ký (hạn chót" in late.body
    assert not any("Đăng ký" in label for label in late.labels)
    await cadre.send(f"/start c-{await _link(harness, planned)}")
    early = await cadre.expect("Mã lớp: CDS.06")
    assert "⛔ Lớp chưa mở đăng ký." in early.body
    assert not any("Đăng ký" in label for label in early.labels)
    full_token = await _link(harness, full)
    await cadre.send(f"/start c-{full_token}")
    await cadre.expect("Mã lớp: CDS.07")
    await _enrol_from_card(cadre)
    await other.send(f"/start c-{full_token}")
    waiting = await other.expect("Mã lớp: CDS.07")
    assert "Lớp đã đủ chỗ: đồng chí có thể đăng ký vào danh sách chờ" in waiting.body
    assert "⏳ Đăng ký danh sách chờ" in waiting.labels
    assert len(await _enrolled(harness)) == 1


async def test_the_office_gets_the_link_the_poster_and_revokes_or_renews_it(
    harness: Harness,
) -> None:
    await add_person(harness.db, "Đinh Văn Quản", unit_id=harness.province.root_id,
                     telegram_id=SUPERADMIN_ID)  # fmt: skip
    await add_class(harness.db, "CDS.05", name="Chuyển đổi số trong cơ quan nhà nước")
    admin = harness.user(SUPERADMIN_ID)
    await admin.send("/classadmin CDS.05")
    await admin.expect("CDS.05")
    await admin.tap("Liên kết và mã QR")
    panel = await admin.expect("Liên kết đăng ký lớp")
    assert panel.edited
    url = next(word for word in panel.body.split() if "?start=c-" in word)
    token = url.rsplit("c-", 1)[1]
    assert url == f"https://t.me/cadre_demo_bot?start=c-{token}" and len(token) == 16

    await admin.tap("Áp phích QR")
    sent = await admin.next_message()
    assert sent.document is not None and sent.document.file_name == "ap-phich-CDS.05.png"
    assert "khổ A4" in (sent.caption or "")
    image = Image.open(io.BytesIO(sent.document.content))
    assert image.format == "PNG" and image.size == (1240, 1754)
    share = await admin.expect("Đăng ký qua Telegram")
    assert url in share.body and "Chuyển đổi số trong cơ quan nhà nước" in share.body

    # A new link, asked first; the old one then leads nowhere.
    await admin.tap("Tạo liên kết mới", panel.message_id)
    await admin.expect("Liên kết hiện tại sẽ bị thu hồi")
    assert await tap_answer(admin, "Xác nhận") == "Đã tạo liên kết mới."
    renewed = await admin.expect("Liên kết đăng ký lớp")
    assert token not in renewed.body and "?start=c-" in renewed.body
    # The confirmation tapped again (a double tap) keeps the link just made.
    async with harness.db.read() as conn:
        first = (await conn.execute(sa.select(class_links).order_by(class_links.c.id))).first()
    assert first is not None and first.token == token
    again = RenewClassLink(first.class_id, first.id, confirmed=True).pack()
    assert (
        await forged_tap(admin, again)
        == "Liên kết của lớp vừa được thay đổi; đây là liên kết hiện tại."
    )
    assert await count(harness.db, class_links) == 2

    await admin.tap("Thu hồi liên kết", renewed.message_id)
    await admin.expect("Thu hồi liên kết đăng ký lớp")
    assert await tap_answer(admin, "Xác nhận") == "Đã thu hồi liên kết."
    await admin.expect("hiện không có liên kết đăng ký")
    async with harness.db.read() as conn:
        actions = (await conn.scalars(sa.select(audit_log.c.action).order_by("id"))).all()
    assert [a for a in actions if a.startswith("class_link")] == [
        "class_link_created", "class_link_revoked", "class_link_created", "class_link_revoked",
    ]  # fmt: skip

    # A class that does not exist, by a forged tap: refused, nothing made.
    assert "Không tìm thấy lớp học này" in await forged_tap(admin, ClassLinks(999_999).pack())
    assert await count(harness.db, class_links) == 2

    learner = harness.user(CADRE)
    await add_person(harness.db, "Lò Thị Dung", unit_id=harness.province.commune_id,
                     telegram_id=CADRE)  # fmt: skip
    await learner.send(f"/start c-{token}")
    await learner.expect("(CDS.05) đã bị thu hồi")


async def test_only_the_office_gets_or_changes_links_even_by_forged_taps(
    harness: Harness,
) -> None:
    class_id = await add_class(harness.db, "CDS.06")
    token = await _link(harness, class_id)
    await add_person(harness.db, "Lò Thị Dung", unit_id=harness.province.commune_id,
                     telegram_id=CADRE)  # fmt: skip
    cadre = harness.user(CADRE)
    await cadre.send(f"/start c-{token}")
    await cadre.expect("Mã lớp: CDS.06")
    async with harness.db.read() as conn:
        link_id = int(await conn.scalar(sa.select(class_links.c.id)) or 0)
    before = (await count(harness.db, class_links), await count(harness.db, audit_log))
    for forged in (
        ClassLinks(class_id), ClassPoster(class_id), RevokeClassLink(class_id, link_id, True),
        RenewClassLink(class_id, link_id, True), RevokeClassLink(class_id, link_id),
    ):  # fmt: skip
        assert "chỉ dành cho cán bộ quản lý" in await forged_tap(cadre, forged.pack())
    assert await forged_tap(cadre, "clink.revoke:1:x:1") != ""  # malformed: expired button
    assert (await count(harness.db, class_links), await count(harness.db, audit_log)) == before
    async with harness.db.read() as conn:
        assert await conn.scalar(sa.select(class_links.c.revoked_at)) is None
    await cadre.send(f"/start c-{token}")  # still works
    await cadre.expect("Mã lớp: CDS.06")

"""The bot's public server in front of the bridge: Zalo's webhook (secret checked, answered
before processing, redeliveries dropped) and the files sent to Zalo users by link."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import build_application, start_application, stop_application
from bot.clock import SystemClock
from bot.config import Settings
from bot.i18n import texts
from bot.services.zalo_accounts import ZaloAccountService
from bot.zalo.bridge import ZaloBridge
from bot.zalo.client import ZaloClient, ZaloEvent
from bot.zalo.files import FILE_TTL, FileShelf
from bot.zalo.public import WEBHOOK_PATH, PublicServer, Webhook
from bot.zalo.webhook import SECRET_HEADER
from tests.conftest import close_database, open_database
from tests.factories import make_province
from tools.zalo_emulator import ZaloBotApiEmulator

TOKEN = "424242:zalo-public-test"
SECRET = "right-secret-123"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


class Clock:
    """Monotonic seconds the test moves on."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Running:
    zemu: ZaloBotApiEmulator
    bridge: ZaloBridge
    app: Any
    server: PublicServer
    files: FileShelf
    clock: Clock

    @property
    def hook(self) -> str:
        return self.server.url + WEBHOOK_PATH


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """The bridge in webhook mode (no poller) behind the public server, Zalo's emulator
    posting to it, and the real bot polling the bridge."""
    db, schema = await open_database("sqlite", tmp_path)
    await make_province(db)
    clock = Clock()
    files = FileShelf("http://placeholder", clock=clock)
    try:
        async with (
            ZaloBotApiEmulator(webhook_retry_delay=0.02) as zemu,
            ZaloClient(zemu.token, base_url=zemu.url) as client,
            ZaloBridge(
                client,
                texts("vi"),
                token=TOKEN,
                poll=False,
                files=files,
                accounts=ZaloAccountService(db, SystemClock()),
            ) as bridge,  # fmt: skip
        ):
            server = PublicServer(0, webhook=Webhook(SECRET, bridge.receive), files=files)
            await server.start()
            files.public_base_url = server.url
            settings = Settings(
                _env_file=None,
                bot_token=TOKEN,
                telegram_base_url=bridge.base_url,
                telegram_base_file_url=bridge.base_file_url,
                database_url=f"sqlite+aiosqlite:///{tmp_path}/test.db",
                quiet_hours="00:00-00:00",
                office_reminder_hours="00:00-00:00",
                digest_weekly="off",
                digest_monthly="off",
            )
            app = build_application(settings, db=db)
            await start_application(app, poll_timeout=1)
            await client.set_webhook(server.url + WEBHOOK_PATH, SECRET)
            try:
                yield Running(zemu, bridge, app, server, files, clock)
            finally:
                await stop_application(app)
                await server.stop()
            assert zemu.stats.refused == []
    finally:
        await close_database(db, schema)


async def _post(url: str, body: Any, secret: str | None) -> httpx.Response:
    headers = {SECRET_HEADER: secret} if secret is not None else {}
    async with httpx.AsyncClient(timeout=5) as http:
        return await http.post(url, content=json.dumps(body), headers=headers)


def _event(user_id: str, text: str, message_id: str) -> dict[str, Any]:
    """A webhook body as Zalo wraps it."""
    person = {"id": user_id, "display_name": "Giả", "is_bot": False}
    message = {
        "from": person, "chat": {"id": user_id, "chat_type": "PRIVATE"}, "text": text,
        "message_id": message_id, "date": 1_780_000_000_000,
    }  # fmt: skip
    return {"ok": True, "result": {"event_name": "message.text.received", "message": message}}


async def test_a_call_without_the_right_secret_is_refused_and_nothing_processed(
    running: Running,
) -> None:
    lan = running.zemu.user("Lan")
    await lan.send("/start")  # the emulator's own delivery, with the secret: it works
    await lan.expect("dữ liệu cá nhân nhạy cảm", timeout=10)

    forged = _event(lan.id, "/start", "f" * 20)
    for secret in (None, "wrong-secret-123", SECRET + "x", ""):
        answer = await _post(running.hook, forged, secret)
        assert answer.status_code == 403
    assert (await _post(running.hook, "{not json", SECRET)).status_code == 400
    # Nothing reached the bot (no update queued), nothing was sent to the person.
    await lan.no_message(1.5)
    assert running.bridge._updates == []


async def test_an_event_delivered_twice_is_processed_once(running: Running) -> None:
    an = running.zemu.user("An")
    event = _event(an.id, "/start", "a" * 20)
    running.zemu.bot().reachable.add(an.id)  # An wrote first, as far as Zalo knows
    for _ in range(2):
        answer = await _post(running.hook, event, SECRET)
        assert answer.status_code == 200 and answer.json() == {"ok": True}
    await an.expect("dữ liệu cá nhân nhạy cảm", timeout=10)
    await an.no_message(1.5)


async def test_the_answer_comes_before_processing_and_a_failure_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    release, done = asyncio.Event(), asyncio.Event()
    processed: list[str] = []

    async def receive(event: ZaloEvent) -> None:
        if event.text == "boom":
            raise RuntimeError("the bridge failed")
        await release.wait()
        processed.append(event.text or "")
        if len(processed) == 2:
            done.set()

    server = PublicServer(0, webhook=Webhook(SECRET, receive))
    await server.start()
    try:
        url = server.url + WEBHOOK_PATH
        async with asyncio.timeout(2):  # answered while the event is still being processed
            assert (await _post(url, _event("u1", "boom", "1"), SECRET)).status_code == 200
            assert (await _post(url, _event("u1", "một", "2"), SECRET)).status_code == 200
            assert (await _post(url, _event("u1", "hai", "3"), SECRET)).status_code == 200
        assert processed == []
        release.set()
        await asyncio.wait_for(done.wait(), 2)
        assert processed == ["một", "hai"]  # in arrival order, after the failed one
        assert [r.levelno for r in caplog.records if "failed: RuntimeError" in r.getMessage()] == [
            logging.ERROR
        ]
    finally:
        await server.stop()


async def test_files_are_served_by_link_until_they_expire(running: Running) -> None:
    binh = running.zemu.user("Bình")
    await binh.send("/start")
    await binh.expect("Tôi đồng ý", timeout=10)
    chat_id = await running.bridge.accounts.presented(binh.id)

    sent = await running.app.bot.send_document(
        chat_id, b"PK\x03\x04 workbook", filename="báo cáo quý.xlsx", caption="<b>Báo cáo</b>"
    )
    shown = (await binh.next_message()).splitlines()
    assert shown[0] == "Báo cáo" and shown[2].startswith("📎 Tệp báo cáo quý.xlsx")
    link = shown[-1]
    assert link.startswith(f"{running.server.url}/files/") and link.endswith(
        "/b%C3%A1o%20c%C3%A1o%20qu%C3%BD.xlsx"
    )
    assert sent.document is not None and sent.document.file_name == "báo cáo quý.xlsx"

    await running.app.bot.send_photo(chat_id, PNG, filename="ap-phich.png", caption="Áp phích")
    photo = await binh.next_event()
    assert photo.kind == "photo" and photo.text == "Áp phích" and photo.photo is not None

    async with httpx.AsyncClient(timeout=5) as http:
        document = await http.get(link)
        assert document.status_code == 200 and document.content == b"PK\x03\x04 workbook"
        assert document.headers["Content-Type"] == (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        assert document.headers["Content-Disposition"] == (
            'attachment; filename="b_o c_o qu_.xlsx"; '
            "filename*=UTF-8''b%C3%A1o%20c%C3%A1o%20qu%C3%BD.xlsx"
        )
        picture = await http.get(photo.photo)
        assert picture.status_code == 200 and picture.content == PNG
        assert picture.headers["Content-Type"] == "image/png"
        assert picture.headers["Content-Disposition"].startswith('inline; filename="ap-phich.png"')

        # The file_id the bot got back sends the same file again, while its link works.
        await running.app.bot.send_document(chat_id, sent.document.file_id)
        assert (await binh.next_message()).endswith(link)

        token = link.split("/")[-2]
        wrong_name = await http.get(f"{running.server.url}/files/{token}/khac.xlsx")
        unknown = await http.get(f"{running.server.url}/files/{'x' * 32}/a.xlsx")
        assert wrong_name.status_code == unknown.status_code == 404

        running.clock.now += FILE_TTL.total_seconds() - 1
        assert (await http.get(link)).status_code == 200
        running.clock.now += 1
        assert (await http.get(link)).status_code == 404
        assert (await http.get(photo.photo)).status_code == 404


def test_the_shelf_stays_within_its_bounds() -> None:
    clock = Clock()
    shelf = FileShelf("https://bot.example.vn/", max_bytes=10, max_files=2, clock=clock)
    first = shelf.put("../../etc/a.txt", b"12345")
    assert first.name == "a.txt" and first.content_type == "text/plain"
    assert shelf.url(first) == f"https://bot.example.vn/files/{first.token}/a.txt"
    second = shelf.put("b.bin", b"123456")  # 11 bytes together: the oldest makes room
    assert shelf.get(first.token) is None and shelf.get(second.token) is not None
    third = shelf.put("c", b"1")
    fourth = shelf.put("d", b"1")  # three files: the oldest goes
    assert shelf.get(second.token) is None and shelf.get(third.token) and shelf.get(fourth.token)
    assert len({first.token, second.token, third.token}) == 3 and len(first.token) >= 32
    assert shelf.hours == 24 and FileShelf("x", ttl=timedelta(hours=2)).hours == 2

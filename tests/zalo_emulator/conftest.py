"""Fixtures: a running Zalo emulator, a raw HTTP client for it, a webhook receiver, and both
channels running."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from tests.e2e.conftest import Both, running_both
from tools.zalo_emulator import ZaloBotApiEmulator


@pytest.fixture
async def zemu() -> AsyncIterator[ZaloBotApiEmulator]:
    async with ZaloBotApiEmulator(webhook_retry_delay=0.02) as emulator:
        yield emulator


class Api:
    """Calls the emulator as a Zalo client does: POST with a JSON body."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.token = token

    async def raw(self, method: str, **params: Any) -> httpx.Response:
        return await self.client.post(f"/bot{self.token}/{method}", json=params)

    async def ok(self, method: str, **params: Any) -> Any:
        response = await self.raw(method, **params)
        body = response.json()
        assert response.status_code == 200 and body["ok"], body
        return body.get("result")

    async def error(self, method: str, **params: Any) -> tuple[int, str]:
        response = await self.raw(method, **params)
        body = response.json()
        assert body["ok"] is False and body["error_code"] == response.status_code, body
        return response.status_code, body["description"]


@pytest.fixture
async def api(zemu: ZaloBotApiEmulator) -> AsyncIterator[Api]:
    async with httpx.AsyncClient(base_url=zemu.url, timeout=10) as client:
        yield Api(client, zemu.token)


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it gets; fails its first `fail`
    requests with 500."""

    def __init__(self) -> None:
        self.fail = 0
        self.bodies: list[Any] = []
        self.secrets: list[str | None] = []
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.secrets.append(request.headers.get("X-Bot-Api-Secret-Token"))
        self.bodies.append(json.loads(await request.text()))
        if self.fail > 0:
            self.fail -= 1
            return web.Response(status=500)
        return web.json_response({"ok": True})


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recorder = Receiver()
    app = web.Application()
    app.router.add_post("/hook", recorder.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    recorder.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield recorder
    await runner.cleanup()


@pytest.fixture
async def both(tmp_path: Path) -> AsyncIterator[Both]:
    """Both channels running, over the small province (tests/e2e/conftest.running_both)."""
    async with running_both("sqlite", tmp_path) as running:
        yield running

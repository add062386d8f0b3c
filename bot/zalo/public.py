"""The bot's own small web server, behind nginx: Zalo's webhook and the files sent to Zalo users.

It listens on 127.0.0.1 only (nginx terminates HTTPS in front of it) and serves
`POST /zalo/webhook` (webhook mode) and `GET /files/<token>/<name>` (bot/zalo/files.py).

A webhook call is answered at once and its event processed after the answer, one at a time
in arrival order by a single worker: Zalo redelivers what it thinks failed, so a slow answer
would only bring the same event again, and two messages of one person must not overtake
each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final
from urllib.parse import quote

from aiohttp import web

from bot.zalo.client import ZaloEvent, ZaloEventError, parse_event
from bot.zalo.files import FileShelf
from bot.zalo.webhook import SECRET_HEADER, RecentEvents, secret_ok

log = logging.getLogger(__name__)

WEBHOOK_PATH: Final = "/zalo/webhook"
#: Events accepted but not yet processed; past this Zalo is told 503 and retries later.
QUEUE_SIZE: Final = 1000

Receive = Callable[[ZaloEvent], Awaitable[None]]


class Webhook:
    """Checks, de-duplicates and queues Zalo's webhook calls; `receive` gets each new event."""

    def __init__(self, secret: str, receive: Receive, recent: RecentEvents | None = None) -> None:
        if not secret:
            raise ValueError("a webhook needs its secret")
        self.secret = secret
        self.receive = receive
        self.recent = recent or RecentEvents()
        self._queue: asyncio.Queue[ZaloEvent] = asyncio.Queue(QUEUE_SIZE)
        self._worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work(), name="zalo-webhook")

    async def stop(self) -> None:
        """Stops after the event in hand; what is still queued is dropped, and said so."""
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if not self._queue.empty():
            log.warning("zalo webhook: %d events not processed at stop", self._queue.qsize())

    async def handle(self, request: web.Request) -> web.Response:
        if not secret_ok(request.headers.get(SECRET_HEADER), self.secret):
            log.warning("zalo webhook: a call without the right secret refused")
            return web.json_response({"ok": False, "description": "Forbidden"}, status=403)
        try:
            event = parse_event(await request.read())
        except ZaloEventError as exc:
            return web.json_response({"ok": False, "description": str(exc)}, status=400)
        if self._queue.full():
            log.warning("zalo webhook: %d events waiting; Zalo is asked to retry", QUEUE_SIZE)
            return web.json_response({"ok": False, "description": "Busy"}, status=503)
        if self.recent.first_time(event.dedup_key):
            self._queue.put_nowait(event)
        return web.json_response({"ok": True})

    async def _work(self) -> None:
        while True:
            event = await self._queue.get()
            try:
                await self.receive(event)
            except Exception as exc:  # one event's failure must not stop the others
                log.error(
                    "zalo webhook: %s failed: %s: %s", event.name, exc.__class__.__name__, exc
                )


class PublicServer:
    """Serves the webhook (when given) and the shelf's files (when given) on 127.0.0.1."""

    def __init__(
        self,
        port: int,
        *,
        webhook: Webhook | None = None,
        files: FileShelf | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.port = port
        self.host = host
        self.webhook = webhook
        self.files = files
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        if self.webhook is not None:
            app.router.add_post(WEBHOOK_PATH, self.webhook.handle)
        if self.files is not None:
            app.router.add_get("/files/{token}/{name}", self._file)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, self.host, self.port).start()
        self.port = self._runner.addresses[0][1]
        if self.webhook is not None:
            self.webhook.start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self.webhook is not None:
            await self.webhook.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def _file(self, request: web.Request) -> web.StreamResponse:
        assert self.files is not None
        shared = self.files.get(request.match_info["token"])
        if shared is None or shared.name != request.match_info["name"]:
            raise web.HTTPNotFound(text="This link has expired or never existed.\n")
        disposition = "inline" if shared.content_type.startswith("image/") else "attachment"
        ascii_name = shared.name.encode("ascii", "replace").decode().replace("?", "_")
        return web.Response(
            body=shared.data,
            content_type=shared.content_type,
            headers={
                "Content-Disposition": f'{disposition}; filename="{ascii_name}"; '
                f"filename*=UTF-8''{quote(shared.name, safe='')}",
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

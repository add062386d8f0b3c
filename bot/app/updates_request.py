"""getUpdates, protected against an update the library cannot read.

python-telegram-bot parses the whole batch of a getUpdates answer at once: one update it
cannot read (a poll without a field PTB 22 requires, as an older self-hosted Bot API server
sends it) makes the call fail, and polling retries the same batch for ever, so nobody is
answered again. Here each update of the answer is tried first; one that does not parse is
replaced by an empty update with the same id, which no handler takes, so polling moves past
it. It is logged by id and error type only, never by content.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from telegram import Update
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData

from handlers.context import Arrivals

log = logging.getLogger(__name__)


class ReadableUpdatesRequest(HTTPXRequest):
    """The request object for getUpdates only (ApplicationBuilder.get_updates_request)."""

    def __init__(self, arrivals: Arrivals | None = None) -> None:
        # What ApplicationBuilder gives getUpdates by default: one connection, HTTP/1.1.
        super().__init__(connection_pool_size=1, http_version="1.1")
        self.skipped = 0  # since start, for the log
        self.arrivals = arrivals

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url, method, request_data, read_timeout, write_timeout, connect_timeout, pool_timeout
        )
        if code != 200:
            return code, payload
        try:
            answer = json.loads(payload)
            updates = answer["result"]
        except (ValueError, KeyError, TypeError):
            return code, payload  # PTB reports a malformed answer itself
        readable = [self._readable(update) for update in updates]
        if self.arrivals is not None:
            for update in readable:
                if isinstance(update, dict) and isinstance(update.get("update_id"), int):
                    self.arrivals.note(update["update_id"])
        if readable == updates:
            return code, payload
        return code, json.dumps({**answer, "result": readable}).encode()

    def _readable(self, update: Any) -> Any:
        try:
            Update.de_json(update, None)
        except Exception as exc:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int):
                raise
            self.skipped += 1
            log.warning("update %s skipped: it cannot be read (%s); %d skipped since start",
                        update_id, exc.__class__.__name__, self.skipped)  # fmt: skip
            return {"update_id": update_id}
        return update

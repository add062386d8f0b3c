"""Files the bot sends to Zalo users, kept for a day under unguessable links.

Zalo's API takes no uploads: a photo is sent by its URL and a document can only be a link.
So the bridge keeps what the application uploads here, in memory and bounded, and the bot's
public web server (bot/zalo/public.py) serves it at PUBLIC_BASE_URL/files/<token>/<name>.
The token is the only secret: long enough that nobody finds a file by guessing, and the
link dies after FILE_TTL, so a forwarded link does not leak a workbook forever.
"""

from __future__ import annotations

import mimetypes
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final
from urllib.parse import quote

#: How long a link works; the text sent with a document says so in hours.
FILE_TTL: Final = timedelta(hours=24)
#: What the shelf holds at most; the oldest files go first (their links then answer 404).
MAX_BYTES: Final = 128 * 1024 * 1024
MAX_FILES: Final = 2000
OCTET_STREAM: Final = "application/octet-stream"


@dataclass(frozen=True, slots=True)
class SharedFile:
    token: str
    name: str
    content_type: str
    data: bytes
    expires_at: float


class FileTooBig(ValueError):
    """Larger than the whole shelf: it could never be kept."""


class FileShelf:
    """The files behind the links, each until it expires or room is needed.

    `clock` is monotonic seconds (injected by tests to move a day on).
    """

    def __init__(
        self,
        public_base_url: str,
        *,
        ttl: timedelta = FILE_TTL,
        max_bytes: int = MAX_BYTES,
        max_files: int = MAX_FILES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.public_base_url = public_base_url.rstrip("/")
        self.ttl = ttl
        self.max_bytes = max_bytes
        self.max_files = max_files
        self._clock = clock
        self._files: dict[str, SharedFile] = {}  # insertion order: the oldest first
        self._bytes = 0

    @property
    def hours(self) -> int:
        """The lifetime as people are told it."""
        return max(1, round(self.ttl.total_seconds() / 3600))

    def put(self, name: str, data: bytes, content_type: str | None = None) -> SharedFile:
        if len(data) > self.max_bytes:
            raise FileTooBig(f"{len(data):,} bytes; the shelf holds {self.max_bytes:,}")
        self._expire()
        while self._files and (
            self._bytes + len(data) > self.max_bytes or len(self._files) >= self.max_files
        ):
            self._drop(next(iter(self._files)))
        name = _safe_name(name)
        if not content_type or content_type == OCTET_STREAM:
            content_type = mimetypes.guess_type(name)[0] or OCTET_STREAM
        shared = SharedFile(
            secrets.token_urlsafe(24),
            name,
            content_type,
            data,
            self._clock() + self.ttl.total_seconds(),
        )
        self._files[shared.token] = shared
        self._bytes += len(data)
        return shared

    def get(self, token: str) -> SharedFile | None:
        """The file, if its link still works."""
        self._expire()
        return self._files.get(token)

    def url(self, shared: SharedFile) -> str:
        return f"{self.public_base_url}/files/{shared.token}/{quote(shared.name, safe='')}"

    def _expire(self) -> None:
        now = self._clock()
        # Every file lives as long: the oldest expire first.
        while self._files and next(iter(self._files.values())).expires_at <= now:
            self._drop(next(iter(self._files)))

    def _drop(self, token: str) -> None:
        self._bytes -= len(self._files.pop(token).data)


def _safe_name(name: str) -> str:
    """The last path component, without characters a header or a URL would trip on."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable() and c not in '"')
    return name.strip(" .")[:200] or "file"

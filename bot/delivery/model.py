"""What flows through the outbox, channel-agnostic: producers write it, a transport sends it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.audience import AudienceLabel


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message a producer wants delivered once.

    `dedup_key` is chosen by the producer and unique for ever: adding the same key twice (a
    retried request, a job run twice) stores one message. `payload` is either
    {"text": html} or {"key": catalog key, "params": {...}}, rendered in the recipient's
    language when sent, optionally with "buttons": [[{"key"|"text": ..., "data": ...}]]
    and "document": {"file_id"|"path": ..., "filename": ...}; or "edit": {"chat_id": ...,
    "message_id": ...} to replace a message sent earlier instead (its buttons removed unless
    given).
    """

    dedup_key: str
    chat_id: int
    kind: str
    payload: dict[str, Any]
    person_id: int | None = None
    batch_id: int | None = None
    due_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: int
    dedup_key: str
    chat_id: int
    person_id: int | None
    kind: str
    payload: dict[str, Any]
    due_at: datetime
    attempts: int
    language: str | None = None


@dataclass(frozen=True, slots=True)
class Sent:
    message_id: int | None


@dataclass(frozen=True, slots=True)
class RetryAfter:
    """The server asked us to slow down: wait exactly this long, it is not a failure."""

    seconds: float


@dataclass(frozen=True, slots=True)
class Transient:
    """5xx, a timeout or a dropped connection: retry with backoff, up to a cap. One that
    does not `count` (the message's channel is not running in this process) is retried
    later without ever being given up."""

    error: str
    counts: bool = True


@dataclass(frozen=True, slots=True)
class Unreachable:
    """Blocked, deactivated or unknown chat: no retries until the person writes again."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The message itself is wrong (bad markup, too long): retrying would fail the same way."""

    error: str


@dataclass(frozen=True, slots=True)
class Moved:
    """The message belongs on another chat (the person's Zalo account, by their choice):
    it is re-addressed there and sent again from the queue, under that chat's limits."""

    chat_id: int


Outcome = Sent | RetryAfter | Transient | Unreachable | Rejected | Moved


@dataclass(frozen=True, slots=True)
class Unreached:
    """Someone a message could not reach, with what the office needs to phone them."""

    name: str
    phone: str | None


@dataclass(frozen=True, slots=True)
class BatchSummary:
    """One batch in a list of recent ones."""

    batch_id: int
    title: str
    created_at: datetime
    total: int
    kind: str = "announcement"


@dataclass(frozen=True, slots=True)
class BatchReport:
    batch_id: int
    kind: str
    title: str
    created_by: int | None
    created_by_name: str | None
    created_at: datetime
    total: int
    delivered: int
    pending: int
    unreachable: int
    failed: int
    #: unit label → people who could not be reached, so the office can phone them.
    unreachable_by_unit: dict[str, list[Unreached]] = field(default_factory=dict)
    #: Whom an announcement went to; None for other batches, and those of earlier releases.
    audience: AudienceLabel | None = None

    @property
    def digest(self) -> str:
        """Changes whenever a figure of the report does: a refresh that would show the same
        report says so instead of sending it again."""
        figures = (self.delivered, self.pending, self.unreachable, self.failed)
        return hashlib.blake2b(repr(figures).encode(), digest_size=4).hexdigest()


@dataclass(frozen=True, slots=True)
class KindReport:
    """What became of the messages of one kind queued in the last days."""

    kind: str
    delivered: int = 0
    #: Queued, being sent, or held for the recipient's quiet hours.
    pending: int = 0
    unreachable: int = 0
    failed: int = 0
    #: Not to be sent any more (a session moved, reminders turned off): not a failure.
    cancelled: int = 0
    #: unit label → people who could not be reached, each once.
    unreachable_by_unit: dict[str, list[Unreached]] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return self.delivered + self.pending + self.unreachable + self.failed + self.cancelled


@dataclass(frozen=True, slots=True)
class ProgressMessage:
    """The message that follows a batch's delivery in its sender's chat: where it is, what it
    shows now (a digest), and until when it is kept up to date."""

    batch_id: int
    chat_id: int
    message_id: int
    shown: str | None
    until: datetime

"""Messages the services queue for delivery: catalog texts with typed buttons."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import Action
from bot.delivery.model import NewMessage
from bot.domain import MessageKind, Person
from storage.repositories.outbox import OutboxRepository


def notice(
    kind: MessageKind,
    dedup_key: str,
    *,
    chat_id: int,
    person_id: int | None,
    text_key: str,
    params: dict[str, Any] | None = None,
    buttons: Sequence[Sequence[tuple[str, Action]]] = (),
    keyboard: Sequence[str] | None = None,
    batch_id: int | None = None,
) -> NewMessage:
    """A notice rendered in the recipient's language when it is sent.

    Buttons are (catalog key of the label, action) pairs; the action is packed here, in the
    form that stays valid for as long as the message is kept (see bot/actions.py). Or a new
    main keyboard, as the commands on it (a role given or taken changes it).
    """
    payload: dict[str, Any] = {"key": text_key}
    if params:
        payload["params"] = params
    if keyboard is not None:
        payload["keyboard"] = list(keyboard)
    if buttons:
        payload["buttons"] = [
            [{"key": label, "data": act.pack()} for label, act in row] for row in buttons
        ]
    return NewMessage(
        dedup_key=dedup_key, chat_id=chat_id, person_id=person_id, kind=kind.value,
        payload=payload, batch_id=batch_id,
    )  # fmt: skip


def moment(at: datetime) -> dict[str, str]:
    """A time as a notice's parameter: JSON carries it, the sender shows it in the reader's
    zone and language (`{at:datetime}`)."""
    return {"moment": at.isoformat()}


def note_line(note: str | None) -> Any:
    """A note from staff as its own line of a notice, or nothing at all when there is none."""
    return {"key": "notice.note_line", "params": {"note": note}} if note else ""


async def tell(
    conn: AsyncConnection,
    person: Person,
    kind: MessageKind,
    change: int,
    text_key: str,
    **content: Any,
) -> None:
    """Queues a notice about a change to the person, if linked, in the change's transaction.

    Keyed by the change (its audit entry): the same change never notifies twice, and a later
    change notifies again.
    """
    if person.telegram_id is None:
        return
    message = notice(kind, f"{kind.value}:{person.id}:{change}", chat_id=person.telegram_id,
                     person_id=person.id, text_key=text_key, **content)  # fmt: skip
    await OutboxRepository(conn).add([message])

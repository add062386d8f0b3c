"""The outbox: messages to deliver, their outcomes, and the chats that cannot be reached."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.audience import AudienceKind, AudienceLabel
from bot.channels import ZALO_ID_BASE
from bot.delivery.model import (
    BatchReport,
    BatchSummary,
    KindReport,
    NewMessage,
    OutboxMessage,
    ProgressMessage,
    Unreached,
)
from bot.domain import MessageRecord, unit_label
from storage.batches import chunks
from storage.links import TYPED_LINK
from storage.schema import (
    delivery_batches,
    held_messages,
    outbox,
    people,
    units,
    unreachable_chats,
    zalo_accounts,
)
from storage.types import UTCDateTime, utcnow

# asyncpg allows 32,767 bind parameters per statement; an outbox row binds 13.
_CHUNK = 2_000


def _goes_to_zalo(chat_id: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """Whether `chat_id` is the Telegram chat of a person with a Zalo account joined who
    gets their messages there too (or only there)."""
    return sa.exists().where(
        people.c.telegram_id == chat_id,
        zalo_accounts.c.person_id == people.c.id,
        sa.func.coalesce(people.c.notify_via, "") != "telegram",
    )


def _insert(conn: AsyncConnection, table: sa.Table) -> Any:
    dialect = sqlite if conn.dialect.name == "sqlite" else postgresql
    return dialect.insert(table)


@dataclass(frozen=True, slots=True)
class QueuedCopy:
    """Where one queued message stands: to cancel it if not sent yet, or edit it if it was."""

    dedup_key: str
    chat_id: int
    person_id: int | None
    state: str
    message_id: int | None


class OutboxRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- producers ---------------------------------------------------------------------------

    async def add(self, messages: Sequence[NewMessage]) -> None:
        """Adds messages in the caller's transaction; a dedup key already present is skipped,
        and so is a message about a record to the account of a typed link to it."""
        messages = await self._not_to_typed_links(messages)
        now = utcnow()
        rows = [
            {
                "dedup_key": m.dedup_key,
                "chat_id": m.chat_id,
                "person_id": m.person_id,
                "batch_id": m.batch_id,
                "kind": m.kind,
                "payload": m.payload,
                "state": "pending",
                "due_at": m.due_at or now,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
            for m in messages
        ]
        statement = _insert(self.conn, outbox).on_conflict_do_nothing(index_elements=["dedup_key"])
        for start in range(0, len(rows), _CHUNK):
            await self.conn.execute(statement, rows[start : start + _CHUNK])

    async def _not_to_typed_links(self, messages: Sequence[NewMessage]) -> Sequence[NewMessage]:
        """Nothing about a roster record claimed by a number typed on Zalo goes to that
        account before the record's unit heads confirm it: a stranger may have typed it.
        Only messages to Zalo accounts are looked at (such links are on Zalo alone)."""
        about = sorted(
            {m.person_id for m in messages if m.person_id is not None and m.chat_id >= ZALO_ID_BASE}
        )
        if not about:
            return messages
        withheld: set[tuple[int, int]] = set()
        for chunk in chunks(about):
            rows = await self.conn.execute(
                sa.select(people.c.id, people.c.telegram_id).where(
                    people.c.id.in_(chunk), TYPED_LINK
                )
            )
            withheld |= {(r.id, r.telegram_id) for r in rows}
        return [m for m in messages if (m.person_id, m.chat_id) not in withheld]

    async def new_batch(
        self,
        kind: str,
        title: str,
        created_by: int | None,
        total: int,
        request_key: str | None = None,
        *,
        audience: AudienceLabel | None = None,
        audience_ref: int | None = None,
    ) -> int:
        """A batch; an announcement's with its audience (the class or unit it named, by id
        and by its name then)."""
        named: dict[str, Any] = {}
        if audience is not None:
            named = {"audience_kind": audience.kind.value, "audience_ref": audience_ref,
                     "audience_name": audience.name,
                     "audience_within": audience.within}  # fmt: skip
        result = await self.conn.execute(
            delivery_batches.insert()
            .values(kind=kind, title=title, created_by=created_by, created_at=utcnow(),
                    total=total, request_key=request_key, **named)
            .returning(delivery_batches.c.id)
        )  # fmt: skip
        return int(result.scalar_one())

    async def batch_for_request(self, request_key: str) -> int | None:
        """The batch an earlier, identical request queued, if any."""
        found = await self.conn.execute(
            sa.select(delivery_batches.c.id).where(delivery_batches.c.request_key == request_key)
        )
        return found.scalar()

    async def of_person(self, person_id: int) -> list[MessageRecord]:
        """The messages queued for the person, oldest first (what /mydata shows)."""
        rows = await self.conn.execute(
            sa.select(outbox.c.kind, outbox.c.created_at, outbox.c.state, outbox.c.sent_at)
            .where(outbox.c.person_id == person_id)
            .order_by(outbox.c.id)
        )
        return [MessageRecord(*row) for row in rows]

    async def cancel_for_person(self, person_id: int) -> None:
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.person_id == person_id, outbox.c.state == "pending")
            .values(state="cancelled", updated_at=utcnow())
        )

    async def cancel_for_chat(self, chat_id: int) -> None:
        """Cancels what is still to be sent to an account, whoever it is about."""
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.chat_id == chat_id, outbox.c.state == "pending")
            .values(state="cancelled", updated_at=utcnow())
        )

    async def cancel_pending(
        self, key_prefix: str, *, person_id: int | None = None, suffixes: Iterable[str] = ()
    ) -> int:
        """Cancels messages not sent yet whose key starts with `key_prefix` (and ends with one
        of `suffixes`, if given): reminders of a session that moved or a setting turned off."""
        query = outbox.update().where(
            outbox.c.state == "pending", outbox.c.dedup_key.startswith(key_prefix, autoescape=True)
        )
        if person_id is not None:
            query = query.where(outbox.c.person_id == person_id)
        ends = list(suffixes)
        if ends:
            query = query.where(
                sa.or_(*(outbox.c.dedup_key.endswith(end, autoescape=True) for end in ends))
            )
        result = await self.conn.execute(query.values(state="cancelled", updated_at=utcnow()))
        return result.rowcount

    async def copies(self, key_prefix: str) -> list[QueuedCopy]:
        """The messages whose key starts with `key_prefix` (one notice's copies to several
        people), whatever became of them."""
        rows = await self.conn.execute(
            sa.select(outbox.c.dedup_key, outbox.c.chat_id, outbox.c.person_id, outbox.c.state,
                      outbox.c.message_id)
            .where(outbox.c.dedup_key.startswith(key_prefix, autoescape=True))
            .order_by(outbox.c.id)
        )  # fmt: skip
        return [QueuedCopy(*row) for row in rows]

    # --- the sender --------------------------------------------------------------------------

    async def due(self, now: datetime, limit: int, skip: Iterable[int] = ()) -> list[OutboxMessage]:
        """Pending messages whose time has come, oldest first, with the recipient's language."""
        query = (
            sa.select(outbox, people.c.language, people.c.telegram_id)
            .select_from(outbox.outerjoin(people, people.c.id == outbox.c.person_id))
            .where(outbox.c.state == "pending", outbox.c.due_at <= now)
            .order_by(outbox.c.due_at, outbox.c.id)
            .limit(limit)
        )
        skipped = list(skip)
        if skipped:
            query = query.where(outbox.c.id.not_in(skipped))
        rows = await self.conn.execute(query)
        return [
            OutboxMessage(
                id=r.id, dedup_key=r.dedup_key, chat_id=r.chat_id, person_id=r.person_id,
                kind=r.kind, payload=r.payload, due_at=r.due_at, attempts=r.attempts,
                language=r.language,
            )
            for r in rows
        ]  # fmt: skip

    async def next_due(self) -> datetime | None:
        result = await self.conn.execute(
            sa.select(sa.func.min(outbox.c.due_at)).where(outbox.c.state == "pending")
        )
        value: datetime | None = result.scalar()
        if value is not None and value.tzinfo is None:  # aggregate bypasses the column type
            value = UTCDateTime().process_result_value(value, self.conn.dialect)
        return value

    async def recover_in_flight(self, private_at: datetime, group_at: datetime) -> int:
        """Rows left 'sending' by a process that died: their fate is unknown, so resend.

        They may have reached the chat a moment ago, so they wait one interval of the chat's
        own limit (private chats and groups differ) rather than break it.
        """
        result = await self.conn.execute(
            outbox.update()
            .where(outbox.c.state == "sending")
            .values(
                state="pending",
                due_at=sa.case((outbox.c.chat_id < 0, group_at), else_=private_at),
                updated_at=utcnow(),
            )
        )
        return result.rowcount

    async def claim(self, ids: list[int]) -> set[int]:
        """Marks pending rows 'sending' just before their requests go out; returns those taken."""
        result = await self.conn.execute(
            outbox.update()
            .where(outbox.c.id.in_(ids), outbox.c.state == "pending")
            .values(state="sending", updated_at=utcnow())
            .returning(outbox.c.id)
        )
        return set(result.scalars())

    async def mark_sent_many(self, sent: list[tuple[int, int | None]]) -> None:
        """(row id, Telegram message id) pairs, in one executemany."""
        now = utcnow()
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == sa.bindparam("row_id"))
            .values(state="sent", sent_at=now, message_id=sa.bindparam("telegram_message_id"),
                    attempts=outbox.c.attempts + 1, last_error=None, updated_at=now),
            [{"row_id": row, "telegram_message_id": message} for row, message in sent],
        )  # fmt: skip

    async def mark_retry(
        self, message_id: int, due_at: datetime, error: str, *, counts: bool
    ) -> None:
        attempts = outbox.c.attempts + 1 if counts else outbox.c.attempts
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == message_id)
            .values(state="pending", due_at=due_at, attempts=attempts, last_error=error[:200],
                    updated_at=utcnow())
        )  # fmt: skip

    async def mark_final(self, message_id: int, state: str, error: str) -> None:
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == message_id)
            .values(state=state, attempts=outbox.c.attempts + 1, last_error=error[:200],
                    updated_at=utcnow())
        )  # fmt: skip

    # --- reachability ------------------------------------------------------------------------

    async def mark_unreachable(self, chat_id: int, reason: str) -> None:
        """Remembers the chat and settles its pending messages: no retry storm. Those of a
        person who also gets messages on Zalo stay: they may still go there."""
        now = utcnow()
        statement = _insert(self.conn, unreachable_chats).values(
            chat_id=chat_id, since=now, reason=reason[:60]
        )
        await self.conn.execute(statement.on_conflict_do_nothing(index_elements=["chat_id"]))
        await self.conn.execute(
            outbox.update()
            .where(
                outbox.c.chat_id == chat_id,
                outbox.c.state == "pending",
                ~_goes_to_zalo(outbox.c.chat_id),
            )
            .values(state="unreachable", last_error=reason[:200], updated_at=now)
        )

    async def clear_unreachable(self, chat_id: int) -> bool:
        result = await self.conn.execute(
            unreachable_chats.delete().where(unreachable_chats.c.chat_id == chat_id)
        )
        return result.rowcount > 0

    async def all_unreachable(self) -> set[int]:
        return set((await self.conn.execute(sa.select(unreachable_chats.c.chat_id))).scalars())

    async def unreachable(self, chat_ids: Iterable[int]) -> set[int]:
        ids = list(chat_ids)
        if not ids:
            return set()
        rows = await self.conn.execute(
            sa.select(unreachable_chats.c.chat_id).where(unreachable_chats.c.chat_id.in_(ids))
        )
        return {r.chat_id for r in rows}

    async def blocked(self, chat_ids: Iterable[int]) -> set[int]:
        """The unreachable chats whose messages cannot go anywhere else: not the Telegram
        chat of a person who also gets them on Zalo (their route decides, message by
        message)."""
        ids = list(chat_ids)
        if not ids:
            return set()
        rows = await self.conn.execute(
            sa.select(unreachable_chats.c.chat_id).where(
                unreachable_chats.c.chat_id.in_(ids), ~_goes_to_zalo(unreachable_chats.c.chat_id)
            )
        )
        return {r.chat_id for r in rows}

    async def move(self, row_id: int, chat_id: int) -> None:
        """Re-addresses a message to another chat of its person, due at once; the move is
        not an attempt."""
        now = utcnow()
        await self.conn.execute(
            outbox.update()
            .where(outbox.c.id == row_id)
            .values(chat_id=chat_id, state="pending", due_at=now, updated_at=now)
        )

    # --- reports -----------------------------------------------------------------------------

    async def report(self, batch_id: int) -> BatchReport | None:
        sender = people.alias("sender")
        batch = (
            await self.conn.execute(
                sa.select(delivery_batches, sender.c.full_name.label("sender_name"))
                .select_from(
                    delivery_batches.outerjoin(
                        sender, sender.c.telegram_id == delivery_batches.c.created_by
                    )
                )
                .where(delivery_batches.c.id == batch_id)
            )
        ).first()
        if batch is None:
            return None
        counts: dict[str, int] = dict(
            (
                await self.conn.execute(
                    sa.select(outbox.c.state, sa.func.count())
                    .where(outbox.c.batch_id == batch_id)
                    .group_by(outbox.c.state)
                )
            ).all()
        )
        held = await self.conn.execute(  # waiting for their recipients' quiet hours to end
            sa.select(sa.func.count()).where(held_messages.c.batch_id == batch_id)
        )
        counts["held"] = int(held.scalar_one())
        by_unit = await self._unreached(outbox.c.batch_id == batch_id)
        return BatchReport(
            batch_id=batch_id,
            kind=batch.kind,
            title=batch.title,
            created_by=batch.created_by,
            created_by_name=batch.sender_name,
            created_at=batch.created_at,
            total=batch.total,
            delivered=counts.get("sent", 0),
            pending=counts.get("pending", 0) + counts.get("sending", 0) + counts["held"],
            unreachable=counts.get("unreachable", 0),
            failed=counts.get("failed", 0) + counts.get("cancelled", 0),
            unreachable_by_unit=by_unit,
            audience=_audience(batch),
        )

    async def recent_batches(self, created_by: int | None, limit: int = 10) -> list[BatchSummary]:
        """The latest batches, newest first; only those `created_by` sent, if given."""
        query = sa.select(
            delivery_batches.c.id,
            delivery_batches.c.title,
            delivery_batches.c.created_at,
            delivery_batches.c.total,
            delivery_batches.c.kind,
        )
        if created_by is not None:
            query = query.where(delivery_batches.c.created_by == created_by)
        rows = await self.conn.execute(query.order_by(delivery_batches.c.id.desc()).limit(limit))
        return [BatchSummary(*row) for row in rows]

    async def by_kind(self, days: int, kind: str | None = None) -> list[KindReport]:
        """What became of the messages queued in the last `days` days, kind by kind (or of
        one kind), those held for quiet hours counted as pending. The rows are stamped with
        the system's time, so the window is measured with it too."""
        since = utcnow() - timedelta(days=days)
        queued = [outbox.c.created_at >= since]
        waiting = [held_messages.c.created_at >= since]
        if kind is not None:
            queued.append(outbox.c.kind == kind)
            waiting.append(held_messages.c.kind == kind)
        figures: dict[str, dict[str, int]] = {}
        rows = await self.conn.execute(
            sa.select(outbox.c.kind, outbox.c.state, sa.func.count())
            .where(*queued)
            .group_by(outbox.c.kind, outbox.c.state)
        )
        for found, state, count in rows:
            figures.setdefault(found, {})[state] = count
        held = await self.conn.execute(
            sa.select(held_messages.c.kind, sa.func.count())
            .where(*waiting)
            .group_by(held_messages.c.kind)
        )
        for found, count in held:
            figures.setdefault(found, {})["held"] = count
        return [
            KindReport(
                kind=name,
                delivered=counts.get("sent", 0),
                pending=sum(counts.get(s, 0) for s in ("pending", "sending", "held")),
                unreachable=counts.get("unreachable", 0),
                failed=counts.get("failed", 0),
                cancelled=counts.get("cancelled", 0),
            )
            for name, counts in figures.items()
        ]

    async def unreached_of_kind(self, kind: str, days: int) -> dict[str, list[Unreached]]:
        """The people messages of this kind could not reach in the last `days` days, once
        each, by unit."""
        since = utcnow() - timedelta(days=days)
        return await self._unreached(outbox.c.kind == kind, outbox.c.created_at >= since)

    async def _unreached(self, *where: sa.ColumnElement[bool]) -> dict[str, list[Unreached]]:
        """Unit label → the people, once each, of the unreachable messages matching `where`,
        with their phones: whom the office should call."""
        parent = units.alias("parent")
        missed = await self.conn.execute(
            sa.select(
                units.c.name.label("unit"),
                sa.case((parent.c.parent_id.is_(None), None), else_=parent.c.name).label("parent"),
                people.c.full_name,
                people.c.phone,
                people.c.name_search,
                people.c.id,
            )
            .select_from(
                outbox.join(people, people.c.id == outbox.c.person_id)
                .outerjoin(units, units.c.id == people.c.unit_id)
                .outerjoin(parent, parent.c.id == units.c.parent_id)
            )
            .where(outbox.c.state == "unreachable", *where)
            .distinct()
            .order_by(units.c.name, people.c.name_search, people.c.id)
        )
        by_unit: dict[str, list[Unreached]] = {}
        for row in missed:
            label = unit_label(row.unit, row.parent) if row.unit else "—"
            by_unit.setdefault(label, []).append(Unreached(row.full_name, row.phone))
        return by_unit

    # --- the sender's progress message --------------------------------------------------------

    async def watch(
        self, batch_id: int, chat_id: int, message_id: int, shown: str, until: datetime
    ) -> None:
        """The message in the sender's chat that follows this batch until `until`."""
        await self.conn.execute(
            delivery_batches.update()
            .where(delivery_batches.c.id == batch_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id,
                    progress_shown=shown, progress_until=until)
        )  # fmt: skip

    async def watched(self) -> list[ProgressMessage]:
        """The progress messages still kept up to date, oldest batch first."""
        c = delivery_batches.c
        rows = await self.conn.execute(
            sa.select(c.id, c.progress_chat_id, c.progress_message_id, c.progress_shown,
                      c.progress_until)
            .where(c.progress_until.is_not(None), c.progress_message_id.is_not(None))
            .order_by(c.id)
        )  # fmt: skip
        return [ProgressMessage(*row) for row in rows]

    async def progress_shown(self, batch_id: int, shown: str, *, final: bool) -> None:
        """What the progress message shows now; once `final`, it is left alone."""
        values: dict[str, Any] = {"progress_shown": shown}
        if final:
            values["progress_until"] = None
        await self.conn.execute(
            delivery_batches.update().where(delivery_batches.c.id == batch_id).values(**values)
        )


def _audience(batch: Any) -> AudienceLabel | None:
    """A batch's audience as stored; none for batches of other kinds, of earlier releases,
    or of a kind a later release added."""
    if batch.audience_kind not in {k.value for k in AudienceKind}:
        return None
    return AudienceLabel(AudienceKind(batch.audience_kind), batch.audience_name,
                         batch.audience_within)  # fmt: skip

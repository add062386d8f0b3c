"""What every attendance feature shares: who may take a session's attendance, and the
warnings to a learner (and their unit heads) whose absences put completion at risk.

Warnings are decided in the transaction that changed the marks (a roll call saved, a session
closed, a leave decided, a correction), from the standing in the database; a ledger keyed by
learner, class and level lets each go out once, however often the marks change afterwards.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import WarningLevel
from bot.delivery.model import NewMessage
from bot.domain import Actor, MessageKind, Role
from bot.errors import PermissionDenied
from bot.services.notices import moment, notice
from bot.training import Session, TrainingClass
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.outbox import OutboxRepository, _insert
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository
from storage.schema import attendance_warnings, class_lecturers


async def teaches(conn: AsyncConnection, person_id: int, class_id: int, session: Session) -> bool:
    """Whether the person teaches this session: named on it, or on its class."""
    if session.lecturer_id == person_id:
        return True
    row = await conn.execute(
        sa.select(class_lecturers.c.person_id).where(
            class_lecturers.c.class_id == class_id, class_lecturers.c.person_id == person_id
        )
    )
    return row.first() is not None


async def require_teacher(conn: AsyncConnection, actor: Actor, session: Session) -> None:
    """Administrators take any session's attendance; a lecturer only the sessions they teach.
    Checked on every call: a forwarded or forged button proves nothing."""
    if actor.is_superadmin or actor.has(Role.ADMIN):
        return
    if actor.person is not None and await teaches(conn, actor.person.id, session.class_id, session):
        return
    raise PermissionDenied()


async def warn_if_due(
    conn: AsyncConnection, training_class: TrainingClass, person_ids: Iterable[int], now: datetime
) -> int:
    """Queues a warning to each of these learners (and their unit heads) whose absences now
    put completion at risk, unless that warning went out before. Returns the learners warned."""
    repo = AttendanceRepository(conn)
    standings = await repo.standings(training_class.id, training_class.completion_pct, person_ids)
    warned = 0
    for person_id, standing in standings.items():
        level = standing.warning
        if level is None:
            continue
        inserted = await conn.execute(
            _insert(conn, attendance_warnings)
            .values(person_id=person_id, class_id=training_class.id, level=level.value, at=now)
            .on_conflict_do_nothing()
        )
        if not inserted.rowcount:
            continue
        warned += 1
        person = await PeopleRepository(conn).get(person_id)
        missed = await repo.missed(training_class.id, person_id)
        params = {
            "name": person.full_name,
            "unit": person.unit.name if person.unit else "",
            "class_name": training_class.name,
            "code": training_class.code,
            "missed": len(missed),
            "required": standing.required,
            "total": standing.total,
            "sessions": [
                {"key": "attendance.missed_line",
                 "params": {"at": moment(at), "mark": {"key": f"attendance.mark.{mark.value}"}}}
                for at, mark in missed
            ],
        }  # fmt: skip
        kind = MessageKind.ATTENDANCE_WARNING.value
        key = f"{kind}:{training_class.id}:{person_id}:{level.value}"
        messages: list[NewMessage] = []
        if person.telegram_id is not None and person.consent_at is not None:
            messages.append(
                _warning(f"{key}:self", person.telegram_id, person.id, level, "learner", params)
            )
        if person.unit is not None:
            for head_id, chat_id in await RoleRepository(conn).heads_above(person.unit.id):
                if head_id != person_id:
                    messages.append(
                        _warning(f"{key}:{head_id}", chat_id, head_id, level, "head", params)
                    )
        await OutboxRepository(conn).add(messages)
    return warned


def _warning(
    key: str, chat_id: int, person_id: int, level: WarningLevel, to: str, params: dict[str, object]
) -> NewMessage:
    return notice(
        MessageKind.ATTENDANCE_WARNING, key, chat_id=chat_id, person_id=person_id,
        text_key=f"attendance.warning_{level.value}_{to}", params=params,
    )  # fmt: skip

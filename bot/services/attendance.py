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

from bot.attendance import Standing, WarningLevel
from bot.delivery.model import NewMessage
from bot.domain import Actor, MessageKind, Role
from bot.errors import PermissionDenied
from bot.services.notices import moment, notice
from bot.services.quiet import Quiet
from bot.training import Session, TrainingClass
from storage.repositories.attendance import AttendanceRepository
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
    conn: AsyncConnection,
    training_class: TrainingClass,
    person_ids: Iterable[int],
    now: datetime,
    quiet: Quiet,
) -> int:
    """Queues a warning to each of these learners (and their unit heads) whose absences now
    put completion at risk, unless that warning went out before; and, to those whose standing
    a correction has lifted above a warning they had, a notice that it no longer holds (a
    later fall warns again). Held for quiet hours. Returns the learners warned or told."""
    repo = AttendanceRepository(conn)
    standings = await repo.standings(training_class.id, training_class.completion_pct, person_ids)
    sent = await _warned(conn, training_class.id, list(standings))
    told = 0
    messages: list[NewMessage] = []
    for person_id, standing in standings.items():
        level = standing.warning
        lifted = [w for w in sent.get(person_id, {}) if _SEVERITY[w] > _SEVERITY[level]]
        if lifted:
            await conn.execute(
                attendance_warnings.delete().where(
                    attendance_warnings.c.person_id == person_id,
                    attendance_warnings.c.class_id == training_class.id,
                    attendance_warnings.c.level.in_([w.value for w in lifted]),
                )
            )
            stamp = int(sent[person_id][max(lifted, key=_SEVERITY.__getitem__)].timestamp())
            messages += await _notices(conn, training_class, person_id, standing, now,
                                       f"lifted:{stamp}", LIFTED)  # fmt: skip
            told += 1
        if level is None or level in sent.get(person_id, {}):
            continue
        await conn.execute(
            attendance_warnings.insert().values(
                person_id=person_id, class_id=training_class.id, level=level.value, at=now
            )
        )
        messages += await _notices(conn, training_class, person_id, standing, now,
                                   f"{level.value}:{int(now.timestamp())}",
                                   (f"attendance.warning_{level.value}_learner",
                                    f"attendance.warning_{level.value}_head"))  # fmt: skip
        told += 1
    await quiet.queue(conn, messages, now)
    return told


_SEVERITY = {None: 0, WarningLevel.ONE_LEFT: 1, WarningLevel.CANNOT: 2}
LIFTED = ("attendance.lifted_learner", "attendance.lifted_head")


async def _warned(
    conn: AsyncConnection, class_id: int, person_ids: list[int]
) -> dict[int, dict[WarningLevel, datetime]]:
    """The warnings in force for these learners of the class, and when each went out."""
    found: dict[int, dict[WarningLevel, datetime]] = {}
    if person_ids:
        rows = await conn.execute(
            sa.select(attendance_warnings).where(
                attendance_warnings.c.class_id == class_id,
                attendance_warnings.c.person_id.in_(person_ids),
            )
        )
        for row in rows:
            found.setdefault(row.person_id, {})[WarningLevel(row.level)] = row.at
    return found


async def _notices(
    conn: AsyncConnection,
    training_class: TrainingClass,
    person_id: int,
    standing: Standing,
    now: datetime,
    what: str,
    texts: tuple[str, str],
) -> list[NewMessage]:
    """The learner's notice and their unit heads' (`texts`: the learner's, the heads'), naming
    the sessions missed; keyed by the class, the learner and `what` (the level and when)."""
    person = await PeopleRepository(conn).get(person_id)
    missed = await AttendanceRepository(conn).missed(training_class.id, person_id)
    params = {
        "name": person.full_name,
        "unit": person.unit.name if person.unit else "",
        "class_name": training_class.name,
        "code": training_class.code,
        "missed": len(missed),
        "attended": standing.attended,
        "required": standing.required,
        "total": standing.total,
        "sessions": [
            {"key": "attendance.missed_line" if at <= now else "attendance.missed_ahead",
             "params": {"at": moment(at), "mark": {"key": f"attendance.mark.{mark.value}"}}}
            for at, mark in missed
        ],
    }  # fmt: skip
    key = f"{MessageKind.ATTENDANCE_WARNING.value}:{training_class.id}:{person_id}:{what}"
    messages: list[NewMessage] = []
    if person.telegram_id is not None and person.consent_at is not None:
        messages.append(_warning(f"{key}:self", person.telegram_id, person.id, texts[0], params))
    if person.unit is not None:
        for head_id, chat_id in await RoleRepository(conn).heads_above(person.unit.id):
            if head_id != person_id:
                messages.append(_warning(f"{key}:{head_id}", chat_id, head_id, texts[1], params))
    return messages


def _warning(
    key: str, chat_id: int, person_id: int, text_key: str, params: dict[str, object]
) -> NewMessage:
    return notice(
        MessageKind.ATTENDANCE_WARNING, key, chat_id=chat_id, person_id=person_id,
        text_key=text_key, params=params,
    )  # fmt: skip

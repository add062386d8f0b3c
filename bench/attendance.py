"""Attendance in a hall: N learners check in within one minute, then the lecturer saves the roll.

    python -m bench.attendance [--learners 200] [--bad 20] [--grace 40] [--spread 45]
    python -m bench.attendance --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/test
    python -m bench.attendance --api-url http://127.0.0.1:8081/bot   # a standalone emulator

A fresh database gets, through the repositories, a class whose session began five minutes ago,
`--learners` cadres enrolled in it (linked to Telegram, consent given) and its lecturer. The
real bot (build_application, its pacer unbound) runs against the emulator. Untimed, the
lecturer opens /attendance, the session's card and "📲 Mở điểm danh": the projector's photo
arrives with its code. Then the learners send their codes at random moments over `--spread`
seconds: most this minute's code, `--grace` the previous minute's (a slow network), `--bad`
a bad one (half expired, half mistyped); all within one minute (the run waits for the next
one when too little of the current is left). Latency: from sending the code to the bot's
answer. Then the lecturer opens the roll call, taps "all present" and
"save"; `rollcall_ms` is the save's tap to its answer.

Prints one JSON line: learners, checkins (told so and recorded in the database), rejected
(bad codes told so, nothing recorded), wrongly_accepted (a bad code recorded), p50_ms,
p99_ms, rollcall_ms, marked (marks in the database after the roll call), errors, database,
api_url; and the first few error messages (error_samples) when there are any.
"""

from __future__ import annotations

import asyncio
import random
import re
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import (
    MAX_EVENTS,
    BenchError,
    Talker,
    add_database_option,
    base_parser,
    button_of,
    fresh_database,
    next_with,
    percentile,
    positive_int,
    progress,
    run_main,
    running_bot,
    seed_class,
    url_of,
    venues_for,
)
from bot.actions import OpenCheckin, RollCall, SessionAttendance
from bot.attendance import checkin_code, minute_of
from bot.domain import NewPerson, PersonSource, Role
from bot.training import NewSession
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository
from storage.schema import attendance, classes, session_attendance
from storage.types import utcnow
from tools.emulator import BotMessage

FIRST_TELEGRAM_ID = 7_300_000
LECTURER_ID = 7_299_999
ANSWER_TIMEOUT_S = 60.0
CHECKED_IN = re.compile(r"Đã điểm danh")
SAVED = re.compile(r"Đã lưu điểm danh")
ALL_PRESENT = "✅ Tất cả có mặt"
SAVE = "💾 Lưu"
ERROR_SAMPLES = 5
#: Seconds kept free at the end of the rush's minute, for the last answers.
MARGIN_S = 8.0


@dataclass
class Outcome:
    telegram_id: int
    kind: str  # "current", "grace", "expired", "typo"
    latency_s: float | None = None
    accepted: bool | None = None
    error: str | None = None

    @property
    def good(self) -> bool:
        return self.kind in ("current", "grace")


async def _seed(db: Database, learners: int) -> tuple[int, int, dict[int, int]]:
    """The class, its session under way, its enrolled learners and lecturer."""
    now = datetime.now(UTC).replace(microsecond=0)
    session = NewSession(now - timedelta(minutes=5), now + timedelta(hours=2))
    async with db.write() as conn:
        scene = await seed_class(conn, cadres=learners, capacity=learners, sessions=[session],
                                 first_telegram_id=FIRST_TELEGRAM_ID)  # fmt: skip
        people = PeopleRepository(conn)
        lecturer = await people.add(
            NewPerson("Giảng viên Thử", PersonSource.ROSTER, None, verified=True,
                      telegram_id=LECTURER_ID, language="vi", consent_at=now)
        )  # fmt: skip
        await RoleRepository(conn).grant(lecturer.id, Role.LECTURER, None, by=None)
        repo = ClassRepository(conn)
        await repo.set_lecturers(scene.class_id, [lecturer.id])
        await EnrolmentRepository(conn).add_enrolled(
            scene.class_id, list(scene.people.values()), now - timedelta(days=1)
        )
        await conn.execute(
            classes.update().where(classes.c.id == scene.class_id).values(enrolled_count=learners)
        )
        (session_id,) = [s.id for s in await repo.sessions(scene.class_id)]
    return scene.class_id, session_id, scene.people


async def _open_checkin(lecturer: Talker, session_id: int) -> BotMessage:
    """/attendance → the session's card → "📲 Mở điểm danh"; returns the card."""
    await lecturer.send("/attendance")
    listing = await next_with(lecturer, SessionAttendance, ANSWER_TIMEOUT_S, session_id=session_id)
    data = button_of(listing, SessionAttendance, session_id=session_id)
    assert data is not None
    await lecturer.tap_data(data, listing.message_id)
    card = await next_with(lecturer, OpenCheckin, ANSWER_TIMEOUT_S, session_id=session_id)
    opening = button_of(card, OpenCheckin, session_id=session_id)
    assert opening is not None
    await lecturer.tap_data(opening, card.message_id)
    for _ in range(10):
        shown = await lecturer.next_message(ANSWER_TIMEOUT_S)
        if shown.photo:
            return card
    raise BenchError("the projector's photo never came")


async def _secret(db: Database, session_id: int) -> str:
    async with db.read() as conn:
        secret = (
            await conn.execute(
                sa.select(session_attendance.c.secret).where(
                    session_attendance.c.session_id == session_id
                )
            )
        ).scalar_one()
    assert secret is not None
    return str(secret)


def _bad_code(secret: str, minute: int, rng: random.Random) -> str:
    """A mistyped code: none of the last half hour's."""
    recent = {checkin_code(secret, minute - back) for back in range(-1, 32)}
    while True:
        code = f"{rng.randrange(10**6):06d}"
        if code not in recent:
            return code


async def learner(user: Talker, outcome: Outcome, code: str, delay: float) -> None:
    await asyncio.sleep(delay)
    started = time.perf_counter()
    try:
        await user.send(code)
        answer = await user.next_message(ANSWER_TIMEOUT_S)
    except (BenchError, TimeoutError) as exc:
        outcome.error = f"{outcome.telegram_id} checking in: {exc}"
        return
    outcome.latency_s = time.perf_counter() - started
    outcome.accepted = bool(CHECKED_IN.search(answer.body))


async def _recorded(db: Database, session_id: int, people: dict[int, int]) -> set[int]:
    """Telegram ids of the learners checked in, as the database has it."""
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(attendance.c.person_id).where(
                attendance.c.session_id == session_id, attendance.c.checked_in_at.is_not(None)
            )
        )
        found = set(rows.scalars())
    return {t for t, p in people.items() if p in found}


async def _marked(db: Database, session_id: int) -> int:
    async with db.read() as conn:
        return int(
            (
                await conn.execute(
                    sa.select(sa.func.count()).where(attendance.c.session_id == session_id)
                )
            ).scalar_one()
        )


async def run(
    *, learners: int, bad: int, grace: int, spread: float, database_url: str | None,
    api_url: str | None,
) -> dict[str, Any]:  # fmt: skip
    if bad + grace > learners:
        raise BenchError("--bad and --grace cannot exceed --learners")
    if spread > 60 - MARGIN_S:
        raise BenchError(f"--spread must leave {MARGIN_S:.0f} s of the minute free")
    rng = random.Random(11)
    with tempfile.TemporaryDirectory(prefix="bench-attendance-") as tmp:
        async with fresh_database(database_url, Path(tmp)) as db:
            class_id, session_id, people = await _seed(db, learners)
            progress(f"seeded a session under way with {learners} learners ({db.dialect})")
            venues = venues_for(api_url)
            async with venues("attendance") as venue, running_bot(venue, url_of(db), db) as before:
                lecturer = venue.user(LECTURER_ID, "Giảng")
                card = await _open_checkin(lecturer, session_id)
                secret = await _secret(db, session_id)
                # The rush fits in one minute (so the codes stay this minute's and the previous
                # one's): when too little of this one is left, it starts as the next turns.
                now = utcnow()
                left = 60 - now.second - now.microsecond / 1e6
                if left < spread + MARGIN_S:
                    await asyncio.sleep(left + 0.3)
                minute = minute_of(utcnow())
                ids = sorted(people)
                rng.shuffle(ids)
                kinds = (["typo"] * (bad - bad // 2) + ["expired"] * (bad // 2)
                         + ["grace"] * grace + ["current"] * (learners - bad - grace))  # fmt: skip
                outcomes, tasks = [], []
                for telegram_id, kind in zip(ids, kinds, strict=True):
                    code = {
                        "current": checkin_code(secret, minute),
                        "grace": checkin_code(secret, minute - 1),
                        "expired": checkin_code(secret, minute - 3),
                        "typo": _bad_code(secret, minute, rng),
                    }[kind]
                    outcome = Outcome(telegram_id, kind)
                    outcomes.append(outcome)
                    user = venue.user(telegram_id, "Thử")
                    tasks.append(learner(user, outcome, code, rng.uniform(0, spread)))
                progress(f"{learners} learners send their codes over {spread:.0f} s")
                await asyncio.gather(*tasks)
                if minute_of(utcnow()) != minute:
                    progress("the rush ran past its minute: this minute's codes became grace")
                recorded = await _recorded(db, session_id, people)
                rollcall_s = await _roll_call(lecturer, card, session_id)
                marked = await _marked(db, session_id)
                refused = await venue.refused() - before
            dialect = db.dialect
    errors = [o.error for o in outcomes if o.error]
    told = {o.telegram_id for o in outcomes if o.accepted}
    good = {o.telegram_id for o in outcomes if o.good}
    checkins = len(told & recorded & good)
    rejected = sum(1 for o in outcomes if not o.good and o.accepted is False
                   and o.telegram_id not in recorded)  # fmt: skip
    wrongly = len(recorded - good)
    if told != recorded:
        errors.append(f"told checked in {len(told)}, recorded {len(recorded)}")
    if marked != learners:
        errors.append(f"{marked} marks after the roll call, not {learners}")
    if refused:
        errors.append(f"the emulator refused {refused} requests as Telegram would")
    latencies = [o.latency_s for o in outcomes if o.latency_s is not None]
    result: dict[str, Any] = {
        "learners": learners,
        "checkins": checkins,
        "rejected": rejected,
        "wrongly_accepted": wrongly,
        "p50_ms": round(percentile(latencies, 50) * 1000, 1) if latencies else None,
        "p99_ms": round(percentile(latencies, 99) * 1000, 1) if latencies else None,
        "rollcall_ms": round(rollcall_s * 1000, 1),
        "marked": marked,
        "errors": len(errors) + max(0, refused - 1),
        "database": "sqlite" if dialect == "sqlite" else "postgresql",
        "api_url": api_url,
    }
    if errors:
        result["error_samples"] = errors[:ERROR_SAMPLES]
    progress(f"checked in {checkins}, rejected {rejected}, wrongly accepted {wrongly}, "
             f"p99 {result['p99_ms']} ms, roll call {result['rollcall_ms']} ms")  # fmt: skip
    assert class_id
    return result


def _labelled(event: BotMessage, label: str) -> str:
    """The callback data of the event's button with this label."""
    for row in event.buttons:
        for button in row:
            if button.text == label and button.callback_data:
                return button.callback_data
    raise BenchError(f"no {label!r} button on the bot's message")


async def _edit_with(user: Talker, label: str) -> BotMessage:
    """The user's next bot event with a button labelled so."""
    for _ in range(MAX_EVENTS):
        event = await user.next_message(ANSWER_TIMEOUT_S)
        if any(b.text == label for row in event.buttons for b in row):
            return event
    raise BenchError(f"no {label!r} button in the bot's last {MAX_EVENTS} messages")


async def _roll_call(lecturer: Talker, card: BotMessage, session_id: int) -> float:
    """The roll call from the session's card: "all present", then "save", timed."""
    data = button_of(card, RollCall, session_id=session_id)
    if data is None:
        raise BenchError("the session's card has no roll-call button")
    await lecturer.tap_data(data, card.message_id)
    roll = await _edit_with(lecturer, ALL_PRESENT)
    await lecturer.tap_data(_labelled(roll, ALL_PRESENT), roll.message_id)
    roll = await _edit_with(lecturer, SAVE)
    started = time.perf_counter()
    await lecturer.tap_data(_labelled(roll, SAVE), roll.message_id)
    for _ in range(MAX_EVENTS):
        answer = await lecturer.next_message(ANSWER_TIMEOUT_S)
        if SAVED.search(answer.body):
            return time.perf_counter() - started
    raise BenchError("the roll call was not saved")


def main(argv: Sequence[str] | None = None) -> int:
    parser = base_parser("python -m bench.attendance", __doc__)
    parser.add_argument("--learners", type=positive_int, default=200, help="enrolled (200)")
    parser.add_argument("--bad", type=int, default=20, help="learners with a bad code (20)")
    parser.add_argument("--grace", type=int, default=40,
                        help="learners sending the previous minute's code (40)")  # fmt: skip
    parser.add_argument("--spread", type=float, default=45.0, metavar="S",
                        help="seconds over which the codes arrive (45)")  # fmt: skip
    add_database_option(parser)
    args = parser.parse_args(argv)
    return run_main(
        "bench.attendance",
        args.api_url,
        args.timeout,
        lambda: run(learners=args.learners, bad=args.bad, grace=args.grace, spread=args.spread,
                    database_url=args.database_url, api_url=args.api_url),
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())

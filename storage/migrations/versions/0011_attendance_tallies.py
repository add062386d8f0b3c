"""Attendance tallies kept by the database: marks per session and per learner in a class, so
that a year's progress report sums thousands of rows instead of millions; and an index of
the roster's columns that coverage reports read.

Triggers keep them, whatever writes the marks; a learner's tally counts only the sessions
that are still scheduled (a session cancelled afterwards drops out of it).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MARKS = ("present", "late", "excused", "absent")
#: What coverage reports read of each person: an index holding them all spares the table.
ROSTER_COLUMNS = ("unit_id", "grade_id", "title_id", "birth_year", "gender", "ethnicity_id",
                  "source_pool", "source", "verified")  # fmt: skip


def _counts() -> list[sa.Column[int]]:
    return [sa.Column(m, sa.Integer, nullable=False, server_default="0") for m in MARKS]


_EMPTY = " AND ".join(f"{m} = 0" for m in MARKS)


def _apply(row: str, sign: str) -> str:
    """Adds (sign 1) or takes away (sign -1) one mark, given as the trigger's NEW or OLD row."""
    values = ", ".join(f"{sign} * CASE WHEN {row}.mark = '{m}' THEN 1 ELSE 0 END" for m in MARKS)
    names = ", ".join(MARKS)

    def summed(table: str) -> str:
        return ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in MARKS)

    added = (
        f"INSERT INTO session_tallies (session_id, {names}) VALUES ({row}.session_id, {values}) "
        f"ON CONFLICT (session_id) DO UPDATE SET {summed('session_tallies')};\n"
        f"INSERT INTO learner_tallies (class_id, person_id, {names}) "
        f"SELECT {row}.class_id, {row}.person_id, {values} FROM class_sessions "
        f"WHERE class_sessions.id = {row}.session_id AND class_sessions.status = 'scheduled' "
        f"ON CONFLICT (class_id, person_id) DO UPDATE SET {summed('learner_tallies')};\n"
    )
    if sign == "1":
        return added
    # A tally taken back to nothing goes: a person or a session may then be deleted.
    return added + (
        f"DELETE FROM session_tallies WHERE session_id = {row}.session_id AND {_EMPTY};\n"
        f"DELETE FROM learner_tallies WHERE class_id = {row}.class_id "
        f"AND person_id = {row}.person_id AND {_EMPTY};\n"
    )


def _session_status(sign: str) -> str:
    """A session cancelled (sign -1) or scheduled again (1): its marks leave or rejoin the
    learners' tallies."""
    values = ", ".join(f"{sign} * CASE WHEN a.mark = '{m}' THEN 1 ELSE 0 END" for m in MARKS)
    summed = ", ".join(f"{m} = learner_tallies.{m} + excluded.{m}" for m in MARKS)
    return (
        f"INSERT INTO learner_tallies (class_id, person_id, {', '.join(MARKS)}) "
        f"SELECT a.class_id, a.person_id, {values} FROM attendance a "
        f"WHERE a.session_id = NEW.id "
        f"ON CONFLICT (class_id, person_id) DO UPDATE SET {summed};\n"
        f"DELETE FROM learner_tallies WHERE class_id = NEW.class_id AND {_EMPTY};\n"
    )


_STATUS_SIGN = "CASE WHEN NEW.status = 'scheduled' THEN 1 ELSE -1 END"
_STATUS_CHANGED = "(OLD.status = 'scheduled') <> (NEW.status = 'scheduled')"

SQLITE_TRIGGERS = (
    f"CREATE TRIGGER attendance_tally_insert AFTER INSERT ON attendance BEGIN\n"
    f"{_apply('NEW', '1')}END",
    f"CREATE TRIGGER attendance_tally_delete AFTER DELETE ON attendance BEGIN\n"
    f"{_apply('OLD', '-1')}END",
    f"CREATE TRIGGER attendance_tally_update "
    f"AFTER UPDATE OF session_id, person_id, class_id, mark ON attendance BEGIN\n"
    f"{_apply('OLD', '-1')}{_apply('NEW', '1')}END",
    f"CREATE TRIGGER session_tally_status AFTER UPDATE OF status ON class_sessions "
    f"WHEN {_STATUS_CHANGED} BEGIN\n{_session_status(_STATUS_SIGN)}END",
)

POSTGRES_FUNCTIONS = (
    "CREATE FUNCTION tally_attendance() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
    f"IF TG_OP IN ('UPDATE', 'DELETE') THEN\n{_apply('OLD', '-1')}END IF;\n"
    f"IF TG_OP IN ('UPDATE', 'INSERT') THEN\n{_apply('NEW', '1')}END IF;\n"
    "RETURN NULL;\nEND $$",
    "CREATE FUNCTION tally_session_status() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n"
    f"IF {_STATUS_CHANGED} THEN\n{_session_status(_STATUS_SIGN)}END IF;\n"
    "RETURN NULL;\nEND $$",
    "CREATE TRIGGER attendance_tally AFTER INSERT OR DELETE "
    "OR UPDATE OF session_id, person_id, class_id, mark ON attendance "
    "FOR EACH ROW EXECUTE FUNCTION tally_attendance()",
    "CREATE TRIGGER session_tally_status AFTER UPDATE OF status ON class_sessions "
    "FOR EACH ROW EXECUTE FUNCTION tally_session_status()",
)


def _backfill() -> None:
    sums = ", ".join(f"SUM(CASE WHEN a.mark = '{m}' THEN 1 ELSE 0 END)" for m in MARKS)
    names = ", ".join(MARKS)
    op.execute(
        f"INSERT INTO session_tallies (session_id, {names}) "
        f"SELECT a.session_id, {sums} FROM attendance a GROUP BY a.session_id"
    )
    op.execute(
        f"INSERT INTO learner_tallies (class_id, person_id, {names}) "
        f"SELECT a.class_id, a.person_id, {sums} FROM attendance a "
        f"JOIN class_sessions s ON s.id = a.session_id WHERE s.status = 'scheduled' "
        f"GROUP BY a.class_id, a.person_id"
    )


def upgrade() -> None:
    op.create_table(
        "session_tallies",
        sa.Column("session_id", Id, nullable=False),
        *_counts(),
        sa.ForeignKeyConstraint(
            ["session_id"], ["class_sessions.id"],
            name=op.f("fk_session_tallies_session_id_class_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_tallies")),
    )  # fmt: skip
    op.create_table(
        "learner_tallies",
        sa.Column("class_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        *_counts(),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_learner_tallies_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_learner_tallies_person_id_people")
        ),
        sa.PrimaryKeyConstraint("class_id", "person_id", name=op.f("pk_learner_tallies")),
    )
    op.create_index(op.f("ix_learner_tallies_person_id"), "learner_tallies", ["person_id"])
    op.create_index("ix_people_roster", "people", list(ROSTER_COLUMNS))
    _backfill()
    statements = SQLITE_TRIGGERS if op.get_bind().dialect.name == "sqlite" else POSTGRES_FUNCTIONS
    for statement in statements:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("attendance_tally_insert", "attendance_tally_delete",
                     "attendance_tally_update", "session_tally_status"):  # fmt: skip
            op.execute(f"DROP TRIGGER {name}")
    else:
        op.execute("DROP TRIGGER attendance_tally ON attendance")
        op.execute("DROP TRIGGER session_tally_status ON class_sessions")
        op.execute("DROP FUNCTION tally_attendance()")
        op.execute("DROP FUNCTION tally_session_status()")
    op.drop_index("ix_people_roster", table_name="people")
    op.drop_index(op.f("ix_learner_tallies_person_id"), table_name="learner_tallies")
    op.drop_table("learner_tallies")
    op.drop_table("session_tallies")

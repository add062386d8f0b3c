"""Attendance: each session's check-in and roll call, the marks, excused-absence requests,
warnings sent, results, and each class's late and completion rules.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "attendance_warnings",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.CheckConstraint(
            "level IN ('one_left', 'cannot')", name=op.f("ck_attendance_warnings_level")
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_attendance_warnings_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_attendance_warnings_person_id_people")
        ),
        sa.PrimaryKeyConstraint(
            "person_id", "class_id", "level", name=op.f("pk_attendance_warnings")
        ),
    )
    op.create_table(
        "results",
        sa.Column("class_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("outcome", sa.String(length=14), nullable=False),
        sa.Column("attended", sa.SmallInteger(), nullable=False),
        sa.Column("total", sa.SmallInteger(), nullable=False),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("recorded_by", sa.BigInteger(), nullable=True),
        sa.Column("recorded_at", Time, nullable=False),
        sa.CheckConstraint(
            "outcome IN ('excellent', 'very_good', 'good', 'passed', 'not_completed')",
            name=op.f("ck_results_outcome"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_results_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_results_person_id_people")
        ),
        sa.PrimaryKeyConstraint("class_id", "person_id", name=op.f("pk_results")),
    )
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_results_person_id"), ["person_id"], unique=False)

    op.create_table(
        "attendance",
        sa.Column("session_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("mark", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.Column("checked_in_at", Time, nullable=True),
        sa.Column("marked_by", Id, nullable=True),
        sa.Column("at", Time, nullable=False),
        sa.CheckConstraint(
            "mark IN ('present', 'late', 'excused', 'absent')", name=op.f("ck_attendance_mark")
        ),
        sa.CheckConstraint(
            "source IN ('code', 'link', 'button', 'roll', 'correction', 'leave', 'close')",
            name=op.f("ck_attendance_source"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_attendance_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["marked_by"], ["people.id"], name=op.f("fk_attendance_marked_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_attendance_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["class_sessions.id"],
            name=op.f("fk_attendance_session_id_class_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", "person_id", name=op.f("pk_attendance")),
    )
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.create_index(
            "ix_attendance_class_id_person_id", ["class_id", "person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_attendance_person_id"), ["person_id"], unique=False)

    op.create_table(
        "leave_requests",
        sa.Column("id", Id, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("asked_at", Time, nullable=False),
        sa.Column("decided_by", Id, nullable=True),
        sa.Column("decided_at", Time, nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')", name=op.f("ck_leave_requests_status")
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_leave_requests_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["people.id"], name=op.f("fk_leave_requests_decided_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_leave_requests_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["class_sessions.id"],
            name=op.f("fk_leave_requests_session_id_class_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leave_requests")),
        sa.UniqueConstraint(
            "session_id", "person_id", name=op.f("uq_leave_requests_session_id_person_id")
        ),
    )
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_leave_requests_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index("ix_leave_requests_status", ["status"], unique=False)

    op.create_table(
        "session_attendance",
        sa.Column("session_id", Id, nullable=False),
        sa.Column("secret", sa.String(length=64), nullable=True),
        sa.Column("opened_by", Id, nullable=True),
        sa.Column("opened_at", Time, nullable=True),
        sa.Column("stopped_at", Time, nullable=True),
        sa.Column("projector_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("projector_message_id", sa.BigInteger(), nullable=True),
        sa.Column("saved_at", Time, nullable=True),
        sa.Column("saved_by", Id, nullable=True),
        sa.Column("closed_at", Time, nullable=True),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["people.id"], name=op.f("fk_session_attendance_opened_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["saved_by"], ["people.id"], name=op.f("fk_session_attendance_saved_by_people")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["class_sessions.id"],
            name=op.f("fk_session_attendance_session_id_class_sessions"),
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_session_attendance")),
    )
    with op.batch_alter_table("session_attendance", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_session_attendance_closed_at"), ["closed_at"], unique=False
        )

    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("late_after", sa.SmallInteger(), server_default="15", nullable=False)
        )
        batch_op.add_column(
            sa.Column("completion_pct", sa.SmallInteger(), server_default="80", nullable=False)
        )
        batch_op.create_check_constraint(
            op.f("ck_classes_late_after"), "late_after BETWEEN 0 AND 240"
        )
        batch_op.create_check_constraint(
            op.f("ck_classes_completion_pct"), "completion_pct BETWEEN 1 AND 100"
        )


def downgrade() -> None:
    with op.batch_alter_table("classes", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_classes_completion_pct"), type_="check")
        batch_op.drop_constraint(op.f("ck_classes_late_after"), type_="check")
        batch_op.drop_column("completion_pct")
        batch_op.drop_column("late_after")

    with op.batch_alter_table("session_attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_session_attendance_closed_at"))

    op.drop_table("session_attendance")
    with op.batch_alter_table("leave_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_leave_requests_status")
        batch_op.drop_index(batch_op.f("ix_leave_requests_person_id"))

    op.drop_table("leave_requests")
    with op.batch_alter_table("attendance", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_attendance_person_id"))
        batch_op.drop_index("ix_attendance_class_id_person_id")

    op.drop_table("attendance")
    with op.batch_alter_table("results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_results_person_id"))

    op.drop_table("results")
    op.drop_table("attendance_warnings")

"""The training plan and its targets, programmes, classes with their audience, lecturers and
sessions, the events people must hear about, enrolments and the waitlist, completions, and
the catalog views cadres page through.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catalog_views",
        sa.Column("key", sa.String(length=16), nullable=False),
        sa.Column("telegram_id", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_catalog_views")),
    )
    op.create_index(
        op.f("ix_catalog_views_expires_at"), "catalog_views", ["expires_at"], unique=False
    )
    op.create_table(
        "plans",
        sa.Column("id", Id, nullable=False),
        sa.Column("year", sa.SmallInteger(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=True),
        sa.Column("approved_by", sa.String(length=200), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint(
            "status = 'draft' OR (approved_on IS NOT NULL AND approved_by IS NOT NULL)",
            name=op.f("ck_plans_approval"),
        ),
        sa.CheckConstraint("status IN ('draft', 'approved')", name=op.f("ck_plans_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("year", name=op.f("uq_plans_year")),
    )
    op.create_table(
        "programmes",
        sa.Column("id", Id, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_search", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("validity_months", sa.SmallInteger(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_programmes")),
        sa.UniqueConstraint("code", name=op.f("uq_programmes_code")),
    )
    op.create_table(
        "classes",
        sa.Column("id", Id, nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("search_text", sa.String(length=240), nullable=False),
        sa.Column("programme_id", Id, nullable=False),
        sa.Column("plan_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("location", sa.String(length=300), nullable=True),
        sa.Column("meeting_link", sa.String(length=500), nullable=True),
        sa.Column("organiser", sa.String(length=200), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("enrolled_count", sa.Integer(), nullable=False),
        sa.Column("waitlist_seq", sa.Integer(), nullable=False),
        sa.Column("enrol_opens_at", Time, nullable=True),
        sa.Column("enrol_deadline", Time, nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("starts_at", Time, nullable=True),
        sa.Column("ends_at", Time, nullable=True),
        sa.Column("cancelled_reason", sa.String(length=300), nullable=True),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint(
            "format IN ('on_site', 'online', 'blended')", name=op.f("ck_classes_format")
        ),
        sa.CheckConstraint(
            "status IN ('planned', 'open', 'running', 'finished', 'cancelled')",
            name=op.f("ck_classes_status"),
        ),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_classes_capacity")),
        sa.CheckConstraint(
            "enrolled_count >= 0 AND enrolled_count <= capacity", name=op.f("ck_classes_seats")
        ),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], name=op.f("fk_classes_plan_id_plans")),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_classes_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_classes")),
        sa.UniqueConstraint("code", name=op.f("uq_classes_code")),
    )
    op.create_index(op.f("ix_classes_plan_id"), "classes", ["plan_id"], unique=False)
    op.create_index(op.f("ix_classes_programme_id"), "classes", ["programme_id"], unique=False)
    op.create_index("ix_classes_status_starts_at", "classes", ["status", "starts_at"], unique=False)
    op.create_table(
        "plan_targets",
        sa.Column("plan_id", Id, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("classes", sa.Integer(), nullable=False),
        sa.Column("learners", sa.Integer(), nullable=False),
        sa.CheckConstraint("classes >= 0 AND learners >= 0", name=op.f("ck_plan_targets_positive")),
        sa.ForeignKeyConstraint(
            ["plan_id"], ["plans.id"], name=op.f("fk_plan_targets_plan_id_plans")
        ),
        sa.PrimaryKeyConstraint("plan_id", "kind", name=op.f("pk_plan_targets")),
    )
    op.create_table(
        "class_audience",
        sa.Column("class_id", Id, nullable=False),
        sa.Column("target", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_class_audience_class_id_classes")
        ),
        sa.PrimaryKeyConstraint("class_id", "target", name=op.f("pk_class_audience")),
    )
    op.create_table(
        "class_lecturers",
        sa.Column("class_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_class_lecturers_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_class_lecturers_person_id_people")
        ),
        sa.PrimaryKeyConstraint("class_id", "person_id", name=op.f("pk_class_lecturers")),
    )
    op.create_index(
        op.f("ix_class_lecturers_person_id"), "class_lecturers", ["person_id"], unique=False
    )
    op.create_table(
        "class_sessions",
        sa.Column("id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("starts_at", Time, nullable=False),
        sa.Column("ends_at", Time, nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=True),
        sa.Column("lecturer_id", Id, nullable=True),
        sa.Column("room", sa.String(length=200), nullable=True),
        sa.Column("link", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("moved_from", Time, nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint(
            "status IN ('scheduled', 'cancelled')", name=op.f("ck_class_sessions_status")
        ),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_class_sessions_order")),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_class_sessions_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["lecturer_id"], ["people.id"], name=op.f("fk_class_sessions_lecturer_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_sessions")),
    )
    op.create_index(
        "ix_class_sessions_class_id_starts_at",
        "class_sessions",
        ["class_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_class_sessions_lecturer_id"), "class_sessions", ["lecturer_id"], unique=False
    )
    op.create_index("ix_class_sessions_starts_at", "class_sessions", ["starts_at"], unique=False)
    op.create_table(
        "completions",
        sa.Column("id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("programme_id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=True),
        sa.Column("class_name", sa.String(length=200), nullable=True),
        sa.Column("completed_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=10), nullable=False),
        sa.CheckConstraint("source IN ('class', 'import')", name=op.f("ck_completions_source")),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_completions_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_completions_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["programme_id"], ["programmes.id"], name=op.f("fk_completions_programme_id_programmes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_completions")),
    )
    op.create_index(
        "ix_completions_person_id_programme_id",
        "completions",
        ["person_id", "programme_id"],
        unique=False,
    )
    op.create_table(
        "enrolment_overrides",
        sa.Column("class_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("granted_by", sa.BigInteger(), nullable=True),
        sa.Column("granted_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_enrolment_overrides_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_enrolment_overrides_person_id_people")
        ),
        sa.PrimaryKeyConstraint("class_id", "person_id", name=op.f("pk_enrolment_overrides")),
    )
    op.create_table(
        "enrolments",
        sa.Column("id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("ticket", sa.Integer(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.CheckConstraint(
            "status IN ('enrolled', 'waitlisted', 'withdrawn', 'cancelled')",
            name=op.f("ck_enrolments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_enrolments_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_enrolments_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrolments")),
        sa.UniqueConstraint("class_id", "person_id", name=op.f("uq_enrolments_class_id_person_id")),
    )
    op.create_index(
        "ix_enrolments_class_id_status_ticket",
        "enrolments",
        ["class_id", "status", "ticket"],
        unique=False,
    )
    op.create_index(op.f("ix_enrolments_person_id"), "enrolments", ["person_id"], unique=False)
    op.create_table(
        "class_events",
        sa.Column("id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("session_id", Id, nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("before", sa.JSON(), nullable=False),
        sa.Column("after", sa.JSON(), nullable=False),
        sa.Column("actor_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("at", Time, nullable=False),
        sa.Column("handled_at", Time, nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_class_events_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["class_sessions.id"],
            name=op.f("fk_class_events_session_id_class_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_events")),
    )
    op.create_index(op.f("ix_class_events_class_id"), "class_events", ["class_id"], unique=False)
    op.create_index("ix_class_events_handled_at", "class_events", ["handled_at"], unique=False)


def downgrade() -> None:
    op.drop_table("class_events")
    op.drop_table("enrolments")
    op.drop_table("enrolment_overrides")
    op.drop_table("completions")
    op.drop_table("class_sessions")
    op.drop_table("class_lecturers")
    op.drop_table("class_audience")
    op.drop_table("plan_targets")
    op.drop_table("classes")
    op.drop_table("programmes")
    op.drop_table("plans")
    op.drop_table("catalog_views")

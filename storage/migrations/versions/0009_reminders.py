"""Reminders: each person's settings and muted classes, the ledger of reminders decided, the
messages held for quiet hours, and when each session's time was set.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("class_sessions", sa.Column("timed_at", Time, nullable=True))
    op.execute("UPDATE class_sessions SET timed_at = created_at")
    op.create_table(
        "reminder_settings",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("leads", sa.String(length=40), nullable=False),
        sa.Column("quiet_from", sa.SmallInteger(), nullable=False),
        sa.Column("quiet_until", sa.SmallInteger(), nullable=False),
        sa.Column("leads_at", Time, nullable=True),
        sa.Column("updated_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_reminder_settings_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_reminder_settings")),
    )
    op.create_table(
        "reminder_mutes",
        sa.Column("person_id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_reminder_mutes_class_id_classes")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_reminder_mutes_person_id_people")
        ),
        sa.PrimaryKeyConstraint("person_id", "class_id", name=op.f("pk_reminder_mutes")),
    )
    op.create_table(
        "reminder_log",
        sa.Column("id", Id, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("person_id", Id, nullable=False),
        sa.Column("lead", sa.String(length=4), nullable=False),
        sa.Column("starts_at", Time, nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("at", Time, nullable=False),
        sa.CheckConstraint(
            "state IN ('sent', 'merged', 'skipped')", name=op.f("ck_reminder_log_state")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_reminder_log_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["class_sessions.id"],
            name=op.f("fk_reminder_log_session_id_class_sessions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_log")),
        sa.UniqueConstraint(
            "session_id",
            "person_id",
            "lead",
            "starts_at",
            name=op.f("uq_reminder_log_session_id_person_id_lead_starts_at"),
        ),
    )
    op.create_table(
        "held_messages",
        sa.Column("id", Id, nullable=False),
        sa.Column("dedup_key", sa.String(length=200), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", Id, nullable=True),
        sa.Column("batch_id", Id, nullable=True),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("release_at", Time, nullable=False),
        sa.Column("created_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["delivery_batches.id"],
            name=op.f("fk_held_messages_batch_id_delivery_batches"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_held_messages_person_id_people")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_messages")),
        sa.UniqueConstraint("dedup_key", name=op.f("uq_held_messages_dedup_key")),
    )
    op.create_index(op.f("ix_held_messages_batch_id"), "held_messages", ["batch_id"])
    op.create_index(op.f("ix_held_messages_person_id"), "held_messages", ["person_id"])
    op.create_index(op.f("ix_held_messages_release_at"), "held_messages", ["release_at"])


def downgrade() -> None:
    op.drop_table("held_messages")
    op.drop_table("reminder_log")
    op.drop_table("reminder_mutes")
    op.drop_table("reminder_settings")
    with op.batch_alter_table("class_sessions") as batch:
        batch.drop_column("timed_at")

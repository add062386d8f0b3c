"""Delivery engine: outbox, delivery batches, unreachable chats.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "delivery_batches",
        sa.Column("id", Id, primary_key=True),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_delivery_batches"),
    )
    op.create_table(
        "outbox",
        sa.Column("id", Id, primary_key=True),
        sa.Column("dedup_key", sa.String(200), nullable=False),
        sa.Column("chat_id", sa.BigInteger, nullable=False),
        sa.Column("person_id", Id, sa.ForeignKey("people.id", name="fk_outbox_person_id_people")),
        sa.Column(
            "batch_id",
            Id,
            sa.ForeignKey("delivery_batches.id", name="fk_outbox_batch_id_delivery_batches"),
        ),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("state", sa.String(12), nullable=False),
        sa.Column("due_at", Time, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(200)),
        sa.Column("sent_at", Time),
        sa.Column("message_id", sa.BigInteger),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedup_key", name="uq_outbox_dedup_key"),
        sa.CheckConstraint(
            "state IN ('pending', 'sending', 'sent', 'failed', 'unreachable', 'cancelled')",
            name="ck_outbox_state",
        ),
    )
    op.create_index("ix_outbox_chat_id", "outbox", ["chat_id"])
    op.create_index("ix_outbox_person_id", "outbox", ["person_id"])
    op.create_index("ix_outbox_state_due_at", "outbox", ["state", "due_at"])
    op.create_index("ix_outbox_batch_id_state", "outbox", ["batch_id", "state"])
    op.create_table(
        "unreachable_chats",
        sa.Column("chat_id", sa.BigInteger, autoincrement=False),
        sa.Column("since", Time, nullable=False),
        sa.Column("reason", sa.String(60), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name="pk_unreachable_chats"),
    )


def downgrade() -> None:
    op.drop_table("unreachable_chats")
    op.drop_table("outbox")
    op.drop_table("delivery_batches")

"""Announcements to an audience (a class, its waitlist, a unit, a priority group), and the
sender's progress message, kept up to date across restarts.

Earlier batches keep no audience (they went to everyone in their sender's reach) and no
progress message.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("delivery_batches") as batch:
        batch.add_column(sa.Column("audience_kind", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("audience_ref", Id, nullable=True))
        batch.add_column(sa.Column("audience_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("audience_within", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("progress_chat_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("progress_message_id", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("progress_shown", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("progress_until", Time, nullable=True))
    op.create_index(
        op.f("ix_delivery_batches_progress_until"), "delivery_batches", ["progress_until"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_delivery_batches_progress_until"), table_name="delivery_batches")
    with op.batch_alter_table("delivery_batches") as batch:
        for column in (
            "progress_until", "progress_shown", "progress_message_id", "progress_chat_id",
            "audience_within", "audience_name", "audience_ref", "audience_kind",
        ):  # fmt: skip
            batch.drop_column(column)

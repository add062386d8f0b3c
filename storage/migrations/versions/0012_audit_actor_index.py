"""The audit log by the account that acted: the office's audit log filters on it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        op.f("ix_audit_log_actor_telegram_id"), "audit_log", ["actor_telegram_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_audit_log_actor_telegram_id"), table_name="audit_log")

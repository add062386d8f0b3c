"""Zalo accounts and the channel a person is told on.

- `zalo_accounts`: each Zalo user the bot has met, with the number the application knows
  them by (`chat_id`, at or above 2**53: never a Telegram id). Kept so that the number is the
  same after a restart. `person_id` is set when the Zalo account was joined to a person who
  already uses Telegram (by a one-time code shown there): the application then sees that
  person's Telegram id on both channels. The pending code waits on the row, hashed.
- `people.notify_via`: for a person on both messengers, where their messages go; NULL: both.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "zalo_accounts",
        sa.Column("zalo_id", sa.String(length=64), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("person_id", Id, nullable=True),
        sa.Column("code_hash", sa.String(length=64), nullable=True),
        sa.Column("code_person_id", Id, nullable=True),
        sa.Column("code_expires_at", Time, nullable=True),
        sa.Column("code_attempts", sa.SmallInteger(), nullable=False, server_default="0"),
        sa.Column("created_at", Time, nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"], ["people.id"], name=op.f("fk_zalo_accounts_person_id_people")
        ),
        sa.ForeignKeyConstraint(
            ["code_person_id"], ["people.id"], name=op.f("fk_zalo_accounts_code_person_id_people")
        ),
        sa.PrimaryKeyConstraint("zalo_id", name=op.f("pk_zalo_accounts")),
        sa.UniqueConstraint("chat_id", name=op.f("uq_zalo_accounts_chat_id")),
        sa.UniqueConstraint("person_id", name=op.f("uq_zalo_accounts_person_id")),
    )
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("notify_via", sa.String(length=8), nullable=True))
        batch.create_check_constraint(
            "notify_via", "notify_via IS NULL OR notify_via IN ('telegram', 'zalo')"
        )


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint(op.f("ck_people_notify_via"), type_="check")
        batch.drop_column("notify_via")
    op.drop_table("zalo_accounts")

"""Approval and nomination of enrolments, the roster's stable key, and class links.

- A class may require its learners' unit head to approve an enrolment: the enrolment then
  waits as 'pending' (holding its seat) until decided or until `expires_at`; it ends
  'rejected' or 'expired', or becomes 'enrolled'. A learner may decline a nomination
  ('declined', with the reason). Who nominated, who decided and when are kept on the row;
  `told_at` is when a nominated cadre not yet on Telegram was told (on first contact).
- `people.staff_code`: the office's own code for a person (mã cán bộ), the key roster
  imports update by, so a re-import never duplicates anyone.
- `class_links`: the opaque tokens of classes' deep links (posters, Zalo groups), revocable.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)

_OLD_STATUSES = "status IN ('enrolled', 'waitlisted', 'withdrawn', 'cancelled')"
_NEW_STATUSES = (
    "status IN ('enrolled', 'waitlisted', 'pending', 'withdrawn', 'cancelled', "
    "'declined', 'rejected', 'expired')"
)


def upgrade() -> None:
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_constraint(op.f("ck_enrolments_status"), type_="check")
        batch.create_check_constraint("status", _NEW_STATUSES)
        batch.add_column(sa.Column("nominated_by", Id, nullable=True))
        batch.add_column(sa.Column("decided_by", Id, nullable=True))
        batch.add_column(sa.Column("decided_at", Time, nullable=True))
        batch.add_column(sa.Column("expires_at", Time, nullable=True))
        batch.add_column(sa.Column("reason", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("told_at", Time, nullable=True))
        batch.create_foreign_key(
            op.f("fk_enrolments_nominated_by_people"), "people", ["nominated_by"], ["id"]
        )
        batch.create_foreign_key(
            op.f("fk_enrolments_decided_by_people"), "people", ["decided_by"], ["id"]
        )
        batch.create_index("ix_enrolments_status_expires_at", ["status", "expires_at"])
    with op.batch_alter_table("classes") as batch:
        batch.add_column(
            sa.Column("requires_approval", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("staff_code", sa.String(length=32), nullable=True))
        batch.create_unique_constraint(op.f("uq_people_staff_code"), ["staff_code"])
    op.create_table(
        "class_links",
        sa.Column("id", Id, nullable=False),
        sa.Column("class_id", Id, nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("revoked_by", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", Time, nullable=True),
        sa.ForeignKeyConstraint(
            ["class_id"], ["classes.id"], name=op.f("fk_class_links_class_id_classes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_links")),
        sa.UniqueConstraint("token", name=op.f("uq_class_links_token")),
    )
    op.create_index(op.f("ix_class_links_class_id"), "class_links", ["class_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_class_links_class_id"), table_name="class_links")
    op.drop_table("class_links")
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint(op.f("uq_people_staff_code"), type_="unique")
        batch.drop_column("staff_code")
    with op.batch_alter_table("classes") as batch:
        batch.drop_column("requires_approval")
    op.execute(
        "UPDATE enrolments SET status = 'withdrawn' "
        "WHERE status IN ('pending', 'declined', 'rejected', 'expired')"
    )
    with op.batch_alter_table("enrolments") as batch:
        batch.drop_index("ix_enrolments_status_expires_at")
        batch.drop_constraint(op.f("fk_enrolments_decided_by_people"), type_="foreignkey")
        batch.drop_constraint(op.f("fk_enrolments_nominated_by_people"), type_="foreignkey")
        for column in ("told_at", "reason", "expires_at", "decided_at", "decided_by",
                       "nominated_by"):  # fmt: skip
            batch.drop_column(column)
        batch.drop_constraint(op.f("ck_enrolments_status"), type_="check")
        batch.create_check_constraint("status", _OLD_STATUSES)

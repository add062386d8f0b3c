"""Unit tree closure, dialogues in progress, typed button data in queued messages, request
keys of delivery batches.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)

#: Button data the services queued before actions had wire codes (see bot/actions.py), and
#: the catalog keys of their labels that moved.
OLD_BUTTONS = [
    (re.compile(r"ad:p:(\d+)"), r"person:\1"),
    (re.compile(r"pf:edit:unit_id"), "edit:unit"),
]
OLD_LABELS = {"profile.edit_unit": "fields.edit_unit"}


def upgrade() -> None:
    op.create_table(
        "unit_closure",
        sa.Column("ancestor_id", Id, nullable=False),
        sa.Column("descendant_id", Id, nullable=False),
        sa.Column("depth", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("ancestor_id", "descendant_id", name="pk_unit_closure"),
        sa.ForeignKeyConstraint(
            ["ancestor_id"], ["units.id"], name="fk_unit_closure_ancestor_id_units"
        ),
        sa.ForeignKeyConstraint(
            ["descendant_id"], ["units.id"], name="fk_unit_closure_descendant_id_units"
        ),
    )
    op.create_index("ix_unit_closure_descendant_id", "unit_closure", ["descendant_id"])
    op.execute(
        """
        INSERT INTO unit_closure (ancestor_id, descendant_id, depth)
        WITH RECURSIVE tree(ancestor_id, descendant_id, depth) AS (
            SELECT id, id, 0 FROM units
            UNION ALL
            SELECT tree.ancestor_id, units.id, tree.depth + 1
            FROM tree JOIN units ON units.parent_id = tree.descendant_id
        )
        SELECT ancestor_id, descendant_id, depth FROM tree
        """
    )
    op.create_table(
        "dialogues",
        sa.Column("telegram_id", sa.BigInteger, autoincrement=False),
        sa.Column("dialogue", sa.String(40), nullable=False),
        sa.Column("step", sa.String(40), nullable=False),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.Column("expires_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("telegram_id", name="pk_dialogues"),
    )
    op.create_index("ix_dialogues_expires_at", "dialogues", ["expires_at"])
    op.add_column("delivery_batches", sa.Column("request_key", sa.String(80)))
    op.create_index(
        "ix_delivery_batches_request_key", "delivery_batches", ["request_key"], unique=True
    )
    _retype_queued_buttons()


def _retype_queued_buttons() -> None:
    outbox = sa.table(
        "outbox", sa.column("id", Id), sa.column("payload", sa.JSON), sa.column("state")
    )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.state.in_(["pending", "sending"]))
    ).all()
    for row_id, payload in rows:
        if not isinstance(payload, dict) or not payload.get("buttons"):
            continue
        retyped = {**payload, "buttons": [[_retype(b) for b in row] for row in payload["buttons"]]}
        if retyped != payload:
            conn.execute(outbox.update().where(outbox.c.id == row_id).values(payload=retyped))


def _retype(button: dict[str, Any]) -> dict[str, Any]:
    button = {**button, "key": OLD_LABELS.get(button.get("key", ""), button.get("key"))}
    for old, new in OLD_BUTTONS:
        if old.fullmatch(button.get("data", "")):
            return {**button, "data": old.sub(new, button["data"])}
    return button


def downgrade() -> None:
    op.drop_index("ix_delivery_batches_request_key", "delivery_batches")
    with op.batch_alter_table("delivery_batches") as batch:
        batch.drop_column("request_key")
    op.drop_table("dialogues")
    op.drop_table("unit_closure")

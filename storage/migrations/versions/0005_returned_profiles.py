"""Why a self-declared profile was returned to its cadre, and the note that came with it.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("people", sa.Column("returned_reason", sa.String(20)))
    op.add_column("people", sa.Column("returned_note", sa.String(300)))
    # Profiles returned before reasons existed lost their unit: they were "not in this unit".
    people = sa.table(
        "people", sa.column("source"), sa.column("verified"), sa.column("unit_id"),
        sa.column("telegram_id"), sa.column("returned_reason"),
    )  # fmt: skip
    op.get_bind().execute(
        people.update()
        .where(
            people.c.source == "self",
            people.c.verified.is_(False),
            people.c.unit_id.is_(None),
            people.c.telegram_id.is_not(None),
        )
        .values(returned_reason="not_in_unit")
    )
    _retext_queued_notices()


def _retext_queued_notices() -> None:
    """A queued "returned" notice takes the text that now says so, with an empty note."""
    outbox = sa.table("outbox", sa.column("id"), sa.column("payload", sa.JSON), sa.column("state"))
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(outbox.c.id, outbox.c.payload).where(outbox.c.state.in_(["pending", "sending"]))
    ).all()
    for row_id, payload in rows:
        if isinstance(payload, dict) and payload.get("key") == "notice.profile_rejected":
            params = {**payload.get("params", {}), "note": "—"}
            retexted = {**payload, "key": "notice.returned_not_in_unit", "params": params}
            conn.execute(outbox.update().where(outbox.c.id == row_id).values(payload=retexted))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_column("returned_note")
        batch.drop_column("returned_reason")

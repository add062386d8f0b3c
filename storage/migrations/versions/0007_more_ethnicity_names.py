"""Other names of ethnic groups that cadres type and 0004 did not know: "Xá Phó" (Phù Lá).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

#: Group name → its other names, folded and compacted as search_text holds them (frozen
#: here: a migration must not change when the app's folding does).
MORE_NAMES = {"Phù Lá": ["xapho"]}

ethnicities = sa.table("ethnicities", sa.column("name"), sa.column("search_text"))


def _names(name: str) -> list[str] | None:
    conn = op.get_bind()
    current = conn.execute(
        sa.select(ethnicities.c.search_text).where(ethnicities.c.name == name)
    ).scalar_one_or_none()
    return None if current is None else str(current).split(";")


def _store(name: str, names: list[str]) -> None:
    op.get_bind().execute(
        ethnicities.update().where(ethnicities.c.name == name).values(search_text=";".join(names))
    )


def upgrade() -> None:
    for name, more in MORE_NAMES.items():
        if (names := _names(name)) is not None:
            _store(name, [*names, *(m for m in more if m not in names)])


def downgrade() -> None:
    for name, more in MORE_NAMES.items():
        if (names := _names(name)) is not None:
            _store(name, [n for n in names if n not in more])

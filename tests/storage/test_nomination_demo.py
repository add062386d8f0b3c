"""The sandbox's nomination: the demo unit head has an open class of the commune with free
seats and staff not yet on Telegram to send, the demo newcomer among them, who is told when
she links her account."""

from __future__ import annotations

import sqlalchemy as sa

from storage import schema
from storage.database import Database
from storage.types import utcnow
from tests.storage.test_demo_seed import db, seeded_services
from tools.demo.data import DEMO_IDENTITIES, NEWCOMER_PHONE, NEWCOMER_TELEGRAM_ID

__all__ = ["db"]  # the demo seed's database fixture, on SQLite and PostgreSQL


async def test_the_demo_head_can_nominate_the_newcomer_who_is_told_on_first_contact(
    db: Database,
) -> None:
    services, summary = await seeded_services(db)
    code = summary.classes_to_try["nominate"]
    async with db.read() as conn:
        class_id = (
            await conn.execute(sa.select(schema.classes.c.id).where(schema.classes.c.code == code))
        ).scalar_one()
        newcomer = (
            await conn.execute(
                sa.select(schema.people.c.id).where(schema.people.c.phone == NEWCOMER_PHONE)
            )
        ).scalar_one()
    head = await services.access.actor(DEMO_IDENTITIES.unit_head.telegram_id or 0)

    found = await services.nomination.picker(head, class_id, query="trieu thi dao")
    assert found.training_class.seats_left > 0
    assert [(c.full_name, c.blocked) for c in found.candidates] == [("Triệu Thị Đào", None)]
    everyone = await services.nomination.picker(head, class_id)
    assert everyone.total > 10 and any(c.blocked is None for c in everyone.candidates)

    done = await services.nomination.nominate(head, class_id, [newcomer])
    assert [n.on_telegram for n in done.nominees] == [False]
    await services.people.link(NEWCOMER_TELEGRAM_ID, newcomer, NEWCOMER_PHONE, "vi", utcnow())
    async with db.read() as conn:
        told = await conn.execute(
            sa.select(schema.outbox.c.chat_id).where(schema.outbox.c.kind == "nominated")
        )
        assert told.scalars().all() == [NEWCOMER_TELEGRAM_ID]

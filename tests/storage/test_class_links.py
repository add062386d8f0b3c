"""Classes' deep links against a real database: made once on the first ask, revoked and
renewed by administrators only (audited), and a token resolved to its class or refused."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.class_links import TOKEN_LENGTH, is_token
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.errors import Conflict, NotFound, PermissionDenied
from bot.services import Services
from storage.database import Database
from storage.schema import audit_log, class_links, classes
from storage.types import utcnow
from tests.factories import add_class, add_person, add_role, count, make_province

ADMIN, OFFICE, LEARNER = 42, 7301, 7001


async def _world(db: Database) -> tuple[Services, int]:
    services = Services.build(
        db, superadmin_ids=frozenset({ADMIN}), clock=FrozenClock(utcnow().replace(microsecond=0))
    )
    province = await make_province(db)
    office = await add_person(db, "Phòng Đào tạo", unit_id=province.root_id, telegram_id=OFFICE)
    await add_role(db, office, "admin")
    await add_person(db, "Lò Thị Mai", unit_id=province.commune_id, telegram_id=LEARNER)
    return services, await add_class(db, "CDS.01", name="Chuyển đổi số")


async def _actor(services: Services, telegram_id: int) -> Actor:
    return await services.access.actor(telegram_id)


async def _actions(db: Database) -> list[str]:
    async with db.read() as conn:
        return list((await conn.scalars(sa.select(audit_log.c.action).order_by("id"))).all())


async def test_the_first_ask_makes_the_link_and_the_next_ones_give_it_back(db: Database) -> None:
    services, class_id = await _world(db)
    office = await _actor(services, OFFICE)
    first = await services.class_links.panel(office, class_id)
    assert first.link is not None and is_token(first.link.token)
    assert len(first.link.token) == TOKEN_LENGTH and str(class_id) != first.link.token
    again = await services.class_links.panel(office, class_id)
    assert again.link == first.link
    assert await count(db, class_links) == 1
    assert await _actions(db) == ["class_link_created"]
    resolved = await services.class_links.resolve(first.link.token)
    assert resolved.id == class_id and resolved.code == "CDS.01"


async def test_two_administrators_asking_at_once_get_one_link(db: Database) -> None:
    services, class_id = await _world(db)
    office, admin = await _actor(services, OFFICE), await _actor(services, ADMIN)
    a, b = await asyncio.gather(
        services.class_links.panel(office, class_id), services.class_links.panel(admin, class_id)
    )
    assert a.link == b.link and await count(db, class_links) == 1


async def test_a_revoked_link_leads_nowhere_and_is_not_made_again(db: Database) -> None:
    services, class_id = await _world(db)
    office = await _actor(services, OFFICE)
    link = (await services.class_links.panel(office, class_id)).link
    assert link is not None
    after, revoked = await services.class_links.revoke(office, class_id, link.id)
    assert (
        revoked and after.link is None and after.revoked is not None and after.revoked.id == link.id
    )
    assert after.revoked.revoked_by == OFFICE
    with pytest.raises(Conflict) as refused:
        await services.class_links.resolve(link.token)
    assert refused.value.key == "class_links.revoked"
    # Asked again, the panel says it was revoked: no new link behind the office's back.
    again = await services.class_links.panel(office, class_id)
    assert again.link is None and again.revoked is not None
    # A second tap of "revoke" changes nothing.
    assert not (await services.class_links.revoke(office, class_id, link.id))[1]
    assert await _actions(db) == ["class_link_created", "class_link_revoked"]


async def test_a_new_link_replaces_the_old_one_once(db: Database) -> None:
    services, class_id = await _world(db)
    office = await _actor(services, OFFICE)
    old = (await services.class_links.panel(office, class_id)).link
    assert old is not None
    renewed, changed = await services.class_links.renew(office, class_id, old.id)
    assert changed and renewed.link is not None and renewed.link.token != old.token
    # The same confirmation tapped twice must not revoke the link just made.
    twice, changed_again = await services.class_links.renew(office, class_id, old.id)
    assert not changed_again and twice.link == renewed.link
    with pytest.raises(Conflict):
        await services.class_links.resolve(old.token)
    assert (await services.class_links.resolve(renewed.link.token)).id == class_id
    # After a revocation, a new link needs no old one.
    await services.class_links.revoke(office, class_id, renewed.link.id)
    fresh, made = await services.class_links.renew(office, class_id, 0)
    assert made and fresh.link is not None
    assert await _actions(db) == [
        "class_link_created", "class_link_revoked", "class_link_created",
        "class_link_revoked", "class_link_created",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "token", ["", "AAAAAAAAAAAAAAAA", "abc", "x" * 64, "AAAA AAAA AAAA A", "ÁAAAAAAAAAAAAAAA"]
)
async def test_an_unknown_or_malformed_token_is_refused(db: Database, token: str) -> None:
    services, _ = await _world(db)
    with pytest.raises(NotFound) as refused:
        await services.class_links.resolve(token)
    assert refused.value.key == "class_links.unknown"


async def test_a_cancelled_class_gets_no_link_and_its_old_one_says_so(db: Database) -> None:
    services, class_id = await _world(db)
    office = await _actor(services, OFFICE)
    link = (await services.class_links.panel(office, class_id)).link
    assert link is not None
    async with db.write() as conn:
        await conn.execute(classes.update().values(status="cancelled"))
    with pytest.raises(Conflict) as refused:
        await services.class_links.resolve(link.token)
    assert refused.value.key == "class_links.class_cancelled"
    with pytest.raises(Conflict):
        await services.class_links.renew(office, class_id, link.id)
    with pytest.raises(Conflict):
        await services.class_links.poster(office, class_id)
    other = await add_class(db, "HUY.01", status="cancelled")
    with pytest.raises(Conflict):
        await services.class_links.panel(office, other)


async def test_only_administrators_get_or_change_links(db: Database) -> None:
    services, class_id = await _world(db)
    link = (await services.class_links.panel(await _actor(services, OFFICE), class_id)).link
    assert link is not None
    learner = await _actor(services, LEARNER)
    before = (await count(db, class_links), await count(db, audit_log))
    for attempt in (
        services.class_links.panel(learner, class_id),
        services.class_links.revoke(learner, class_id, link.id),
        services.class_links.renew(learner, class_id, link.id),
        services.class_links.poster(learner, class_id),
    ):
        with pytest.raises(PermissionDenied):
            await attempt
    assert (await count(db, class_links), await count(db, audit_log)) == before
    assert (await services.class_links.resolve(link.token)).id == class_id


async def test_an_unknown_class_is_refused(db: Database) -> None:
    services, _ = await _world(db)
    with pytest.raises(NotFound):
        await services.class_links.panel(await _actor(services, OFFICE), 999_999)

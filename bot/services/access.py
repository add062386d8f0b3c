"""Who may do what. Every privileged call passes through here on the server side."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.domain import (
    GRANTABLE_ROLES,
    Actor,
    AuditAction,
    HeldRole,
    MessageKind,
    Person,
    Role,
    UnitScope,
)
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.menus import is_staff, keyboard_for
from bot.services.notices import tell
from storage.database import Database
from storage.repositories.audit import AuditRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository

ACTOR_TTL_S = 5.0
ACTOR_CACHE_MAX = 10_000


def require(actor: Actor, *allowed: Role) -> None:
    """Raises unless the actor holds one of `allowed` (super-administrators hold every role)."""
    if actor.is_superadmin or any(actor.has(role) for role in allowed):
        return
    raise PermissionDenied()


def account_holder(actor: Actor) -> Person:
    """The profile the actor's account is linked to, confirmed or not: for what concerns
    the account itself (its language, withdrawing its consent), never the record."""
    if actor.person is None:
        raise NotFound("profile.none")
    return actor.person


def registered(actor: Actor) -> Person:
    """The actor's own profile; refuses someone who has not signed up, and the holder of a
    roster record claimed by a number typed on Zalo until its unit heads confirm it: a
    stranger may have typed it, so they see nothing of the record and do nothing in it."""
    person = account_holder(actor)
    if person.typed_link:
        raise PermissionDenied("profile.awaits_head")
    return person


def staff_scope(actor: Actor) -> UnitScope:
    """The units a staff member answers for; refuses anyone who is not staff."""
    require(actor, Role.ADMIN, Role.UNIT_HEAD)
    return actor.scope


class AccessService:
    def __init__(
        self,
        db: Database,
        superadmin_ids: frozenset[int],
        notify: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.superadmin_ids = superadmin_ids
        self.notify = notify  # wakes the outbox sender
        self._actors: dict[int, tuple[float, Actor]] = {}
        self._generation = 0

    def changed(self) -> None:
        """Called after any change to people or roles commits: every cached actor is dropped."""
        self._generation += 1
        self._actors.clear()

    async def actor(self, telegram_id: int) -> Actor:
        """Who sent an update, with their roles.

        Cached for a few seconds, because every update needs it and a person taps several
        buttons in a row; any change made through the services drops the cache at once, so
        a revoked role stops working immediately. Only a change made by another process
        (none does so today) could be seen up to ACTOR_TTL_S late.
        """
        now = time.monotonic()
        cached = self._actors.get(telegram_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        generation = self._generation
        async with self.db.lookup() as conn:
            person, grants = await PeopleRepository(conn).with_grants(telegram_id)
        if person is not None and person.typed_link:
            # A roster record claimed by a number typed on Zalo: until its unit heads confirm
            # it, its holder may do what a self-declared cadre may, not use the record's roles.
            grants = ()
        actor = Actor(
            telegram_id=telegram_id,
            person=person,
            grants=grants,
            is_superadmin=telegram_id in self.superadmin_ids,
        )
        if generation == self._generation:  # nothing changed while we were reading
            if len(self._actors) >= ACTOR_CACHE_MAX:
                self._actors.clear()
            self._actors[telegram_id] = (now + ACTOR_TTL_S, actor)
        return actor

    async def role_change(self, actor: Actor, person_id: int, role: Role) -> Person:
        """The person a role change is about, to ask "are you sure?"; refused to anyone who
        may not change roles, before anything is looked up."""
        require(actor, Role.SUPERADMIN)
        if role not in GRANTABLE_ROLES:
            raise InvalidInput("error.role_unknown")
        async with self.db.read() as conn:
            return await PeopleRepository(conn).get(person_id)

    async def set_role(self, actor: Actor, person_id: int, role: Role, held: bool) -> Person:
        """Grants (`held`) or revokes `role`; a unit head heads the unit of their own record.
        The person is told.

        The wanted state, not a toggle, so a double tap or an old card cannot undo itself.
        Only super-administrators may change roles.
        """
        require(actor, Role.SUPERADMIN)
        if role not in GRANTABLE_ROLES:
            raise InvalidInput("error.role_unknown")
        async with self.db.write() as conn:
            person = await PeopleRepository(conn).lock(person_id)
            repo = RoleRepository(conn)
            unit_id = None
            if held and role is Role.UNIT_HEAD:
                if person.unit is None:
                    raise InvalidInput("error.role_needs_unit")
                unit_id = person.unit.id
            if held:
                changed = await repo.grant(person.id, role, unit_id, actor.telegram_id)
            else:
                changed = await repo.revoke(person.id, role)
            if changed:
                change = await AuditRepository(conn).record(
                    AuditAction.ROLE_GRANTED if held else AuditAction.ROLE_REVOKED,
                    actor=actor.telegram_id,
                    person_id=person.id, role=role.value, unit_id=unit_id,
                )  # fmt: skip
                told = "notice.role_revoked"
                if held:  # a lecturer's menu has nothing more (yet): no promise of one
                    told = "notice.role_granted_menu" if is_staff([role]) else "notice.role_granted"
                # The notice brings the main keyboard the roles now give (a revoked head's
                # old one would offer what is no longer theirs).
                held_now = [g.role for g in await repo.grants_of(person.id)]
                await tell(conn, person, MessageKind.ROLE_CHANGED, change, told,
                           params={"role": {"key": f"role.{role.value}"}},
                           keyboard=keyboard_for(held_now))  # fmt: skip
        self.changed()
        self.notify()
        return person

    async def staff_menus(self) -> dict[int, tuple[frozenset[Role], str | None]]:
        """Everyone whose command menu differs from a learner's and who has a chat with the
        bot: role holders, and super-administrators (ADMIN_IDS) with a profile. One who never
        wrote has no chat a menu could be set for (Telegram refuses it): they get theirs with
        their first message."""
        async with self.db.read() as conn:
            staff = await RoleRepository(conn).staff()
            linked = await PeopleRepository(conn).linked_among(self.superadmin_ids)
        for telegram_id, language in linked.items():
            staff.setdefault(telegram_id, (set(), language))[0].add(Role.SUPERADMIN)
        return {tid: (frozenset(roles), lang) for tid, (roles, lang) in staff.items()}

    async def menu_roles(self, person: Person) -> frozenset[Role]:
        """The roles that decide a person's command menu, super-administrator included."""
        roles = set(await self.roles_of(person.id))
        if person.telegram_id in self.superadmin_ids:
            roles.add(Role.SUPERADMIN)
        return frozenset(roles)

    async def roles_of(self, person_id: int) -> frozenset[Role]:
        return frozenset(g.role for g in await self.grants_of(person_id))

    async def grants_of(self, person_id: int) -> list[HeldRole]:
        async with self.db.read() as conn:
            return await RoleRepository(conn).grants_of(person_id)

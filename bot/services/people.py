"""Onboarding, profiles, consent and verification of people."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.delivery.model import NewMessage
from bot.domain import Actor, Gender, NewProfile, Person, PersonalData, Role
from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.phones import normalize_phone
from bot.services.access import require, unit_scope
from bot.text_search import fold
from bot.validation import clean_full_name, parse_birth_year
from storage.database import Database
from storage.repositories.code_lists import CodeListRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository, audit
from storage.types import utcnow

#: Version of the personal-data notice the person agreed to; bump when its text changes.
NOTICE_VERSION = "2026-11"

#: Fields a cadre may change in a self-declared profile (roster data belongs to the office).
SELF_EDITABLE = ("full_name", "unit_id", "gender", "birth_year", "ethnicity_id", "title_id")


class MatchOutcome(StrEnum):
    FOUND = "found"
    NONE = "none"
    TAKEN = "taken"
    AMBIGUOUS = "ambiguous"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class ContactMatch:
    outcome: MatchOutcome
    phone: str | None = None
    person: Person | None = None


def _within(person: Person, scope: list[int] | None) -> bool:
    """Unknown and out-of-scope look the same to the caller: nothing leaks about other units."""
    return scope is None or (person.unit is not None and person.unit.id in scope)


async def _reviewable(conn: AsyncConnection, actor: Actor, person_id: int) -> Person:
    """A profile the actor may confirm or return: in their units, and not their own."""
    person = await PeopleRepository(conn).get(person_id)
    if person is None or not _within(person, await unit_scope(conn, actor)):
        raise NotFound()
    if actor.person is not None and actor.person.id == person.id:
        raise PermissionDenied("error.verify_self")
    return person


async def _tell(conn: AsyncConnection, person: Person, kind: str, payload: dict[str, Any]) -> None:
    """Queues a notice to the person, if linked, in the caller's transaction.

    The key carries the time: the same kind of notice may rightly come again after a change.
    """
    if person.telegram_id is None:
        return
    await OutboxRepository(conn).add(
        [
            NewMessage(
                dedup_key=f"{kind}:{person.id}:{int(utcnow().timestamp())}",
                chat_id=person.telegram_id,
                person_id=person.id,
                kind=kind,
                payload=payload,
            )
        ]
    )


async def _check_codes(
    conn: AsyncConnection,
    unit_id: int | None = None,
    title_id: int | None = None,
    ethnicity_id: int | None = None,
) -> None:
    """Ids a person chose from buttons (which can be forged) must exist in the code lists."""
    codes = CodeListRepository(conn)
    if unit_id is not None and await codes.unit(unit_id) is None:
        raise InvalidInput("error.unit_unknown")
    for kind, item_id in (("title", title_id), ("ethnicity", ethnicity_id)):
        if item_id is not None and await codes.item(kind, item_id) is None:
            raise InvalidInput()


class PeopleService:
    def __init__(
        self,
        db: Database,
        notify: Callable[[], None] = lambda: None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.db = db
        self.notify = notify  # wakes the outbox sender
        self.on_change = on_change  # drops cached actors

    @asynccontextmanager
    async def _change(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction about people; once it commits, cached actors are stale."""
        async with self.db.write() as conn:
            yield conn
        self.on_change()

    async def by_telegram(self, telegram_id: int) -> Person | None:
        async with self.db.read() as conn:
            return await PeopleRepository(conn).by_telegram(telegram_id)

    async def match_contact(self, raw_phone: str) -> ContactMatch:
        """Finds the roster record a shared phone number belongs to, if exactly one is free."""
        phone = normalize_phone(raw_phone)
        if phone is None:
            return ContactMatch(MatchOutcome.INVALID)
        async with self.db.read() as conn:
            found = [p for p in await PeopleRepository(conn).by_phone(phone) if p.from_roster]
        if not found:
            return ContactMatch(MatchOutcome.NONE, phone)
        if len(found) > 1:
            return ContactMatch(MatchOutcome.AMBIGUOUS, phone)
        if found[0].telegram_id is not None:
            return ContactMatch(MatchOutcome.TAKEN, phone)
        return ContactMatch(MatchOutcome.FOUND, phone, found[0])

    async def link(
        self, telegram_id: int, person_id: int, phone: str, language: str, consent_at: datetime
    ) -> Person:
        """Links a Telegram account to its roster record; the roster stays authoritative."""
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            if await repo.by_telegram(telegram_id):
                raise Conflict("error.already_registered")
            person = await repo.get(person_id)
            if person is None or person.phone != phone:
                raise NotFound()
            if not await repo.link_telegram(person_id, telegram_id, language, consent_at):
                raise Conflict("error.record_taken")
            await repo.add_consent(person_id, NOTICE_VERSION, consent_at)
            await audit(conn, "linked_by_contact", actor=telegram_id, person_id=person_id)
            linked = await repo.get(person_id)
        assert linked is not None
        return linked

    async def register(
        self, telegram_id: int, profile: NewProfile, language: str, consent_at: datetime
    ) -> Person:
        """Creates a self-declared profile, unverified until a unit head or admin confirms it."""
        full_name = clean_full_name(profile.full_name)
        parse_birth_year(str(profile.birth_year))
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            if await repo.by_telegram(telegram_id):
                raise Conflict("error.already_registered")
            await _check_codes(conn, profile.unit_id, profile.title_id, profile.ethnicity_id)
            person_id = await repo.insert(
                {
                    "full_name": full_name,
                    "name_search": fold(full_name),
                    "unit_id": profile.unit_id,
                    "title_id": profile.title_id,
                    "gender": profile.gender.value,
                    "birth_year": profile.birth_year,
                    "ethnicity_id": profile.ethnicity_id,
                    "phone": profile.phone,
                    "telegram_id": telegram_id,
                    "source": "self",
                    "verified": False,
                    "language": language,
                    "consent_at": consent_at,
                }
            )
            await repo.add_consent(person_id, NOTICE_VERSION, consent_at)
            await audit(conn, "self_registered", actor=telegram_id, person_id=person_id)
            person = await repo.get(person_id)
            assert person is not None
            await self._ask_heads_to_confirm(conn, person)
        self.notify()
        return person

    async def _ask_heads_to_confirm(self, conn: AsyncConnection, person: Person) -> None:
        """The unit heads above the person's unit get an approval request, in this transaction.

        The key carries the time, so a profile edited after a confirmation is asked about again.
        """
        assert person.unit is not None
        units = await CodeListRepository(conn).ancestor_ids(person.unit.id)
        heads = await RoleRepository(conn).heads_of(units)
        stamp = int(utcnow().timestamp())
        await OutboxRepository(conn).add(
            [
                NewMessage(
                    dedup_key=f"verify-request:{person.id}:{head_id}:{stamp}",
                    chat_id=chat_id,
                    person_id=head_id,
                    kind="verify_request",
                    payload={
                        "key": "notice.verify_request",
                        "params": {"name": person.full_name, "unit": person.unit.name},
                        "buttons": [[{"key": "notice.open_profile", "data": f"ad:p:{person.id}"}]],
                    },
                )
                for head_id, chat_id in heads
                if head_id != person.id
            ]
        )

    async def set_language(self, telegram_id: int, language: str) -> None:
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.by_telegram(telegram_id)
            if person is not None:
                await repo.update(person.id, {"language": language})

    async def edit_own(self, telegram_id: int, field: str, value: Any) -> Person:
        """Edits a self-declared profile; a confirmed profile goes back to unconfirmed."""
        if field not in SELF_EDITABLE:
            raise InvalidInput()
        if field == "full_name":
            value = clean_full_name(str(value))
        if field == "birth_year":
            value = parse_birth_year(str(value))
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.by_telegram(telegram_id)
            if person is None:
                raise NotFound()
            if person.from_roster:
                raise PermissionDenied("error.roster_locked")
            if field in ("unit_id", "title_id", "ethnicity_id"):
                await _check_codes(conn, **{field: int(value)})
            values: dict[str, Any] = {field: value.value if isinstance(value, Gender) else value}
            if field == "full_name":
                values["name_search"] = fold(value)
            if person.verified:
                values.update(verified=False, verified_by=None, verified_at=None)
            await repo.update(person.id, values)
            await audit(conn, "profile_edited", actor=telegram_id, person_id=person.id, field=field)
            edited = await repo.get(person.id)
            assert edited is not None
            if person.verified or field == "unit_id":
                await self._ask_heads_to_confirm(conn, edited)
        self.notify()
        return edited

    async def export(self, telegram_id: int) -> PersonalData:
        async with self.db.read() as conn:
            repo = PeopleRepository(conn)
            person = await repo.by_telegram(telegram_id)
            if person is None:
                raise NotFound()
            return PersonalData(
                person=person,
                consents=await repo.consents_of(person.id),
                roles=await RoleRepository(conn).list_for_export(person.id),
                audit=await repo.audit_of(person.id),
            )

    async def withdraw_consent(self, telegram_id: int) -> bool:
        """Erases the optional data and the Telegram link; training records stay with the person."""
        now = utcnow()
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.by_telegram(telegram_id)
            if person is None:
                return False
            await repo.update(
                person.id,
                {"phone": None, "telegram_id": None, "consent_at": None, "language": None},
            )
            await repo.withdraw_consents(person.id, now)
            await OutboxRepository(conn).cancel_for_person(person.id)
            await audit(conn, "consent_withdrawn", actor=None, person_id=person.id)
        return True

    async def pending(self, actor: Actor) -> list[Person]:
        async with self.db.read() as conn:
            scope = await unit_scope(conn, actor)
            return await PeopleRepository(conn).unverified(scope)

    async def search(self, actor: Actor, query: str) -> list[Person]:
        folded = fold(query)
        if len(folded) < 2:
            raise InvalidInput("error.query_short")
        async with self.db.read() as conn:
            scope = await unit_scope(conn, actor)
            return await PeopleRepository(conn).search(folded, unit_ids=scope)

    async def person_for(self, actor: Actor, person_id: int) -> Person:
        """A person the actor may see: administrators anyone, unit heads their units."""
        async with self.db.read() as conn:
            scope = await unit_scope(conn, actor)
            person = await PeopleRepository(conn).get(person_id)
        if person is None or not _within(person, scope):
            raise NotFound()
        return person

    async def verify(self, actor: Actor, person_id: int) -> Person:
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await _reviewable(conn, actor, person_id)
            if not person.verified:
                await repo.update(
                    person_id,
                    {
                        "verified": True,
                        "verified_by": actor.person.id if actor.person else None,
                        "verified_at": utcnow(),
                    },
                )
                await audit(conn, "profile_verified", actor=actor.telegram_id, person_id=person_id)
                await _tell(conn, person, "profile_verified", {"key": "notice.profile_verified"})
            verified = await repo.get(person_id)
        self.notify()
        assert verified is not None
        return verified

    async def reject(self, actor: Actor, person_id: int) -> Person:
        """A unit head (or an administrator) says a self-declared cadre is not in that unit.

        The profile loses the unit and stays unconfirmed; the cadre is told, with a button to
        choose the right unit, which asks that unit's heads in turn. Roster records, which the
        office itself keeps, cannot be rejected this way.
        """
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await _reviewable(conn, actor, person_id)
            if person.from_roster or person.verified or person.unit is None:
                raise InvalidInput("error.reject_not_pending")
            await repo.update(person_id, {"unit_id": None})
            await audit(conn, "profile_rejected", actor=actor.telegram_id, person_id=person_id,
                        unit_id=person.unit.id)  # fmt: skip
            await _tell(conn, person, "profile_rejected", {
                "key": "notice.profile_rejected",
                "params": {"unit": person.unit.name},
                "buttons": [[{"key": "profile.edit_unit", "data": "pf:edit:unit_id"}]],
            })  # fmt: skip
            rejected = await repo.get(person_id)
        self.notify()
        assert rejected is not None
        return rejected

    async def set_source_pool(self, actor: Actor, person_id: int, flag: bool) -> Person:
        """The leadership source pool ("cán bộ nguồn") is an administrator's decision alone."""
        require(actor, Role.ADMIN)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            if await repo.get(person_id) is None:
                raise NotFound()
            await repo.update(person_id, {"source_pool": flag})
            await audit(
                conn, "source_pool_set", actor=actor.telegram_id, person_id=person_id, flag=flag
            )
            person = await repo.get(person_id)
        assert person is not None
        return person

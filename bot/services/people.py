"""Onboarding, profiles, consent and verification of people."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.actions import EditProfile, OpenPerson, ShowProfile, search_key, search_words
from bot.channels import Channel, channel_of
from bot.clock import Clock, SystemClock
from bot.domain import (
    Actor,
    AuditAction,
    Gender,
    MessageKind,
    NewPerson,
    NewProfile,
    OtherTitle,
    Page,
    Person,
    PersonalData,
    PersonSource,
    ProfileField,
    ReturnReason,
    Role,
    UnitScope,
)
from bot.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from bot.i18n import LANGUAGES
from bot.phones import is_vietnamese, normalize_contact_phone, normalize_phone
from bot.services.access import registered, require, staff_scope
from bot.services.nomination import tell_untold
from bot.services.notices import note_line, notice, tell
from bot.text_search import fold
from bot.validation import clean_full_name, clean_note, clean_title, parse_birth_year, plain_text
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.audit import AuditRepository
from storage.repositories.code_lists import CodeList, CodeListRepository
from storage.repositories.leave import LeaveRepository
from storage.repositories.outbox import OutboxRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.reminders import ReminderRepository
from storage.repositories.results import ResultRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.units import UnitRepository

#: Version of the personal-data notice the person agreed to; bump when its text changes.
NOTICE_VERSION = "2026-11"
QUERY_MAX = 100
CHOSEN_LANGUAGES_MAX = 10_000
PAGE_MAX = 10_000


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


def editable_profile(actor: Actor) -> Person:
    """The actor's own profile, if they may change it: roster data is the office's."""
    person = registered(actor)
    if person.from_roster:
        raise PermissionDenied("error.roster_locked")
    return person


class PeopleService:
    def __init__(
        self,
        db: Database,
        clock: Clock | None = None,
        notify: Callable[[], None] = lambda: None,
        on_change: Callable[[], None] = lambda: None,
        superadmin_ids: frozenset[int] = frozenset(),
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.superadmin_ids = superadmin_ids  # asked to confirm where a unit has no head
        self.notify = notify  # wakes the outbox sender
        self.on_change = on_change  # drops cached actors
        #: Languages chosen by people without a profile: nothing about them is stored before
        #: they agree to the notice, so this is kept in memory only (lost on a restart).
        self._chosen_languages: dict[int, str] = {}

    @asynccontextmanager
    async def _change(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction about people; once it commits, cached actors are stale and
        the sender has news."""
        async with self.db.write() as conn:
            yield conn
        self.on_change()
        self.notify()

    # --- what people type ---------------------------------------------------------------------

    async def parse_field(self, field: ProfileField, raw: str | int | OtherTitle | None) -> Any:
        """A profile field as typed or chosen, checked and normalised; a DomainError names
        what is wrong. Choices arrive as ids from buttons, which can be forged. A position
        may be typed (OtherTitle); position and ethnicity may be left out (None)."""
        match field:
            case ProfileField.FULL_NAME:
                return clean_full_name(str(raw))
            case ProfileField.BIRTH_YEAR:
                return parse_birth_year(str(raw), self.clock.now().date())
            case ProfileField.GENDER:
                try:
                    return Gender(str(raw))
                except ValueError:
                    raise InvalidInput() from None
            case ProfileField.TITLE | ProfileField.ETHNICITY if raw is None:
                return None  # "none of these", "rather not say"
            case ProfileField.TITLE if isinstance(raw, OtherTitle):
                return OtherTitle(clean_title(raw.text))
        item_id = _as_id(raw if not isinstance(raw, OtherTitle) else None)
        async with self.db.read() as conn:
            try:
                if field is ProfileField.UNIT:
                    await UnitRepository(conn).get(item_id)
                else:
                    kind: CodeList = "title" if field is ProfileField.TITLE else "ethnicity"
                    await CodeListRepository(conn).get(kind, item_id)
            except NotFound as missing:  # not in the list: a wrong answer, not a lost record
                raise InvalidInput(missing.key) from None
        return item_id

    # --- onboarding ---------------------------------------------------------------------------

    async def match_contact(self, raw_phone: str) -> ContactMatch:
        """Finds the roster record a shared phone number belongs to, if exactly one is free.

        The roster holds Vietnamese numbers: a foreign one is kept as it is, never matched.
        """
        return await self._match(normalize_contact_phone(raw_phone))

    async def match_typed(self, raw_phone: str, full_name: str) -> ContactMatch:
        """The same, for a number typed as people write it ("0912 345 678"): on Zalo, which
        cannot share a contact. A typed number proves nothing, so the record must also bear
        the full name typed (case, diacritics and spacing aside); a record that does not is
        NONE, as a number not on the roster is, and the answer tells a stranger nothing.
        A record already linked comes with TAKEN, so that its own account can be asked to
        vouch for the newcomer."""
        return await self._match(normalize_phone(raw_phone), fold(full_name))

    async def _match(self, phone: str | None, folded_name: str | None = None) -> ContactMatch:
        if phone is None:
            return ContactMatch(MatchOutcome.INVALID)
        if not is_vietnamese(phone):
            return ContactMatch(MatchOutcome.NONE, phone)
        async with self.db.read() as conn:
            found = [
                p
                for p in await PeopleRepository(conn).by_phone(phone)
                if p.from_roster and (folded_name is None or fold(p.full_name) == folded_name)
            ]
        if not found:
            return ContactMatch(MatchOutcome.NONE, phone)
        if len(found) > 1:
            return ContactMatch(MatchOutcome.AMBIGUOUS, phone)
        if found[0].telegram_id is not None:
            return ContactMatch(MatchOutcome.TAKEN, phone, found[0])
        return ContactMatch(MatchOutcome.FOUND, phone, found[0])

    async def roster_match(self, person_id: int, phone: str) -> Person:
        """The roster record a phone number matched, to ask "is this you?"."""
        async with self.db.read() as conn:
            person = await PeopleRepository(conn).get(person_id)
        if person.phone != phone or not person.from_roster:
            raise NotFound()
        return person

    async def link(
        self,
        telegram_id: int,
        person_id: int,
        phone: str,
        language: str,
        consent_at: datetime,
        *,
        typed: bool = False,
    ) -> Person:
        """Links an account to its roster record; the roster stays authoritative.

        A number shared from Telegram proves itself. A `typed` one (Zalo cannot share a
        contact) proves nothing: the record is linked but unconfirmed, and its unit heads
        are asked to confirm it as they confirm a self-declared profile."""
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            if await repo.by_telegram(telegram_id):
                raise Conflict("error.already_registered")
            person = await repo.get(person_id)
            if person.phone != phone or not person.from_roster:
                raise NotFound()
            linked = await repo.link_telegram(
                person_id, telegram_id, language, consent_at, verified=not typed
            )
            if not linked:
                raise Conflict("error.record_taken")
            await repo.add_consent(person_id, NOTICE_VERSION, consent_at)
            action = AuditAction.LINKED_BY_TYPED_PHONE if typed else AuditAction.LINKED_BY_CONTACT
            change = await AuditRepository(conn).record(
                action, actor=telegram_id, person_id=person_id
            )
            linked_person = await repo.get(person_id)
            if typed:  # the nominations wait for the heads, as everything about the record
                await self._ask_heads_to_confirm(conn, linked_person, change, typed=True)
            else:  # nominated before they were on Telegram: told now, on first contact
                await tell_untold(conn, person_id, telegram_id, self.clock.now())
            return linked_person

    async def register(
        self, telegram_id: int, profile: NewProfile, language: str, consent_at: datetime
    ) -> Person:
        """Creates a self-declared profile, unverified until a unit head or admin confirms it."""
        full_name = await self.parse_field(ProfileField.FULL_NAME, profile.full_name)
        await self.parse_field(ProfileField.BIRTH_YEAR, profile.birth_year)
        await self.parse_field(ProfileField.UNIT, profile.unit_id)
        await self.parse_field(ProfileField.ETHNICITY, profile.ethnicity_id)
        title = await self.parse_field(ProfileField.TITLE, profile.title)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            if await repo.by_telegram(telegram_id):
                raise Conflict("error.already_registered")
            declared = NewPerson(
                full_name=full_name, source=PersonSource.SELF, unit_id=profile.unit_id,
                verified=False, title_id=title if isinstance(title, int) else None,
                title_other=title.text if isinstance(title, OtherTitle) else None,
                ethnicity_id=profile.ethnicity_id,
                gender=profile.gender, birth_year=profile.birth_year, phone=profile.phone,
                telegram_id=telegram_id, language=language, consent_at=consent_at,
            )  # fmt: skip
            # A cadre who withdrew and declares themselves again gets their earlier profile
            # back (its history, and later its training records), not a second one; the
            # unit head confirms it as any declaration. Two such earlier profiles: a new one,
            # which the head sees beside them as possible duplicates.
            earlier = await repo.withdrawn_declarations(
                full_name, profile.birth_year, profile.unit_id
            )
            if len(earlier) == 1 and await repo.redeclare(earlier[0].id, declared):
                person = await repo.get(earlier[0].id)
            else:
                person = await repo.add(declared)
            await repo.add_consent(person.id, NOTICE_VERSION, consent_at)
            change = await AuditRepository(conn).record(
                AuditAction.SELF_REGISTERED, actor=telegram_id, person_id=person.id
            )
            await self._ask_heads_to_confirm(conn, person, change)
        return person

    async def _ask_heads_to_confirm(
        self,
        conn: AsyncConnection,
        person: Person,
        change: int,
        *,
        again: bool = False,
        typed: bool = False,
    ) -> None:
        """The heads of the person's unit and of the units above it are asked to confirm, in
        the transaction of the change that needs confirming; where the unit has none (but
        the person), the administrators are, so that no profile waits with nobody asked.
        `again`: the profile was confirmed or returned before, and has been corrected;
        `typed`: a roster record claimed by a phone number typed on Zalo."""
        assert person.unit is not None
        roles = RoleRepository(conn)
        heads = [h for h in await roles.heads_above(person.unit.id) if h[0] != person.id]
        if not heads:
            admins = await roles.admins(also=self.superadmin_ids)
            heads = [a for a in admins if a[0] != person.id]
        await OutboxRepository(conn).add(
            [
                notice(
                    MessageKind.VERIFY_REQUEST,
                    f"verify-request:{person.id}:{head_id}:{change}",
                    chat_id=chat_id,
                    person_id=head_id,
                    text_key=(
                        "notice.verify_typed_phone"
                        if typed
                        else "notice.verify_again"
                        if again
                        else "notice.verify_request"
                    ),
                    params={"name": person.full_name, "unit": person.unit.label},
                    buttons=[[("notice.open_profile", OpenPerson(person.id))]],
                )
                for head_id, chat_id in heads
            ]
        )

    # --- a person's own profile ---------------------------------------------------------------

    async def set_language(self, telegram_id: int, language: str) -> None:
        if language not in LANGUAGES:
            raise InvalidInput()
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.by_telegram(telegram_id)
            if person is not None:
                await repo.set_language(person.id, language)
        self._remember_language(telegram_id, language)

    def _remember_language(self, telegram_id: int, language: str) -> None:
        """The latest language chosen, for whoever has no profile (yet, or any more) in
        this run of the bot: a choice made before signing up must not outlive a later one."""
        if len(self._chosen_languages) >= CHOSEN_LANGUAGES_MAX:
            self._chosen_languages.clear()
        self._chosen_languages[telegram_id] = language

    def chosen_language(self, telegram_id: int) -> str | None:
        """What someone without a profile chose in this run of the bot, if anything."""
        return self._chosen_languages.get(telegram_id)

    async def edit_own(self, telegram_id: int, field: ProfileField, raw: Any) -> Person:
        """Edits a self-declared profile; a confirmed profile goes back to unconfirmed and its
        unit heads are asked again."""
        value = await self.parse_field(field, raw)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.lock_own(telegram_id)
            if person.from_roster:
                raise PermissionDenied("error.roster_locked")
            await repo.set_field(person.id, field, value)
            if person.verified:
                await repo.set_verified(person.id, by=None, at=None)
            if person.returned_reason is not None:
                await repo.clear_returned(person.id)
            change = await AuditRepository(conn).record(
                AuditAction.PROFILE_EDITED, actor=telegram_id, person_id=person.id,
                field=field.value,
            )  # fmt: skip
            edited = await repo.get(person.id)
            if edited.awaits_decision and (person.decided or field is ProfileField.UNIT):
                await self._ask_heads_to_confirm(conn, edited, change, again=person.decided)
            return edited

    async def set_own_phone(
        self, telegram_id: int, shared_phone: str, shared_by: int | None
    ) -> tuple[Person, bool]:
        """The phone of a shared contact, onto the sender's self-declared profile; whether it
        changed. Only one's own contact proves the number (Telegram checked it)."""
        if shared_by != telegram_id:
            raise InvalidInput("onboarding.own_contact_only")
        phone = normalize_contact_phone(shared_phone)
        if phone is None:
            raise InvalidInput("onboarding.phone_invalid")
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.lock_own(telegram_id)
            if person.phone == phone:
                return person, False
            if person.from_roster:
                raise PermissionDenied("error.roster_locked")
            await repo.set_phone(person.id, phone)
            await AuditRepository(conn).record(AuditAction.PHONE_CHANGED, actor=telegram_id,
                                               person_id=person.id)  # fmt: skip
            return await repo.get(person.id), True

    async def set_typed_phone(self, telegram_id: int, typed: str) -> tuple[Person, bool]:
        """A number typed on Zalo, which cannot share a contact, onto the sender's
        self-declared profile; whether it changed. It proves nothing, so, as any edit, it
        sends a confirmed or returned profile back to the unit heads; it never finds a
        roster record. The roster's numbers stay the office's."""
        if channel_of(telegram_id) is not Channel.ZALO:
            raise InvalidInput("profile.typed_phone")  # Telegram shares it, and so proves it
        phone = normalize_phone(typed)
        if phone is None:
            raise InvalidInput("onboarding.phone_invalid")
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.lock_own(telegram_id)
            if person.from_roster:
                raise PermissionDenied("error.roster_locked")
            if person.phone == phone:
                return person, False
            await repo.set_phone(person.id, phone)
            if person.verified:
                await repo.set_verified(person.id, by=None, at=None)
            if person.returned_reason is not None:
                await repo.clear_returned(person.id)
            change = await AuditRepository(conn).record(
                AuditAction.PHONE_CHANGED, actor=telegram_id, person_id=person.id
            )
            edited = await repo.get(person.id)
            if edited.awaits_decision and person.decided:
                await self._ask_heads_to_confirm(conn, edited, change, again=True)
            return edited, True

    async def claimable(self, telegram_id: int) -> Person | None:
        """The roster record the phone of one's self-declared profile belongs to, if it is
        the only one and free: the cadre declared themselves, yet the office has them."""
        async with self.db.read() as conn:
            repo = PeopleRepository(conn)
            own = await repo.own(telegram_id)
            if own.from_roster or own.phone is None or not is_vietnamese(own.phone):
                return None
            found = [p for p in await repo.by_phone(own.phone) if p.from_roster]
        if len(found) != 1 or found[0].telegram_id is not None:
            return None
        return found[0]

    async def claim(self, telegram_id: int, roster_id: int) -> Person:
        """Moves the cadre to their roster record: the self-declared profile merges into it
        (link, consents, history), as an administrator's merge would. The phone proves it:
        it came from the cadre's own contact, which Telegram vouches for."""
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            own_id = (await repo.own(telegram_id)).id
            first, second = sorted((own_id, roster_id))  # the lock order of every merge
            locked = {first: await repo.lock(first), second: await repo.lock(second)}
            own, record = locked[own_id], locked[roster_id]
            if (
                own.telegram_id != telegram_id
                or own.phone is None
                or record.phone != own.phone
                or not record.from_roster
                or record.telegram_id is not None
            ):
                raise Conflict("error.claim_gone")
            _check_merge(own, record)
            await repo.merge_into(own, record)
            await AuditRepository(conn).record(
                AuditAction.PROFILE_MERGED, actor=telegram_id, person_id=record.id,
                merged=own.id, merged_name=own.full_name,
            )  # fmt: skip
            return await repo.get(record.id)

    async def export(self, telegram_id: int) -> PersonalData:
        """Everything kept about the person, including the audit entries of what they did
        from this account and the messages the bot sent them."""
        async with self.db.read() as conn:
            person = await PeopleRepository(conn).own(telegram_id)
            if person.typed_link:  # a stranger may have typed the record's number
                raise PermissionDenied("profile.awaits_head")
            audit = await AuditRepository(conn).of_person(person.id, telegram_id)
            unit_ids = [u for e in audit if isinstance(u := e.details.get("unit_id"), int)]
            return PersonalData(
                person=person,
                consents=await PeopleRepository(conn).consents_of(person.id),
                roles=await RoleRepository(conn).grants_of(person.id),
                audit=audit,
                messages=await OutboxRepository(conn).of_person(person.id),
                unit_labels=await UnitRepository(conn).labels(unit_ids),
                attendance=await AttendanceRepository(conn).of_person(person.id),
                leave=await LeaveRepository(conn).of_person(person.id),
                results=await ResultRepository(conn).of_person(person.id),
            )

    async def withdraw_consent(self, telegram_id: int) -> None:
        """Erases the Telegram link, the phone the person gave and, on a self-declared
        profile, the ethnicity they declared; the office's roster data and training records
        stay (and the audit log, as the notice says). Roles are revoked: a phone number
        given up and reissued must not bring someone else into them. Pending messages to
        them are cancelled."""
        async with self._change() as conn:
            repo, roles, audit = PeopleRepository(conn), RoleRepository(conn), AuditRepository(conn)
            person = await repo.lock_own(telegram_id)
            await repo.unlink(person.id, keep_phone=person.from_roster)
            if not person.from_roster:
                await repo.erase_ethnicity(person.id)
            await repo.withdraw_consents(person.id, self.clock.now())
            await OutboxRepository(conn).cancel_for_person(person.id)
            await ReminderRepository(conn).drop_held(person.id)
            await audit.record(AuditAction.CONSENT_WITHDRAWN, actor=None, person_id=person.id)
            for held in await roles.grants_of(person.id):
                await roles.revoke(person.id, held.role)
                await audit.record(
                    AuditAction.ROLE_REVOKED, actor=None, person_id=person.id,
                    role=held.role.value, unit_id=held.unit.id if held.unit else None,
                )  # fmt: skip
        if person.language:  # the record forgets it; the goodbye is still in their language
            self._remember_language(telegram_id, person.language)

    # --- staff --------------------------------------------------------------------------------

    async def pending(self, actor: Actor, page: int = 0) -> Page:
        """Profiles awaiting confirmation in the actor's units (self-declared, or roster
        records linked by a phone number typed on Zalo), a page of them."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            return await PeopleRepository(conn).unverified(scope, _page_number(page))

    async def search(
        self, actor: Actor, query: str, *, unit_id: int | None = None, page: int = 0
    ) -> Page:
        """People whose name matches, in the actor's reach; narrowed to a unit (and the
        units under it) if given. A page of them, with how many there are in all."""
        scope = staff_scope(actor)
        query = plain_text(query)[:QUERY_MAX]
        if not query.strip():
            raise InvalidInput("admin.people_usage")
        # What the paging buttons carry is what is searched, so page 2 continues page 1.
        key = search_key(query)
        if len(key) < 2:  # "l", or only signs and symbols: nothing to look for
            raise InvalidInput("error.query_short")
        scopes = [scope] if unit_id is None else [scope, UnitScope((unit_id,))]
        async with self.db.read() as conn:
            return await PeopleRepository(conn).search(
                search_words(key), scopes, _page_number(page)
            )

    async def person_for(self, actor: Actor, person_id: int) -> Person:
        """A person the actor may see: administrators anyone, unit heads their units."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            return await PeopleRepository(conn).get(person_id, scope)

    async def _in_scope(self, person_id: int, scope: UnitScope) -> None:
        """Raises NotFound for a profile outside the actor's units before any write
        transaction: a forged button probing ids takes no write lock."""
        async with self.db.read() as conn:
            await PeopleRepository(conn).get(person_id, scope)

    async def returnable(self, actor: Actor, person_id: int) -> Person:
        """A profile the actor may still return: asked before the reason and the note, so
        that nobody writes a note for a profile someone else has decided on meanwhile."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            person = await PeopleRepository(conn).get(person_id, scope)
            if person.from_roster:
                raise InvalidInput("error.reject_not_pending")
            if actor.person is not None and actor.person.id == person.id:
                raise PermissionDenied("error.verify_self")
            if not person.awaits_decision:
                await _decided_already(conn, actor, person, AuditAction.PROFILE_REJECTED)
            return person

    async def verify(self, actor: Actor, person_id: int) -> Person:
        """Confirms a profile awaiting confirmation. Two deciders at once are served one
        after the other (the row is locked), and the second is told who decided first."""
        scope = staff_scope(actor)  # before any look-up: nothing is learnt without the right
        await self._in_scope(person_id, scope)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await _reviewable(conn, actor, person_id, scope)
            if not person.awaits_decision:
                await _decided_already(conn, actor, person, AuditAction.PROFILE_VERIFIED)
                return person
            by = actor.person.id if actor.person else None
            await repo.set_verified(person_id, by=by, at=self.clock.now())
            change = await AuditRepository(conn).record(
                AuditAction.PROFILE_VERIFIED, actor=actor.telegram_id, person_id=person_id
            )
            verified = await repo.get(person_id)  # a typed link is now its cadre's: told
            await tell(
                conn, verified, MessageKind.PROFILE_VERIFIED, change, "notice.profile_verified"
            )
            if person.typed_link and verified.telegram_id is not None:  # held back till now
                await tell_untold(conn, person_id, verified.telegram_id, self.clock.now())
            return verified

    async def typed_link_to_refuse(self, actor: Actor, person_id: int) -> Person:
        """The record a head is about to unlink, to ask "are you sure?" first."""
        person = await self.person_for(actor, person_id)
        if not person.typed_link:
            raise InvalidInput("error.not_pending")
        return person

    async def refuse_typed_link(self, actor: Actor, person_id: int) -> tuple[Person, int]:
        """A unit head says whoever typed this roster record's phone number on Zalo is not
        its cadre: the link and the consent given with it are undone (the record is the
        office's, confirmed again), whatever was still to be sent to the account is
        cancelled, and the account is told to contact the office. The record, and the
        account it was linked to (whose dialogue the caller ends)."""
        scope = staff_scope(actor)
        await self._in_scope(person_id, scope)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await _reviewable(conn, actor, person_id, scope)
            if not person.typed_link:  # confirmed meanwhile: who did, and when
                await _decided_already(conn, actor, person, AuditAction.TYPED_LINK_REFUSED)
                raise InvalidInput("error.not_pending")
            account = person.telegram_id
            assert account is not None
            await repo.unlink(person.id, keep_phone=True)
            await repo.withdraw_consents(person.id, self.clock.now())
            outbox = OutboxRepository(conn)
            await outbox.cancel_for_person(person.id)
            await outbox.cancel_for_chat(account)
            await ReminderRepository(conn).drop_held(person.id)
            await repo.set_verified(person.id, by=None, at=self.clock.now())
            change = await AuditRepository(conn).record(
                AuditAction.TYPED_LINK_REFUSED, actor=actor.telegram_id, person_id=person.id,
                account=account,
            )  # fmt: skip
            # To the account, not the record: what is sent about the record is its cadre's.
            await outbox.add(
                [
                    notice(
                        MessageKind.PROFILE_REJECTED,
                        f"typed-link-refused:{person.id}:{change}",
                        chat_id=account,
                        person_id=None,
                        text_key="notice.typed_link_refused",
                    )
                ]
            )
            return await repo.get(person.id), account

    async def reject(
        self,
        actor: Actor,
        person_id: int,
        reason: ReturnReason = ReturnReason.NOT_IN_UNIT,
        note: str | None = None,
    ) -> Person:
        """A unit head (or an administrator) sends a self-declared profile back, saying why.

        The cadre is told the reason, the note and what to do: choose their unit again
        (which asks that unit's heads), correct the profile (which asks again), or contact
        the office about their other record. Roster records, which the office itself keeps,
        cannot be returned.
        """
        scope = staff_scope(actor)
        note = clean_note(note) if note else None
        await self._in_scope(person_id, scope)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await _reviewable(conn, actor, person_id, scope)
            if person.from_roster:
                raise InvalidInput("error.reject_not_pending")
            if not person.awaits_decision:
                await _decided_already(conn, actor, person, AuditAction.PROFILE_REJECTED)
                return person
            assert person.unit is not None
            await repo.mark_returned(person_id, reason, note)
            change = await AuditRepository(conn).record(
                AuditAction.PROFILE_REJECTED, actor=actor.telegram_id, person_id=person_id,
                unit_id=person.unit.id, reason=reason.value,
            )  # fmt: skip
            next_step = {
                ReturnReason.NOT_IN_UNIT: ("fields.edit_unit", EditProfile(ProfileField.UNIT)),
                ReturnReason.WRONG_DETAILS: ("profile.open", ShowProfile()),
            }.get(reason)
            await tell(
                conn, person, MessageKind.PROFILE_REJECTED, change,
                f"notice.returned_{reason.value}",
                params={"unit": person.unit.label, "note": note_line(note)},
                buttons=[[next_step]] if next_step else [],
            )  # fmt: skip
            return await repo.get(person_id)

    async def possible_duplicates(self, actor: Actor, person_id: int) -> list[Person]:
        """Records that may be the same cadre as this one, in the actor's reach."""
        scope = staff_scope(actor)
        async with self.db.read() as conn:
            repo = PeopleRepository(conn)
            person = await repo.get(person_id, scope)
            return await repo.possible_duplicates(person, scope)

    async def merge_preview(self, actor: Actor, duplicate_id: int, keeper_id: int) -> Person:
        """The record a merge would keep, to ask "are you sure?" first."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            repo = PeopleRepository(conn)
            keeper = await repo.get(keeper_id)
            _check_merge(await repo.get(duplicate_id), keeper)
            return keeper

    async def merge(self, actor: Actor, duplicate_id: int, keeper_id: int) -> Person:
        """An administrator merges a self-declared profile into the record it duplicates:
        the Telegram link, consents, roles and history move over; the cadre is told."""
        require(actor, Role.ADMIN)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            first, second = sorted((duplicate_id, keeper_id))  # one lock order for all
            locked = {first: await repo.lock(first), second: await repo.lock(second)}
            duplicate, keeper = locked[duplicate_id], locked[keeper_id]
            _check_merge(duplicate, keeper)
            await repo.merge_into(duplicate, keeper)
            change = await AuditRepository(conn).record(
                AuditAction.PROFILE_MERGED, actor=actor.telegram_id, person_id=keeper.id,
                merged=duplicate.id, merged_name=duplicate.full_name,
            )  # fmt: skip
            merged = await repo.get(keeper.id)
            await tell(conn, merged, MessageKind.PROFILE_MERGED, change, "notice.profile_merged")
            if merged.telegram_id is not None:  # the roster record's first link: as on contact
                await tell_untold(conn, merged.id, merged.telegram_id, self.clock.now())
            return merged

    async def source_pool_change(self, actor: Actor, person_id: int) -> Person:
        """The person a source-pool change is about, to ask "are you sure?" first."""
        require(actor, Role.ADMIN)
        async with self.db.read() as conn:
            return await PeopleRepository(conn).get(person_id)

    async def set_source_pool(self, actor: Actor, person_id: int, member: bool) -> Person:
        """The leadership source pool ("cán bộ nguồn") is an administrator's decision alone;
        the person is told."""
        require(actor, Role.ADMIN)
        async with self._change() as conn:
            repo = PeopleRepository(conn)
            person = await repo.lock(person_id)
            if person.source_pool == member:
                return person  # a double tap
            await repo.set_source_pool(person_id, member)
            change = await AuditRepository(conn).record(
                AuditAction.SOURCE_POOL_SET, actor=actor.telegram_id, person_id=person_id,
                flag=member,
            )  # fmt: skip
            told = "notice.source_pool_on" if member else "notice.source_pool_off"
            await tell(conn, person, MessageKind.SOURCE_POOL_CHANGED, change, told)
            return await repo.get(person_id)


def _check_merge(duplicate: Person, keeper: Person) -> None:
    """Only a self-declared profile is merged away (the roster is the office's), and two
    Telegram accounts cannot become one."""
    if duplicate.id == keeper.id or duplicate.from_roster:
        raise InvalidInput("error.merge_not_allowed")
    if duplicate.telegram_id is not None and keeper.telegram_id is not None:
        raise Conflict("error.merge_two_accounts")


def _page_number(page: int) -> int:
    """A page asked for by a button (which can be forged): within reason."""
    if not 0 <= page <= PAGE_MAX:
        raise InvalidInput()
    return page


def _as_id(raw: str | int | None) -> int:
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise InvalidInput()
    return int(text)


async def _reviewable(
    conn: AsyncConnection, actor: Actor, person_id: int, scope: UnitScope
) -> Person:
    """A profile the actor may confirm or return: in their units, and not their own; its
    row stays locked until the decision commits."""
    repo = PeopleRepository(conn)
    await repo.lock(person_id)
    person = await repo.get(person_id, scope)
    if actor.person is not None and actor.person.id == person.id:
        raise PermissionDenied("error.verify_self")
    return person


async def _decided_already(
    conn: AsyncConnection, actor: Actor, person: Person, wanted: AuditAction
) -> None:
    """The profile is no longer awaiting a decision. The same decision by the same person
    (a double tap) is not an error; anything else says who decided, and when."""
    decisions = (AuditAction.PROFILE_VERIFIED, AuditAction.PROFILE_REJECTED)
    last = await AuditRepository(conn).last_of(person.id, decisions)
    if last is None:
        raise InvalidInput("error.not_pending")
    if last.action == wanted and last.actor_telegram_id == actor.telegram_id:
        return
    decider = (
        await PeopleRepository(conn).by_telegram(last.actor_telegram_id)
        if last.actor_telegram_id is not None
        else None
    )
    key = (
        "error.already_verified"
        if last.action == AuditAction.PROFILE_VERIFIED
        else "error.already_returned"
    )
    raise Conflict(key, who=decider.full_name if decider else "—", at=last.at)

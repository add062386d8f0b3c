"""People: the roster and self-declared profiles, their Telegram links and consents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import (
    CodeItem,
    Consent,
    Employment,
    Gender,
    NewPerson,
    OtherTitle,
    Page,
    Person,
    PersonSource,
    ProfileField,
    ReturnReason,
    Role,
    RoleGrant,
    UnitRef,
    UnitScope,
)
from bot.errors import NotFound
from bot.text_search import fold
from bot.training import MAJORITY_ETHNICITY, YOUNG_UNDER, PriorityGroup
from storage.batches import chunks
from storage.repositories.units import in_scope
from storage.schema import (
    attendance,
    attendance_warnings,
    audit_log,
    classes,
    completions,
    consents,
    enrolments,
    ethnicities,
    grades,
    held_messages,
    leave_requests,
    outbox,
    people,
    professional_titles,
    reminder_log,
    reminder_mutes,
    reminder_settings,
    results,
    roles,
    session_attendance,
    titles,
    units,
)
from storage.types import utcnow

_unit = units.alias("u")
_unit_parent = units.alias("up")
_title = titles.alias("t")
_grade = grades.alias("g")
_professional = professional_titles.alias("pt")
_eth = ethnicities.alias("e")

_PERSON_SELECT = sa.select(
    people,
    _unit.c.code.label("unit_code"),
    _unit.c.name.label("unit_name"),
    sa.case((_unit_parent.c.parent_id.is_(None), None), else_=_unit_parent.c.name).label(
        "unit_parent_name"
    ),
    _title.c.code.label("title_code"),
    _title.c.name.label("title_name"),
    _grade.c.code.label("grade_code"),
    _grade.c.name.label("grade_name"),
    _professional.c.code.label("professional_code"),
    _professional.c.name.label("professional_name"),
    _eth.c.code.label("eth_code"),
    _eth.c.name.label("eth_name"),
).select_from(
    people.outerjoin(_unit, _unit.c.id == people.c.unit_id)
    .outerjoin(_unit_parent, _unit_parent.c.id == _unit.c.parent_id)
    .outerjoin(_title, _title.c.id == people.c.title_id)
    .outerjoin(_grade, _grade.c.id == people.c.grade_id)
    .outerjoin(_professional, _professional.c.id == people.c.professional_title_id)
    .outerjoin(_eth, _eth.c.id == people.c.ethnicity_id)
)


_role_unit = units.alias("ru")

#: A person with their role grants, one row per grant: the actor of an update in one query.
_ACTOR_SELECT = (
    _PERSON_SELECT.add_columns(
        roles.c.role.label("grant_role"),
        _role_unit.c.id.label("grant_unit_id"),
        _role_unit.c.code.label("grant_unit_code"),
        _role_unit.c.name.label("grant_unit_name"),
    )
    .outerjoin(roles, roles.c.person_id == people.c.id)
    .outerjoin(_role_unit, _role_unit.c.id == roles.c.unit_id)
    .where(people.c.telegram_id == sa.bindparam("telegram_id"))
    .order_by(roles.c.id)
)

#: The column behind each field a cadre may edit.
_FIELD_COLUMNS = {
    ProfileField.FULL_NAME: "full_name",
    ProfileField.UNIT: "unit_id",
    ProfileField.TITLE: "title_id",
    ProfileField.GENDER: "gender",
    ProfileField.BIRTH_YEAR: "birth_year",
    ProfileField.ETHNICITY: "ethnicity_id",
}

#: Linked, consenting and confirmed: who may be sent announcements. Unconfirmed
#: self-declared profiles are left out, since anyone can claim any unit.
_REACHABLE = sa.and_(
    people.c.telegram_id.is_not(None),
    people.c.consent_at.is_not(None),
    people.c.verified.is_(True),
)


def _reachable(
    scope: UnitScope, but: int | None, among: sa.ColumnElement[bool] | None = None
) -> list[sa.ColumnElement[bool]]:
    conditions = [_REACHABLE, in_scope(people.c.unit_id, scope)]
    if but is not None:
        conditions.append(people.c.id != but)
    if among is not None:
        conditions.append(among)
    return conditions


def group_condition(
    group: PriorityGroup, year: int, young_under: int = YOUNG_UNDER
) -> sa.ColumnElement[bool]:
    """A condition: the person belongs to the priority group in `year`, by the rule of
    bot.training.priority_groups, in SQL (announcements, reports)."""
    match group:
        case PriorityGroup.YOUNG:  # an unknown birth year is not young
            return people.c.birth_year > year - young_under
        case PriorityGroup.WOMEN:
            return people.c.gender == Gender.FEMALE.value
        case PriorityGroup.MINORITY:
            minority = sa.select(ethnicities.c.id).where(ethnicities.c.code != MAJORITY_ETHNICITY)
            return people.c.ethnicity_id.in_(minority)
        case PriorityGroup.SOURCE_POOL:
            return people.c.source_pool.is_(True)


def _item(row: Any, key: str, prefix: str) -> CodeItem | None:
    ident = getattr(row, key)
    if ident is None:
        return None
    return CodeItem(ident, getattr(row, f"{prefix}_code"), getattr(row, f"{prefix}_name"))


def _person(row: Any) -> Person:
    return Person(
        id=row.id,
        full_name=row.full_name,
        source=PersonSource(row.source),
        verified=row.verified,
        source_pool=row.source_pool,
        unit=(
            UnitRef(row.unit_id, row.unit_code, row.unit_name, row.unit_parent_name)
            if row.unit_id is not None
            else None
        ),
        title=_item(row, "title_id", "title"),
        grade=_item(row, "grade_id", "grade"),
        ethnicity=_item(row, "ethnicity_id", "eth"),
        gender=Gender(row.gender) if row.gender else None,
        birth_year=row.birth_year,
        phone=row.phone,
        telegram_id=row.telegram_id,
        language=row.language,
        consent_at=row.consent_at,
        title_other=row.title_other,
        returned_reason=ReturnReason(row.returned_reason) if row.returned_reason else None,
        returned_note=row.returned_note,
        employment=Employment(row.employment) if row.employment else None,
        professional_title=_item(row, "professional_title_id", "professional"),
        professional_rank=row.professional_rank,
    )


def _row(person: NewPerson, now: datetime) -> dict[str, Any]:
    return {
        "full_name": person.full_name,
        "name_search": fold(person.full_name),
        "unit_id": person.unit_id,
        "title_id": person.title_id,
        "title_other": person.title_other,
        "employment": person.employment.value if person.employment else None,
        "professional_title_id": person.professional_title_id,
        "professional_rank": person.professional_rank,
        "grade_id": person.grade_id,
        "gender": person.gender.value if person.gender else None,
        "birth_year": person.birth_year,
        "ethnicity_id": person.ethnicity_id,
        "phone": person.phone,
        "telegram_id": person.telegram_id,
        "source": person.source.value,
        "verified": person.verified,
        "verified_by": None,
        "verified_at": now if person.verified else None,
        "source_pool": person.source_pool,
        "language": person.language,
        "consent_at": person.consent_at,
        "created_at": now,
        "updated_at": now,
    }


class PeopleRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- reading ------------------------------------------------------------------------------

    async def _one(self, where: sa.ColumnElement[bool]) -> Person | None:
        row = (await self.conn.execute(_PERSON_SELECT.where(where))).first()
        return _person(row) if row else None

    async def get(self, person_id: int, scope: UnitScope | None = None) -> Person:
        """The person, if they exist and (given a scope) belong to it; else NotFound.

        Unknown and out of scope look the same: nothing leaks about other units.
        """
        where = people.c.id == person_id
        if scope is not None:
            where = sa.and_(where, in_scope(people.c.unit_id, scope))
        person = await self._one(where)
        if person is None:
            raise NotFound()
        return person

    async def many(self, person_ids: Sequence[int]) -> dict[int, Person]:
        """The people of these ids (those that exist), read a chunk at a time, not one by one."""
        found: dict[int, Person] = {}
        for part in chunks(person_ids):
            rows = await self.conn.execute(_PERSON_SELECT.where(people.c.id.in_(part)))
            found.update((person.id, person) for person in map(_person, rows))
        return found

    async def by_telegram(self, telegram_id: int) -> Person | None:
        return await self._one(people.c.telegram_id == telegram_id)

    async def own(self, telegram_id: int) -> Person:
        """The profile linked to this account; NotFound for someone not registered."""
        person = await self.by_telegram(telegram_id)
        if person is None:
            raise NotFound("profile.none")
        return person

    async def lock(self, person_id: int) -> Person:
        """Reads the person and, on PostgreSQL, locks the row until the transaction ends, so
        two concurrent changes to their roles run one after the other (SQLite's write
        transactions are serial already)."""
        await self.conn.execute(
            sa.select(people.c.id).where(people.c.id == person_id).with_for_update()
        )
        return await self.get(person_id)

    async def lock_own(self, telegram_id: int) -> Person:
        """The profile linked to this account, locked like `lock`: a change a person makes
        to their own profile decides from the row as it is, not as it was a moment ago."""
        found = await self.conn.execute(
            sa.select(people.c.id).where(people.c.telegram_id == telegram_id).with_for_update()
        )
        person_id = found.scalar_one_or_none()
        if person_id is None:
            raise NotFound("profile.none")
        return await self.get(person_id)

    async def with_grants(self, telegram_id: int) -> tuple[Person | None, tuple[RoleGrant, ...]]:
        """The person linked to this Telegram account and their roles, in one statement."""
        rows = (await self.conn.execute(_ACTOR_SELECT, {"telegram_id": telegram_id})).all()
        if not rows:
            return None, ()
        grants = tuple(
            RoleGrant(
                Role(r.grant_role),
                UnitRef(r.grant_unit_id, r.grant_unit_code, r.grant_unit_name)
                if r.grant_unit_id
                else None,
            )
            for r in rows
            if r.grant_role
        )
        return _person(rows[0]), grants

    async def by_phone(self, phone: str) -> list[Person]:
        rows = await self.conn.execute(_PERSON_SELECT.where(people.c.phone == phone).limit(5))
        return [_person(r) for r in rows]

    async def search(
        self, query: str, scopes: Sequence[UnitScope], page: int = 0, size: int = 10
    ) -> Page:
        """People whose name contains `query` (typed with or without diacritics), in every
        one of `scopes` (the actor's reach, and a unit they narrowed it to)."""
        return await self._page(
            [
                people.c.name_search.contains(fold(query), autoescape=True),
                *(in_scope(people.c.unit_id, scope) for scope in scopes),
            ],
            people.c.name_search,
            page,
            size,
        )

    async def unverified(self, scope: UnitScope, page: int = 0, size: int = 10) -> Page:
        """Self-declared profiles awaiting confirmation, oldest first."""
        where = [
            people.c.verified.is_(False),
            people.c.telegram_id.is_not(None),
            people.c.returned_reason.is_(None),  # those wait for their cadre, not a head
            in_scope(people.c.unit_id, scope),
        ]
        return await self._page(where, people.c.created_at, page, size)

    async def _page(
        self,
        where: list[sa.ColumnElement[bool]],
        order: sa.ColumnElement[Any],
        page: int,
        size: int,
    ) -> Page:
        total = (
            await self.conn.execute(sa.select(sa.func.count()).select_from(people).where(*where))
        ).scalar_one()
        rows = await self.conn.execute(
            _PERSON_SELECT.where(*where)
            .order_by(order, people.c.id)
            .offset(page * size)
            .limit(size)
        )
        return Page([_person(r) for r in rows], int(total), page, size)

    async def possible_duplicates(
        self, person: Person, scope: UnitScope, limit: int = 5
    ) -> list[Person]:
        """Other records in the scope that may be the same cadre: same name and birth year,
        same name in the same unit (a birth year mistyped, on either side), or same phone
        (a self-declared profile of someone on the roster, or who came back)."""
        name = people.c.name_search == fold(person.full_name)
        same = [sa.and_(name, people.c.birth_year == person.birth_year)]
        if person.unit is not None:
            same.append(sa.and_(name, people.c.unit_id == person.unit.id))
        if person.phone:
            same.append(people.c.phone == person.phone)
        rows = await self.conn.execute(
            _PERSON_SELECT.where(
                people.c.id != person.id, sa.or_(*same), in_scope(people.c.unit_id, scope)
            )
            .order_by(people.c.source, people.c.id)
            .limit(limit)
        )
        return [_person(r) for r in rows]

    async def withdrawn_declarations(
        self, full_name: str, birth_year: int | None, unit_id: int | None
    ) -> list[Person]:
        """Self-declared profiles whose cadre withdrew, with this name and birth year in this
        unit: the earlier profile of someone declaring themselves again."""
        rows = await self.conn.execute(
            _PERSON_SELECT.where(
                people.c.source == PersonSource.SELF.value,
                people.c.telegram_id.is_(None),
                people.c.name_search == fold(full_name),
                people.c.birth_year == birth_year,
                people.c.unit_id == unit_id,
            ).limit(2)
        )
        return [_person(r) for r in rows]

    async def count_reachable(
        self,
        scope: UnitScope,
        but: int | None = None,
        among: sa.ColumnElement[bool] | None = None,
    ) -> int:
        result = await self.conn.execute(
            sa.select(sa.func.count()).select_from(people).where(*_reachable(scope, but, among))
        )
        return int(result.scalar_one())

    async def reachable(
        self,
        scope: UnitScope,
        but: int | None = None,
        among: sa.ColumnElement[bool] | None = None,
    ) -> list[tuple[int, int]]:
        """(person id, Telegram id) of everyone who may be sent announcements in the scope
        (and `among` those matching a condition), but one person (the sender)."""
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id)
            .where(*_reachable(scope, but, among))
            .order_by(people.c.id)
        )
        return [(r.id, r.telegram_id) for r in rows]

    async def linked_ids(self) -> list[tuple[int, int]]:
        """(person id, Telegram id) of everyone linked to an account."""
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id).where(people.c.telegram_id.is_not(None))
        )
        return [(r.id, r.telegram_id) for r in rows]

    async def linked_among(self, telegram_ids: Iterable[int]) -> dict[int, str | None]:
        """Telegram id → language of those of these accounts linked to a profile."""
        ids = list(telegram_ids)
        if not ids:
            return {}
        rows = await self.conn.execute(
            sa.select(people.c.telegram_id, people.c.language).where(people.c.telegram_id.in_(ids))
        )
        return {r.telegram_id: r.language for r in rows}

    async def ids_by_phone(self, phones: Sequence[str], chunk: int = 1_000) -> dict[str, int]:
        """Phone → person id for many people at once (the demo's enrolments), in chunks
        that stay under every driver's limit on bound parameters."""
        found: dict[str, int] = {}
        for start in range(0, len(phones), chunk):
            rows = await self.conn.execute(
                sa.select(people.c.phone, people.c.id).where(
                    people.c.phone.in_(phones[start : start + chunk])
                )
            )
            found |= {r.phone: r.id for r in rows}
        return found

    async def any(self) -> bool:
        return (await self.conn.execute(sa.select(people.c.id).limit(1))).first() is not None

    # --- writing ------------------------------------------------------------------------------

    async def add(self, person: NewPerson) -> Person:
        result = await self.conn.execute(
            people.insert().values(_row(person, utcnow())).returning(people.c.id)
        )
        return await self.get(int(result.scalar_one()))

    async def add_many(self, new_people: Sequence[NewPerson], chunk: int = 1_000) -> None:
        """Bulk insert (a roster import, the demo province), in the caller's transaction."""
        now = utcnow()
        for start in range(0, len(new_people), chunk):
            part = new_people[start : start + chunk]
            await self.conn.execute(people.insert(), [_row(p, now) for p in part])

    async def _update(self, person_id: int, **values: Any) -> None:
        await self.conn.execute(
            people.update().where(people.c.id == person_id).values(**values, updated_at=utcnow())
        )

    async def set_field(self, person_id: int, field: ProfileField, value: Any) -> None:
        """One field of a profile; a new name gets its search form too, and a position is
        one from the list or one typed, never both."""
        if field is ProfileField.TITLE:
            typed = value.text if isinstance(value, OtherTitle) else None
            listed = value if isinstance(value, int) else None
            await self._update(person_id, title_id=listed, title_other=typed)
            return
        stored = value.value if isinstance(value, Gender) else value
        values: dict[str, Any] = {_FIELD_COLUMNS[field]: stored}
        if field is ProfileField.FULL_NAME:
            values["name_search"] = fold(value)
        await self._update(person_id, **values)

    async def set_phone(self, person_id: int, phone: str) -> None:
        await self._update(person_id, phone=phone)

    async def set_language(self, person_id: int, language: str) -> None:
        await self._update(person_id, language=language)

    async def set_verified(self, person_id: int, by: int | None, at: datetime | None) -> None:
        """Confirmed by `by` at `at`; with `at` None, back to awaiting confirmation."""
        await self._update(person_id, verified=at is not None, verified_by=by, verified_at=at)

    async def mark_returned(self, person_id: int, reason: ReturnReason, note: str | None) -> None:
        """Sent back to the cadre; not in this unit means no unit until they choose one."""
        values: dict[str, Any] = {"returned_reason": reason.value, "returned_note": note}
        if reason is ReturnReason.NOT_IN_UNIT:
            values["unit_id"] = None
        await self._update(person_id, **values)

    async def clear_returned(self, person_id: int) -> None:
        await self._update(person_id, returned_reason=None, returned_note=None)

    async def set_source_pool(self, person_id: int, member: bool) -> None:
        await self._update(person_id, source_pool=member)

    async def link_telegram(
        self,
        person_id: int,
        telegram_id: int,
        language: str,
        consent_at: datetime,
        *,
        verified: bool = True,
    ) -> bool:
        """Links only if the record is still free: two accounts racing can't both win.
        A roster record linked by a number nobody proved (typed on Zalo) waits for its unit
        heads' confirmation; one linked by a shared contact is the office's, confirmed."""
        now = utcnow()
        confirmation: dict[str, Any] = (
            {"verified": True, "verified_at": sa.func.coalesce(people.c.verified_at, now)}
            if verified
            else {"verified": False, "verified_by": None, "verified_at": None}
        )
        result = await self.conn.execute(
            people.update()
            .where(people.c.id == person_id, people.c.telegram_id.is_(None))
            .values(telegram_id=telegram_id, language=language, consent_at=consent_at,
                    updated_at=now, **confirmation)
        )  # fmt: skip
        return result.rowcount == 1

    async def redeclare(self, person_id: int, person: NewPerson) -> bool:
        """A withdrawn self-declared profile takes the new declaration and account, and
        awaits confirmation again; only while it is still free (two accounts racing)."""
        values = _row(person, utcnow())
        del values["created_at"], values["source"]
        result = await self.conn.execute(
            people.update()
            .where(people.c.id == person_id, people.c.telegram_id.is_(None))
            .values(**values, returned_reason=None, returned_note=None)
        )
        return result.rowcount == 1

    async def unlink(self, person_id: int, *, keep_phone: bool) -> None:
        """Withdrawal of consent: the Telegram link and the consent are erased, and the phone
        unless it is the office's (a roster record's): then a cadre who comes back is
        recognised by it."""
        erased: dict[str, Any] = {"telegram_id": None, "consent_at": None, "language": None}
        if not keep_phone:
            erased["phone"] = None
        await self._update(person_id, **erased)

    async def erase_ethnicity(self, person_id: int) -> None:
        """Sensitive data a cadre declared themselves goes with their consent."""
        await self._update(person_id, ethnicity_id=None)

    async def merge_into(self, duplicate: Person, keeper: Person) -> None:
        """Everything of `duplicate` moves to `keeper` (its Telegram link, if the keeper has
        none; consents, roles, messages, the audit trail), then the duplicate goes."""
        if keeper.telegram_id is None and duplicate.telegram_id is not None:
            await self._update(duplicate.id, telegram_id=None)  # unique: free it first
            await self._update(
                keeper.id, telegram_id=duplicate.telegram_id, language=duplicate.language,
                consent_at=duplicate.consent_at,
            )  # fmt: skip
        if keeper.phone is None and duplicate.phone is not None:
            await self._update(keeper.id, phone=duplicate.phone)
        held = {
            (r.role, r.unit_id)
            for r in await self.conn.execute(
                sa.select(roles.c.role, roles.c.unit_id).where(roles.c.person_id == keeper.id)
            )
        }
        for grant in (
            await self.conn.execute(
                sa.select(roles.c.id, roles.c.role, roles.c.unit_id).where(
                    roles.c.person_id == duplicate.id
                )
            )
        ).all():
            if (grant.role, grant.unit_id) in held:
                await self.conn.execute(roles.delete().where(roles.c.id == grant.id))
            else:
                await self.conn.execute(
                    roles.update().where(roles.c.id == grant.id).values(person_id=keeper.id)
                )
        for table in (consents, outbox, audit_log, held_messages):
            await self.conn.execute(
                table.update().where(table.c.person_id == duplicate.id).values(person_id=keeper.id)
            )
        await self._merge_training(duplicate.id, keeper.id)
        await self.conn.execute(
            people.update()
            .where(people.c.verified_by == duplicate.id)
            .values(verified_by=keeper.id)
        )
        await self.conn.execute(people.delete().where(people.c.id == duplicate.id))

    async def _move(
        self, table: sa.Table, duplicate: int, keeper: int, key: tuple[str, ...]
    ) -> None:
        """The duplicate's rows of `table` go to the keeper, but for those whose `key` the
        keeper has a row of already: the keeper's own wins."""
        if key:
            theirs = table.alias("theirs")
            keepers = (
                sa.exists()
                .where(theirs.c.person_id == keeper, *(theirs.c[k] == table.c[k] for k in key))
                .correlate(table)
            )
            await self.conn.execute(table.delete().where(table.c.person_id == duplicate, keepers))
        await self.conn.execute(
            table.update().where(table.c.person_id == duplicate).values(person_id=keeper)
        )

    async def _merge_training(self, duplicate: int, keeper: int) -> None:
        """The duplicate's enrolments, reminder settings, attendance, leave requests, results
        and completions go to the keeper, except where the keeper has their own: a class they
        are both in keeps the keeper's place (a seat the duplicate held is freed), and the
        keeper's settings and marks win."""
        kept = sa.select(enrolments.c.class_id).where(enrolments.c.person_id == keeper)
        both = enrolments.c.class_id.in_(kept)
        seats = await self.conn.execute(
            sa.select(enrolments.c.class_id).where(
                enrolments.c.person_id == duplicate, both, enrolments.c.status == "enrolled"
            )
        )
        for class_id in seats.scalars().all():
            await self.conn.execute(
                classes.update()
                .where(classes.c.id == class_id)
                .values(enrolled_count=classes.c.enrolled_count - 1)
            )
        await self.conn.execute(
            enrolments.delete().where(enrolments.c.person_id == duplicate, both)
        )
        await self.conn.execute(
            enrolments.update().where(enrolments.c.person_id == duplicate).values(person_id=keeper)
        )
        for table, key in (
            (reminder_log, ("session_id", "lead", "starts_at")),
            (reminder_mutes, ("class_id",)),
            (attendance, ("session_id",)),
            (leave_requests, ("session_id",)),
            (attendance_warnings, ("class_id", "level")),
            (results, ("class_id",)),
            (completions, ()),
        ):
            await self._move(table, duplicate, keeper, key)
        for table, column in (
            (attendance, "marked_by"),
            (leave_requests, "decided_by"),
            (session_attendance, "opened_by"),
            (session_attendance, "saved_by"),
        ):
            await self.conn.execute(
                table.update().where(table.c[column] == duplicate).values({column: keeper})
            )
        has_own = sa.exists().where(reminder_settings.c.person_id == keeper)
        if (await self.conn.execute(sa.select(has_own))).scalar():
            await self.conn.execute(
                reminder_settings.delete().where(reminder_settings.c.person_id == duplicate)
            )
        else:
            await self.conn.execute(
                reminder_settings.update()
                .where(reminder_settings.c.person_id == duplicate)
                .values(person_id=keeper)
            )

    # --- consents -----------------------------------------------------------------------------

    async def add_consent(self, person_id: int, version: str, given_at: datetime) -> None:
        await self.conn.execute(
            consents.insert().values(person_id=person_id, notice_version=version, given_at=given_at)
        )

    async def add_consents(self, person_ids: Sequence[int], version: str, at: datetime) -> None:
        if person_ids:
            await self.conn.execute(
                consents.insert(),
                [{"person_id": p, "notice_version": version, "given_at": at} for p in person_ids],
            )

    async def withdraw_consents(self, person_id: int, at: datetime) -> None:
        await self.conn.execute(
            consents.update()
            .where(consents.c.person_id == person_id, consents.c.withdrawn_at.is_(None))
            .values(withdrawn_at=at)
        )

    async def consents_of(self, person_id: int) -> list[Consent]:
        rows = await self.conn.execute(
            sa.select(consents.c.notice_version, consents.c.given_at, consents.c.withdrawn_at)
            .where(consents.c.person_id == person_id)
            .order_by(consents.c.id)
        )
        return [Consent(*r) for r in rows]

"""Plain data the services hand to adapters: no framework types, no SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    LEARNER = "learner"
    LECTURER = "lecturer"
    UNIT_HEAD = "unit_head"
    ADMIN = "admin"
    SUPERADMIN = "superadmin"


#: Roles that administrators can grant in the chat (super-administrators come from ADMIN_IDS).
GRANTABLE_ROLES = (Role.LECTURER, Role.UNIT_HEAD, Role.ADMIN)


class Gender(StrEnum):
    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True, slots=True)
class CodeItem:
    """An entry of a code list: unit, title, grade or ethnic group."""

    id: int
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    name: str
    parent_id: int | None
    kind: str


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    full_name: str
    source: str
    verified: bool
    source_pool: bool
    unit: CodeItem | None = None
    title: CodeItem | None = None
    grade: CodeItem | None = None
    ethnicity: CodeItem | None = None
    gender: Gender | None = None
    birth_year: int | None = None
    phone: str | None = None
    telegram_id: int | None = None
    language: str | None = None
    consent_at: datetime | None = None

    @property
    def from_roster(self) -> bool:
        return self.source == "roster"


@dataclass(frozen=True, slots=True)
class RoleGrant:
    role: Role
    unit: CodeItem | None = None


@dataclass(frozen=True, slots=True)
class Actor:
    """Whoever sent an update: their Telegram id, their profile if linked, and their roles."""

    telegram_id: int
    person: Person | None = None
    grants: tuple[RoleGrant, ...] = ()
    is_superadmin: bool = False

    @property
    def roles(self) -> frozenset[Role]:
        found = {g.role for g in self.grants}
        if self.is_superadmin:
            found |= {Role.SUPERADMIN, Role.ADMIN}
        return frozenset(found)

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def headed_unit_ids(self) -> tuple[int, ...]:
        return tuple(g.unit.id for g in self.grants if g.role is Role.UNIT_HEAD and g.unit)


@dataclass(frozen=True, slots=True)
class NewProfile:
    """What a cadre without a roster record declares about themselves."""

    full_name: str
    unit_id: int
    gender: Gender
    birth_year: int
    ethnicity_id: int
    title_id: int | None = None
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class PersonalData:
    """Everything stored about one person, for /mydata."""

    person: Person
    consents: list[dict[str, object]] = field(default_factory=list)
    roles: list[dict[str, object]] = field(default_factory=list)
    audit: list[dict[str, object]] = field(default_factory=list)

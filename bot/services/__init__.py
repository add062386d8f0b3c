"""Channel-agnostic business rules. Nothing here imports a messenger library."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.access import AccessService
from bot.services.directory import DirectoryService
from bot.services.people import PeopleService
from storage.database import Database


@dataclass(frozen=True, slots=True)
class Services:
    """Everything an adapter may call; built once per process."""

    db: Database
    people: PeopleService
    access: AccessService
    directory: DirectoryService

    @classmethod
    def build(cls, db: Database, *, superadmin_ids: frozenset[int]) -> Services:
        return cls(
            db=db,
            people=PeopleService(db),
            access=AccessService(db, superadmin_ids),
            directory=DirectoryService(db),
        )

"""Channel-agnostic business rules. Nothing here imports a messenger library."""

from __future__ import annotations

from dataclasses import dataclass

from bot.services.access import AccessService
from bot.services.delivery import DeliveryService
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
    delivery: DeliveryService

    @classmethod
    def build(cls, db: Database, *, superadmin_ids: frozenset[int]) -> Services:
        delivery = DeliveryService(db)
        access = AccessService(db, superadmin_ids)
        return cls(
            db=db,
            people=PeopleService(db, notify=delivery.wake, on_change=access.changed),
            access=access,
            directory=DirectoryService(db),
            delivery=delivery,
        )

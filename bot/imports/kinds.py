"""Every kind of import the bot offers, in the order they are offered: who is who first, then
the plan and what it is taught with, then the classes and their sessions, then the past."""

from __future__ import annotations

from datetime import date, tzinfo

from bot.clock import Clock
from bot.imports.classes import ClassImporter
from bot.imports.completions import CompletionImporter
from bot.imports.model import Importer, ImportKind
from bot.imports.plan import PlanImporter
from bot.imports.programmes import ProgrammeImporter
from bot.imports.roster import RosterImporter, UnitsImporter
from bot.imports.sessions import SessionImporter


def importers(clock: Clock, tz: tzinfo) -> dict[ImportKind, Importer]:
    """One importer per kind; those that judge dates ("not in the past") read `clock` in `tz`."""

    def today() -> date:
        return clock.now().astimezone(tz).date()

    return {
        ImportKind.UNITS: UnitsImporter(),
        ImportKind.ROSTER: RosterImporter(today),
        ImportKind.PLAN: PlanImporter(clock, tz),
        ImportKind.PROGRAMMES: ProgrammeImporter(),
        ImportKind.CLASSES: ClassImporter(clock, tz),
        ImportKind.SESSIONS: SessionImporter(clock, tz),
        ImportKind.COMPLETIONS: CompletionImporter(clock, tz),
    }

"""Every kind of import the bot offers, by kind, in the order they are offered."""

from __future__ import annotations

from bot.imports.model import Importer, ImportKind
from bot.imports.roster import RosterImporter, UnitsImporter

IMPORTERS: dict[ImportKind, Importer] = {
    ImportKind.UNITS: UnitsImporter(),
    ImportKind.ROSTER: RosterImporter(),
}

"""The sandbox's import files match the demo roster: the update file is clean (three new,
three changed, three as they are); the error file names its unknown unit and bad year."""

from __future__ import annotations

from pathlib import Path

from bot.clock import SystemClock
from bot.domain import Actor, Role, RoleGrant
from bot.i18n import DEFAULT_TIMEZONE
from bot.imports.kinds import importers
from bot.imports.model import ImportKind
from bot.services.imports import ImportService
from storage.database import Database
from tools.demo.seed import seed_demo
from tools.sandbox.import_files import write_import_files

ADMIN = Actor(7002, grants=(RoleGrant(Role.ADMIN),))


async def _quiet(done: int, total: int) -> None:
    assert done <= total


async def test_the_sandbox_files_fit_the_demo_roster(db: Database, tmp_path: Path) -> None:
    await seed_demo(db, people=300, seed=3)
    update, error = await write_import_files(db, tmp_path)
    service = ImportService(db, importers(SystemClock(), DEFAULT_TIMEZONE))
    report = await service.preview(ADMIN, ImportKind.ROSTER, update.read_bytes(), update.name,
                                   _quiet)  # fmt: skip
    (outcome,) = report.outcomes
    assert report.clean, outcome.errors
    assert (outcome.added, outcome.changed, outcome.unchanged) == (3, 3, 3)
    assert {c.column for c in outcome.changes} == {"phone", "title", "birth_year"}

    refused = await service.save(ADMIN, ImportKind.ROSTER, error.read_bytes(), error.name,
                                 _quiet)  # fmt: skip
    assert [(e.row, e.column) for e in refused.outcomes[0].errors] == [
        (6, "birth_year"), (9, "unit"),
    ]  # fmt: skip
    assert not refused.saved
    saved = await service.save(ADMIN, ImportKind.ROSTER, update.read_bytes(), update.name,
                               _quiet)  # fmt: skip
    assert saved.saved
    # Written again from the roster as saved, the update file now changes nothing.
    update, _ = await write_import_files(db, tmp_path)
    again = await service.preview(ADMIN, ImportKind.ROSTER, update.read_bytes(), update.name,
                                  _quiet)  # fmt: skip
    assert again.changes == 0

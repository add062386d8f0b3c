"""The sandbox's import files match the demo roster: the update file is clean (three new,
three changed, three as they are); the error file names its unknown unit and bad year."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.clock import FrozenClock, SystemClock
from bot.domain import Actor, Role, RoleGrant
from bot.i18n import DEFAULT_TIMEZONE
from bot.imports.kinds import importers
from bot.imports.model import ImportKind
from bot.services.imports import ImportService
from storage.database import Database
from tools.demo.import_files import write_import_files as write_training_files
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
        (6, "birth_year"), (8, "unit"), (9, "unit"), (10, "phone"),
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


async def test_the_demo_training_files_import_cleanly_and_the_faulty_one_says_why(
    db: Database, tmp_path: Path
) -> None:
    now = datetime(2026, 3, 10, 9, 0, tzinfo=DEFAULT_TIMEZONE)
    await seed_demo(db, people=300, seed=3, now=now)
    service = ImportService(db, importers(FrozenClock(now), DEFAULT_TIMEZONE))
    *files, faulty = write_training_files(tmp_path, now.date())
    kinds = [ImportKind.PLAN, ImportKind.PROGRAMMES, ImportKind.CLASSES, ImportKind.SESSIONS]
    for kind, path in zip(kinds, files, strict=True):
        report = await service.save(ADMIN, kind, path.read_bytes(), path.name, _quiet)
        assert report.clean and report.saved, (path.name, report.outcomes[0].errors)
    again = [
        await service.preview(ADMIN, kind, path.read_bytes(), path.name, _quiet)
        for kind, path in zip(kinds, files, strict=True)
    ]
    assert [report.changes for report in again] == [0, 0, 0, 0]
    refused = await service.preview(ADMIN, ImportKind.CLASSES, faulty.read_bytes(), faulty.name,
                                    _quiet)  # fmt: skip
    assert [(e.row, e.column) for e in refused.outcomes[0].errors] == [
        (2, "format"), (2, "capacity"), (3, "enrol_deadline"), (3, "programme"),
    ]  # fmt: skip

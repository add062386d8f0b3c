"""How the sandbox is configured: its settings, its folder, and what `--reset` removes."""

from __future__ import annotations

from pathlib import Path

from bot.config import Settings
from tools.sandbox import (
    SANDBOX_TOKEN,
    SandboxPaths,
    remove_database,
    reset_sandbox,
    sandbox_settings,
)


def test_settings_point_at_the_emulator_and_make_the_demo_admin_a_superadmin() -> None:
    operator = Settings(
        _env_file=None,
        admin_ids=frozenset({42}),
        timezone="Asia/Ho_Chi_Minh",
        default_language="en",
        database_url="postgresql+asyncpg://prod/bot",
    )
    db = Path("/tmp/x/data/sandbox.db")
    settings = sandbox_settings(
        operator, "http://127.0.0.1:1/bot", "http://127.0.0.1:1/file/bot", db
    )
    assert settings.token == SANDBOX_TOKEN
    assert settings.telegram_base_url == "http://127.0.0.1:1/bot"
    assert settings.admin_ids == frozenset({900001})
    assert settings.database_url == "sqlite+aiosqlite:////tmp/x/data/sandbox.db"
    assert settings.default_language == "en"  # the rest of the operator's choices stay


def test_everything_lives_under_one_folder(tmp_path: Path) -> None:
    paths = SandboxPaths(tmp_path)
    assert paths.db == tmp_path / "data" / "sandbox.db"
    assert paths.log.parent == paths.lock.parent == paths.clock.parent == tmp_path / "data"
    assert paths.files == tmp_path / "sandbox-files"


def test_reset_removes_the_database_and_its_journal_files(tmp_path: Path) -> None:
    db = tmp_path / "sandbox.db"
    for name in ("sandbox.db", "sandbox.db-wal", "sandbox.db-shm", "sandbox.log"):
        (tmp_path / name).write_text("x")
    remove_database(db)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sandbox.log"]
    remove_database(db)  # nothing left to remove is fine


def test_reset_also_sets_the_clock_back_to_the_real_time(tmp_path: Path) -> None:
    paths = SandboxPaths(tmp_path)
    paths.data.mkdir()
    for path in (paths.db, paths.clock, paths.log):
        path.write_text("x")
    reset_sandbox(paths)
    assert sorted(p.name for p in paths.data.iterdir()) == ["sandbox.log"]

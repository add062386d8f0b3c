"""When something breaks inside: a short apology, and nothing personal in the log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.logging_setup import configure_logging
from tests.e2e.conftest import running_bot
from tests.factories import add_person


@pytest.fixture
def production_logging() -> Iterator[None]:
    """The bot's own logging set-up (handlers, levels, redaction), undone afterwards."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    names = ("httpx", "httpcore", "telegram", "aiosqlite", "apscheduler", "alembic.runtime.plugins")
    levels = {name: logging.getLogger(name).level for name in names}
    yield
    root.handlers[:], root.level = saved
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
async def test_an_internal_failure_gets_an_apology_and_logs_no_personal_data(
    database_kind: str,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    production_logging: None,
) -> None:
    async with running_bot(database_kind, tmp_path) as h:
        configure_logging("DEBUG", h.emulator.token)
        await add_person(h.db, "Sầm Thị Nguyệt", unit_id=h.province.commune_id,
                         phone="+84912888777", telegram_id=9101)  # fmt: skip
        cadre = h.user(9101)
        async with h.db.write() as conn:  # the database loses a table under the bot's feet
            await conn.execute(sa.text("ALTER TABLE roles RENAME TO roles_gone"))
        await cadre.send("Tôi là Sầm Thị Nguyệt, số 0912888777")
        apology = await cadre.expect("Xin lỗi, hệ thống gặp sự cố")
        async with h.db.write() as conn:
            await conn.execute(sa.text("ALTER TABLE roles_gone RENAME TO roles"))
    log = capfd.readouterr().err
    assert len(apology.text) < 120
    assert "failed: OperationalError" in log
    for secret in ("Nguyệt", "0912888777", "+84912888777", h.emulator.token):
        assert secret not in log

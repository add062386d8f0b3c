"""Ethnic groups are found by any of their names, however typed, the exact name first."""

from __future__ import annotations

import pytest

from bot.services.directory import DirectoryService
from storage.database import Database


@pytest.mark.parametrize(
    ("typed", "found"),
    [
        ("Mông", ["Mông"]),
        ("hmong", ["Mông"]),
        ("H'Mông", ["Mông"]),
        ("Mèo", ["Mông"]),  # an old name, still heard
        ("Mán", ["Dao"]),  # and not every group with a "Mán ..." among its names
        ("Cao Lan", ["Sán Chay"]),
        ("Xá Phó", ["Phù Lá"]),
        ("Giay", ["Giáy"]),
    ],
)
async def test_a_name_or_other_name_finds_its_group(
    db: Database, typed: str, found: list[str]
) -> None:
    groups = await DirectoryService(db).search_ethnicities(typed)
    assert [g.name for g in groups] == found


async def test_a_beginning_finds_the_groups_that_begin_so(db: Database) -> None:
    groups = await DirectoryService(db).search_ethnicities("Xinh")
    assert [g.name for g in groups] == ["Xinh Mun"]
    assert await DirectoryService(db).search_ethnicities("!!!") == []

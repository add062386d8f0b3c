"""Long lists of ids read a chunk at a time: one `IN (…)` per chunk keeps each statement
under the databases' limits on bound parameters, and the round trips few."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

#: Ids bound in one statement.
CHUNK = 1_000


def chunks(items: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]

"""The shapes every kind of import shares.

One code path for the dry run and the real run: an `Importer` reads the rows, checks each
cell, compares each row with what is saved and, only when asked to save and no row has an
error, writes. The service runs it in a write transaction that it rolls back whenever the
outcome has errors, so a file with one bad row saves nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.errors import DomainError


class ImportKind(StrEnum):
    """What a file holds; one template each. Applied in this order when several arrive."""

    UNITS = "units"
    ROSTER = "roster"
    COMPLETIONS = "completions"
    PLAN = "plan"
    PROGRAMMES = "programmes"
    CLASSES = "classes"
    SESSIONS = "sessions"


@dataclass(frozen=True, slots=True)
class Column:
    """A column of a kind's template. Its header is the catalog text `import.col.<kind>.<key>`
    (matched in any catalog language, without diacritics or case); `example` is shown in
    the template's guide, never on its data sheet (a filled-in template would import it)."""

    key: str
    required: bool = False
    example: str = ""


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One data row as read: its number in the sheet as the office sees it (the header is
    row 1), and each known column's cell as text, stripped ("" when empty). Dates come as
    dd/mm/yyyy (with " HH:MM" when they have a time), whole numbers without ".0"."""

    number: int
    cells: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class RowError:
    """What is wrong, where: `column` is a Column.key (None: the row as a whole); `key` and
    `params` a catalog text (the InvalidInput raised by the bot's own parsers fits as is)."""

    row: int
    column: str | None
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: int, column: str | None, error: DomainError) -> RowError:
        return cls(row, column, error.key, error.params)


@dataclass(frozen=True, slots=True)
class Change:
    """One field a row changes, for the dry run to show: `column` a Column.key; `before` and
    `after` as the office reads them, or catalog keys when `keyed` (a gender, "yes"); `who`
    what the row is (a person's name, a code) so the office need not look the row up."""

    row: int
    column: str
    before: str
    after: str
    keyed: bool = False
    who: str = ""


@dataclass(frozen=True, slots=True)
class RowNote:
    """Why a row changes nothing though it differs from what is saved: a catalog text."""

    row: int
    key: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Outcome:
    """What a run found: rows that would be (or were) added, changed, left alone; errors."""

    kind: ImportKind
    rows: int = 0
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)
    saved: bool = False
    #: A few of the changes, field by field (shown in the reader's language).
    changes: list[Change] = field(default_factory=list)
    #: Rows left as they are for a reason the office should read (a cancelled class).
    notes: list[RowNote] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.errors

    @property
    def failed(self) -> int:
        """Rows with at least one error (counted apart from those added, changed or kept)."""
        return len({error.row for error in self.errors})


#: Called now and then with the number of rows handled so far (a progress message).
Progress = Callable[[int], Awaitable[None]]


class Importer(Protocol):
    """One kind of import. `run` never commits: the caller owns the transaction."""

    kind: ImportKind
    columns: Sequence[Column]

    async def run(
        self,
        conn: AsyncConnection,
        rows: Sequence[SourceRow],
        *,
        save: bool,
        actor_telegram_id: int | None,
        progress: Progress,
    ) -> Outcome: ...

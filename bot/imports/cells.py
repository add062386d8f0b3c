"""One row's cells read with the bot's own parsers: a bad cell becomes a RowError naming its
row and column, and the row goes on being read so that the office sees every mistake at once."""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import date
from typing import Any, Generic, TypeVar

from bot.errors import DomainError, InvalidInput
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, catalog
from bot.imports.model import Change, ImportKind, Outcome, RowError, SourceRow
from bot.services.planning import clean_code, clean_link, clean_place
from bot.text_search import fold
from bot.training import ClassKind
from bot.validation import plain_text, telegram_length

T = TypeVar("T")
V = TypeVar("V")

#: How often the progress callback hears how far the rows have been read.
PROGRESS_EVERY = 500
#: A cell listing several codes separates them with commas, semicolons or line breaks.
_LIST = re.compile(r"[,;\n]+")


def words(text: str) -> str:
    """ "🏫 Trực tiếp" → "truc tiep": what a typed choice is compared by."""
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def catalog_text(language: str, key: str) -> str:
    template = catalog(language)[key]
    assert isinstance(template, str), key
    return template


def link(raw: str) -> str:
    """A meeting link, without the invisible characters a spreadsheet may hide in it (a NUL
    byte PostgreSQL refuses)."""
    return clean_link(plain_text(raw))


def place(raw: str, limit: int) -> str:
    """A room or a place, as in the chat, within what its column holds."""
    found = clean_place(raw)
    length = telegram_length(found)
    if length > limit:
        raise InvalidInput("planning.place_length", max=limit, length=length)
    return found


class Choice(Generic[V]):
    """A cell naming one value by its words in any catalog language, without diacritics or
    emoji ("Tập trung", "tap trung", "On site")."""

    def __init__(self, keys: Mapping[str, V]) -> None:
        self.values: dict[str, V] = {}
        for language in LANGUAGES:
            for key, value in keys.items():
                self.values.setdefault(words(catalog_text(language, key)), value)
        labels = (_label(catalog_text(DEFAULT_LANGUAGE, key)) for key in keys)
        self.shown = " / ".join(dict.fromkeys(labels))

    def parse(self, raw: str) -> V:
        found = self.values.get(words(raw))
        if found is None:
            raise InvalidInput("import.error.cell.choice", typed=raw[:40], choices=self.shown)
        return found


def _label(text: str) -> str:
    """A catalog label without its leading emoji: what the office writes in a cell."""
    return text.lstrip("".join(c for c in text if not (c.isalnum() or c.isspace()))).strip()


class RowReader:
    """Reads the cells of one row, keeping every error found on it."""

    def __init__(self, row: SourceRow) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def text(self, column: str) -> str:
        return self.row.cells.get(column, "").strip()

    def read(self, column: str, parse: Callable[[str], T], *, required: bool = False) -> T | None:
        """The cell parsed; None when it is empty (an error if required) or bad."""
        raw = self.text(column)
        if not raw:
            if required:
                self.fail(column, "import.error.cell.required")
            return None
        try:
            return parse(raw)
        except DomainError as error:
            self.errors.append(RowError.of(self.row.number, column, error))
            return None

    def fail(self, column: str | None, key: str, **params: Any) -> None:
        self.errors.append(RowError(self.row.number, column, key, params))

    def codes(self, column: str) -> list[str]:
        """A cell listing codes ("SNV, XA.DONGVAN"); each well formed, else an error."""
        found: list[str] = []
        for part in _LIST.split(self.text(column)):
            if part.strip():
                code = self.read_value(column, part, clean_code)
                if code is not None and code not in found:
                    found.append(code)
        return found

    def check(self, column: str, rule: Callable[[], None]) -> None:
        """A rule across cells (a deadline after the opening), its error on `column`."""
        try:
            rule()
        except DomainError as error:
            self.errors.append(RowError.of(self.row.number, column, error))

    def staff(self, column: str) -> list[str]:
        """A cell listing staff codes (mã cán bộ), compared without case."""
        parts = _LIST.split(plain_text(self.text(column)))
        return list(dict.fromkeys(p.strip().upper() for p in parts if p.strip()))

    def read_value(self, column: str, raw: str, parse: Callable[[str], T]) -> T | None:
        try:
            return parse(raw)
        except DomainError as error:
            self.errors.append(RowError.of(self.row.number, column, error))
            return None


#: A column's header text: `import.col.<kind>.<column>` (model.Column).
HEADER = "import.col.{kind}.{column}"


def header(kind: ImportKind, column: str) -> str:
    """A column's header in Vietnamese, as the example files have it."""
    return catalog_text(DEFAULT_LANGUAGE, HEADER.format(kind=kind.value, column=column))


#: Changes listed in the dry run, at most (as many as the roster lists).
CHANGES_SHOWN = 8


def note_changes(
    outcome: Outcome, row: int, changes: Iterable[tuple[str, object, object]], who: str = ""
) -> None:
    """A few of the changes, field by field, for the dry run to show in the reader's
    language: a yes/no or a kind of class as its catalog word, a day as dd/mm/yyyy; `who`
    names the row (its code)."""
    for column, before, after in changes:
        if len(outcome.changes) >= CHANGES_SHOWN:
            return
        keyed = isinstance(before, bool | ClassKind) or isinstance(after, bool | ClassKind)
        outcome.changes.append(Change(row, column, _shown(before), _shown(after), keyed, who))


def _shown(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "import.word.yes" if value else "import.word.no"
    if isinstance(value, ClassKind):
        return f"training.kind_{value.value}"
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def duplicates(keys: Sequence[tuple[int, Hashable]]) -> dict[int, int]:
    """Row number → the earlier row with the same key, for every repeated key of a file."""
    first: dict[Hashable, int] = {}
    repeated: dict[int, int] = {}
    for number, key in keys:
        if key in first:
            repeated[number] = first[key]
        else:
            first[key] = number
    return repeated

"""The units and roster imports: the office's tree of units and its list of cadres.

Units are keyed by their code, people by the office's staff code (mã cán bộ). A person is
never duplicated: a row whose code is new but whose phone belongs to exactly one person
without a code is that person, who gets the code. An empty optional cell leaves what is
stored; a filled one replaces it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import Employment, Gender
from bot.errors import DomainError, InvalidInput
from bot.i18n import LANGUAGES, t
from bot.imports.cells import Choice
from bot.imports.model import Change, Column, ImportKind, Outcome, Progress, RowError, SourceRow
from bot.phones import format_phone, normalize_phone
from bot.text_search import compact, fold
from bot.validation import (
    NAME_MAX,
    TITLE_MAX,
    clean_full_name,
    clean_title,
    parse_birth_year,
    plain_text,
    shorten,
)
from storage.repositories.roster_import import (
    ROSTER_FIELDS,
    CodeLists,
    ListItem,
    RosterImportRepository,
    RosterPerson,
    UnitRow,
)
from storage.types import utcnow

#: Progress is reported every so many rows.
PROGRESS_EVERY = 2_000
#: Changes listed in the dry run, at most.
CHANGES_SHOWN = 8
UNIT_NAME_MAX = 200
#: Characters of a wrong cell repeated in its error.
CELL_SHOWN = 40
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,31}")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4}


def _forms(key: str) -> set[str]:
    """A catalog word in every language, folded."""
    return {fold(t(lang, key)) for lang in LANGUAGES}


def _yes_no(text: str) -> bool | None:
    typed = fold(text)
    if typed in _forms("import.yes") | {"x", "1", "co", "yes", "true"}:
        return True
    if typed in _forms("import.no") | {"", "0", "khong", "no", "false"}:
        return False
    return None


class _Row:
    """Errors of one row as its cells are read."""

    def __init__(self, source: SourceRow, errors: list[RowError]) -> None:
        self.source = source
        self.errors = errors
        self.ok = True

    def cell(self, key: str) -> str:
        return self.source.cells.get(key, "")

    def require(self, columns: Sequence[Column]) -> None:
        """Every required cell filled: a row never drops silently nor blanks a required value."""
        for column in columns:
            if column.required and not self.cell(column.key):
                self.fail(column.key, "import.error.cell.required")

    def fail(self, column: str | None, key: str, **params: Any) -> None:
        self.errors.append(RowError(self.source.number, column, key, params))
        self.ok = False

    def read(self, key: str, parse: Callable[[str], Any]) -> Any:
        """The cell parsed, or None when empty or wrong (the error recorded)."""
        text = self.cell(key)
        if not text:
            return None
        try:
            return parse(text)
        except DomainError as exc:
            self.errors.append(RowError.of(self.source.number, key, exc))
            self.ok = False
            return None


def _note(outcome: Outcome, changes: Iterable[Change]) -> None:
    for change in changes:
        if len(outcome.changes) >= CHANGES_SHOWN:
            return
        outcome.changes.append(change)


# --- units ------------------------------------------------------------------------------------


def _unit_code(text: str) -> str:
    if not _CODE.fullmatch(text):
        raise InvalidInput("import.err.code", max=32)
    return text


def _unit_name(text: str) -> str:
    name = " ".join(plain_text(unicodedata.normalize("NFC", text)).split())
    if not 2 <= len(name) <= UNIT_NAME_MAX:
        raise InvalidInput("import.err.unit_name", max=UNIT_NAME_MAX)
    return name


#: The kinds of unit the bot knows, each named by its catalog word `import.unit_kind.<kind>`.
UNIT_KINDS = ("province", "district", "commune", "ward", "village", "department", "division",
              "party", "front")  # fmt: skip
#: Other words offices write for a kind (as `words` gives them): a town is commune-level, an
#: agency (cơ quan) sits with the departments.
_KIND_WORDS = {
    "tinh": "province", "huyen": "district", "quan": "district", "thi xa": "district",
    "thanh pho": "district", "xa": "commune", "thi tran": "commune", "phuong": "ward",
    "thon": "village", "to dan pho": "village", "so": "department", "ban": "department",
    "nganh": "department", "co quan": "department", "phong": "division", "dang": "party",
    "dang uy": "party", "mat tran": "front", "doan the": "front",
}  # fmt: skip


def _kind_choice() -> Choice[str]:
    choice = Choice({f"import.unit_kind.{kind}": kind for kind in UNIT_KINDS})
    choice.values.update({kind: kind for kind in UNIT_KINDS})
    for typed, kind in _KIND_WORDS.items():
        choice.values.setdefault(typed, kind)
    return choice


_UNIT_KIND = _kind_choice()


def _unit_kind(text: str) -> str:
    return _UNIT_KIND.parse(text)


class UnitsImporter:
    """Units by code, with their parents; the closure table follows the tree."""

    kind = ImportKind.UNITS
    columns: Sequence[Column] = (
        Column("code", required=True, example="X.DONGVAN"),
        Column("name", required=True, example="Ủy ban nhân dân xã Đồng Văn"),
        Column("parent", example="TINH"),
        Column("kind", example="Xã"),
    )

    async def run(
        self, conn: AsyncConnection, rows: Sequence[SourceRow], *, save: bool,
        actor_telegram_id: int | None, progress: Progress,
    ) -> Outcome:  # fmt: skip
        repo = RosterImportRepository(conn)
        stored = {u.code: u for u in await repo.units()}
        code_of = {u.id: u.code for u in stored.values()}
        outcome = Outcome(self.kind, rows=len(rows))
        parents = {u.code: code_of.get(u.parent_id) if u.parent_id else None
                   for u in stored.values()}  # fmt: skip
        read: dict[str, tuple[_Row, str, str | None, str | None]] = {}
        for source in rows:
            row = _Row(source, outcome.errors)
            row.require(self.columns)
            code = row.read("code", _unit_code)
            name = row.read("name", _unit_name)
            parent = row.read("parent", _unit_code)
            kind = row.read("kind", _unit_kind)
            if code is not None and code in read:
                row.fail("code", "import.err.duplicate", number=read[code][0].source.number)
            elif code is not None and kind is None and code not in stored and row.ok:
                row.fail("kind", "import.err.unit_kind_missing")
            if row.ok and code is not None and name is not None:
                if parent is None:  # an empty cell leaves the unit where it is
                    parent = parents.get(code)
                read[code] = (row, name, parent, kind)
                parents[code] = parent
        for code, (row, _, parent, _) in read.items():
            if parent is not None and parent not in parents:
                row.fail("parent", "import.err.parent_unknown", code=parent)
            elif _in_cycle(code, parents):
                row.fail("parent", "import.err.cycle", code=code)
        added: list[tuple[str, str, str]] = []
        changed: list[str] = []
        for code, (row, name, parent, kind) in read.items():
            if not row.ok:
                continue
            outcome.unchanged += 1
            before = stored.get(code)
            if before is None:
                added.append((code, name, kind or ""))
                continue
            after_kind = kind or before.kind
            diffs = [
                Change(row.source.number, key, old or "", new or "", who=code)
                for key, old, new in (
                    ("name", before.name, name),
                    ("parent", code_of.get(before.parent_id or 0), parent),
                )
                if old != new
            ]
            if after_kind != before.kind:  # the words, when the bot knows the kind saved
                known = before.kind in UNIT_KINDS
                diffs.append(Change(row.source.number, "kind",
                                    f"import.unit_kind.{before.kind}" if known else before.kind,
                                    f"import.unit_kind.{after_kind}" if known else after_kind,
                                    keyed=known, who=code))  # fmt: skip
            if diffs:
                changed.append(code)
                _note(outcome, diffs)
        outcome.added, outcome.changed = len(added), len(changed)
        outcome.unchanged -= len(added) + len(changed)
        await progress(len(rows))
        if not save or outcome.errors or not (added or changed):
            return outcome
        ids = {code: u.id for code, u in stored.items()} | await repo.add_units(added)
        updates = []
        for code in [c for c, _, _ in added] + changed:
            _, name, parent, kind = read[code]
            updates.append({"b_id": ids[code], "name": name,
                            "kind": kind or stored[code].kind,  # a new unit has its own
                            "parent_id": ids[parent] if parent else None})  # fmt: skip
        await repo.set_units(updates)
        tree = {ids[code]: ids[p] if p else None for code, p in parents.items()}
        await repo.rebuild_closure(tree)
        outcome.saved = True
        return outcome


def _in_cycle(code: str, parents: Mapping[str, str | None]) -> bool:
    """Whether going up from the unit comes back to it (a loop further up, which does not
    pass through it, is reported on the rows of its own units)."""
    seen = {code}
    current = parents.get(code)
    while current is not None:
        if current == code:
            return True
        if current in seen:
            return False
        seen.add(current)
        current = parents.get(current)
    return False


# --- people -----------------------------------------------------------------------------------


class _Lists:
    """What cells may name, looked up by code or by folded name."""

    def __init__(self, units: Sequence[UnitRow], lists: CodeLists) -> None:
        self.unit_ids = {u.code: u.id for u in units}
        self.unit_ids_folded = {u.code.casefold(): u.id for u in units}
        self.unit_codes = {u.id: u.code for u in units}
        self.titles = _index(lists.titles)
        self.grades = _index(lists.grades)
        self.professional = _index(lists.professional_titles)
        self.ethnicities = _index(lists.ethnicities)
        for item in lists.ethnicities:
            for other in item.other_names.split(";"):
                if other:
                    self.ethnicities.setdefault(other, item)
        self.names: dict[str, dict[int, str]] = {
            "title": {i.id: i.name for i in lists.titles},
            "grade": {i.id: i.name for i in lists.grades},
            "professional": {i.id: i.name for i in lists.professional_titles},
            "ethnicity": {i.id: i.name for i in lists.ethnicities},
        }
        self.employments = {
            form: e for e in Employment for form in _forms(f"profile.employment_{e.value}")
        }
        self.employments.update({e.value: e for e in Employment})
        self.genders = {form: g for g in Gender for form in _forms(f"gender.{g.value}")}
        self.genders.update({"nu": Gender.FEMALE, "f": Gender.FEMALE, "m": Gender.MALE})

    def unit(self, text: str) -> int:
        unit_id = self.unit_ids.get(text) or self.unit_ids_folded.get(text.casefold())
        if unit_id is None:
            raise InvalidInput("import.err.unit_unknown", code=shorten(text, CELL_SHOWN))
        return unit_id


def _index(items: Iterable[ListItem]) -> dict[str, ListItem]:
    """Code (as written and folded) and compacted name → item."""
    index: dict[str, ListItem] = {}
    for item in items:
        index[item.code] = item
        index.setdefault(fold(item.code), item)
        index.setdefault(compact(item.name), item)
    return index


def _lookup(index: Mapping[str, ListItem], text: str) -> ListItem | None:
    return index.get(text) or index.get(fold(text)) or index.get(compact(text))


def roster_phone(text: str) -> str:
    """A phone cell: a number stored as a number lost its leading 0 ("912345678")."""
    digits = text.replace(" ", "").replace(".", "").replace("-", "")
    if digits.isdigit() and len(digits) == 9 and digits[0] != "0":
        digits = "0" + digits
    if len(digits) == 10 and digits.isdigit() and digits[0] == "0" and digits[1] in "35789":
        return "+84" + digits[1:]  # a mobile number: what normalize_phone gives, faster
    phone = normalize_phone(text)
    if phone is None:
        raise InvalidInput("import.err.phone", value=shorten(text, CELL_SHOWN))
    return phone


def _full_name(text: str) -> str:
    try:
        return clean_full_name(text)
    except InvalidInput as exc:
        raise InvalidInput("import.err.full_name", max=NAME_MAX) from exc


def _other_title(text: str) -> str:
    try:
        return clean_title(text)
    except InvalidInput as exc:
        raise InvalidInput("import.err.title", max=TITLE_MAX) from exc


def _birth_year(today: date) -> Callable[[str], int]:
    low, high = today.year - 75, today.year - 18

    def parse(text: str) -> int:
        try:
            return parse_birth_year(text, today)
        except InvalidInput as exc:
            raise InvalidInput("import.err.birth_year", low=low, high=high) from exc

    return parse


def _staff_code(text: str) -> str:
    if not _CODE.fullmatch(text):
        raise InvalidInput("import.err.code", max=32)
    return text


def _rank(text: str) -> int:
    typed = fold(text).replace("hang", "").strip()
    rank = _ROMAN.get(typed) or (int(typed) if typed in ("1", "2", "3", "4") else None)
    if rank is None:
        raise InvalidInput("import.err.rank")
    return rank


class RosterImporter:
    """People by staff code: the roster the office keeps in Excel."""

    kind = ImportKind.ROSTER
    columns: Sequence[Column] = (
        Column("staff_code", required=True, example="CB000123"),
        Column("full_name", required=True, example="Nguyễn Thị Phương"),
        Column("unit", required=True, example="X.DONGVAN"),
        Column("title", example="Phó Chủ tịch UBND"),
        Column("employment", example="Công chức"),
        Column("grade", example="Chuyên viên"),
        Column("rank", example=""),
        Column("gender", example="Nữ"),
        Column("birth_year", example="1988"),
        Column("ethnicity", example="Tày"),
        Column("phone", example="0912345678"),
        Column("source_pool", example="Có"),
    )

    def __init__(self, today: Callable[[], date] = date.today) -> None:
        self.today = today

    async def run(
        self, conn: AsyncConnection, rows: Sequence[SourceRow], *, save: bool,
        actor_telegram_id: int | None, progress: Progress,
    ) -> Outcome:  # fmt: skip
        repo = RosterImportRepository(conn)
        lists = _Lists(await repo.units(), await repo.code_lists())
        everyone = await repo.people()
        by_code: dict[str, RosterPerson | None] = {
            p.staff_code: p for p in everyone if p.staff_code
        }
        by_phone: dict[str, list[RosterPerson]] = {}  # everyone with a phone
        for known in everyone:
            if known.phone:
                by_phone.setdefault(known.phone, []).append(known)
        phones: dict[str, int] = {}  # a phone a row gives → that row's number
        outcome = Outcome(self.kind, rows=len(rows))
        today = self.today()
        seen: dict[str, int] = {}
        claimed: set[int] = set()
        # Rows to write as tuples in ROSTER_FIELDS order (a dict each would double the memory).
        added: list[tuple[Any, ...]] = []
        changed: list[tuple[Any, ...]] = []
        for done, source in enumerate(rows, 1):
            if done % PROGRESS_EVERY == 0:
                await progress(done)
            row = _Row(source, outcome.errors)
            row.require(self.columns)
            values = self._values(row, lists, today)
            code = values.get("staff_code")
            if code is not None and code in seen:
                row.fail("staff_code", "import.err.duplicate", number=seen[code])
            if not row.ok or code is None:
                continue
            seen[code] = source.number
            person = by_code.get(code)
            phone = values.get("phone")
            if person is None and phone is not None:
                matches = [p for p in by_phone.get(phone, [])
                           if p.staff_code is None and p.id not in claimed]  # fmt: skip
                person = matches[0] if len(matches) == 1 else None
            if (
                phone is not None
                and (person is None or person.phone != phone)  # a phone the row moves
                and not self._phone_free(row, phone, person, by_phone, phones)
            ):
                continue
            if person is None:
                added.append(tuple(values.get(name) for name in ROSTER_FIELDS))
                continue
            claimed.add(person.id)
            before = asdict(person)
            after = {**before, **values}
            diffs = [name for name in ROSTER_FIELDS if after[name] != before[name]]
            if diffs:
                changed.append((person.id, *(after[n] for n in ROSTER_FIELDS)))
                _note(outcome, (self._change(source.number, n, before, after, lists)
                                for n in diffs if n != "title_other"))  # fmt: skip
            else:
                outcome.unchanged += 1
        await progress(len(rows))
        outcome.added, outcome.changed = len(added), len(changed)
        if not save or outcome.errors or not (added or changed):
            return outcome
        now = utcnow()
        await repo.add_people(added, now)
        await repo.set_people(changed, now)
        outcome.saved = True
        return outcome

    @staticmethod
    def _phone_free(
        row: _Row, phone: str, person: RosterPerson | None,
        by_phone: Mapping[str, list[RosterPerson]], phones: dict[str, int],
    ) -> bool:  # fmt: skip
        """Whether a phone the row gives is nobody else's: phones tell people apart at
        sign-up. Who has it is named by name and staff code only."""
        others = [p for p in by_phone.get(phone, []) if person is None or p.id != person.id]
        if others:
            other = others[0]
            if other.staff_code:
                row.fail("phone", "import.err.phone_taken", name=other.full_name,
                         code=other.staff_code)  # fmt: skip
            else:
                row.fail("phone", "import.err.phone_taken_uncoded", name=other.full_name)
            return False
        if phone in phones:
            row.fail("phone", "import.err.phone_repeated", number=phones[phone])
            return False
        phones[phone] = row.source.number
        return True

    @staticmethod
    def _values(row: _Row, lists: _Lists, today: date) -> dict[str, Any]:
        """The row's filled cells as column values; errors noted on the row."""
        values: dict[str, Any] = {}

        def put(key: str, parse: Callable[[str], Any]) -> None:
            value = row.read(key, parse)
            if value is not None:
                values[key] = value

        put("staff_code", _staff_code)
        put("full_name", _full_name)
        unit = row.read("unit", lists.unit)
        if unit is not None:
            values["unit_id"] = unit
        title = row.cell("title")
        if title:
            item = _lookup(lists.titles, title)
            if item is not None:
                values["title_id"], values["title_other"] = item.id, None
            else:
                other = row.read("title", _other_title)
                if other is not None:
                    values["title_id"], values["title_other"] = None, other
        employment = row.cell("employment")
        if employment:
            kind = lists.employments.get(fold(employment))
            if kind is None:
                row.fail(
                    "employment", "import.err.employment", value=shorten(employment, CELL_SHOWN)
                )
            else:
                values["employment"] = kind.value
        grade = row.cell("grade")
        if grade:
            if (item := _lookup(lists.grades, grade)) is not None:
                values["grade_id"], values["professional_title_id"] = item.id, None
            elif (item := _lookup(lists.professional, grade)) is not None:
                values["professional_title_id"], values["grade_id"] = item.id, None
            else:
                row.fail("grade", "import.err.grade", value=shorten(grade, CELL_SHOWN))
        rank = row.read("rank", _rank)
        if rank is not None:
            values["professional_rank"] = rank
        gender = row.cell("gender")
        if gender:
            if (chosen := lists.genders.get(fold(gender))) is None:
                row.fail("gender", "import.err.gender", value=shorten(gender, CELL_SHOWN))
            else:
                values["gender"] = chosen.value
        year = row.read("birth_year", _birth_year(today))
        if year is not None:
            values["birth_year"] = year
        ethnicity = row.cell("ethnicity")
        if ethnicity:
            if (item := _lookup(lists.ethnicities, ethnicity)) is None:
                row.fail("ethnicity", "import.err.ethnicity", value=shorten(ethnicity, CELL_SHOWN))
            else:
                values["ethnicity_id"] = item.id
        put("phone", roster_phone)
        pool = _yes_no(row.cell("source_pool"))
        if pool is None:
            row.fail(
                "source_pool",
                "import.err.yes_no",
                value=shorten(row.cell("source_pool"), CELL_SHOWN),
            )
        else:
            values["source_pool"] = pool
        return values

    @staticmethod
    def _change(
        number: int, name: str, before: Mapping[str, Any], after: Mapping[str, Any],
        lists: _Lists,
    ) -> Change:  # fmt: skip
        """A changed field as the office reads it."""

        def shown(values: Mapping[str, Any]) -> str:
            value = values[name]
            if value is None:
                return ""
            match name:
                case "unit_id":
                    return lists.unit_codes.get(value, "")
                case "title_id":
                    return lists.names["title"].get(value, "")
                case "grade_id":
                    return lists.names["grade"].get(value, "")
                case "professional_title_id":
                    return lists.names["professional"].get(value, "")
                case "ethnicity_id":
                    return lists.names["ethnicity"].get(value, "")
                case "phone":
                    return format_phone(value)
                case "gender":
                    return f"gender.{value}"
                case "employment":
                    return f"profile.employment_{value}"
                case "source_pool":
                    return "import.yes" if value else "import.no"
                case _:
                    return str(value)

        keyed = name in ("gender", "employment", "source_pool")
        return Change(number, _COLUMN_OF.get(name, name), shown(before), shown(after), keyed,
                      who=after["full_name"])  # fmt: skip


#: The column that sets each field, where its name differs.
_COLUMN_OF = {
    "unit_id": "unit",
    "title_id": "title",
    "grade_id": "grade",
    "professional_title_id": "grade",
    "professional_rank": "rank",
    "ethnicity_id": "ethnicity",
}

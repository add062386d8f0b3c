"""The training record from before the bot: who completed which programme, when, in a class
named as it was. Found again by person, programme and day, so importing the same record
twice adds nothing; it counts against training twice on the same content as results do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.dates import parse_day
from bot.errors import InvalidInput
from bot.imports.cells import PROGRESS_EVERY, RowReader, duplicates, note_changes
from bot.imports.model import Column, ImportKind, Outcome, Progress, RowError, SourceRow
from bot.services.planning import clean_code, clean_name
from storage.repositories.plans import ProgrammeRepository
from storage.repositories.training_import import TrainingImportRepository

#: The earliest completion worth keeping: a cadre's working life.
EARLIEST_YEAR = 1975


@dataclass(frozen=True, slots=True)
class _Row:
    number: int
    staff_code: str
    programme: str
    class_name: str | None
    completed_on: date


class CompletionImporter:
    kind: ImportKind = ImportKind.COMPLETIONS
    columns: Sequence[Column] = (
        Column("staff_code", required=True, example="CB000123"),
        Column("programme", required=True, example="CT.CV"),
        Column("class_name", example="Lớp bồi dưỡng ngạch chuyên viên khóa 3"),
        Column("completed_on", required=True, example="28/11/2024"),
    )

    def __init__(self, clock: Clock, tz: tzinfo) -> None:
        self.clock = clock
        self.tz = tz

    async def run(
        self,
        conn: AsyncConnection,
        rows: Sequence[SourceRow],
        *,
        save: bool,
        actor_telegram_id: int | None,
        progress: Progress,
    ) -> Outcome:
        outcome = Outcome(self.kind, rows=len(rows))
        today = self.clock.now().astimezone(self.tz).date()
        found: list[_Row] = []
        #: Rows with a bad cell: their person and programme are still looked for.
        unread: list[tuple[int, str | None, str | None]] = []
        for done, source in enumerate(rows, 1):
            read = RowReader(source)
            staff = read.staff("staff_code")
            if not staff:
                read.fail("staff_code", "import.error.cell.required")
            programme = read.read("programme", clean_code, required=True)
            class_name = read.read("class_name", clean_name)
            day = read.read("completed_on", lambda raw: _completed_on(raw, today), required=True)
            if len(staff) > 1:
                read.fail("staff_code", "import.error.completion.one_person")
            outcome.errors += read.errors
            if not read.errors and programme and day:
                found.append(_Row(source.number, staff[0], programme, class_name, day))
            else:
                unread.append((source.number, staff[0] if len(staff) == 1 else None, programme))
            if done % PROGRESS_EVERY == 0:
                await progress(done)
        repeated = duplicates([(r.number, (r.staff_code, r.programme, r.completed_on))
                               for r in found])  # fmt: skip
        for number, first in repeated.items():
            outcome.errors.append(
                RowError(number, "completed_on", "import.error.cell.duplicate", {"first": first})
            )
        imports = TrainingImportRepository(conn)
        people = await imports.staff_ids([*(r.staff_code for r in found),
                                          *(code for _, code, _ in unread if code)])  # fmt: skip
        programmes = {p.code: p.id for p in await ProgrammeRepository(conn).all()}
        for number, staff_code, programme_code in unread:
            _known(outcome, number, staff_code, programme_code, people, programmes)
        saved = await imports.completions_of(people.values())
        adds: list[dict[str, object]] = []
        renames: list[tuple[int, str | None]] = []
        for row in found:
            if row.number in repeated:
                continue
            person_id, programme_id = people.get(row.staff_code), programmes.get(row.programme)
            if person_id is None or programme_id is None:
                _known(outcome, row.number, row.staff_code, row.programme, people, programmes)
                continue
            before = saved.get((person_id, programme_id, row.completed_on))
            if before is None:
                outcome.added += 1
                adds.append(
                    {
                        "person_id": person_id,
                        "programme_id": programme_id,
                        "completed_on": row.completed_on,
                        "class_name": row.class_name,
                    }
                )
            elif row.class_name is not None and before.class_name != row.class_name:
                outcome.changed += 1
                renames.append((before.id, row.class_name))
                note_changes(
                    outcome, row.number, [("class_name", before.class_name, row.class_name)]
                )
            else:
                outcome.unchanged += 1
        if save and outcome.clean:
            await imports.add_completions(adds)
            for completion_id, class_name in renames:
                await imports.rename_completion(completion_id, class_name)
            outcome.saved = True
        outcome.errors.sort(key=lambda e: e.row)
        return outcome


def _known(outcome: Outcome, number: int, staff_code: str | None, programme: str | None,
           people: dict[str, int], programmes: dict[str, int]) -> None:  # fmt: skip
    """A staff code or programme code the database does not know is an error of its cell."""
    if staff_code and staff_code not in people:
        outcome.errors.append(RowError(number, "staff_code", "import.error.cell.staff_unknown",
                                       {"code": staff_code}))  # fmt: skip
    if programme and programme not in programmes:
        outcome.errors.append(RowError(number, "programme",
                                       "import.error.completion.programme_unknown",
                                       {"code": programme}))  # fmt: skip


def _completed_on(raw: str, today: date) -> date:
    day = parse_day(raw, today.year)
    if day > today or day.year < EARLIEST_YEAR:
        raise InvalidInput("import.error.completion.day_range", low=EARLIEST_YEAR, day=day)
    return day

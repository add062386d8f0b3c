"""A training record as a printable A4 PDF, fit to attach to the annual evaluation.

The DejaVu fonts are embedded (regular and bold): they have every Vietnamese letter, so the
names and classes print with their diacritics on any computer, and copy out as text.
"""

from __future__ import annotations

from pathlib import Path

from fpdf import FPDF, FontFace

from bot.i18n import Texts
from bot.record_labels import dates, grade, hours, plain, position, result, year_totals
from bot.training_record import RecordYear, TrainingRecord

FONTS = Path(__file__).parent / "assets" / "fonts"
FONT = "DejaVu"
#: Relative widths of the columns: number, class, dates, sessions, hours, result.
WIDTHS = (11, 62, 38, 20, 14, 35)
ALIGN = ("CENTER", "LEFT", "CENTER", "CENTER", "RIGHT", "LEFT")
COLUMNS = (
    "record.col_number", "record.col_class", "record.col_dates", "record.col_sessions",
    "record.col_hours", "record.col_result",
)  # fmt: skip
HEADING = FontFace(emphasis="BOLD", fill_color=(230, 230, 230))


class _Document(FPDF):
    """A4 portrait, with "page n/m" at the foot of every page."""

    def __init__(self, texts: Texts) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.texts = texts
        self.add_font(FONT, "", FONTS / "DejaVuSans.ttf")
        self.add_font(FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
        self.set_margins(18, 15, 15)
        self.set_auto_page_break(auto=True, margin=18)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        # The number of pages is known at the end: fpdf2 fills in its alias then.
        label = plain(self.texts, "record.page", page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(0, 5, label, align="C")


def record_pdf(texts: Texts, record: TrainingRecord, issuer: str) -> bytes:
    """The record, year by year, with each year's totals and the whole record's."""
    person = record.person
    pdf = _Document(texts)
    pdf.set_title(plain(texts, "record.title"))
    pdf.set_author(issuer)
    pdf.add_page()
    pdf.set_font(FONT, "", 9)
    pdf.multi_cell(0, 5, issuer.upper(), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font(FONT, "B", 15)
    pdf.multi_cell(0, 8, plain(texts, "record.title"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "", 10.5)
    lines = [
        plain(texts, "record.name", name=person.full_name),
        plain(texts, "record.unit", unit=person.unit.label if person.unit else "—"),
        plain(texts, "record.position", title=position(person) or "—"),
        plain(texts, "record.grade", grade=grade(texts, person) or "—"),
        _period(texts, record),
    ]
    for line in lines:
        pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    if not record.years:
        pdf.multi_cell(0, 6, plain(texts, "record.file_empty"), new_x="LMARGIN", new_y="NEXT")
    for year in record.years:
        _year(pdf, texts, record, year)
    if len(record.years) > 1:
        pdf.set_font(FONT, "B", 10.5)
        totals = plain(texts, "record.all_years") + ": " + year_totals(texts, record.totals)
        pdf.multi_cell(0, 6, totals, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    pdf.set_font(FONT, "", 10)
    made = plain(texts, "record.generated", at=record.generated_at)
    pdf.multi_cell(0, 6, made, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def _period(texts: Texts, record: TrainingRecord) -> str:
    if record.period is None:
        return plain(texts, "record.period", period="—")
    first, last = record.period
    return plain(texts, "record.period", period=str(first) if first == last else f"{first}–{last}")


def _year(pdf: _Document, texts: Texts, record: TrainingRecord, year: RecordYear) -> None:
    pdf.ln(2)
    pdf.set_font(FONT, "B", 12)
    pdf.multi_cell(0, 7, plain(texts, "record.year", year=year.year), new_x="LMARGIN",
                   new_y="NEXT")  # fmt: skip
    pdf.set_font(FONT, "", 9)
    headings = [plain(texts, key) for key in COLUMNS]
    with pdf.table(
        col_widths=WIDTHS, text_align=ALIGN, headings_style=HEADING, line_height=5,
        padding=1.2, first_row_as_headings=True,
    ) as table:  # fmt: skip
        table.row(headings)
        number = 0
        for entry in year.classes:
            number += 1
            name = f"{entry.name}\n{entry.code} · {entry.programme}"
            table.row([
                str(number), name, dates(texts, entry), f"{entry.attended}/{entry.held}",
                hours(texts, entry.hours), result(texts, entry, record.generated_at),
            ])  # fmt: skip
        for done in year.imported:
            number += 1
            table.row([
                str(number), f"{done.class_name}\n{done.programme}",
                plain(texts, "record.day", at=done.completed_on), "—", "—",
                plain(texts, "record.imported"),
            ])  # fmt: skip
    pdf.set_font(FONT, "B", 9.5)
    pdf.multi_cell(0, 6, year_totals(texts, year), new_x="LMARGIN", new_y="NEXT")

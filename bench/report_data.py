"""A province's two years of training at full size, generated fast, for timing the reports.

`generate(db)` fills an empty, migrated database the way issue 12 sizes it: a unit tree of
three levels (the province; 15 departments, districts and boards; ~150 divisions and
communes), 100,000 people, the approved plans of last year and this one with their targets,
5,000 classes, 60,000 sessions, their enrolments, 2,000,000 attendance marks, the attendance
state of every session held and the results of the finished classes, all as of one fixed
moment (NOW, a Wednesday morning in November: classes under way, this year's plan mostly
done, December's classes open for enrolment). The same seed and sizes give the same rows, and
every constraint of storage/schema.py holds, so the bot can open the database.

Rows are written at the driver (executemany on SQLite, COPY on PostgreSQL) with ids chosen
here: SQLAlchemy's executemany would spend minutes binding two million marks. The marks are
made class by class and written in chunks, so memory stays flat whatever their number.
"""

from __future__ import annotations

import math
import random
from bisect import bisect
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import CHECKIN_EARLY, CLOSE_AFTER, Outcome, required_sessions
from bot.domain import Role
from bot.services.people import NOTICE_VERSION
from bot.text_search import fold
from bot.training import ALL_KINDS, ClassFormat, ClassKind, ClassStatus, EnrolmentStatus
from storage.database import Database
from storage.repositories.code_lists import CodeListRepository
from storage.schema import (
    attendance,
    class_audience,
    class_lecturers,
    class_sessions,
    classes,
    completions,
    consents,
    enrolments,
    people,
    plan_targets,
    plans,
    programmes,
    results,
    roles,
    session_attendance,
    unit_closure,
    units,
)

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
#: The moment the data describes: a Wednesday, 09:30 in the province.
NOW = datetime(2026, 11, 18, 9, 30, tzinfo=TZ).astimezone(UTC)
CURRENT_YEAR = 2026
PREVIOUS_YEAR = 2025
#: Telegram ids of the office's administrator and of the unit heads (one per top unit).
ADMIN_TELEGRAM_ID = 900_001
UNIT_HEAD_TELEGRAM_ID = 900_101
#: Roster people already using the bot get Telegram ids from here.
LINKED_TELEGRAM_ID = 910_000
#: Rows handed to the driver at a time.
CHUNK = 20_000
#: SQLite's page cache while generating (KiB): the marks' person index is written at random.
SQLITE_CACHE_KIB = 32_768
#: No class has more learners than this.
MAX_SEATS = 120

_ROSTER_LOADED = datetime(2025, 1, 6, 1, 0, tzinfo=UTC)
_APPROVED_BY = "Ban Thường vụ Tỉnh ủy"
_SLOTS = ((time(7, 30), time(11, 0)), (time(13, 30), time(16, 30)))
_MINUTES = [timedelta(minutes=m) for m in range(-30, 300)]
_OFFSET = 30  # _MINUTES[m + _OFFSET] is m minutes
#: Marks: absent and excused (scaled by each learner's propensity), then late.
_ABSENT, _MISSED, _LATE = 0.06, 0.10, 0.05
#: One learner in ten misses classes far more often than the rest (mean propensity 1).
_WAVERING_SHARE, _WAVERING, _STEADY = 0.1, 5.5, 0.5
#: Of those present, the share who checked in themselves (the lecturer marked the rest).
_SELF_CHECKIN = 0.78
_ROLL_SAVED = timedelta(minutes=10)  # before the session's end
_RESULTS_AFTER = timedelta(days=3)  # after the class's end
_CANCEL_REASONS = (
    "Không đủ học viên đăng ký",
    "Trùng lịch kỳ họp Hội đồng nhân dân tỉnh",
    "Điều chỉnh kế hoạch theo chỉ đạo của Ban Thường vụ Tỉnh ủy",
)


@dataclass(frozen=True, slots=True)
class Generated:
    """What was made, for the timed calls: whose reports, of which year, as of when."""

    now: datetime
    year: int
    plan_id: int
    previous_plan_id: int
    root_unit_id: int
    #: A district with its communes: the coverage of its head (unit_head_telegram_id).
    unit_id: int
    admin_telegram_id: int
    unit_head_telegram_id: int
    #: Rows written, by table.
    rows: dict[str, int]


# --- writing at the driver ----------------------------------------------------------------------


class _Sink:
    """Rows to the driver, in the caller's transaction, each value in the form it takes."""

    def __init__(self, conn: AsyncConnection, driver: Any) -> None:
        self.conn = conn
        self.sqlite = conn.dialect.name == "sqlite"
        self._driver = driver
        self.rows: dict[str, int] = {}

    def ts(self, at: datetime) -> Any:
        """A UTC time as SQLAlchemy stores it on SQLite (naive ISO text); asyncpg takes it."""
        return at.isoformat(" ", "microseconds")[:26] if self.sqlite else at

    def day(self, on: date) -> Any:
        return on.isoformat() if self.sqlite else on

    async def write(
        self, table: sa.Table, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        if not rows:
            return
        self.rows[table.name] = self.rows.get(table.name, 0) + len(rows)
        if self.sqlite:
            marks = ", ".join("?" * len(columns))
            sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})"
            await self._driver.executemany(sql, rows)
        else:
            await self._driver.copy_records_to_table(
                table.name, records=rows, columns=list(columns)
            )


@asynccontextmanager
async def _loading(db: Database) -> AsyncIterator[_Sink]:
    """One write transaction for the whole load, each database set up for bulk rows: on
    SQLite a larger page cache, on PostgreSQL foreign keys checked once at the end."""
    async with db.write() as conn:
        raw = await conn.get_raw_connection()
        sink = _Sink(conn, raw.driver_connection)
        if sink.sqlite:
            cache = await conn.scalar(sa.text("PRAGMA cache_size"))
            await conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            try:
                yield sink
            finally:
                await conn.exec_driver_sql(f"PRAGMA cache_size={int(cache)}")
            return
        # Also begins the driver's transaction, which COPY then joins.
        await conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
        async with _foreign_keys_after(conn):
            yield sink
        await _finish_postgres(conn)


# --- weighted choices ---------------------------------------------------------------------------


class _Pick:
    """A weighted choice from one rng.random(), in O(log n)."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, weighted: Sequence[tuple[Any, float]]) -> None:
        self.items = [item for item, _ in weighted]
        self.cum = list(accumulate(weight for _, weight in weighted))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.total)]


def _even(items: Sequence[str]) -> _Pick:
    return _Pick([(item, 1.0) for item in items])


# --- the unit tree ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Unit:
    id: int
    code: str
    name: str
    kind: str
    parent: _Unit | None
    #: Relative share of the roster working here.
    weight: float
    #: Professional titles of its public employees (viên chức); None: civil servants.
    professions: tuple[str, ...] | None = None

    @property
    def top(self) -> _Unit:
        """Its unit directly under the province (itself if it is one, or the province)."""
        unit = self
        while unit.parent is not None and unit.parent.parent is not None:
            unit = unit.parent
        return unit


_SCHOOL_PARTS = (
    ("QLDT", "Phòng Quản lý đào tạo và Nghiên cứu khoa học"),
    ("TCHC", "Phòng Tổ chức - Hành chính"),
    ("KXDD", "Khoa Xây dựng Đảng"),
    ("KLLCS", "Khoa Lý luận cơ sở"),
    ("KNNPL", "Khoa Nhà nước và Pháp luật"),
    ("KDV", "Khoa Dân vận"),
)
_BOARD_PARTS = (
    ("VP", "Văn phòng Ban"),
    ("TCDV", "Phòng Tổ chức đảng - đảng viên"),
    ("CB", "Phòng Cán bộ"),
    ("BVCT", "Phòng Bảo vệ chính trị nội bộ"),
)
#: Departments (sở), and the professional titles of the public employees of their centre.
_DEPARTMENTS = (
    ("SNV", "Sở Nội vụ", ("LUU_TRU", "VAN_THU")),
    ("STC", "Sở Tài chính", ("KY_SU", "NGHIEN_CUU")),
    ("SGDDT", "Sở Giáo dục và Đào tạo", ("GV_MAM_NON", "GV_TIEU_HOC", "GV_THCS", "GV_THPT")),
    ("SYT", "Sở Y tế", ("BAC_SI", "Y_SI", "DIEU_DUONG", "DUOC_SI")),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", ("KY_SU", "KHUYEN_NONG", "KY_THUAT_VIEN")),
)
_DIVISIONS = (
    ("VP", "Văn phòng Sở"),
    ("TCCB", "Phòng Tổ chức cán bộ"),
    ("KHTC", "Phòng Kế hoạch - Tài chính"),
    ("QLNN", "Phòng Quản lý nhà nước chuyên ngành"),
    ("TTRA", "Thanh tra Sở"),
    ("TT", "Trung tâm Dịch vụ công trực thuộc Sở"),
)
_DISTRICTS = (
    "Đồng Văn", "Mèo Vạc", "Yên Minh", "Quản Bạ", "Bắc Mê", "Hoàng Su Phì", "Xín Mần",
    "Bắc Quang",
)  # fmt: skip
_COMMUNES_PER_DISTRICT = 14
_COMMUNE_FIRST = (
    "Tả", "Lũng", "Sủng", "Nà", "Bản", "Pà", "Mường", "Phìn", "Thượng", "Hạ", "Tân", "Minh",
    "Yên", "Phú", "Xuân", "Đồng",
)  # fmt: skip
_COMMUNE_SECOND = (
    "Phìn", "Chải", "Sán", "Lầu", "Cú", "Hồ", "Tiến", "Thành", "Sơn", "Lâm", "Giang", "Hòa",
    "Khánh", "Vĩnh",
)  # fmt: skip


def _unit_tree(rng: random.Random) -> list[_Unit]:
    """Parents before children, ids from 1."""
    tree: list[_Unit] = []

    def add(code: str, name: str, kind: str, parent: _Unit | None, weight: float,
            professions: tuple[str, ...] | None = None) -> _Unit:  # fmt: skip
        unit = _Unit(len(tree) + 1, code, name, kind, parent, weight, professions)
        tree.append(unit)
        return unit

    root = add("TINH", "Tỉnh Sơn Lâm", "province", None, 0.1)
    school = add("TCT", "Trường Chính trị tỉnh", "school", root, 0.1)
    for suffix, name in _SCHOOL_PARTS:
        add(f"TCT.{suffix}", name, "division", school, 0.15, ("NGHIEN_CUU", "THU_VIEN"))
    board = add("BTC", "Ban Tổ chức Tỉnh ủy", "party", root, 0.2)
    for suffix, name in _BOARD_PARTS:
        add(f"BTC.{suffix}", name, "division", board, 0.25)
    for code, name, professions in _DEPARTMENTS:
        department = add(code, name, "department", root, 0.3)
        for suffix, division in _DIVISIONS:
            centre = suffix == "TT"
            add(f"{code}.{suffix}", division, "division", department, 3.0 if centre else 1.2,
                professions if centre else None)  # fmt: skip
    names = [f"{a} {b}" for a in _COMMUNE_FIRST for b in _COMMUNE_SECOND if a != b]
    rng.shuffle(names)
    for n, district_name in enumerate(_DISTRICTS):
        code = fold(district_name).replace(" ", "").upper()
        district = add(code, f"Huyện {district_name}", "district", root, 0.3)
        for k in range(_COMMUNES_PER_DISTRICT):
            commune = names[n * _COMMUNES_PER_DISTRICT + k]
            add(f"{code}.X{k + 1:02d}", f"Xã {commune}", "commune", district, 1.0)
    return tree


async def _write_units(sink: _Sink, tree: Sequence[_Unit]) -> None:
    await sink.write(
        units, ("id", "code", "name", "name_search", "parent_id", "kind"),
        [(u.id, u.code, u.name, fold(u.name), u.parent.id if u.parent else None, u.kind)
         for u in tree],
    )  # fmt: skip
    closure = []
    for unit in tree:
        ancestor: _Unit | None = unit
        depth = 0
        while ancestor is not None:
            closure.append((ancestor.id, unit.id, depth))
            ancestor, depth = ancestor.parent, depth + 1
    await sink.write(unit_closure, ("ancestor_id", "descendant_id", "depth"), closure)


# --- people -------------------------------------------------------------------------------------

_ETHNICITY = _Pick([
    ("01", 85.0), ("02", 4.5), ("03", 2.5), ("04", 1.5), ("07", 2.0), ("08", 2.0), ("09", 1.3),
    ("06", 0.4), ("13", 0.3), ("26", 0.3), (None, 0.7),
])  # fmt: skip
_FAMILY = {
    "01": _Pick([
        ("Nguyễn", 30), ("Trần", 10), ("Lê", 8), ("Phạm", 7), ("Hoàng", 5), ("Vũ", 5),
        ("Đỗ", 4), ("Bùi", 4), ("Đặng", 3), ("Ngô", 3), ("Dương", 3), ("Phan", 3), ("Đinh", 2),
        ("Đào", 2), ("Lương", 2), ("Hà", 2), ("Trịnh", 2), ("Mai", 1), ("Tạ", 1),
    ]),
    "02": _even(("Hoàng", "Nông", "Ma", "Bế", "Vi", "Lục", "Hà", "Lương", "Triệu")),
    "03": _even(("Lò", "Lường", "Cầm", "Tòng", "Quàng", "Điêu", "Hà")),
    "04": _even(("Bùi", "Đinh", "Quách", "Hà", "Xa")),
    "06": _even(("Trương", "Lưu", "Lâm", "Diệp", "Vương")),
    "07": _even(("Nông", "Hoàng", "Lục", "Lý", "Chu", "Mã")),
    "08": _even(("Giàng", "Vàng", "Sùng", "Thào", "Lý", "Mua", "Hầu", "Lầu")),
    "09": _even(("Triệu", "Bàn", "Đặng", "Lý", "Phùng", "Chảo")),
    "13": _even(("Hoàng", "Lâm", "Nịnh", "Trần")),
    "26": _even(("Lù", "Hoàng", "Sèn", "Vương")),
}  # fmt: skip
_MALE_MIDDLE = _Pick([
    ("Văn", 40), ("Đức", 8), ("Minh", 8), ("Quang", 6), ("Hữu", 5), ("Xuân", 5), ("Ngọc", 4),
    ("Tiến", 4), ("Thanh", 4), ("Công", 4),
])  # fmt: skip
_HMONG_MALE_MIDDLE = _even(("A", "Seo", "Mí", "Văn"))
_FEMALE_MIDDLE = _Pick([("Thị", 60), ("Thu", 6), ("Ngọc", 6), ("Thanh", 6), ("Hồng", 5),
                        ("Minh", 4), ("Phương", 4), ("Thị Thu", 4), ("Thị Ngọc", 3)])  # fmt: skip
_MALE_GIVEN = _even((
    "Hùng", "Dũng", "Tuấn", "Thắng", "Quân", "Đức", "Long", "Hải", "Bình", "Cường", "Khánh",
    "Phong", "Sơn", "Thành", "Trung", "Huy", "Hoàng", "Đạt", "Quyết", "Tiến", "Nam", "Hưng",
    "Vinh", "Kiên", "Tùng", "Việt", "Duy", "Hiếu", "Lâm", "Chiến", "Mạnh", "Phúc", "Páo", "Sử",
))  # fmt: skip
_FEMALE_GIVEN = _even((
    "Phương", "Hương", "Lan", "Mai", "Hoa", "Thảo", "Huyền", "Trang", "Hằng", "Nga", "Loan",
    "Yến", "Thủy", "Ngọc", "Linh", "Dung", "Hạnh", "Nhung", "Oanh", "Quỳnh", "Liên", "Ánh",
    "Đào", "Giang", "Hà", "Hiền", "Vân", "Thu", "Tuyết", "Huệ", "Xuân", "Hồng", "Mỷ", "Dợ",
))  # fmt: skip
_PHONE_PREFIXES = ("+8491", "+8494", "+8496", "+8497", "+8498", "+8432", "+8433", "+8435")
_COMMUNE_LEADERS = _even(("BT", "PBT", "CT_UBND", "PCT_UBND", "CT_HDND", "CT_MTTQ"))
_DIVISION_LEADERS = _Pick([("TP", 1), ("PTP", 2)])
_DEPARTMENT_LEADERS = _Pick([("GD", 1), ("PGD", 3)])
_DISTRICT_LEADERS = _Pick([("CT_UBND", 1), ("PCT_UBND", 3)])
_CIVIL_GRADES = _Pick([("01.001", 2), ("01.002", 18), ("01.003", 62), ("01.004", 8),
                       ("01.005", 10)])  # fmt: skip
_LEADER_GRADES = _Pick([("01.001", 15), ("01.002", 70), ("01.003", 15)])
_RANKS = _Pick([(1, 5), (2, 25), (3, 55), (4, 15)])
_LEADER_SHARE = 0.1
_PHONE_SHARE = 0.92
_LINKED_SHARE = 0.03
_LECTURER_TITLES = _Pick([("GIANG_VIEN_CC", 1), ("GIANG_VIEN_CHINH", 4), ("GIANG_VIEN", 6)])

_PEOPLE_COLUMNS = (
    "id", "full_name", "name_search", "unit_id", "title_id", "title_other", "employment",
    "grade_id", "professional_title_id", "professional_rank", "gender", "birth_year",
    "ethnicity_id", "phone", "telegram_id", "source", "verified", "verified_at", "source_pool",
    "language", "consent_at", "created_at", "updated_at",
)  # fmt: skip
_SOURCE_POOL = _PEOPLE_COLUMNS.index("source_pool")


@dataclass(slots=True)
class _Roster:
    """What the training needs of the people: who teaches, and who may be enrolled where."""

    admin: int
    #: Top unit id → the person heading it, and their Telegram id.
    heads: dict[int, tuple[int, int]]
    lecturers: list[int]
    everyone: list[int]
    #: Top unit id → its people (learners of a class for that unit).
    by_top: dict[int, list[int]]
    source_pool: list[int]


class _People:
    """Makes roster rows: names, jobs and grades plausible for the unit each person is in."""

    def __init__(
        self, rng: random.Random, codes: dict[str, dict[str, int]], ts: Callable[[datetime], Any]
    ) -> None:
        self.rng = rng
        self.codes = codes
        self.ts = ts
        self.loaded = ts(_ROSTER_LOADED)
        self.folded: dict[str, str] = {}
        self.next_id = 1
        self.next_telegram = LINKED_TELEGRAM_ID
        self.linked: list[int] = []

    def _fold(self, part: str) -> str:
        found = self.folded.get(part)
        if found is None:
            found = self.folded[part] = fold(part)
        return found

    def _name(self, ethnicity: str | None, female: bool) -> tuple[str, str]:
        rng = self.rng
        family = _FAMILY.get(ethnicity or "01", _FAMILY["01"])(rng)
        if female:
            middle = _FEMALE_MIDDLE(rng)
        else:
            middle = (_HMONG_MALE_MIDDLE if ethnicity == "08" else _MALE_MIDDLE)(rng)
        given = (_FEMALE_GIVEN if female else _MALE_GIVEN)(rng)
        name = f"{family} {middle} {given}"
        return name, f"{self._fold(family)} {self._fold(middle)} {self._fold(given)}"

    def row(
        self, unit: _Unit, *, title: str | None = None, title_other: str | None = None,
        profession: str | None = None, telegram_id: int | None = None,
    ) -> tuple[Any, ...]:  # fmt: skip
        """A person of `unit`; a leader when `title` is given, else one is drawn."""
        rng, codes = self.rng, self.codes
        if title is None and title_other is None and profession is None:
            title = self._leader(unit)
        leader = title is not None or title_other is not None
        employment, grade, professional, rank = self._job(unit, title, profession, leader)
        female = rng.random() < (0.25 if leader else 0.48)
        if leader:
            born = int(rng.triangular(1965, 1992, 1972))
        else:
            born = min(2003, int(rng.triangular(1965, 2004, 1985)))
        ethnicity = _ETHNICITY(rng)
        name, folded = self._name(ethnicity, female)
        phone = None
        if rng.random() < _PHONE_SHARE:
            phone = f"{rng.choice(_PHONE_PREFIXES)}{rng.randrange(10_000_000):07d}"
        if telegram_id is None and rng.random() < _LINKED_SHARE:
            telegram_id = self.next_telegram
            self.next_telegram += 1
        person_id = self.next_id
        self.next_id += 1
        consent_at = None
        if telegram_id is not None:
            self.linked.append(person_id)
            consent_at = self.ts(NOW - timedelta(days=16) + _MINUTES[rng.randrange(270) + _OFFSET])
        pool = rng.random() < (0.07 if born >= 1981 else 0.02)
        return (
            person_id, name, folded, unit.id, codes["title"].get(title or ""), title_other,
            employment, codes["grade"].get(grade or ""),
            codes["professional_title"].get(professional or ""), rank,
            "female" if female else "male", born,
            codes["ethnicity"][ethnicity] if ethnicity else None, phone, telegram_id,
            "roster", True, self.loaded, pool, "vi" if telegram_id else None, consent_at,
            self.loaded, self.loaded,
        )  # fmt: skip

    def _leader(self, unit: _Unit) -> str | None:
        if self.rng.random() >= _LEADER_SHARE or unit.kind in ("province", "school", "party"):
            return None
        if unit.kind == "commune":
            return str(_COMMUNE_LEADERS(self.rng))
        if unit.kind == "department":
            return str(_DEPARTMENT_LEADERS(self.rng))
        if unit.kind == "district":
            return str(_DISTRICT_LEADERS(self.rng))
        return str(_DIVISION_LEADERS(self.rng))

    def _job(
        self, unit: _Unit, title: str | None, profession: str | None, leader: bool
    ) -> tuple[str, str | None, str | None, int | None]:
        """(employment, grade, professional title, rank): a public employee has a title and
        rank, a civil servant a grade; a commune's elected leaders are cán bộ."""
        rng = self.rng
        if profession is not None or (unit.professions and not leader):
            chosen = profession or rng.choice(unit.professions or ())
            return "vien_chuc", None, chosen, int(_RANKS(rng))
        if unit.kind == "commune" and leader:
            return "can_bo", None, None, None
        grades = _LEADER_GRADES if leader else _CIVIL_GRADES
        return "cong_chuc", str(grades(rng)), None, None


async def _write_people(
    sink: _Sink, rng: random.Random, tree: Sequence[_Unit], count: int,
    codes: dict[str, dict[str, int]],
) -> _Roster:  # fmt: skip
    """The office's administrator, a head for each top unit, the school's lecturers, then
    everyone else spread over the units by their weight."""
    maker = _People(rng, codes, sink.ts)
    by_code = {u.code: u for u in tree}
    tops = [u for u in tree if u.parent is not None and u.parent.parent is None]
    lecturer_units = [u for u in tree if u.code.startswith("TCT.K")]
    lecturer_count = max(4, count // 800)
    if count < 1 + len(tops) + lecturer_count + 100:
        raise ValueError(f"{count} people are too few for the province's staff and learners")
    chunk = [maker.row(by_code["TCT.QLDT"], title="TP", telegram_id=ADMIN_TELEGRAM_ID)]
    admin = chunk[0][0]
    heads: dict[int, tuple[int, int]] = {}
    for n, top in enumerate(tops):
        title, other = {"department": ("GD", None), "district": ("CT_UBND", None),
                        "school": (None, "Hiệu trưởng"),
                        "party": (None, "Trưởng Ban Tổ chức Tỉnh ủy")}[top.kind]  # fmt: skip
        telegram_id = UNIT_HEAD_TELEGRAM_ID + n
        row = maker.row(top, title=title, title_other=other, telegram_id=telegram_id)
        heads[top.id] = (row[0], telegram_id)
        chunk.append(row)
    lecturers = []
    for n in range(lecturer_count):
        row = maker.row(lecturer_units[n % len(lecturer_units)],
                        profession=str(_LECTURER_TITLES(rng)))  # fmt: skip
        lecturers.append(row[0])
        chunk.append(row)
    learners = [u for u in tree if u.weight > 0]
    cum = list(accumulate(u.weight for u in learners))
    everyone: list[int] = []
    by_top: dict[int, list[int]] = {top.id: [] for top in tops}
    source_pool: list[int] = []
    remaining = count - len(chunk)
    for unit in rng.choices(learners, cum_weights=cum, k=remaining):
        row = maker.row(unit)
        everyone.append(row[0])
        if unit.parent is not None:
            by_top[unit.top.id].append(row[0])
        if row[_SOURCE_POOL]:
            source_pool.append(row[0])
        chunk.append(row)
        if len(chunk) >= CHUNK:
            await sink.write(people, _PEOPLE_COLUMNS, chunk)
            chunk = []
    await sink.write(people, _PEOPLE_COLUMNS, chunk)
    await sink.write(
        consents, ("id", "person_id", "notice_version", "given_at"),
        [(n + 1, person_id, NOTICE_VERSION, sink.ts(NOW - timedelta(days=15)))
         for n, person_id in enumerate(maker.linked)],
    )  # fmt: skip
    grants: list[tuple[int, str, int | None]] = [(admin, Role.ADMIN.value, None)]
    grants += [(person, Role.UNIT_HEAD.value, unit) for unit, (person, _) in heads.items()]
    grants += [(person, Role.LECTURER.value, None) for person in lecturers]
    await sink.write(
        roles, ("id", "person_id", "role", "unit_id", "granted_by", "granted_at"),
        [(n + 1, person, role, unit, None, sink.ts(_ROSTER_LOADED))
         for n, (person, role, unit) in enumerate(grants)],
    )  # fmt: skip
    return _Roster(admin, heads, lecturers, everyone, by_top, source_pool)


# --- plans, programmes, classes and sessions ---------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Programme:
    id: int
    code: str
    name: str
    kind: ClassKind
    validity_months: int | None
    #: Sessions of one of its classes, before scaling to the total asked for.
    sessions: tuple[int, int]
    weight: float


_PROGRAMMES = (
    ("CNKT.DT1", "Bồi dưỡng cập nhật kiến thức đối tượng 1", ClassKind.UPDATE, 36, (4, 6), 2),
    ("CNKT.DT2", "Bồi dưỡng cập nhật kiến thức đối tượng 2", ClassKind.UPDATE, 36, (4, 6), 3),
    ("CNKT.DT3", "Bồi dưỡng cập nhật kiến thức đối tượng 3", ClassKind.UPDATE, 36, (4, 8), 5),
    ("CNKT.DT4", "Bồi dưỡng cập nhật kiến thức đối tượng 4", ClassKind.UPDATE, 36, (6, 8), 8),
    ("LDQL.SO", "Bồi dưỡng lãnh đạo, quản lý cấp sở và tương đương", ClassKind.TITLE, None,
     (10, 16), 2),
    ("LDQL.PHONG", "Bồi dưỡng lãnh đạo, quản lý cấp phòng", ClassKind.TITLE, None, (10, 16), 5),
    ("LDQL.XA", "Bồi dưỡng lãnh đạo, quản lý cấp xã", ClassKind.TITLE, None, (8, 12), 5),
    ("NGACH.CV", "Bồi dưỡng ngạch chuyên viên", ClassKind.GRADE, None, (12, 20), 6),
    ("NGACH.CVC", "Bồi dưỡng ngạch chuyên viên chính", ClassKind.GRADE, None, (14, 20), 4),
    ("LLCT.TC", "Trung cấp lý luận chính trị", ClassKind.THEORY, None, (36, 48), 5),
    ("CD.CDS", "Chuyển đổi số trong cơ quan nhà nước", ClassKind.THEMATIC, 24, (2, 4), 7),
    ("CD.AI", "Ứng dụng trí tuệ nhân tạo trong công vụ", ClassKind.THEMATIC, 24, (2, 4), 4),
    ("CD.HNQT", "Hội nhập quốc tế và đối ngoại nhân dân", ClassKind.THEMATIC, 36, (2, 4), 3),
    ("CD.QPAN", "Kiến thức quốc phòng và an ninh đối tượng 4", ClassKind.THEMATIC, 60, (4, 6), 5),
    ("CD.CCHC", "Cải cách hành chính và dịch vụ công trực tuyến", ClassKind.THEMATIC, 24,
     (2, 4), 4),
    ("CD.PCTN", "Phòng, chống tham nhũng, tiêu cực", ClassKind.THEMATIC, 36, (2, 4), 3),
    ("KN.VB", "Kỹ năng soạn thảo văn bản hành chính", ClassKind.THEMATIC, 36, (2, 4), 3),
    ("DV.MOI", "Bồi dưỡng lý luận chính trị cho đảng viên mới", ClassKind.PARTY, None, (4, 6), 8),
    ("DANG.NT", "Bồi dưỡng nhận thức về Đảng", ClassKind.PARTY, None, (4, 6), 6),
)  # fmt: skip
#: Classes start in these months (few around Tết, many in spring and autumn).
_MONTHS = _Pick([(1, 3), (2, 2), (3, 10), (4, 11), (5, 11), (6, 10), (7, 8), (8, 9), (9, 10),
                 (10, 11), (11, 9), (12, 6)])  # fmt: skip
_FORMATS = _Pick([(ClassFormat.ON_SITE, 75), (ClassFormat.BLENDED, 12), (ClassFormat.ONLINE, 13)])
_LATE_AFTER = _Pick([(15, 85), (10, 5), (20, 5), (30, 5)])
_COMPLETION = _Pick([(80, 85), (70, 5), (90, 5), (100, 5)])
#: Shares of classes for one top unit's people, and of title classes for the source pool.
_UNIT_AUDIENCE, _POOL_AUDIENCE = 0.2, 0.25
#: ...when they are at least this many (a class never takes more than all but ten of them).
_AUDIENCE_MIN = 60
_PREVIOUS_SHARE = 0.47
_CANCELLED_SHARE = 0.025
_CANCELLED_SESSION = 0.02
_FULL_SHARE = 0.12
_ENROL_OPENS = timedelta(days=30)
_ENROL_CLOSES = timedelta(days=3)
#: Classes that ended this recently may still be waiting for the office to close them.
_UNCLOSED_WITHIN, _UNCLOSED_SHARE = timedelta(days=14), 0.15
#: The class with a session under way at NOW has at least this many learners.
_FORCED_SEATS = 30
_MIN_CLASSES = 10


@dataclass(slots=True)
class _Session:
    id: int
    starts_at: datetime
    ends_at: datetime
    lecturer_id: int
    cancelled: bool = False
    #: Its attendance: closed (every learner marked), live (check-in open), or neither.
    closed: bool = False
    live: bool = False


@dataclass(slots=True)
class _Class:
    id: int
    code: str
    name: str
    programme: _Programme
    plan_id: int
    format: ClassFormat
    sessions: list[_Session]
    lecturers: list[int]
    pool: list[int]
    audience: str | None
    late_after: int
    completion_pct: int
    location: str | None
    organiser: str
    status: ClassStatus = ClassStatus.PLANNED
    cancelled_reason: str | None = None
    seats: int = 0
    capacity: int = 1
    learners: list[int] = field(default_factory=list)
    waitlist: list[int] = field(default_factory=list)
    withdrawn: list[int] = field(default_factory=list)
    #: Its sessions closed, and under way, at NOW.
    held: int = 0
    under_way: int = 0

    @property
    def starts_at(self) -> datetime:
        return self.sessions[0].starts_at

    @property
    def ends_at(self) -> datetime:
        return self.sessions[-1].ends_at

    @property
    def most(self) -> int:
        """Learners it may have: its audience leaves room for a waitlist and withdrawals."""
        return min(MAX_SEATS, len(self.pool) - 10)

    @property
    def link(self) -> str | None:
        """Its meeting link, online or blended."""
        if self.format is ClassFormat.ON_SITE:
            return None
        return f"https://hop.sonlam.example/{self.code.lower()}"

    @property
    def opens_at(self) -> datetime:
        return self.starts_at - _ENROL_OPENS


def _local(day: date, at: time) -> datetime:
    return datetime.combine(day, at, TZ).astimezone(UTC)


def _weekday(day: date) -> date:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _timetable(first: date, count: int, weekly: bool) -> list[tuple[datetime, datetime]]:
    """Whole days (morning and afternoon) on working days in a row, or one a week (theory
    courses run for months beside the learners' work)."""
    slots: list[tuple[datetime, datetime]] = []
    day = _weekday(first)
    while len(slots) < count:
        for start, end in _SLOTS[: count - len(slots)]:
            slots.append((_local(day, start), _local(day, end)))
        day = day + timedelta(days=7) if weekly else _weekday(day + timedelta(days=1))
    return slots


def _session_counts(rng: random.Random, drawn: list[_Programme], total: int) -> list[int]:
    """Each class's sessions, drawn by its programme and scaled to add up to `total`."""
    raw = [rng.randint(*p.sessions) for p in drawn]
    scale = total / sum(raw)
    counts = [max(1, round(n * scale)) for n in raw]
    counts[0] = max(counts[0], 6)  # the class under way at NOW meets every day of its week
    diff = total - sum(counts)
    while diff:
        n = rng.randrange(len(counts))
        if diff > 0:
            counts[n] += 1
            diff -= 1
        elif counts[n] > (6 if n == 0 else 1):
            counts[n] -= 1
            diff += 1
    return counts


def _classes(
    rng: random.Random, roster: _Roster, tree: Sequence[_Unit], count: int, sessions: int,
    plan_ids: dict[int, int], catalogue: list[_Programme],
) -> list[_Class]:  # fmt: skip
    """The classes of both plans, with their timetables and states as of NOW. The first of
    this year's meets every day of NOW's week, so some session is always under way."""
    if count < _MIN_CLASSES or sessions < 2 * count:
        raise ValueError(f"give at least {_MIN_CLASSES} classes, and two sessions a class")
    pick = _Pick([(p, p.weight) for p in catalogue])
    previous = round(count * _PREVIOUS_SHARE)
    years = [CURRENT_YEAR] + [PREVIOUS_YEAR] * previous + [CURRENT_YEAR] * (count - previous - 1)
    under_way = next(p for p in catalogue if p.kind is ClassKind.UPDATE and p.sessions[0] >= 6)
    drawn: list[_Programme] = [under_way] + [pick(rng) for _ in range(count - 1)]
    counts = _session_counts(rng, drawn, sessions)
    tops = {u.id: u for u in tree if u.parent is not None and u.parent.parent is None}
    big = [t for t, members in roster.by_top.items() if len(members) >= _AUDIENCE_MIN]
    numbers: dict[tuple[str, int], int] = {}
    made: list[_Class] = []
    next_session = 1
    for n, (programme, year, sessions_n) in enumerate(zip(drawn, years, counts, strict=True)):
        forced = n == 0
        if forced:
            first = NOW.astimezone(TZ).date() - timedelta(days=NOW.astimezone(TZ).weekday())
        else:
            first = date(year, _MONTHS(rng), rng.randint(1, 28))
        weekly = programme.kind is ClassKind.THEORY
        lecturers = rng.sample(roster.lecturers, k=min(len(roster.lecturers), rng.randint(1, 3)))
        timetable = _timetable(first, sessions_n, weekly)
        meetings = []
        for k, (start, end) in enumerate(timetable):
            meetings.append(_Session(next_session, start, end, lecturers[k % len(lecturers)]))
            next_session += 1
        pool, audience, organiser = roster.everyone, None, "Trường Chính trị tỉnh"
        location = "Trường Chính trị tỉnh, hội trường " + rng.choice("ABC")
        draw = rng.random()
        if not forced and big and draw < _UNIT_AUDIENCE:
            top = tops[rng.choice(big)]
            pool, audience = roster.by_top[top.id], f"unit:{top.id}"
            if top.kind == "district":
                organiser = f"Trung tâm Chính trị {top.name.replace('Huyện', 'huyện')}"
                location = f"{organiser}, hội trường A"
        elif (programme.kind is ClassKind.TITLE and draw < _UNIT_AUDIENCE + _POOL_AUDIENCE
              and len(roster.source_pool) >= _AUDIENCE_MIN):  # fmt: skip
            pool, audience = roster.source_pool, "group:source_pool"
        numbers[(programme.code, year)] = number = numbers.get((programme.code, year), 0) + 1
        fmt = ClassFormat.ON_SITE if forced or weekly else _FORMATS(rng)
        made.append(
            _Class(
                id=n + 1, code=f"{programme.code}.{year % 100}.{number:03d}",
                name=f"{programme.name}, khóa {number}/{year}", programme=programme,
                plan_id=plan_ids[year], format=fmt, sessions=meetings,
                lecturers=lecturers, pool=pool, audience=audience,
                late_after=15 if forced else int(_LATE_AFTER(rng)),
                completion_pct=int(_COMPLETION(rng)),
                location=None if fmt is ClassFormat.ONLINE else location, organiser=organiser,
            )
        )  # fmt: skip
    for c in made:
        _set_state(rng, c, forced=c.id == 1)
    return made


def _set_state(rng: random.Random, c: _Class, *, forced: bool) -> None:
    """Status, cancelled sessions and each session's attendance state, as of NOW."""
    if not forced and rng.random() < _CANCELLED_SHARE:
        c.status = ClassStatus.CANCELLED
        c.cancelled_reason = rng.choice(_CANCEL_REASONS)
        return  # its sessions stay as they were, none held (as cancelling leaves them)
    if not forced:
        for s in c.sessions[1:-1]:
            s.cancelled = rng.random() < _CANCELLED_SESSION
    for s in c.sessions:
        if s.cancelled:
            continue
        s.closed = s.ends_at + CLOSE_AFTER <= NOW
        s.live = not s.closed and s.starts_at - CHECKIN_EARLY <= NOW
    c.held = sum(s.closed for s in c.sessions)
    c.under_way = sum(s.live for s in c.sessions)
    if c.ends_at <= NOW:
        unclosed = NOW - c.ends_at < _UNCLOSED_WITHIN and rng.random() < _UNCLOSED_SHARE
        c.status = ClassStatus.RUNNING if unclosed else ClassStatus.FINISHED
    elif c.starts_at <= NOW:
        c.status = ClassStatus.RUNNING
    elif c.opens_at <= NOW:
        c.status = ClassStatus.OPEN


# --- seats: as many marks as asked for ---------------------------------------------------------


def _calibrate(rng: random.Random, made: list[_Class], marks: int) -> int:
    """Learners for each class that has begun, so that its closed sessions hold `marks`
    marks but for a remainder (returned) that the sessions under way take as check-ins."""
    started = [c for c in made if c.status in (ClassStatus.RUNNING, ClassStatus.FINISHED)]
    forced = made[0]
    spread = {c.id: rng.uniform(0.6, 1.4) for c in started}
    weight = sum((c.held + 0.7 * c.under_way) * spread[c.id] for c in started)
    mean = marks / weight if weight else 0.0
    for c in started:
        floor = _FORCED_SEATS if c is forced else 1
        c.seats = max(floor, min(c.most, round(spread[c.id] * mean)))
    total = sum(c.held * c.seats for c in started)
    least = sum(c.held * (_FORCED_SEATS if c is forced else 1) for c in started)
    most = sum((c.held + c.under_way) * c.most for c in started)
    if least > marks:
        raise ValueError(f"{marks} marks are too few for {least} held sessions' learners")
    if most < marks:
        raise ValueError(f"{marks} marks are more than these classes can hold ({most})")
    while total > marks:
        c = rng.choice(started)
        if c.held and c.seats > (_FORCED_SEATS if c is forced else 1):
            c.seats -= 1
            total -= c.held
    live = sum(c.under_way * c.seats for c in started)
    while marks - total > live:
        gap = marks - total
        for _ in range(1_000):
            c = rng.choice(started)
            if 0 < c.held <= gap and c.seats < c.most:
                break
        else:
            c = forced
            if not 0 < c.held <= gap or c.seats >= c.most:
                raise ValueError(f"{marks} marks are more than these classes can hold")
        c.seats += 1
        total += c.held
        live += c.under_way
    return marks - total


def _fill(rng: random.Random, made: list[_Class], mean: float) -> None:
    """Capacity, learners, waitlist and withdrawals of each class. A full class has a
    waitlist; one still enrolling is part full; a cancelled one had had learners, whose
    enrolments were cancelled with it."""
    for c in made:
        begun = c.status in (ClassStatus.RUNNING, ClassStatus.FINISHED)
        size = c.seats if begun else min(c.most, round(mean * rng.uniform(0.7, 1.3)))
        if c.status is ClassStatus.OPEN:
            c.seats = round(size * rng.uniform(0.2, 1.0))
        full = c.seats > 0 and rng.random() < _FULL_SHARE
        waiting = rng.randint(1, 6) if full else 0
        c.capacity = c.seats if full else 5 * math.ceil((size + rng.randint(3, 15)) / 5)
        if c.status is ClassStatus.CANCELLED:
            gone = round(size * rng.uniform(0.0, 0.6)) if c.opens_at <= NOW else 0
        else:
            gone = sum(rng.random() < 0.04 for _ in range(c.seats))
        chosen = rng.sample(c.pool, min(len(c.pool), c.seats + waiting + gone))
        c.learners = sorted(chosen[: c.seats])
        c.waitlist, c.withdrawn = chosen[c.seats : c.seats + waiting], chosen[c.seats + waiting :]


# --- the training's rows ------------------------------------------------------------------------


def _targets(made: list[_Class], plan_id: int, rng: random.Random, reach: tuple[float, float]
             ) -> list[tuple[Any, ...]]:  # fmt: skip
    """Targets a little above what the plan's classes achieve (reach: of the target)."""
    rows = []
    classes_all = learners_all = 0
    for kind in ClassKind:
        mine = [c for c in made if c.plan_id == plan_id and c.programme.kind is kind
                and c.status is not ClassStatus.CANCELLED]  # fmt: skip
        share = rng.uniform(*reach)
        target_classes = math.ceil(len(mine) / share) if mine else 0
        target_learners = math.ceil(sum(c.capacity for c in mine) / share)
        rows.append((plan_id, kind.value, target_classes, target_learners))
        classes_all += target_classes
        learners_all += target_learners
    rows.append((plan_id, ALL_KINDS, classes_all, learners_all))
    return rows


async def _write_training(
    sink: _Sink, rng: random.Random, made: list[_Class], catalogue: list[_Programme],
    plan_ids: dict[int, int], admin_telegram_id: int,
) -> None:  # fmt: skip
    ts, day = sink.ts, sink.day
    await sink.write(
        plans, ("id", "year", "name", "status", "approved_on", "approved_by", "created_at",
                "updated_at"),
        [(plan_id, year, f"Kế hoạch đào tạo, bồi dưỡng cán bộ, công chức, viên chức năm {year}",
          "approved", day(date(year, 1, 12)), _APPROVED_BY, ts(_local(date(year - 1, 12, 5),
          time(8))), ts(_local(date(year, 1, 12), time(15))))
         for year, plan_id in sorted(plan_ids.items())],
    )  # fmt: skip
    reach = {PREVIOUS_YEAR: (0.85, 0.98), CURRENT_YEAR: (0.7, 0.9)}
    await sink.write(
        plan_targets, ("plan_id", "kind", "classes", "learners"),
        [row for year, plan_id in sorted(plan_ids.items())
         for row in _targets(made, plan_id, rng, reach[year])],
    )  # fmt: skip
    await sink.write(
        programmes, ("id", "code", "name", "name_search", "kind", "validity_months", "created_at"),
        [(p.id, p.code, p.name, fold(p.name), p.kind.value, p.validity_months,
          ts(_ROSTER_LOADED)) for p in catalogue],
    )  # fmt: skip
    class_rows, audience_rows, lecturer_rows = [], [], []
    for c in made:
        created = c.opens_at - timedelta(days=14)
        updated = max(created, min(NOW, c.ends_at))
        class_rows.append((
            c.id, c.code, c.name, fold(f"{c.name} {c.code}"), c.programme.id, c.plan_id,
            c.programme.kind.value, c.format.value, c.location, c.link, c.organiser, c.capacity,
            len(c.learners), len(c.waitlist), ts(c.opens_at), ts(c.starts_at - _ENROL_CLOSES),
            c.status.value, ts(c.starts_at), ts(c.ends_at), c.cancelled_reason, c.late_after,
            c.completion_pct, admin_telegram_id, ts(created), ts(updated),
        ))  # fmt: skip
        if c.audience:
            audience_rows.append((c.id, c.audience))
        lecturer_rows += [(c.id, person) for person in c.lecturers]
    await sink.write(
        classes, ("id", "code", "name", "search_text", "programme_id", "plan_id", "kind",
                  "format", "location", "meeting_link", "organiser", "capacity",
                  "enrolled_count", "waitlist_seq", "enrol_opens_at", "enrol_deadline",
                  "status", "starts_at", "ends_at", "cancelled_reason", "late_after",
                  "completion_pct", "created_by", "created_at", "updated_at"),
        class_rows,
    )  # fmt: skip
    await sink.write(class_audience, ("class_id", "target"), audience_rows)
    await sink.write(class_lecturers, ("class_id", "person_id"), lecturer_rows)
    await _write_sessions(sink, made)
    await _write_enrolments(sink, rng, made)


async def _write_sessions(sink: _Sink, made: list[_Class]) -> None:
    ts = sink.ts
    rows: list[tuple[Any, ...]] = []
    for c in made:
        created = ts(c.opens_at - timedelta(days=14))
        room = None if c.format is ClassFormat.ONLINE else f"Phòng {101 + c.id % 12}"
        for k, s in enumerate(c.sessions):
            rows.append((s.id, c.id, ts(s.starts_at), ts(s.ends_at), f"Chuyên đề {k + 1}",
                         s.lecturer_id, room, c.link, "cancelled" if s.cancelled else "scheduled",
                         created, created, created))  # fmt: skip
        if len(rows) >= CHUNK or c is made[-1]:
            await sink.write(
                class_sessions, ("id", "class_id", "starts_at", "ends_at", "topic",
                                 "lecturer_id", "room", "link", "status", "timed_at",
                                 "created_at", "updated_at"), rows,
            )  # fmt: skip
            rows = []


async def _write_enrolments(sink: _Sink, rng: random.Random, made: list[_Class]) -> None:
    """Enrolled, waitlisted (tickets in the order they came) and withdrawn, each when they
    acted within the enrolment window."""
    rows: list[tuple[Any, ...]] = []
    next_id = 1
    for c in made:
        window = (c.opens_at, min(c.starts_at - _ENROL_CLOSES, NOW))

        def at(low: float, high: float, window: tuple[datetime, datetime] = window) -> datetime:
            """A moment in the enrolment window, between these shares of it."""
            return window[0] + (window[1] - window[0]) * rng.uniform(low, high)

        for person in c.learners:
            when = sink.ts(at(0.0, 0.8))
            rows.append((next_id, c.id, person, EnrolmentStatus.ENROLLED.value, None, when, when))
            next_id += 1
        for ticket, person in enumerate(c.waitlist, start=1):
            when = sink.ts(at(0.8 + 0.03 * ticket, 0.8 + 0.03 * ticket))
            rows.append((next_id, c.id, person, EnrolmentStatus.WAITLISTED.value, ticket, when,
                         when))  # fmt: skip
            next_id += 1
        status = EnrolmentStatus.CANCELLED if c.status is ClassStatus.CANCELLED else None
        for person in c.withdrawn:
            came = at(0.0, 0.5)
            left = came + (NOW - came) * rng.uniform(0.0, 0.3) if status else at(0.5, 1.0)
            rows.append((next_id, c.id, person, (status or EnrolmentStatus.WITHDRAWN).value,
                         None, sink.ts(came), sink.ts(min(left, NOW))))  # fmt: skip
            next_id += 1
        if len(rows) >= CHUNK:
            await _enrolment_rows(sink, rows)
            rows = []
    await _enrolment_rows(sink, rows)


async def _enrolment_rows(sink: _Sink, rows: list[tuple[Any, ...]]) -> None:
    await sink.write(
        enrolments, ("id", "class_id", "person_id", "status", "ticket", "created_at",
                     "updated_at"), rows,
    )  # fmt: skip


# --- attendance and results ---------------------------------------------------------------------

_GRADE = _Pick([(Outcome.EXCELLENT, 0.12), (Outcome.VERY_GOOD, 0.33), (Outcome.GOOD, 0.4),
               (Outcome.PASSED, 0.15)])  # fmt: skip
_MARK_COLUMNS = ("session_id", "person_id", "class_id", "mark", "source", "checked_in_at",
                 "marked_by", "at")  # fmt: skip


class _Marks:
    """Marks, the sessions' attendance state and results, class by class, in chunks."""

    def __init__(self, sink: _Sink, rng: random.Random, admin_telegram_id: int) -> None:
        self.sink, self.rng, self.admin = sink, rng, admin_telegram_id
        self.marks: list[tuple[Any, ...]] = []
        self.states: list[tuple[Any, ...]] = []
        self.results: list[tuple[Any, ...]] = []
        self.completions: list[tuple[Any, ...]] = []
        self.completions_made = 0

    async def flush(self, force: bool = False) -> None:
        sink = self.sink
        if self.marks and (force or len(self.marks) >= CHUNK):
            await sink.write(attendance, _MARK_COLUMNS, self.marks)
            self.marks = []
        if force or len(self.states) >= CHUNK:
            await sink.write(
                session_attendance, ("session_id", "secret", "opened_by", "opened_at",
                                     "saved_at", "saved_by", "closed_at"), self.states,
            )  # fmt: skip
            await sink.write(
                results, ("class_id", "person_id", "outcome", "attended", "total", "override",
                          "recorded_by", "recorded_at"), self.results,
            )  # fmt: skip
            await sink.write(
                completions, ("id", "person_id", "programme_id", "class_id", "completed_on",
                              "source"), self.completions,
            )  # fmt: skip
            self.states, self.results, self.completions = [], [], []

    def _self_source(self, c: _Class) -> str:
        if c.format is ClassFormat.ONLINE:
            return "button"
        return "code" if self.rng.random() < 0.55 else "link"

    async def add_class(self, c: _Class, live_marks: dict[int, int]) -> None:
        rng, ts = self.rng, self.sink.ts
        rand = rng.random
        propensity = [_WAVERING if rand() < _WAVERING_SHARE else _STEADY for _ in c.learners]
        attended = [0] * len(c.learners)
        for s in c.sessions:
            if not (s.closed or s.live):
                continue
            opened = min(s.starts_at - timedelta(minutes=15), NOW)
            secret = f"{rng.getrandbits(128):032x}"
            if s.live:
                self.states.append((s.id, secret, s.lecturer_id, ts(opened), None, None, None))
                self._checkins(c, s, opened, live_marks.get(s.id, 0))
                continue
            saved, closed = s.ends_at - _ROLL_SAVED, s.ends_at + CLOSE_AFTER
            saved_ts, closed_ts = ts(saved), ts(closed)
            self.states.append((s.id, secret, s.lecturer_id, ts(opened), saved_ts,
                                s.lecturer_id, closed_ts))  # fmt: skip
            self._closed_marks(c, s, propensity, attended, saved_ts, closed_ts)
            await self.flush()
        if c.status is ClassStatus.FINISHED and c.ends_at + _RESULTS_AFTER <= NOW:
            self._results(c, attended)

    def _closed_marks(self, c: _Class, s: _Session, propensity: list[float],
                      attended: list[int], saved: Any, closed: Any) -> None:  # fmt: skip
        rand, ts, marks = self.rng.random, self.sink.ts, self.marks
        start, lecturer, late_after = s.starts_at, s.lecturer_id, c.late_after
        on_time = late_after + 15  # minutes from 15 before the start to late
        row: tuple[Any, ...]
        for j, person in enumerate(c.learners):
            p = propensity[j]
            u = rand()
            if u < _ABSENT * p:
                if rand() < 0.7:  # never came, unmarked when the session closed
                    row = (s.id, person, c.id, "absent", "close", None, None, closed)
                else:
                    row = (s.id, person, c.id, "absent", "roll", None, lecturer, saved)
            elif u < _MISSED * p:
                row = (s.id, person, c.id, "excused", "roll", None, lecturer, saved)
            elif u < _MISSED * p + _LATE:
                at = ts(start + _MINUTES[late_after + int(rand() * 40) + _OFFSET])
                row = (s.id, person, c.id, "late", self._self_source(c), at, None, at)
                attended[j] += 1
            elif rand() < _SELF_CHECKIN:
                at = ts(start + _MINUTES[int(rand() * on_time) - 15 + _OFFSET])
                row = (s.id, person, c.id, "present", self._self_source(c), at, None, at)
                attended[j] += 1
            else:
                row = (s.id, person, c.id, "present", "roll", None, lecturer, saved)
                attended[j] += 1
            marks.append(row)

    def _checkins(self, c: _Class, s: _Session, opened: datetime, count: int) -> None:
        """The first `count` learners in, by code, between the check-in's opening and NOW."""
        rng, ts = self.rng, self.sink.ts
        until = min(NOW, s.ends_at)
        window = max(1, int((until - opened).total_seconds() // 60))
        late = s.starts_at + timedelta(minutes=c.late_after)
        for person in sorted(rng.sample(c.learners, count)):
            at = opened + timedelta(minutes=rng.randrange(window))
            mark = "late" if at >= late else "present"
            self.marks.append((s.id, person, c.id, mark, self._self_source(c), ts(at), None,
                               ts(at)))  # fmt: skip

    def _results(self, c: _Class, attended: list[int]) -> None:
        """Recorded by the office a few days after the end; a pass is also a completion."""
        total = sum(not s.cancelled for s in c.sessions)
        required = required_sessions(total, c.completion_pct)
        recorded = self.sink.ts(c.ends_at + _RESULTS_AFTER)
        on = self.sink.day(c.ends_at.astimezone(TZ).date())
        for person, count in zip(c.learners, attended, strict=True):
            outcome = _GRADE(self.rng) if count >= required else Outcome.NOT_COMPLETED
            self.results.append((c.id, person, outcome.value, count, total, False, self.admin,
                                 recorded))  # fmt: skip
            if outcome.completed:
                self.completions.append((self.completions_made + 1, person, c.programme.id,
                                         c.id, on, "class"))  # fmt: skip
                self.completions_made += 1


def _live_marks(rng: random.Random, made: list[_Class], remainder: int) -> dict[int, int]:
    """Session id → check-ins so far, for the sessions under way: `remainder` in all."""
    live = [(c, s) for c in made if c.learners for s in c.sessions if s.live]
    rng.shuffle(live)
    taken: dict[int, int] = {}
    for c, s in live:
        n = min(remainder, round(len(c.learners) * rng.uniform(0.4, 1.0)))
        taken[s.id] = n
        remainder -= n
    for c, s in live:
        more = min(remainder, len(c.learners) - taken[s.id])
        taken[s.id] += more
        remainder -= more
    if remainder:
        raise AssertionError("the sessions under way cannot take the remaining marks")
    return taken


# --- the whole -----------------------------------------------------------------------------------


async def _require_empty(conn: AsyncConnection) -> None:
    for table in (units, people, plans, programmes, classes):
        if await conn.scalar(sa.select(sa.func.count()).select_from(table)):
            raise ValueError(f"the database already has {table.name}: generate into an empty one")


async def _code_lists(conn: AsyncConnection) -> dict[str, dict[str, int]]:
    repo = CodeListRepository(conn)
    return {kind: await repo.ids_by_code(kind)
            for kind in ("title", "grade", "professional_title", "ethnicity")}  # fmt: skip


#: Tables given their rows here, whose ids the bot's next rows must follow on PostgreSQL.
_WITH_IDS = (units, people, consents, roles, plans, programmes, classes, class_sessions,
             enrolments, completions)  # fmt: skip
_FILLED = (*_WITH_IDS, unit_closure, plan_targets, class_audience, class_lecturers, attendance,
           session_attendance, results)  # fmt: skip


_FOREIGN_KEYS = sa.text("""
    SELECT rel.relname, con.conname, pg_get_constraintdef(con.oid)
    FROM pg_constraint con JOIN pg_class rel ON rel.oid = con.conrelid
    WHERE con.contype = 'f' AND rel.relnamespace = current_schema()::regnamespace
      AND rel.relname = ANY(:tables)
    ORDER BY rel.relname, con.conname
""")


@asynccontextmanager
async def _foreign_keys_after(conn: AsyncConnection) -> AsyncIterator[None]:
    """PostgreSQL checks a foreign key row by row, locking the row referred to: millions of
    rows would take minutes. The foreign keys of the tables filled here are dropped for the
    load and added back after it, which checks every row again, in one pass each."""
    names = [t.name for t in _FILLED]
    keys = (await conn.execute(_FOREIGN_KEYS, {"tables": names})).all()
    for table, name, _ in keys:
        await conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    yield
    for table, name, definition in keys:
        await conn.exec_driver_sql(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


async def _finish_postgres(conn: AsyncConnection) -> None:
    """Sequences past the ids chosen here, and the statistics autovacuum would gather soon
    after a load (of these tables only: the server may hold other schemas)."""
    for table in _WITH_IDS:
        await conn.execute(sa.text(
            f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), max(id)) "
            f"FROM {table.name}"
        ))  # fmt: skip
    await conn.exec_driver_sql(f"ANALYZE {', '.join(t.name for t in _FILLED)}")


async def generate(
    db: Database,
    *,
    people: int = 100_000,
    classes: int = 5_000,
    sessions: int = 60_000,
    attendance: int = 2_000_000,
    seed: int = 1,
    progress: Callable[[str], None] = lambda _: None,
) -> Generated:
    """Fills an empty, migrated database (see the module's docstring) in one transaction;
    `progress` hears each step begin. Raises ValueError, and writes nothing, for a database
    that is not empty or sizes that cannot fit together (too few people for the staff, fewer
    than two sessions a class, marks too few or too many for the classes' learners)."""
    rng = random.Random(seed)
    tree = _unit_tree(rng)
    plan_ids = {PREVIOUS_YEAR: 1, CURRENT_YEAR: 2}
    catalogue = [_Programme(n + 1, *p) for n, p in enumerate(_PROGRAMMES)]
    async with _loading(db) as sink:
        await _require_empty(sink.conn)
        codes = await _code_lists(sink.conn)
        progress(f"{len(tree)} units, {people:,} people")
        await _write_units(sink, tree)
        roster = await _write_people(sink, rng, tree, people, codes)
        made = _classes(rng, roster, tree, classes, sessions, plan_ids, catalogue)
        remainder = _calibrate(rng, made, attendance)
        begun = [c.seats for c in made if c.status in (ClassStatus.RUNNING, ClassStatus.FINISHED)]
        _fill(rng, made, sum(begun) / max(1, len(begun)))
        progress(f"{classes:,} classes, {sessions:,} sessions, enrolments")
        await _write_training(sink, rng, made, catalogue, plan_ids, ADMIN_TELEGRAM_ID)
        progress(f"{attendance:,} attendance marks, results")
        live = _live_marks(rng, made, remainder)
        marks = _Marks(sink, rng, ADMIN_TELEGRAM_ID)
        for c in made:
            if c.learners and c.status is not ClassStatus.CANCELLED:
                await marks.add_class(c, live)
        await marks.flush(force=True)
    if db.dialect == "sqlite":
        # The load went through the WAL: back into the file, as a settled database would be.
        async with db.lookup() as conn:
            await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    district = next(u for u in tree if u.kind == "district")
    return Generated(
        now=NOW, year=CURRENT_YEAR, plan_id=plan_ids[CURRENT_YEAR],
        previous_plan_id=plan_ids[PREVIOUS_YEAR], root_unit_id=tree[0].id, unit_id=district.id,
        admin_telegram_id=ADMIN_TELEGRAM_ID, unit_head_telegram_id=roster.heads[district.id][1],
        rows=dict(sink.rows),
    )  # fmt: skip

"""A class with someone in every status of enrolment, from two units, for the class-list tests
(storage and end to end): the statuses are written as they are stored, whatever flow made
them (approval and nomination have their own tests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from bot.training import EnrolmentStatus
from storage.database import Database
from storage.schema import classes, enrolments, grades, people, titles
from storage.types import utcnow
from tests.factories import Province, add_class, add_person, add_role, add_unit

ADMIN, LECTURER, OTHER_LECTURER, HEAD, LEARNER = 4801, 4802, 4803, 4804, 4805
KINH, MONG = 1, 8  # ethnicity ids (codes 01, 08)


@dataclass(frozen=True)
class ClassListWorld:
    class_id: int
    code: str
    ids: dict[str, int]
    #: When the pending enrolment's hold ends.
    pending_until: datetime


async def _enrol(
    db: Database,
    class_id: int,
    person_id: int,
    status: EnrolmentStatus,
    *,
    at: datetime,
    ticket: int | None = None,
    **values: object,
) -> None:
    async with db.write() as conn:
        await conn.execute(
            enrolments.insert().values(
                class_id=class_id, person_id=person_id, status=status.value, ticket=ticket,
                created_at=at, updated_at=at, **values,
            )
        )  # fmt: skip


async def _set_post(db: Database, person_id: int, title: str | None, grade: str | None) -> None:
    async with db.write() as conn:
        await conn.execute(
            people.update()
            .where(people.c.id == person_id)
            .values(
                title_id=sa.select(titles.c.id).where(titles.c.code == title).scalar_subquery(),
                grade_id=sa.select(grades.c.id).where(grades.c.code == grade).scalar_subquery(),
            )
        )


async def class_list_world(
    db: Database, province: Province, extra_enrolled: int = 0, *, pending: bool = True
) -> ClassListWorld:
    """Class "DS.01" (capacity 4 + `extra_enrolled`): three enrolled, one pending (unless not
    `pending`), two waiting, one who declined, and one each rejected, expired and withdrawn;
    from the commune and from a division of the department (whose list names it too)."""
    office = await add_unit(db, "SNV.VP", "Văn phòng", province.department_id, "division")
    commune, now = province.commune_id, utcnow().replace(microsecond=0)
    people_ids = {
        "admin": await add_person(db, "Trần Văn Quản", unit_id=province.root_id,
                                  telegram_id=ADMIN, phone="0912000001"),
        "lecturer": await add_person(db, "Đặng Quốc Khánh", unit_id=province.root_id,
                                     telegram_id=LECTURER, gender="male", ethnicity_id=KINH),
        "other_lecturer": await add_person(db, "Phạm Văn Giảng", unit_id=province.root_id,
                                           telegram_id=OTHER_LECTURER, gender="male"),
        "head": await add_person(db, "Sùng A Dế", unit_id=commune, telegram_id=HEAD,
                                 gender="male"),
        "learner": await add_person(db, "Lò Thị Dung", unit_id=commune, telegram_id=LEARNER),
        "phuong": await add_person(db, "Nguyễn Thị Phương", unit_id=commune, birth_year=1999,
                                   phone="0912000111"),
        "binh": await add_person(db, "Trần Văn Bình", unit_id=office, gender="male",
                                 birth_year=1970, ethnicity_id=KINH, phone="0912000222"),
        "an": await add_person(db, "Vàng Văn An", unit_id=commune, gender="male",
                               birth_year=1980),
        "em": await add_person(db, "Vàng Thị Em", unit_id=commune, birth_year=1985),
        "dung": await add_person(db, "Hoàng Văn Dũng", unit_id=office, gender="male",
                                 birth_year=1975, ethnicity_id=KINH),
        "cuong": await add_person(db, "Lò Văn Cường", unit_id=commune, gender="male",
                                  birth_year=1990),
        "phu": await add_person(db, "Sùng A Phủ", unit_id=commune, gender="male"),
        "rejected": await add_person(db, "Giàng A Tủa", unit_id=commune, gender="male"),
        "expired": await add_person(db, "Lý Thị Mai", unit_id=commune),
        "withdrawn": await add_person(db, "Bùi Văn Thắng", unit_id=office, gender="male",
                                      ethnicity_id=KINH),
    }  # fmt: skip
    await add_role(db, people_ids["admin"], "admin")
    await add_role(db, people_ids["lecturer"], "lecturer")
    await add_role(db, people_ids["other_lecturer"], "lecturer")
    await add_role(db, people_ids["head"], "unit_head", commune)
    await _set_post(db, people_ids["phuong"], "PCT_UBND", "01.003")
    await _set_post(db, people_ids["binh"], None, "01.002")
    async with db.write() as conn:
        await conn.execute(
            people.update().where(people.c.id == people_ids["binh"]).values(source_pool=True)
        )
    class_id = await add_class(
        db, "DS.01", capacity=4 + extra_enrolled, name="Bồi dưỡng chuyên viên",
        lecturer_ids=(people_ids["lecturer"],),
    )  # fmt: skip
    day = timedelta(days=1)
    until = now + 3 * day
    for key in ("phuong", "binh", "an"):
        await _enrol(db, class_id, people_ids[key], EnrolmentStatus.ENROLLED, at=now - 9 * day)
    if pending:
        await _enrol(db, class_id, people_ids["em"], EnrolmentStatus.PENDING, at=now - day,
                     expires_at=until, nominated_by=people_ids["head"])  # fmt: skip
    await _enrol(db, class_id, people_ids["dung"], EnrolmentStatus.WAITLISTED, at=now - 5 * day,
                 ticket=1)  # fmt: skip
    await _enrol(db, class_id, people_ids["cuong"], EnrolmentStatus.WAITLISTED, at=now - 4 * day,
                 ticket=2)  # fmt: skip
    await _enrol(db, class_id, people_ids["phu"], EnrolmentStatus.DECLINED, at=now - 2 * day,
                 reason="Trùng lịch tiếp dân", nominated_by=people_ids["head"])  # fmt: skip
    await _enrol(db, class_id, people_ids["rejected"], EnrolmentStatus.REJECTED, at=now - 3 * day,
                 reason="Đơn vị thiếu người")  # fmt: skip
    await _enrol(db, class_id, people_ids["expired"], EnrolmentStatus.EXPIRED, at=now - 6 * day)
    await _enrol(db, class_id, people_ids["withdrawn"], EnrolmentStatus.WITHDRAWN, at=now - 7 * day)
    for n in range(extra_enrolled):
        person = await add_person(db, f"Học viên Số {n + 1:03d}", unit_id=commune, birth_year=1960)
        await _enrol(db, class_id, person, EnrolmentStatus.ENROLLED, at=now - 8 * day)
    async with db.write() as conn:
        await conn.execute(
            classes.update()
            .where(classes.c.id == class_id)
            .values(enrolled_count=4 + extra_enrolled, waitlist_seq=2)
        )
    return ClassListWorld(class_id, "DS.01", people_ids, until)

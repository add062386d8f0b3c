"""Civil servants have a grade (ngạch); public employees a professional title and rank
(chức danh nghề nghiệp, hạng I-IV). Positions (chức vụ) are positions only.

Until now "Viên chức hạng II" sat among the grades, and "Công chức cấp xã", "Chuyên viên",
"Giảng viên" and "Nhân viên" among the positions. Each person keeps what they had, moved to
where it belongs:

- a civil grade (01.xxx) makes a civil servant; "Viên chức hạng N" a public employee of rank N;
- "cấp xã" is a level, not a grade: dropped, the person stays a civil servant;
- an elected position (secretary, chair, vice-chair) makes a cán bộ, whatever the grade;
- the positions "Chuyên viên" and "Nhân viên" become the civil grades of the same name
  when the person has no grade yet and is not a public employee;
- the position "Giảng viên" becomes the professional title "Giảng viên", unless the person
  holds a civil grade (a civil servant who also teaches).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

#: Professional titles of public employees most common in a province (codes are ours).
PROFESSIONAL_TITLES = [
    ("GIANG_VIEN_CC", "Giảng viên cao cấp"),
    ("GIANG_VIEN_CHINH", "Giảng viên chính"),
    ("GIANG_VIEN", "Giảng viên"),
    ("GV_MAM_NON", "Giáo viên mầm non"),
    ("GV_TIEU_HOC", "Giáo viên tiểu học"),
    ("GV_THCS", "Giáo viên trung học cơ sở"),
    ("GV_THPT", "Giáo viên trung học phổ thông"),
    ("BAC_SI", "Bác sĩ"),
    ("Y_SI", "Y sĩ"),
    ("DIEU_DUONG", "Điều dưỡng"),
    ("DUOC_SI", "Dược sĩ"),
    ("KY_SU", "Kỹ sư"),
    ("KY_THUAT_VIEN", "Kỹ thuật viên"),
    ("VAN_THU", "Văn thư viên"),
    ("LUU_TRU", "Lưu trữ viên"),
    ("THU_VIEN", "Thư viện viên"),
    ("BIEN_TAP", "Biên tập viên"),
    ("PHONG_VIEN", "Phóng viên"),
    ("NGHIEN_CUU", "Nghiên cứu viên"),
    ("KHUYEN_NONG", "Khuyến nông viên"),
]
RANKS = {"VC.I": 1, "VC.II": 2, "VC.III": 3, "VC.IV": 4}
#: Positions removed here, with their names, so that a downgrade can put them back.
NOT_POSITIONS = {
    "CV": "Chuyên viên",
    "CC_XA": "Công chức cấp xã",
    "GV": "Giảng viên",
    "NV": "Nhân viên",
}
#: Grades removed here (ranks of public employees, and "cấp xã", which is a level).
OLD_GRADES = {
    "VC.I": "Viên chức hạng I",
    "VC.II": "Viên chức hạng II",
    "VC.III": "Viên chức hạng III",
    "VC.IV": "Viên chức hạng IV",
    "CX": "Cán bộ, công chức cấp xã",
}
#: Elected or appointed to a term: cán bộ (Luật Cán bộ, công chức, Điều 4).
ELECTED = ("BT", "PBT", "CT_UBND", "PCT_UBND", "CT_HDND", "CT_MTTQ")
#: "Chuyên viên" and "Nhân viên" as positions were the civil grades of the same name.
POSITIONS_THAT_WERE_GRADES = {"CV": "01.003", "NV": "01.005"}


def upgrade() -> None:
    op.create_table(
        "professional_titles",
        sa.Column("id", Id, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_professional_titles"),
        sa.UniqueConstraint("code", name="uq_professional_titles_code"),
    )
    professional = sa.table(
        "professional_titles", sa.column("id"), sa.column("code"), sa.column("name")
    )
    op.bulk_insert(professional, [{"code": c, "name": n} for c, n in PROFESSIONAL_TITLES])
    with op.batch_alter_table("people") as batch:
        batch.add_column(sa.Column("employment", sa.String(12)))
        batch.add_column(
            sa.Column(
                "professional_title_id",
                Id,
                sa.ForeignKey(
                    "professional_titles.id",
                    name="fk_people_professional_title_id_professional_titles",
                ),
            )
        )
        batch.add_column(sa.Column("professional_rank", sa.SmallInteger))
        batch.create_check_constraint(
            "employment",
            "employment IS NULL OR employment IN ('can_bo', 'cong_chuc', 'vien_chuc')",
        )
        batch.create_check_constraint(
            "professional_rank", "professional_rank IS NULL OR professional_rank BETWEEN 1 AND 4"
        )
    _move_people()


def _move_people() -> None:
    conn = op.get_bind()
    people = sa.table(
        "people", sa.column("grade_id"), sa.column("title_id"), sa.column("employment"),
        sa.column("professional_title_id"), sa.column("professional_rank"),
    )  # fmt: skip
    grades = sa.table("grades", sa.column("id"), sa.column("code"))
    titles = sa.table("titles", sa.column("id"), sa.column("code"))
    professional = sa.table("professional_titles", sa.column("id"), sa.column("code"))
    grade = dict(conn.execute(sa.select(grades.c.code, grades.c.id)).all())
    title = dict(conn.execute(sa.select(titles.c.code, titles.c.id)).all())
    lecturer = conn.execute(
        sa.select(professional.c.id).where(professional.c.code == "GIANG_VIEN")
    ).scalar_one()

    def update(where: sa.ColumnElement[bool], **values: object) -> None:
        conn.execute(people.update().where(where).values(**values))

    civil = [i for code, i in grade.items() if code.startswith("01.")]
    update(people.c.grade_id.in_(civil), employment="cong_chuc")
    for code, rank in RANKS.items():
        if code in grade:
            update(
                people.c.grade_id == grade[code],
                employment="vien_chuc", professional_rank=rank, grade_id=None,
            )  # fmt: skip
    if "CX" in grade:  # "cán bộ, công chức cấp xã" says where they work, not a grade
        update(people.c.grade_id == grade["CX"], employment="cong_chuc", grade_id=None)
    elected = [title[code] for code in ELECTED if code in title]
    update(people.c.title_id.in_(elected), employment="can_bo")
    not_public_employee = sa.or_(people.c.employment.is_(None), people.c.employment != "vien_chuc")
    for position, civil_grade in POSITIONS_THAT_WERE_GRADES.items():
        if position in title and civil_grade in grade:
            update(
                sa.and_(
                    people.c.title_id == title[position],
                    people.c.grade_id.is_(None),
                    not_public_employee,
                ),
                grade_id=grade[civil_grade],
            )
            update(
                sa.and_(people.c.title_id == title[position], people.c.employment.is_(None)),
                employment="cong_chuc",
            )
    if "GV" in title:  # a lecturer with a civil grade is a civil servant who also teaches
        no_civil_grade = sa.or_(people.c.grade_id.is_(None), people.c.grade_id.not_in(civil))
        update(
            sa.and_(people.c.title_id == title["GV"], no_civil_grade),
            professional_title_id=lecturer,
            employment=sa.func.coalesce(people.c.employment, "vien_chuc"),
        )
    moved = [title[code] for code in NOT_POSITIONS if code in title]
    update(people.c.title_id.in_(moved), title_id=None)
    conn.execute(titles.delete().where(titles.c.id.in_(moved)))
    conn.execute(grades.delete().where(grades.c.code.in_([*RANKS, "CX"])))


def downgrade() -> None:
    """Put the old lists back, and the ranks back as grades.

    What cannot be told apart any more stays as it is now: who was "cấp xã", and which
    civil servants had "Chuyên viên" or "Nhân viên" as their position.
    """
    conn = op.get_bind()
    people = sa.table(
        "people", sa.column("grade_id"), sa.column("title_id"), sa.column("employment"),
        sa.column("professional_title_id"), sa.column("professional_rank"),
    )  # fmt: skip
    grades = sa.table("grades", sa.column("id"), sa.column("code"), sa.column("name"))
    titles = sa.table("titles", sa.column("id"), sa.column("code"), sa.column("name"))
    professional = sa.table("professional_titles", sa.column("id"), sa.column("code"))
    op.bulk_insert(grades, [{"code": c, "name": n} for c, n in OLD_GRADES.items()])
    op.bulk_insert(titles, [{"code": c, "name": n} for c, n in NOT_POSITIONS.items()])
    grade = dict(conn.execute(sa.select(grades.c.code, grades.c.id)).all())
    title = dict(conn.execute(sa.select(titles.c.code, titles.c.id)).all())
    for code, rank in RANKS.items():
        conn.execute(
            people.update()
            .where(people.c.professional_rank == rank, people.c.grade_id.is_(None))
            .values(grade_id=grade[code])
        )
    lecturer = sa.select(professional.c.id).where(professional.c.code == "GIANG_VIEN")
    conn.execute(
        people.update()
        .where(people.c.professional_title_id.in_(lecturer), people.c.title_id.is_(None))
        .values(title_id=title["GV"])
    )
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint("professional_rank", type_="check")
        batch.drop_constraint("employment", type_="check")
        batch.drop_column("professional_rank")
        batch.drop_column("professional_title_id")
        batch.drop_column("employment")
    op.drop_table("professional_titles")

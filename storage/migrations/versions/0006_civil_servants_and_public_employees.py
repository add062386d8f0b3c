"""Civil servants have a grade (ngạch); public employees a professional title and rank
(chức danh nghề nghiệp, hạng I-IV). Positions (chức vụ) are positions only.

Until now "Viên chức hạng II" sat among the grades, and "Công chức cấp xã", "Chuyên viên",
"Giảng viên" and "Nhân viên" among the positions. Each person keeps what they had, moved to
where it belongs.

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
NOT_POSITIONS = ("CV", "CC_XA", "GV", "NV")


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
    civil = [i for code, i in grade.items() if code.startswith("01.")]
    conn.execute(people.update().where(people.c.grade_id.in_(civil)).values(employment="cong_chuc"))
    for code, rank in RANKS.items():
        if code in grade:
            conn.execute(
                people.update()
                .where(people.c.grade_id == grade[code])
                .values(employment="vien_chuc", professional_rank=rank, grade_id=None)
            )
    if "CX" in grade:  # commune cadres and civil servants: a grade is not what they are
        conn.execute(
            people.update()
            .where(people.c.grade_id == grade["CX"])
            .values(employment="cong_chuc", grade_id=None)
        )
    if "GV" in title:
        conn.execute(
            people.update()
            .where(people.c.title_id == title["GV"])
            .values(professional_title_id=lecturer)
        )
    moved = [title[code] for code in NOT_POSITIONS if code in title]
    conn.execute(people.update().where(people.c.title_id.in_(moved)).values(title_id=None))
    conn.execute(titles.delete().where(titles.c.id.in_(moved)))
    conn.execute(grades.delete().where(grades.c.code.in_([*RANKS, "CX"])))


def downgrade() -> None:
    with op.batch_alter_table("people") as batch:
        batch.drop_constraint("ck_people_professional_rank", type_="check")
        batch.drop_constraint("ck_people_employment", type_="check")
        batch.drop_column("professional_rank")
        batch.drop_column("professional_title_id")
        batch.drop_column("employment")
    op.drop_table("professional_titles")

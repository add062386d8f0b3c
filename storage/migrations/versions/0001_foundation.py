"""Foundation: code lists, units, people, consents, roles, audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Time = sa.DateTime(timezone=True)

# The 54 ethnic groups in the official order of the General Statistics Office list.
ETHNICITIES = [
    "Kinh", "Tày", "Thái", "Mường", "Khmer", "Hoa", "Nùng", "Mông", "Dao", "Gia Rai",
    "Ê Đê", "Ba Na", "Sán Chay", "Chăm", "Cơ Ho", "Xơ Đăng", "Sán Dìu", "Hrê", "Ra Glai",
    "Mnông", "Thổ", "Xtiêng", "Khơ Mú", "Bru - Vân Kiều", "Cơ Tu", "Giáy", "Tà Ôi", "Mạ",
    "Giẻ Triêng", "Co", "Chơ Ro", "Xinh Mun", "Hà Nhì", "Chu Ru", "Lào", "Kháng", "La Chí",
    "Phù Lá", "La Hủ", "La Ha", "Pà Thẻn", "Chứt", "Lự", "Lô Lô", "Mảng", "Cờ Lao", "Bố Y",
    "Cống", "Ngái", "Si La", "Pu Péo", "Rơ Măm", "Brâu", "Ơ Đu",
]  # fmt: skip

GRADES = [
    ("01.001", "Chuyên viên cao cấp"),
    ("01.002", "Chuyên viên chính"),
    ("01.003", "Chuyên viên"),
    ("01.004", "Cán sự"),
    ("01.005", "Nhân viên"),
    ("VC.I", "Viên chức hạng I"),
    ("VC.II", "Viên chức hạng II"),
    ("VC.III", "Viên chức hạng III"),
    ("VC.IV", "Viên chức hạng IV"),
    ("CX", "Cán bộ, công chức cấp xã"),
]

TITLES = [
    ("BT", "Bí thư"),
    ("PBT", "Phó Bí thư"),
    ("CT_UBND", "Chủ tịch UBND"),
    ("PCT_UBND", "Phó Chủ tịch UBND"),
    ("CT_HDND", "Chủ tịch HĐND"),
    ("CT_MTTQ", "Chủ tịch Ủy ban MTTQ"),
    ("GD", "Giám đốc"),
    ("PGD", "Phó Giám đốc"),
    ("TP", "Trưởng phòng"),
    ("PTP", "Phó Trưởng phòng"),
    ("CV", "Chuyên viên"),
    ("CC_XA", "Công chức cấp xã"),
    ("GV", "Giảng viên"),
    ("NV", "Nhân viên"),
]


def _fold(text: str) -> str:
    """Frozen copy of bot.text_search.fold: a migration must not change when the app does."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def upgrade() -> None:
    op.create_table(
        "units",
        sa.Column("id", Id, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_search", sa.String(200), nullable=False),
        sa.Column("parent_id", Id, sa.ForeignKey("units.id", name="fk_units_parent_id_units")),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_units"),
        sa.UniqueConstraint("code", name="uq_units_code"),
    )
    op.create_index("ix_units_name_search", "units", ["name_search"])
    op.create_index("ix_units_parent_id", "units", ["parent_id"])

    code_list = []
    for name in ("titles", "grades"):
        code_list.append(
            op.create_table(
                name,
                sa.Column("id", Id, primary_key=True),
                sa.Column("code", sa.String(32), nullable=False),
                sa.Column("name", sa.String(200), nullable=False),
                sa.PrimaryKeyConstraint("id", name=f"pk_{name}"),
                sa.UniqueConstraint("code", name=f"uq_{name}_code"),
            )
        )
    ethnicities = op.create_table(
        "ethnicities",
        sa.Column("id", Id, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("name_search", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ethnicities"),
        sa.UniqueConstraint("code", name="uq_ethnicities_code"),
    )

    op.create_table(
        "people",
        sa.Column("id", Id, primary_key=True),
        sa.Column("full_name", sa.String(150), nullable=False),
        sa.Column("name_search", sa.String(150), nullable=False),
        sa.Column("unit_id", Id, sa.ForeignKey("units.id", name="fk_people_unit_id_units")),
        sa.Column("title_id", Id, sa.ForeignKey("titles.id", name="fk_people_title_id_titles")),
        sa.Column("grade_id", Id, sa.ForeignKey("grades.id", name="fk_people_grade_id_grades")),
        sa.Column("gender", sa.String(6)),
        sa.Column("birth_year", sa.SmallInteger),
        sa.Column(
            "ethnicity_id",
            Id,
            sa.ForeignKey("ethnicities.id", name="fk_people_ethnicity_id_ethnicities"),
        ),
        sa.Column("phone", sa.String(20)),
        sa.Column("telegram_id", sa.BigInteger),
        sa.Column("source", sa.String(10), nullable=False),
        sa.Column("verified", sa.Boolean, nullable=False),
        sa.Column(
            "verified_by", Id, sa.ForeignKey("people.id", name="fk_people_verified_by_people")
        ),
        sa.Column("verified_at", Time),
        sa.Column("source_pool", sa.Boolean, nullable=False),
        sa.Column("language", sa.String(2)),
        sa.Column("consent_at", Time),
        sa.Column("created_at", Time, nullable=False),
        sa.Column("updated_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_people"),
        sa.UniqueConstraint("telegram_id", name="uq_people_telegram_id"),
        sa.CheckConstraint("source IN ('roster', 'self')", name="ck_people_source"),
        sa.CheckConstraint(
            "gender IS NULL OR gender IN ('male', 'female')", name="ck_people_gender"
        ),
    )
    op.create_index("ix_people_name_search", "people", ["name_search"])
    op.create_index("ix_people_unit_id", "people", ["unit_id"])
    op.create_index("ix_people_phone", "people", ["phone"])

    op.create_table(
        "consents",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "person_id",
            Id,
            sa.ForeignKey("people.id", name="fk_consents_person_id_people"),
            nullable=False,
        ),
        sa.Column("notice_version", sa.String(16), nullable=False),
        sa.Column("given_at", Time, nullable=False),
        sa.Column("withdrawn_at", Time),
        sa.PrimaryKeyConstraint("id", name="pk_consents"),
    )
    op.create_index("ix_consents_person_id", "consents", ["person_id"])

    op.create_table(
        "roles",
        sa.Column("id", Id, primary_key=True),
        sa.Column(
            "person_id",
            Id,
            sa.ForeignKey("people.id", name="fk_roles_person_id_people"),
            nullable=False,
        ),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("unit_id", Id, sa.ForeignKey("units.id", name="fk_roles_unit_id_units")),
        sa.Column("granted_by", sa.BigInteger),
        sa.Column("granted_at", Time, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_roles"),
        sa.UniqueConstraint("person_id", "role", "unit_id", name="uq_roles_person_id_role_unit_id"),
        sa.CheckConstraint("role IN ('lecturer', 'unit_head', 'admin')", name="ck_roles_role"),
        sa.CheckConstraint(
            "(role = 'unit_head') = (unit_id IS NOT NULL)", name="ck_roles_unit_scope"
        ),
    )
    op.create_index("ix_roles_person_id", "roles", ["person_id"])

    op.create_table(
        "audit_log",
        sa.Column("id", Id, primary_key=True),
        sa.Column("at", Time, nullable=False),
        sa.Column("actor_telegram_id", sa.BigInteger),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column(
            "person_id", Id, sa.ForeignKey("people.id", name="fk_audit_log_person_id_people")
        ),
        sa.Column("details", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_person_id", "audit_log", ["person_id"])

    op.bulk_insert(
        ethnicities,
        [
            {"id": i, "code": f"{i:02d}", "name": name, "name_search": _fold(name)}
            for i, name in enumerate(ETHNICITIES, start=1)
        ],
    )
    titles, grades = code_list
    op.bulk_insert(titles, [{"code": c, "name": n} for c, n in TITLES])
    op.bulk_insert(grades, [{"code": c, "name": n} for c, n in GRADES])


def downgrade() -> None:
    for name in ("audit_log", "roles", "consents", "people", "ethnicities", "grades", "titles"):
        op.drop_table(name)
    op.drop_table("units")

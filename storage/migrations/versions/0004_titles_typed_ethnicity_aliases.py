"""A position typed when it is not in the list; the other names of ethnic groups.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import unicodedata

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

#: Other names the groups are known by (the 1979 official list of Vietnam's ethnic groups
#: and common usage), so that "H'Mông", "Mèo" or "Cao Lan" find their group.
ALIASES = {
    "Kinh": "Việt",
    "Tày": "Thổ Tày, Ngạn, Phén, Thu Lao, Pa Dí",
    "Thái": "Tày Thanh, Tày Mười, Tày Dọ, Hàng Tổng, Pu Thay, Thổ Đà Bắc",
    "Mường": "Mol, Mual, Mọi, Mọi Bi, Ao Tá, Ậu Tá",
    "Khmer": "Khơ Me, Cur, Cul, Cu, Việt gốc Miên",
    "Hoa": "Hán, Triều Châu, Phúc Kiến, Quảng Đông, Hải Nam, Hạ, Xạ Phạng",
    "Nùng": "Xuồng, Giang, Nùng An, Phàn Sinh, Nùng Cháo, Nùng Lòi, Quý Rim, Khèn Lài",
    "Mông": "H'Mông, Hmông, Hmong, Mèo, Mẹo, Mán Trắng, Na Miẻo",
    "Dao": "Mán, Động, Trại, Xá, Dìu Miền, Kiềm Miền, Quần Trắng, Dao Đỏ, Dao Tiền, "
    "Thanh Y, Lan Tẻn, Đại Bản, Tiểu Bản, Cóc Ngáng, Cóc Mùn, Sơn Đầu",
    "Gia Rai": "Giơ Rai, Tơ Buăn, Chơ Rai, Hơ Bau, Hdrung, Chor",
    "Ê Đê": "Ra Đê, Đê, Kpạ, A Đham, Krung, Ktul, Đliê Ruê, Blô, Epan, Mđhur, Bih",
    "Ba Na": "Gơ Lar, Tơ Lô, Giơ Lâng, Rơ Ngao, Krem, Roh, Con Kde, A La Công, Kpăng Công",
    "Sán Chay": "Cao Lan, Sán Chỉ, Mán Cao Lan, Hờn Bạn",
    "Chăm": "Chàm, Chiêm Thành, Hroi",
    "Cơ Ho": "Xrê, Nốp, Tu Lốp, Cơ Don, Chil, Lat, Lach, Trinh",
    "Xơ Đăng": "Xơ Teng, Hđang, Tơ Đra, Mơ Nâm, Hà Lăng, Ca Dong",
    "Sán Dìu": "Sán Dẻo, Trại Đất, Mán Quần Cộc",
    "Hrê": "Chăm Rê, Chom, Krẹ Lũy",
    "Ra Glai": "Ra Clây, Rai, Noang, La Oang",
    "Mnông": "Pnông, Nông, Pré, Bu Đâng, Điprí, Biat, Rơ Lam",
    "Thổ": "Kẹo, Mọn, Cuối, Họ, Đan Lai, Ly Hà, Tày Pọng",
    "Xtiêng": "Xa Điêng",
    "Khơ Mú": "Xá Cẩu, Mứn Xen, Pu Thênh, Tềnh, Tày Hay",
    "Bru - Vân Kiều": "Bru, Vân Kiều, Măng Coong, Tri Khùa",
    "Cơ Tu": "Ca Tu, Cao, Phương",
    "Giáy": "Nhắng, Dẩng, Pầu Thìn Nu Nà, Cùi Chu",
    "Tà Ôi": "Tôi Ôi, Pa Co, Pa Hi",
    "Mạ": "Châu Mạ, Mạ Ngăn, Mạ Xóp, Mạ Tô, Mạ Krung",
    "Giẻ Triêng": "Đgiéh, Tareb, Giang Rẫy Pin, Triêng, Treng, Ta Riêng, Ve, La Ve",
    "Co": "Cor, Col, Cùa, Trầu",
    "Chơ Ro": "Dơ Ro, Châu Ro",
    "Xinh Mun": "Puộc, Pụa",
    "Hà Nhì": "U Ni, Xá U Ni",
    "Chu Ru": "Chơ Ru, Chu",
    "Lào": "Lào Bốc, Lào Nọi",
    "Kháng": "Xá Khao, Xá Súa, Xá Dón, Xá Dẩng, Xá Hốc, Xá Ái, Xá Bung, Quảng Lâm",
    "La Chí": "Cù Tê, La Quả",
    "Phù Lá": "Bồ Khô Pạ, Mu Di, Pạ Xá, Phó, Phổ, Va Xơ",
    "La Hủ": "Lao, Pu Đang, Khù Xung, Cò Xung, Khả Quy",
    "La Ha": "Khlá Phlạo",
    "Pà Thẻn": "Pà Hưng, Tống",
    "Chứt": "Rục, Sách, Arem, Mày, Mã Liềng",
    "Lự": "Lừ, Nhuồn Duôn",
    "Lô Lô": "Mun Di",
    "Mảng": "Mảng Ư, Xá Lá Vàng",
    "Bố Y": "Chủng Chá, Trọng Gia, Tu Dí, Tu Din",
    "Cống": "Xắm Khống, Mấng Nhé, Xá Xeng",
    "Ngái": "Xín, Lê, Đản, Khách Gia",
    "Si La": "Cù Dề Xừ, Khả Pẻ",
    "Pu Péo": "Ka Pèo, Pen Ti Lô Lô",
}


def compact(text: str) -> str:
    """The search form of storage.repositories.code_lists, frozen here as of this revision."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()
    return "".join(c for c in bare if c.isalnum())


def upgrade() -> None:
    op.add_column("people", sa.Column("title_other", sa.String(100)))
    op.add_column(
        "ethnicities", sa.Column("search_text", sa.String(600), nullable=False, server_default="")
    )
    ethnicities = sa.table(
        "ethnicities", sa.column("id"), sa.column("name"), sa.column("search_text")
    )
    conn = op.get_bind()
    for ethnicity_id, name in conn.execute(sa.select(ethnicities.c.id, ethnicities.c.name)):
        names = [name, *(a.strip() for a in ALIASES.get(name, "").split(",") if a.strip())]
        conn.execute(
            ethnicities.update()
            .where(ethnicities.c.id == ethnicity_id)
            .values(search_text=";".join(compact(n) for n in names))
        )


def downgrade() -> None:
    with op.batch_alter_table("ethnicities") as batch:
        batch.drop_column("search_text")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("title_other")

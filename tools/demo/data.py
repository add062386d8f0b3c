"""Deterministic demo data of a fictional northern mountain province, for the sandbox and tests.

Everything is pure Python so that it can be generated, inspected and tested without a
database; `tools.demo.seed` turns it into rows. The same `seed` and `people` always give
the same units and roster (only a private `random.Random(seed)` is used), and a handful of
well-known identities stay fixed whatever the seed, so that the sandbox, its guide and the
tests can refer to them by name, phone and Telegram id.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

from bot.text_search import fold
from bot.training import YOUNG_UNDER

DEFAULT_SEED = 2026
DEFAULT_PEOPLE = 500
#: Ages are counted against this year, not today, so the roster never drifts between runs.
REFERENCE_YEAR = 2026
MIN_AGE = 23
MAX_AGE = 60
YOUNG_AGE_LIMIT = YOUNG_UNDER

PROVINCE_NAME = "Tỉnh Sơn Lâm"
ROOT_CODE = "TINH"
SCHOOL_CODE = "TCT"
#: The commune of the demo unit head, the demo learner and the newcomer.
HOME_COMMUNE_CODE = "XA.LUNGCU"

ADMIN_TELEGRAM_ID = 900001
DEMO_OFFICE_PHONE = "0214 3812 345"  # made up: the sandbox's training office
UNIT_HEAD_TELEGRAM_ID = 900002
LECTURER_TELEGRAM_ID = 900003
LEARNER_TELEGRAM_ID = 900004
#: The sandbox's own cadre: not linked in the roster; onboards by sharing NEWCOMER_PHONE.
NEWCOMER_TELEGRAM_ID = 900005
NEWCOMER_PHONE = "+84912000005"
#: Roster people already using the bot get consecutive Telegram ids from here.
LINKED_TELEGRAM_ID_START = 910000
LINKED_SHARE = 0.01

MIN_LOCALITIES = 20
MAX_LOCALITIES = 120
LOCALITIES_AT_MAX = 100_000


@dataclass(frozen=True, slots=True)
class DemoUnit:
    """One unit of the tree; parents always come before their children in `DemoData.units`."""

    code: str
    name: str
    kind: str
    parent_code: str | None


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """One roster record; codes refer to the code lists seeded by migration 0001.

    `title_code` is the person's job as the first release listed it (a position, or one of
    CV, NV, GV, CC_XA) and `grade_code` their grade or rank (01.x, VC.x, or CX for an
    elected commune cadre, who has none): tools.demo.seed files each where it now belongs
    (migration 0006).
    """

    full_name: str
    gender: str
    birth_year: int
    ethnicity_code: str
    unit_code: str
    title_code: str
    grade_code: str
    phone: str
    telegram_id: int | None
    source_pool: bool
    #: A profile the cadre declared in the bot, still awaiting their unit head's confirmation.
    self_declared: bool = False

    @property
    def linked(self) -> bool:
        """Linked people have started the bot and consented; the seed gives them consent_at."""
        return self.telegram_id is not None


@dataclass(frozen=True, slots=True)
class DemoIdentities:
    """The people the sandbox and the tests log in as; the same for every seed and size."""

    admin: DemoPerson
    unit_head: DemoPerson
    lecturer: DemoPerson
    learner: DemoPerson
    newcomer: DemoPerson

    def all(self) -> tuple[DemoPerson, ...]:
        return (self.admin, self.unit_head, self.lecturer, self.learner, self.newcomer)


@dataclass(frozen=True, slots=True)
class DemoData:
    """Units (parents first) and the roster, whose first five records are the identities."""

    seed: int
    province_name: str
    units: tuple[DemoUnit, ...]
    people: tuple[DemoPerson, ...]
    identities: DemoIdentities


DEMO_IDENTITIES = DemoIdentities(
    admin=DemoPerson(
        full_name="Hoàng Thị Thu Hằng",
        gender="female",
        birth_year=1984,
        ethnicity_code="02",  # Tày
        unit_code=SCHOOL_CODE,
        title_code="GV",
        grade_code="VC.II",
        phone="+84912000001",
        telegram_id=ADMIN_TELEGRAM_ID,
        source_pool=False,
    ),
    unit_head=DemoPerson(
        full_name="Giàng Seo Páo",
        gender="male",
        birth_year=1978,
        ethnicity_code="08",  # Mông
        unit_code=HOME_COMMUNE_CODE,
        title_code="CT_UBND",
        grade_code="CX",
        phone="+84912000002",
        telegram_id=UNIT_HEAD_TELEGRAM_ID,
        source_pool=False,
    ),
    lecturer=DemoPerson(
        full_name="Đặng Quốc Khánh",
        gender="male",
        birth_year=1981,
        ethnicity_code="01",  # Kinh
        unit_code="TCT.KXDD",
        title_code="GV",
        grade_code="VC.I",
        phone="+84912000003",
        telegram_id=LECTURER_TELEGRAM_ID,
        source_pool=False,
    ),
    learner=DemoPerson(
        full_name="Lò Thị Dung",
        gender="female",
        birth_year=1998,
        ethnicity_code="44",  # Lô Lô
        unit_code=HOME_COMMUNE_CODE,
        title_code="CC_XA",
        grade_code="01.003",
        phone="+84912000004",
        telegram_id=LEARNER_TELEGRAM_ID,
        source_pool=True,
    ),
    newcomer=DemoPerson(
        full_name="Triệu Thị Đào",
        gender="female",
        birth_year=1995,
        ethnicity_code="09",  # Dao
        unit_code=HOME_COMMUNE_CODE,
        title_code="CC_XA",
        grade_code="01.004",
        phone=NEWCOMER_PHONE,
        telegram_id=None,
        source_pool=False,
    ),
)

#: The sandbox's Zalo cadre (`:zalo`): on no roster, so they declare a profile. The Zalo id is
#: fixed, so their account, and the profile linked to it, are theirs again after a restart.
ZALO_NEWCOMER_ID = "5d1e0a7b3c9f2e4a6b80"
ZALO_NEWCOMER = DemoPerson(
    full_name="Vàng Thị Mai",
    gender="female",
    birth_year=1996,
    ethnicity_code="08",  # Mông
    unit_code=HOME_COMMUNE_CODE,
    title_code="CC_XA",
    grade_code="01.004",
    phone="+84912000006",
    telegram_id=None,
    source_pool=False,
)

#: Self-declared profiles in the unit head's commune, so /pending has work in the sandbox.
DEMO_SELF_DECLARED = tuple(
    DemoPerson(
        full_name=name,
        gender=gender,
        birth_year=year,
        ethnicity_code=ethnicity,
        unit_code=HOME_COMMUNE_CODE,
        title_code="CC_XA",
        grade_code=grade,
        phone=f"+849120001{n:02d}",
        telegram_id=900010 + n,
        source_pool=False,
        self_declared=True,
    )
    for n, (name, gender, year, ethnicity, grade) in enumerate(
        [
            ("Vàng Thị Mai", "female", 1996, "08", "01.004"),  # Mông
            ("Lù Văn Pao", "male", 1991, "44", "01.003"),  # Lô Lô
            ("Nông Thị Hạnh", "female", 1999, "02", "01.004"),  # Tày
        ],
        start=1,
    )
)

# --- Units -----------------------------------------------------------------------------------
# Staffing profiles decide staff titles and which grade scale applies: "civil" (công chức),
# "public" (viên chức of a public-service unit), "school" (lecturers), "local" (commune level).


@dataclass(frozen=True, slots=True)
class _Post:
    """How a unit is staffed: leader titles in order, then staff drawn from `profile`."""

    unit: DemoUnit
    profile: str
    leaders: tuple[str, ...]
    weight: float
    fixed: bool = False  # exactly its leaders, outside the weighted draw


_COMMUNE_LEADERS = ("BT", "CT_UBND", "PBT", "CT_HDND", "PCT_UBND", "PCT_UBND", "CT_MTTQ")
_DEPARTMENT_LEADERS = ("GD", "PGD", "PGD", "PGD")
_DIVISION_LEADERS = ("TP", "PTP", "PTP")
_CENTRE_LEADERS = ("GD", "PGD")

# (code, name, divisions); a division is (suffix, name, profile).
_DEPARTMENTS: tuple[tuple[str, str, tuple[tuple[str, str, str], ...]], ...] = (
    ("SNV", "Sở Nội vụ", (
        ("VP", "Văn phòng Sở", "civil"),
        ("TCCB", "Phòng Tổ chức cán bộ", "civil"),
        ("CCVC", "Phòng Công chức, viên chức", "civil"),
        ("XDCQ", "Phòng Xây dựng chính quyền và Công tác thanh niên", "civil"),
        ("LDVL", "Phòng Lao động, Việc làm và Bảo hiểm xã hội", "civil"),
        ("LTLS", "Trung tâm Lưu trữ lịch sử", "public"),
    )),
    ("STC", "Sở Tài chính", (
        ("VP", "Văn phòng Sở", "civil"),
        ("QLNS", "Phòng Quản lý ngân sách", "civil"),
        ("QLDT", "Phòng Quản lý đầu tư", "civil"),
        ("TCDN", "Phòng Tài chính doanh nghiệp", "civil"),
        ("XTDT", "Trung tâm Xúc tiến đầu tư", "public"),
    )),
    ("SGDDT", "Sở Giáo dục và Đào tạo", (
        ("VP", "Văn phòng Sở", "civil"),
        ("TCCB", "Phòng Tổ chức cán bộ", "civil"),
        ("GDPT", "Phòng Giáo dục phổ thông", "civil"),
        ("GDMN", "Phòng Giáo dục mầm non", "civil"),
        ("KTKD", "Phòng Khảo thí và Kiểm định chất lượng giáo dục", "civil"),
        ("GDTX", "Trung tâm Giáo dục thường xuyên tỉnh", "public"),
    )),
    ("SYT", "Sở Y tế", (
        ("VP", "Văn phòng Sở", "civil"),
        ("TCCB", "Phòng Tổ chức cán bộ", "civil"),
        ("NVY", "Phòng Nghiệp vụ Y", "civil"),
        ("NVD", "Phòng Nghiệp vụ Dược", "civil"),
        ("KSBT", "Trung tâm Kiểm soát bệnh tật", "public"),
    )),
    ("SNNMT", "Sở Nông nghiệp và Môi trường", (
        ("VP", "Văn phòng Sở", "civil"),
        ("TCCB", "Phòng Tổ chức cán bộ", "civil"),
        ("TTBVTV", "Phòng Trồng trọt và Bảo vệ thực vật", "civil"),
        ("QLDD", "Phòng Quản lý đất đai", "civil"),
        ("MT", "Phòng Môi trường", "civil"),
        ("CCKL", "Chi cục Kiểm lâm", "civil"),
        ("KN", "Trung tâm Khuyến nông", "public"),
    )),
    ("SXD", "Sở Xây dựng", (
        ("VP", "Văn phòng Sở", "civil"),
        ("QHKT", "Phòng Quản lý quy hoạch - kiến trúc", "civil"),
        ("HTGT", "Phòng Kết cấu hạ tầng giao thông", "civil"),
        ("QLXD", "Phòng Quản lý xây dựng", "civil"),
    )),
    ("SCT", "Sở Công Thương", (
        ("VP", "Văn phòng Sở", "civil"),
        ("QLTM", "Phòng Quản lý thương mại", "civil"),
        ("QLCN", "Phòng Quản lý công nghiệp", "civil"),
        ("KTAT", "Phòng Kỹ thuật an toàn và Môi trường", "civil"),
    )),
    ("SKHCN", "Sở Khoa học và Công nghệ", (
        ("VP", "Văn phòng Sở", "civil"),
        ("QLKH", "Phòng Quản lý khoa học", "civil"),
        ("CDS", "Phòng Chuyển đổi số", "civil"),
        ("BCVT", "Phòng Bưu chính, Viễn thông", "civil"),
        ("CNTT", "Trung tâm Công nghệ thông tin và Truyền thông", "public"),
    )),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", (
        ("VP", "Văn phòng Sở", "civil"),
        ("QLVH", "Phòng Quản lý văn hóa và Gia đình", "civil"),
        ("QLDL", "Phòng Quản lý du lịch", "civil"),
        ("TDTT", "Phòng Quản lý thể dục thể thao", "civil"),
        ("BT", "Bảo tàng tỉnh", "public"),
    )),
    ("STP", "Sở Tư pháp", (
        ("VP", "Văn phòng Sở", "civil"),
        ("XDVB", "Phòng Xây dựng và Kiểm tra văn bản", "civil"),
        ("PBPL", "Phòng Phổ biến, giáo dục pháp luật", "civil"),
        ("HCTP", "Phòng Hành chính tư pháp", "civil"),
        ("TGPL", "Trung tâm Trợ giúp pháp lý nhà nước", "public"),
    )),
    ("SDTTG", "Sở Dân tộc và Tôn giáo", (
        ("VP", "Văn phòng Sở", "civil"),
        ("CSDT", "Phòng Chính sách dân tộc", "civil"),
        ("TG", "Phòng Tôn giáo", "civil"),
    )),
    ("TTRA", "Thanh tra tỉnh", (
        ("VP", "Văn phòng Thanh tra tỉnh", "civil"),
        ("NV1", "Phòng Nghiệp vụ 1", "civil"),
        ("NV2", "Phòng Nghiệp vụ 2", "civil"),
        ("PCTN", "Phòng Phòng, chống tham nhũng, tiêu cực", "civil"),
    )),
    ("VPUBND", "Văn phòng Ủy ban nhân dân tỉnh", (
        ("TH", "Phòng Tổng hợp", "civil"),
        ("KT", "Phòng Kinh tế", "civil"),
        ("KGVX", "Phòng Khoa giáo - Văn xã", "civil"),
        ("HCC", "Trung tâm Phục vụ hành chính công", "public"),
    )),
    ("VPHDND", "Văn phòng Đoàn đại biểu Quốc hội và Hội đồng nhân dân tỉnh", (
        ("CTQH", "Phòng Công tác Quốc hội", "civil"),
        ("CTHD", "Phòng Công tác Hội đồng nhân dân", "civil"),
    )),
)  # fmt: skip

# Organs of the provincial Party committee; the Political School has its own divisions.
_PARTY_ORGANS = (
    ("TU.VP", "Văn phòng Tỉnh ủy"),
    ("TU.BTC", "Ban Tổ chức Tỉnh ủy"),
    ("TU.BTGDV", "Ban Tuyên giáo và Dân vận Tỉnh ủy"),
    ("TU.UBKT", "Ủy ban Kiểm tra Tỉnh ủy"),
    ("TU.BNC", "Ban Nội chính Tỉnh ủy"),
    ("TU.DUUB", "Đảng ủy Ủy ban nhân dân tỉnh"),
    ("TU.DUCQD", "Đảng ủy các cơ quan Đảng tỉnh"),
)
_SCHOOL_DIVISIONS = (
    ("QLDT", "Phòng Quản lý đào tạo và Nghiên cứu khoa học", "public"),
    ("TCHC", "Phòng Tổ chức - Hành chính", "public"),
    ("KXDD", "Khoa Xây dựng Đảng", "school"),
    ("KLLCS", "Khoa Lý luận cơ sở", "school"),
    ("KNNPL", "Khoa Nhà nước và Pháp luật", "school"),
    ("KDV", "Khoa Dân vận", "school"),
)
_FRONT_ORGANISATIONS = (
    ("MTTQ.HND", "Hội Nông dân tỉnh"),
    ("MTTQ.HPN", "Hội Liên hiệp Phụ nữ tỉnh"),
    ("MTTQ.TD", "Tỉnh đoàn"),
    ("MTTQ.CCB", "Hội Cựu chiến binh tỉnh"),
    ("MTTQ.LDLD", "Liên đoàn Lao động tỉnh"),
)

# Wards around the provincial town, then mountain communes; the home commune comes first.
_WARDS = (
    "Sơn Lâm 1", "Sơn Lâm 2", "Sơn Lâm 3", "Ngọc Đường", "Quang Trung", "Minh Khai",
    "Nguyễn Trãi", "Đồng Tâm",
)  # fmt: skip
_COMMUNES = (
    "Lũng Cú", "Đồng Văn", "Sà Phìn", "Phố Bảng", "Lũng Phìn", "Sủng Máng", "Sơn Vĩ",
    "Mèo Vạc", "Khâu Vai", "Niêm Sơn", "Tát Ngà", "Pải Lủng", "Xín Cái", "Thượng Phùng",
    "Yên Minh", "Mậu Duệ", "Du Già", "Đường Thượng", "Ngọc Long", "Sủng Thài", "Bạch Đích",
    "Thắng Mố", "Quản Bạ", "Cán Tỷ", "Tùng Vài", "Nghĩa Thuận", "Lùng Tám", "Bát Đại Sơn",
    "Bắc Mê", "Minh Ngọc", "Yên Cường", "Đường Hồng", "Giáp Trung", "Minh Sơn", "Vị Xuyên",
    "Thanh Thủy", "Minh Tân", "Phú Linh", "Linh Hồ", "Việt Lâm", "Tùng Bá", "Cao Bồ",
    "Thượng Sơn", "Bạch Ngọc", "Hoàng Su Phì", "Thông Nguyên", "Hồ Thầu", "Nậm Dịch",
    "Tụ Nhân", "Pờ Ly Ngài", "Bản Máy", "Thàng Tín", "Tân Tiến", "Xín Mần", "Nà Chì",
    "Pà Vầy Sủ", "Trung Thịnh", "Khuôn Lùng", "Quảng Nguyên", "Nấm Dẩn", "Bắc Quang",
    "Việt Quang", "Vĩnh Tuy", "Đồng Yên", "Tân Quang", "Liên Hiệp", "Hùng An", "Bằng Hành",
    "Quang Bình", "Yên Thành", "Xuân Giang", "Bằng Lang", "Tiên Yên", "Tân Trịnh",
    "Tiên Nguyên", "Lao Chải", "Phương Độ", "Thuận Hòa", "Trà Lĩnh", "Quảng Uyên",
    "Hà Quảng", "Tổng Cọt", "Trùng Khánh", "Đàm Thủy", "Đình Phong", "Bảo Lạc", "Cốc Pàng",
    "Cô Ba", "Khánh Xuân", "Xuân Trường", "Hưng Đạo", "Nguyên Bình", "Tĩnh Túc", "Ca Thành",
    "Phan Thanh", "Tam Kim", "Nam Tuấn", "Thạch An", "Đông Khê", "Đức Long", "Canh Tân",
    "Bát Xát", "Y Tý", "A Mú Sung", "Trịnh Tường", "Mường Hum", "Dền Sáng", "Bản Xèo",
    "Tả Phìn", "Tả Van", "Bản Hồ", "Mường Bo", "Nghĩa Đô", "Phúc Khánh", "Si Ma Cai",
    "Sín Chéng", "Lùng Phình", "Bản Liền", "Pha Long", "Bản Lầu", "Cao Sơn", "Mường Khương",
    "Đạo Đức",
)  # fmt: skip

# Shares of the roster by group of units (the rest of a group's share is split by weight).
_LOCAL_SHARE = 0.55
_DEPARTMENT_SHARE = 0.27
_PARTY_SHARE = 0.07
_SCHOOL_SHARE = 0.04
_FRONT_SHARE = 0.07


def locality_count(people: int) -> int:
    """Communes and wards grow with the roster: 20 for small demos, 120 at 100,000 people."""
    scaled = MIN_LOCALITIES + (MAX_LOCALITIES - MIN_LOCALITIES) * people / LOCALITIES_AT_MAX
    return max(MIN_LOCALITIES, min(MAX_LOCALITIES, round(scaled)))


def _ascii_code(name: str) -> str:
    return fold(name).replace(" ", "").upper()


def _posts(people: int, rng: random.Random) -> list[_Post]:
    """The unit tree with staffing; commune sizes vary a little with the seed."""
    root = DemoUnit(ROOT_CODE, PROVINCE_NAME, "province", None)
    posts = [
        _Post(root, "civil", ("CT_UBND", "PCT_UBND", "PCT_UBND", "PCT_UBND", "CT_HDND"), 0, True)
    ]

    committee = DemoUnit("TU", "Tỉnh ủy", "party", ROOT_CODE)
    posts.append(_Post(committee, "civil", ("BT", "PBT", "PBT"), 0, True))
    for code, name in _PARTY_ORGANS:
        unit = DemoUnit(code, name, "party", committee.code)
        posts.append(_Post(unit, "civil", (), _PARTY_SHARE / len(_PARTY_ORGANS)))
    school = DemoUnit(SCHOOL_CODE, "Trường Chính trị tỉnh", "party", committee.code)
    school_weight = _SCHOOL_SHARE / (len(_SCHOOL_DIVISIONS) + 1)
    posts.append(_Post(school, "school", (), school_weight))
    for suffix, name, profile in _SCHOOL_DIVISIONS:
        unit = DemoUnit(f"{SCHOOL_CODE}.{suffix}", name, "division", SCHOOL_CODE)
        leaders: tuple[str, ...] = _DIVISION_LEADERS[:2] if profile == "public" else ()
        posts.append(_Post(unit, profile, leaders, school_weight))

    front = DemoUnit("MTTQ", "Ủy ban Mặt trận Tổ quốc Việt Nam tỉnh", "front", ROOT_CODE)
    front_weight = _FRONT_SHARE / (len(_FRONT_ORGANISATIONS) + 1)
    posts.append(_Post(front, "civil", ("CT_MTTQ",), front_weight))
    for code, name in _FRONT_ORGANISATIONS:
        posts.append(_Post(DemoUnit(code, name, "front", front.code), "civil", (), front_weight))

    department_weight = _DEPARTMENT_SHARE / len(_DEPARTMENTS)
    for code, name, divisions in _DEPARTMENTS:
        is_so = name.startswith("Sở ")
        posts.append(
            _Post(
                DemoUnit(code, name, "department", ROOT_CODE),
                "civil",
                _DEPARTMENT_LEADERS if is_so else (),
                department_weight * 0.08,
            )
        )
        for suffix, division_name, profile in divisions:
            leaders = _CENTRE_LEADERS if profile == "public" else _DIVISION_LEADERS
            unit = DemoUnit(f"{code}.{suffix}", division_name, "division", code)
            posts.append(_Post(unit, profile, leaders, department_weight * 0.92 / len(divisions)))

    total = locality_count(people)
    wards = min(len(_WARDS), 2 + total // 20)
    localities = [("ward", "Phường", "PH", n) for n in _WARDS[:wards]]
    localities += [("commune", "Xã", "XA", n) for n in _COMMUNES[: total - wards]]
    # Ward offices are a little larger than mountain communes.
    raw = [(1.2 if kind == "ward" else 1.0) * rng.uniform(0.7, 1.3) for kind, *_ in localities]
    scale = _LOCAL_SHARE / sum(raw)
    seen = {post.unit.code for post in posts}
    reserved = Counter((p.unit_code, p.title_code) for p in DEMO_IDENTITIES.all())
    for (kind, prefix, code_prefix, name), weight in zip(localities, raw, strict=True):
        code = f"{code_prefix}.{_ascii_code(name)}"
        n = 2
        while code in seen:  # two names may fold to the same letters
            code = f"{code_prefix}.{_ascii_code(name)}{n}"
            n += 1
        seen.add(code)
        unreserved = list(_COMMUNE_LEADERS)
        for (unit_code, title), count in reserved.items():
            if unit_code == code and title in unreserved:
                for _ in range(count):
                    unreserved.remove(title)
        unit = DemoUnit(code, f"{prefix} {name}", kind, ROOT_CODE)
        posts.append(_Post(unit, "local", tuple(unreserved), weight * scale))
    return posts


# --- People ----------------------------------------------------------------------------------


class _Pick:
    """A weighted choice in O(log n) from one `rng.random()`; faster than `rng.choices`."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, weighted: Iterable[tuple[str, float]]) -> None:
        pairs = list(weighted)
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(weight for _, weight in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> str:
        return self.items[bisect(self.cum, rng.random() * self.total)]


def _even(items: Sequence[str]) -> _Pick:
    return _Pick((item, 1.0) for item in items)


#: Ethnicity codes (migration 0001) with shares plausible for a northern mountain province:
#: Kinh cadres mostly work in the provincial town, the minorities in their communes (over
#: the whole roster about 30% Mông, 20% Tày, 15% Dao, 15% Kinh, 10% Nùng).
_MINORITIES = (
    ("08", 30), ("02", 20), ("09", 15), ("07", 10),  # Mông Tày Dao Nùng
    ("26", 2.0), ("44", 1.2), ("38", 1.2), ("06", 1.2), ("37", 1.0), ("41", 0.8),
    ("03", 0.6), ("13", 0.6), ("51", 0.5), ("47", 0.5), ("46", 0.4),
)  # fmt: skip
_ETHNICITY = {
    "local": _Pick([("01", 9), *_MINORITIES]),
    "provincial": _Pick([("01", 25), *_MINORITIES]),
}

_FAMILY_NAMES: dict[str, _Pick] = {
    "01": _Pick([
        ("Nguyễn", 30), ("Trần", 10), ("Lê", 8), ("Phạm", 7), ("Hoàng", 5), ("Vũ", 5),
        ("Đỗ", 4), ("Bùi", 4), ("Đặng", 3), ("Ngô", 3), ("Dương", 3), ("Phan", 3),
        ("Đinh", 2), ("Đào", 2), ("Đoàn", 2), ("Lương", 2), ("Hà", 2), ("Trịnh", 2),
        ("Mai", 1), ("Tạ", 1),
    ]),
    "02": _Pick([
        ("Hoàng", 15), ("Nông", 12), ("Ma", 10), ("Nguyễn", 8), ("Hà", 8), ("Lương", 6),
        ("Bế", 5), ("Vi", 5), ("Hứa", 4), ("Lục", 3), ("Đàm", 3), ("Triệu", 3), ("La", 3),
        ("Mạc", 3), ("Quan", 2),
    ]),
    "07": _Pick([
        ("Nông", 12), ("Hoàng", 10), ("Lục", 8), ("Lý", 8), ("Vi", 5), ("Chu", 4),
        ("Ngôn", 3), ("Mã", 3), ("Hứa", 3), ("Lăng", 3), ("Sầm", 2),
    ]),
    "08": _Pick([
        ("Giàng", 20), ("Vàng", 18), ("Sùng", 15), ("Thào", 12), ("Lý", 10), ("Ly", 8),
        ("Mua", 6), ("Hầu", 5), ("Lầu", 5), ("Hạng", 4), ("Thò", 3), ("Cư", 3), ("Vừ", 3),
        ("Tráng", 3),
    ]),
    "09": _Pick([
        ("Triệu", 20), ("Bàn", 18), ("Đặng", 15), ("Lý", 12), ("Phùng", 8), ("Chảo", 8),
        ("Tẩn", 5), ("Hoàng", 4), ("Chu", 3), ("Lò", 3),
    ]),
    "26": _Pick([("Lù", 10), ("Hoàng", 8), ("Lò", 8), ("Sèn", 5), ("Vương", 5), ("Giàng", 3)]),
    "44": _Pick([("Lò", 10), ("Sìn", 8), ("Lù", 6), ("Vàng", 4)]),
    "38": _Pick([("Ly", 5), ("Lù", 5), ("Sần", 3), ("Vàng", 2)]),
    "06": _Pick([
        ("Trương", 8), ("Lưu", 8), ("Hoàng", 6), ("Trần", 6), ("Lâm", 6), ("Diệp", 4),
        ("Vương", 4), ("Tăng", 3),
    ]),
    "37": _Pick([("Vương", 6), ("Lùng", 5), ("Ly", 5), ("Sèn", 4), ("Hoàng", 4)]),
    "41": _Pick([("Tẩn", 4), ("Lý", 4), ("Hoàng", 3), ("Đặng", 3)]),
    "03": _Pick([
        ("Lò", 15), ("Lường", 10), ("Cầm", 8), ("Hà", 8), ("Tòng", 6), ("Điêu", 4),
        ("Vì", 4), ("Quàng", 4),
    ]),
    "13": _Pick([("Hoàng", 6), ("Trần", 4), ("Lâm", 4), ("Lý", 3), ("Nịnh", 3)]),
    "51": _Pick([("Chẩu", 8), ("Ly", 6), ("Sáng", 4), ("Vần", 4)]),
    "47": _Pick([("Lý", 6), ("Hoàng", 5), ("Sầm", 4), ("Lương", 3)]),
    "46": _Pick([("Sần", 4), ("Phù", 3), ("Lý", 3), ("Cáo", 2)]),
}  # fmt: skip

_MALE_GIVEN = _even((
    "Hùng", "Dũng", "Tuấn", "Thắng", "Quân", "Đức", "Long", "Hải", "Bình", "Cường", "Khánh",
    "Phong", "Sơn", "Thành", "Trung", "Huy", "Hoàng", "Đạt", "Quyết", "Tiến", "Nam", "Hưng",
    "Vinh", "Kiên", "Tùng", "Việt", "Duy", "Hiếu", "Lâm", "Định", "Chiến", "Đông", "Mạnh",
    "Phú", "Quý", "Toàn", "Trường", "Tú", "Nghĩa", "Thịnh", "Hậu", "Lợi", "Hòa", "Phúc",
    "Thuận", "Dương", "Khải", "Điệp", "Quảng", "Thượng",
))  # fmt: skip
_FEMALE_GIVEN = _even((
    "Phương", "Hương", "Lan", "Mai", "Hoa", "Thảo", "Huyền", "Trang", "Hằng", "Nga", "Loan",
    "Yến", "Thủy", "Ngọc", "Linh", "Dung", "Hạnh", "Nhung", "Oanh", "Quỳnh", "Liên", "Ánh",
    "Đào", "Diệp", "Giang", "Hà", "Hiền", "Vân", "Thu", "Tuyết", "Nhàn", "Thơ", "Lụa", "Huệ",
    "Chinh", "Xuân", "Hồng", "Thắm", "Nguyệt", "Duyên", "Diễm", "Điệp",
))  # fmt: skip
_HMONG_MALE_GIVEN = _even((
    "Páo", "Sử", "Chứ", "Dính", "Mua", "Chúng", "Sính", "Lử", "Tủa", "Súa", "Vừ", "Pó",
    "Tráng", "Của", "Dế", "Sà", "Chính", "Lầu", "Nhà", "Phử", "Cở", "Chìa", "Thề", "Xá",
    "Dũng", "Hùng", "Đức", "Tùng",
))  # fmt: skip
_HMONG_FEMALE_GIVEN = _even((
    "Mỷ", "Dợ", "Mai", "Sua", "Dung", "Chở", "Và", "Ly", "Pà", "Lan", "Mẩy", "Dí", "Chu",
    "Sinh", "Xúa", "Máy", "Chía", "Pàng", "Hoa", "Thảo",
))  # fmt: skip

_KINH_MALE_MIDDLE = _Pick([
    ("Văn", 35), ("Đức", 8), ("Minh", 8), ("Quang", 6), ("Hữu", 5), ("Xuân", 5), ("Ngọc", 4),
    ("Mạnh", 4), ("Tiến", 4), ("Thanh", 4), ("Công", 4), ("Trọng", 3), ("Đình", 4),
    ("Anh", 3), ("Việt", 3), ("Quốc", 3),
])  # fmt: skip
_MINORITY_MALE_MIDDLE = _Pick([
    ("Văn", 70), ("Đức", 6), ("Minh", 6), ("Quang", 5), ("Tiến", 5), ("Hữu", 4), ("Xuân", 4),
])  # fmt: skip
_HMONG_MALE_MIDDLE = _Pick([
    ("A", 20), ("Seo", 22), ("Mí", 20), ("Chá", 8), ("Văn", 25), ("Xuân", 5),
])  # fmt: skip
_KINH_FEMALE_MIDDLE = _Pick([
    ("Thị", 60), ("Thu", 6), ("Ngọc", 6), ("Thanh", 6), ("Hồng", 5), ("Minh", 4),
    ("Phương", 4), ("Kim", 3), ("Bích", 3), ("Hải", 3),
])  # fmt: skip
_MINORITY_FEMALE_MIDDLE = _Pick([("Thị", 88), ("Thu", 4), ("Hồng", 4), ("Ngọc", 4)])
_HMONG_FEMALE_MIDDLE = _Pick([("Thị", 90), ("Mí", 10)])
#: A second middle name, as in "Nguyễn Thị Thu Hà", for some women named "Thị".
_SECOND_MIDDLE = _even(("Thu", "Thanh", "Ngọc", "Hồng", "Kim", "Minh", "Phương", "Bích"))

_STAFF_TITLES = {
    "civil": _Pick([("CV", 85), ("NV", 15)]),
    "public": _Pick([("CV", 60), ("NV", 40)]),
    "school": _Pick([("GV", 100)]),
    "local": _Pick([("CC_XA", 85), ("NV", 15)]),
}
_TOP = ("BT", "PBT", "CT_UBND", "PCT_UBND", "CT_HDND", "CT_MTTQ")
_CIVIL_GRADES: dict[str, _Pick] = {
    **{title: _Pick([("01.001", 70), ("01.002", 30)]) for title in _TOP},
    "GD": _Pick([("01.001", 50), ("01.002", 50)]),
    "PGD": _Pick([("01.001", 20), ("01.002", 80)]),
    "TP": _Pick([("01.002", 70), ("01.003", 30)]),
    "PTP": _Pick([("01.002", 40), ("01.003", 60)]),
    "CV": _Pick([("01.002", 17), ("01.003", 75), ("01.004", 8)]),
    "NV": _Pick([("01.004", 30), ("01.005", 70)]),
}
_PUBLIC_GRADES: dict[str, _Pick] = {
    "GD": _Pick([("VC.I", 40), ("VC.II", 60)]),
    "PGD": _Pick([("VC.I", 15), ("VC.II", 85)]),
    "TP": _Pick([("VC.II", 80), ("VC.III", 20)]),
    "PTP": _Pick([("VC.II", 40), ("VC.III", 60)]),
    "CV": _Pick([("VC.II", 15), ("VC.III", 70), ("VC.IV", 15)]),
    "NV": _Pick([("VC.III", 20), ("VC.IV", 80)]),
    "GV": _Pick([("VC.I", 10), ("VC.II", 35), ("VC.III", 55)]),
}
#: Commune civil servants hold the grades of the provincial ones, mostly "Chuyên viên".
_COMMUNE_GRADES = {
    "CC_XA": _Pick([("01.002", 4), ("01.003", 71), ("01.004", 25)]),
    "NV": _Pick([("01.004", 20), ("01.005", 80)]),
}
#: Leaders are older than staff; (youngest, oldest) age for each leadership title.
_LEADER_AGES = {
    "BT": (40, 60), "PBT": (36, 59), "CT_UBND": (38, 60), "PCT_UBND": (35, 59),
    "CT_HDND": (40, 60), "CT_MTTQ": (40, 60), "GD": (42, 60), "PGD": (38, 59),
    "TP": (35, 58), "PTP": (31, 57),
}  # fmt: skip
_STAFF_AGE_MODE = 34
#: Share of women by title: leadership is more often male, staff about evenly split.
_FEMALE_SHARE = {
    **dict.fromkeys(_TOP, 0.22), "GD": 0.25, "PGD": 0.3, "TP": 0.38, "PTP": 0.42,
    "CV": 0.44, "NV": 0.46, "CC_XA": 0.41, "GV": 0.48,
}  # fmt: skip
_PHONE_PREFIXES = (
    "+8496", "+8497", "+8498", "+8491", "+8494", "+8490", "+8493",
    "+8432", "+8433", "+8434", "+8435", "+8436", "+8437", "+8438", "+8439",
)  # fmt: skip
_PHONE_CHOICES = len(_PHONE_PREFIXES)


def _phone(rand: Callable[[], float]) -> str:
    """A canonical Vietnamese mobile number (+84 and nine digits) on a real network prefix."""
    return f"{_PHONE_PREFIXES[int(rand() * _PHONE_CHOICES)]}{int(rand() * 10_000_000):07d}"


def _grade(profile: str, title: str, rng: random.Random) -> str:
    """Civil servants have a grade, commune ones included; elected commune cadres "CX"."""
    if profile == "local":
        return "CX" if title in _TOP else _COMMUNE_GRADES[title](rng)
    table = _PUBLIC_GRADES if profile in ("public", "school") else _CIVIL_GRADES
    pick = table.get(title) or _CIVIL_GRADES[title]
    return pick(rng)


def _full_name(ethnicity: str, female: bool, rng: random.Random) -> str:
    family = _FAMILY_NAMES[ethnicity](rng)
    if ethnicity == "08":
        middle = (_HMONG_FEMALE_MIDDLE if female else _HMONG_MALE_MIDDLE)(rng)
        given = (_HMONG_FEMALE_GIVEN if female else _HMONG_MALE_GIVEN)(rng)
        return f"{family} {middle} {given}"
    if female:
        kinh = ethnicity == "01"
        middle = (_KINH_FEMALE_MIDDLE if kinh else _MINORITY_FEMALE_MIDDLE)(rng)
        if middle == "Thị" and rng.random() < (0.25 if kinh else 0.1):
            middle = f"Thị {_SECOND_MIDDLE(rng)}"
        return f"{family} {middle} {_FEMALE_GIVEN(rng)}"
    middle = (_KINH_MALE_MIDDLE if ethnicity == "01" else _MINORITY_MALE_MIDDLE)(rng)
    return f"{family} {middle} {_MALE_GIVEN(rng)}"


def generate_demo_data(seed: int = DEFAULT_SEED, people: int = DEFAULT_PEOPLE) -> DemoData:
    """The units and a roster of `people` records (identities included), the same per seed."""
    identities = DEMO_IDENTITIES.all()
    fixed = len(identities) + len(DEMO_SELF_DECLARED)
    if people < fixed:
        raise ValueError(f"people must be at least {fixed} (the demo identities)")
    rng = random.Random(seed)
    posts = _posts(people, rng)
    by_code = {post.unit.code: post for post in posts}
    missing = {p.unit_code for p in identities} - by_code.keys()
    if missing:
        raise AssertionError(f"demo identities refer to unknown units: {sorted(missing)}")

    remaining = people - fixed
    counts: Counter[str] = Counter()
    for post in posts:
        if post.fixed:
            counts[post.unit.code] = taken = min(len(post.leaders), remaining)
            remaining -= taken
    weighted = [post for post in posts if not post.fixed]
    cum = list(accumulate(post.weight for post in weighted))
    for post in rng.choices(weighted, cum_weights=cum, k=remaining):
        counts[post.unit.code] += 1

    used_phones = {p.phone for p in (*identities, *DEMO_SELF_DECLARED, ZALO_NEWCOMER)}
    reserved_names = {p.full_name for p in (*identities, *DEMO_SELF_DECLARED)}
    roster: list[DemoPerson] = list(identities)
    next_telegram_id = LINKED_TELEGRAM_ID_START
    rand = rng.random
    for post in posts:
        code, profile, leaders = post.unit.code, post.profile, post.leaders
        staff_title = _STAFF_TITLES[profile]
        count = counts[code]
        # Small demos would otherwise be all bosses: leaders fill at most a third of a unit.
        n_leaders = len(leaders) if post.fixed else min(len(leaders), max(1, count // 3))
        for i in range(count):
            title = leaders[i] if i < n_leaders else staff_title(rng)
            if title in _LEADER_AGES:
                age = rng.randint(*_LEADER_AGES[title])
            else:
                age = int(rng.triangular(MIN_AGE, MAX_AGE + 1, _STAFF_AGE_MODE))
            female = rand() < _FEMALE_SHARE[title]
            ethnicity = _ETHNICITY["local" if profile == "local" else "provincial"](rng)
            name = _full_name(ethnicity, female, rng)
            while name in reserved_names:
                name = _full_name(ethnicity, female, rng)
            phone = _phone(rand)
            while phone in used_phones:
                phone = _phone(rand)
            used_phones.add(phone)
            telegram_id = None
            if rand() < LINKED_SHARE:
                telegram_id = next_telegram_id
                next_telegram_id += 1
            roster.append(
                DemoPerson(
                    full_name=name,
                    gender="female" if female else "male",
                    birth_year=REFERENCE_YEAR - min(age, MAX_AGE),
                    ethnicity_code=ethnicity,
                    unit_code=code,
                    title_code=title,
                    grade_code=_grade(profile, title, rng),
                    phone=phone,
                    telegram_id=telegram_id,
                    # Cán bộ nguồn are picked among the not-yet-old, not-yet-top people.
                    source_pool=rand() < (0.065 if age < 45 and title not in _TOP else 0.01),
                )
            )
    return DemoData(
        seed=seed,
        province_name=PROVINCE_NAME,
        units=tuple(post.unit for post in posts),
        people=(*roster, *DEMO_SELF_DECLARED),
        identities=DEMO_IDENTITIES,
    )


def blocked_the_bot(person: DemoPerson) -> bool:
    """About one linked cadre in nine has blocked the bot (never a demo identity), so that
    delivery reports in the sandbox list people the office has to phone."""
    return person.telegram_id is not None and (
        person.telegram_id >= LINKED_TELEGRAM_ID_START and person.telegram_id % 9 == 0
    )

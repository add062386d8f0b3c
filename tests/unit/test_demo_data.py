"""The demo province must be stable per seed and look like a real mountain province's roster."""

from __future__ import annotations

import importlib
import re
from collections import Counter

import phonenumbers
import pytest

from bot.text_search import fold
from tools.demo.data import (
    DEMO_IDENTITIES,
    DEMO_SELF_DECLARED,
    HOME_COMMUNE_CODE,
    LINKED_TELEGRAM_ID_START,
    MAX_AGE,
    MIN_AGE,
    NEWCOMER_PHONE,
    NEWCOMER_TELEGRAM_ID,
    REFERENCE_YEAR,
    SCHOOL_CODE,
    YOUNG_AGE_LIMIT,
    DemoData,
    generate_demo_data,
    locality_count,
)

foundation = importlib.import_module("storage.migrations.versions.0001_foundation")
TITLE_CODES = {code for code, _ in foundation.TITLES}
GRADE_CODES = {code for code, _ in foundation.GRADES}
ETHNICITY_CODES = {f"{i:02d}" for i in range(1, len(foundation.ETHNICITIES) + 1)}


@pytest.fixture(scope="module")
def big() -> DemoData:
    """Large enough for proportions to settle, small enough to stay fast."""
    return generate_demo_data(seed=11, people=5_000)


def share(items: list[bool]) -> float:
    return sum(items) / len(items)


def test_same_seed_gives_same_data_and_another_seed_differs() -> None:
    first = generate_demo_data(seed=7, people=300)
    assert generate_demo_data(seed=7, people=300) == first
    other = generate_demo_data(seed=8, people=300)
    assert other.people != first.people
    assert [p.full_name for p in other.people[5:]] != [p.full_name for p in first.people[5:]]


def test_identities_are_fixed_and_lead_the_roster() -> None:
    for seed, size in ((1, 8), (2026, 500)):
        data = generate_demo_data(seed=seed, people=size)
        assert data.identities == DEMO_IDENTITIES
        assert data.people[:5] == DEMO_IDENTITIES.all()
    ids = DEMO_IDENTITIES
    assert [p.telegram_id for p in ids.all()[:4]] == [900001, 900002, 900003, 900004]
    assert all(p.linked for p in ids.all()[:4])
    assert ids.newcomer.phone == NEWCOMER_PHONE == "+84912000005"
    assert ids.newcomer.telegram_id is None and not ids.newcomer.linked
    assert NEWCOMER_TELEGRAM_ID == 900005
    assert ids.admin.unit_code == SCHOOL_CODE and ids.admin.title_code == "GV"
    assert ids.unit_head.unit_code == ids.learner.unit_code == HOME_COMMUNE_CODE


def test_identity_names_are_not_reused_by_generated_people(big: DemoData) -> None:
    names = Counter(p.full_name for p in big.people)
    assert all(names[p.full_name] == 1 for p in DEMO_IDENTITIES.all())


def test_too_small_a_roster_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 8"):
        generate_demo_data(seed=1, people=7)


def test_localities_scale_with_the_roster() -> None:
    assert locality_count(500) == 20
    assert locality_count(100_000) == 120
    assert locality_count(1_000_000) == 120
    sizes = [locality_count(n) for n in range(0, 100_001, 5_000)]
    assert sizes == sorted(sizes)
    small = generate_demo_data(seed=1, people=500)
    local = [u for u in small.units if u.kind in ("commune", "ward")]
    assert len(local) == 20


def test_unit_tree_is_well_formed(big: DemoData) -> None:
    codes = [u.code for u in big.units]
    assert len(codes) == len(set(codes))
    assert all(re.fullmatch(r"[A-Z0-9.]{1,32}", code) for code in codes)
    seen: set[str] = set()
    for unit in big.units:
        assert unit.parent_code is None or unit.parent_code in seen
        seen.add(unit.code)
    roots = [u for u in big.units if u.parent_code is None]
    assert [u.kind for u in roots] == ["province"]
    kinds = Counter(u.kind for u in big.units)
    assert set(kinds) == {"province", "party", "front", "department", "division", "commune", "ward"}
    names = {u.name for u in big.units}
    assert {"Trường Chính trị tỉnh", "Ban Tổ chức Tỉnh ủy", "Sở Nội vụ", "Tỉnh đoàn"} <= names
    assert "Xã Lũng Cú" in names
    assert any("đ" in name.lower() for name in names if name.startswith(("Xã", "Phường")))
    assert len({fold(name) for name in names}) == len(names)


def test_people_refer_to_known_codes(big: DemoData) -> None:
    unit_codes = {u.code for u in big.units}
    for person in big.people:
        assert person.unit_code in unit_codes
        assert person.title_code in TITLE_CODES
        assert person.grade_code in GRADE_CODES
        assert person.ethnicity_code in ETHNICITY_CODES
        assert person.gender in ("male", "female")
        assert MIN_AGE <= REFERENCE_YEAR - person.birth_year <= MAX_AGE


def test_names_look_vietnamese(big: DemoData) -> None:
    people = big.people
    assert share([p.full_name != fold(p.full_name) for p in people]) > 0.9
    assert any("Đ" in p.full_name or "đ" in p.full_name for p in people)
    assert all(3 <= len(p.full_name.split()) <= 4 for p in people)
    with_thi = [p for p in people if p.full_name.split()[1] == "Thị"]
    assert with_thi and all(p.gender == "female" for p in with_thi)
    women = [p for p in people if p.gender == "female"]
    assert share([p.full_name.split()[1] == "Thị" for p in women]) > 0.6
    families = Counter(p.full_name.split()[0] for p in people)
    assert {"Nguyễn", "Giàng", "Vàng", "Sùng", "Triệu", "Hoàng"} <= set(families)


def test_priority_groups_have_plausible_shares(big: DemoData) -> None:
    people = big.people
    assert 0.38 <= share([p.gender == "female" for p in people]) <= 0.47
    young = [REFERENCE_YEAR - p.birth_year < YOUNG_AGE_LIMIT for p in people]
    assert 0.2 <= share(young) <= 0.45
    assert 0.03 <= share([p.source_pool for p in people]) <= 0.08
    ethnicity = Counter(p.ethnicity_code for p in people)
    n = len(people)
    assert 0.26 <= ethnicity["08"] / n <= 0.34  # Mông
    assert 0.16 <= ethnicity["02"] / n <= 0.24  # Tày
    assert 0.12 <= ethnicity["09"] / n <= 0.18  # Dao
    assert 0.12 <= ethnicity["01"] / n <= 0.18  # Kinh
    assert 0.07 <= ethnicity["07"] / n <= 0.13  # Nùng
    assert len(ethnicity) >= 10
    # Kinh cadres work mostly in the provincial town, the minorities in their communes.
    local = {u.code for u in big.units if u.kind in ("commune", "ward")}
    kinh_local = share([p.ethnicity_code == "01" for p in people if p.unit_code in local])
    kinh_town = share([p.ethnicity_code == "01" for p in people if p.unit_code not in local])
    assert kinh_local < 0.12 < 0.18 < kinh_town


def test_titles_match_units(big: DemoData) -> None:
    kind = {u.code: u.kind for u in big.units}
    for person in big.people:
        if person.title_code in ("CC_XA", "CT_UBND", "BT", "PBT"):
            assert kind[person.unit_code] in ("commune", "ward", "province", "party")
        # Elected commune cadres have no grade; commune civil servants have a civil one.
        if kind[person.unit_code] in ("commune", "ward"):
            elected = person.title_code in ("BT", "PBT", "CT_UBND", "PCT_UBND", "CT_HDND",
                                            "CT_MTTQ")  # fmt: skip
            assert (person.grade_code == "CX") is elected
            assert elected or person.grade_code.startswith("01.")
    titles = Counter(p.title_code for p in big.people)
    assert titles["CC_XA"] > titles["TP"] > 0 and titles["GV"] > 0


def test_phones_are_canonical_valid_and_unique(big: DemoData) -> None:
    phones = [p.phone for p in big.people]
    assert len(phones) == len(set(phones))
    assert all(re.fullmatch(r"\+84[39]\d{8}", phone) for phone in phones)
    for phone in phones[:300]:
        assert phonenumbers.is_valid_number(phonenumbers.parse(phone))


def test_self_declared_profiles_await_the_unit_heads_confirmation(big: DemoData) -> None:
    declared = [p for p in big.people if p.self_declared]
    assert declared == list(DEMO_SELF_DECLARED) == list(big.people[-3:])
    assert all(p.linked and p.unit_code == HOME_COMMUNE_CODE for p in declared)


def test_about_one_percent_already_linked(big: DemoData) -> None:
    others = [p for p in big.people[5:] if not p.self_declared]
    linked = [p.telegram_id for p in others if p.telegram_id is not None]
    assert 0.005 <= len(linked) / len(others) <= 0.02
    assert linked == list(range(LINKED_TELEGRAM_ID_START, LINKED_TELEGRAM_ID_START + len(linked)))

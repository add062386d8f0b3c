"""The demo's learners are drawn so that progress reports read like a real province's: not
everyone trained, some units more than others and a few not at all, priority groups at
different rates, and nobody trained twice on the same programme or twice on one day."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from bot.training import ClassStatus
from tools.demo.classes import NEVER_LAGGING, DemoClass, DemoTraining, generate_training
from tools.demo.data import HOME_COMMUNE_CODE, DemoData, DemoPerson, generate_demo_data
from tools.demo.learners import Propensity

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DECEMBER = datetime(2026, 12, 2, 21, 0, tzinfo=TZ)
#: The sandbox's size: large enough for the shares to settle.
PEOPLE = 6000


@pytest.fixture(scope="module")
def province() -> DemoData:
    return generate_demo_data(seed=2026, people=PEOPLE)


@pytest.fixture(scope="module")
def training(province: DemoData) -> DemoTraining:
    return generate_training(province, DECEMBER, TZ)


def ordinary(province: DemoData) -> dict[str, DemoPerson]:
    """The generated roster, without the demo identities and self-declared profiles."""
    return {p.phone: p for p in province.people[5:-3]}


def met_in(c: DemoClass, year: int) -> bool:
    """Whether a session of the class was held in `year` before the moment of the data."""
    return any(s.starts_at.astimezone(TZ).year == year and s.starts_at <= DECEMBER
               for s in c.sessions)  # fmt: skip


def trained_in(training: DemoTraining, year: int) -> set[str]:
    """People in held classes that met in `year` by December, as the report counts them."""
    held = (ClassStatus.FINISHED, ClassStatus.RUNNING)
    return {phone for c in training.classes if c.status in held and met_in(c, year)
            for phone in c.learners}  # fmt: skip


def test_nobody_takes_a_programme_twice_nor_two_classes_on_one_day(
    province: DemoData, training: DemoTraining
) -> None:
    people = ordinary(province)
    taken: Counter[tuple[str, str]] = Counter()
    days: defaultdict[str, list[set[date]]] = defaultdict(list)
    for c in training.classes:
        if c.status is ClassStatus.CANCELLED:
            continue
        met = {s.starts_at.astimezone(TZ).date() for s in c.sessions}
        for phone in (p for p in (*c.learners, *c.waitlist) if p in people):
            taken[phone, c.programme_code] += 1
            assert all(met.isdisjoint(other) for other in days[phone]), phone
            days[phone].append(met)
    twice = sum(n - 1 for n in taken.values() if n > 1)
    assert twice <= sum(taken.values()) // 1000  # only when a class ran out of newcomers


def test_not_everyone_is_trained_and_priority_groups_differ(
    province: DemoData, training: DemoTraining
) -> None:
    people = list(ordinary(province).values())
    trained = trained_in(training, 2026)

    def rate(chosen: Callable[[DemoPerson], bool]) -> float:
        group = [p for p in people if chosen(p)]
        return sum(p.phone in trained for p in group) / len(group)

    overall = rate(lambda p: True)
    assert 0.3 <= overall <= 0.55
    young = rate(lambda p: 2026 - p.birth_year < 35)
    source = rate(lambda p: p.source_pool)
    women = rate(lambda p: p.gender == "female")
    men = rate(lambda p: p.gender == "male")
    kinh = rate(lambda p: p.ethnicity_code == "01")
    minority = rate(lambda p: p.ethnicity_code != "01")
    assert source > young > overall > women and men > women and kinh > minority
    kinds = {u.code: u.kind for u in province.units}
    communes = rate(lambda p: kinds[p.unit_code] == "commune")
    divisions = rate(lambda p: kinds[p.unit_code] == "division")
    assert divisions > communes


@pytest.mark.parametrize("year", [2025, 2026])
def test_a_few_units_send_nobody_in_a_year(
    province: DemoData, training: DemoTraining, year: int
) -> None:
    lagging = Propensity(province, (year,), NEVER_LAGGING).lagging[year]
    staff = Counter(p.unit_code for p in ordinary(province).values())
    assert len(lagging) == 4 and all(staff[code] for code in lagging)
    trained = trained_in(training, year)
    units = {p.unit_code for p in ordinary(province).values() if p.phone in trained}
    assert not units & lagging
    assert len(units) > len(staff) * 0.9


def test_the_units_the_guide_needs_never_lag(province: DemoData) -> None:
    spared = (HOME_COMMUNE_CODE, "SKHCN")
    propensity = Propensity(province, range(2000, 2100), spared)
    for lagging in propensity.lagging.values():
        assert HOME_COMMUNE_CODE not in lagging
        assert not any(code == "SKHCN" or code.startswith("SKHCN.") for code in lagging)


def test_courses_go_to_the_people_they_are_for(province: DemoData, training: DemoTraining) -> None:
    people = ordinary(province)
    kinds = {u.code: u.kind for u in province.units}
    held = [c for c in training.classes if c.learners and c.status is not ClassStatus.CANCELLED]

    def learners(code: str) -> list[DemoPerson]:
        return [people[p] for c in held if c.programme_code == code for p in c.learners
                if p in people]  # fmt: skip

    assert all(kinds[p.unit_code] in ("commune", "ward") for p in learners("CBCX"))
    assert all(p.grade_code == "01.003" for p in learners("CVC"))
    leadership = learners("LDCP")
    heads = [p for p in leadership if p.title_code in ("TP", "PTP", "GD", "PGD") or p.source_pool]
    assert len(heads) > len(leadership) / 2

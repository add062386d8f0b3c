"""Who the province sends to which course, so that its coverage reads like a real province's.

A cadre's chance of being drawn into a class depends on their unit (provincial departments
send more of their staff than remote communes do, and each year a few units send nobody, as
the reports must be able to show), on who they are (the source pool and leaders go to the
leadership and theory courses, the young to the courses for new Party members and new
civil servants, commune cadres to theirs; women and remote cadres somewhat less often) and
on what they did already: nobody takes a programme twice, nor two classes on the same day.

Pure and deterministic, like the rest of tools.demo. Draws accept people of a uniform sample
with a probability of their weight, so the work stays bounded by the seats, not the roster.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import date

from bot.training import PriorityGroup, priority_groups
from tools.demo.data import SCHOOL_CODE, DemoData, DemoPerson

#: Weights from this up are certain to be accepted; a lower weight w is accepted w/CEILING.
CEILING = 3.0
#: Units that send nobody in a year: a few communes and a few provincial divisions.
LAGGING_COMMUNES = 2
LAGGING_DIVISIONS = 2
#: A draw looks at this many candidates per seat still wanted, for this many rounds at most.
CANDIDATES_PER_SEAT = 20
ROUNDS = 4
#: A class that was held has at least this many learners (or everyone its audience has).
FEW = 10

_LEADERS = frozenset({"BT", "PBT", "CT_UBND", "PCT_UBND", "CT_HDND", "CT_MTTQ", "GD", "PGD",
                      "TP", "PTP"})  # fmt: skip
_DIVISION_HEADS = frozenset({"TP", "PTP"})
#: How much of its staff a unit of each kind sends, drawn once per unit within this range.
_UNIT_FACTORS = {
    "province": (1.0, 1.0),
    "party": (1.0, 1.3),
    "department": (1.0, 1.4),
    "division": (0.7, 1.4),
    "front": (0.6, 0.9),
    "ward": (0.7, 1.0),
    "commune": (0.15, 0.8),
}
#: The school's own staff teach; they seldom sit its classes.
_SCHOOL_FACTOR = 0.3
_LOCAL = ("commune", "ward")


class Propensity:
    """How likely each roster person is to be sent to a programme in a year."""

    def __init__(self, data: DemoData, years: Iterable[int], spared: Collection[str]) -> None:
        """`spared`: units (with their sub-units) that must never lag: the demo needs them."""
        rng = random.Random(f"demo-propensity:{data.seed}")
        self.kinds = {u.code: u.kind for u in data.units}
        self.factors = {
            u.code: _SCHOOL_FACTOR if _within(u.code, (SCHOOL_CODE,))
            else rng.uniform(*_UNIT_FACTORS[u.kind])
            for u in data.units
        }  # fmt: skip
        self.lagging = {year: self._lagging(data, year, spared) for year in years}

    @staticmethod
    def _lagging(data: DemoData, year: int, spared: Collection[str]) -> frozenset[str]:
        rng = random.Random(f"demo-lagging:{data.seed}:{year}")
        free = [u for u in data.units if not _within(u.code, (*spared, SCHOOL_CODE))]
        communes = [u.code for u in free if u.kind == "commune"]
        divisions = [u.code for u in free if u.kind == "division"]
        return frozenset(
            rng.sample(communes, min(LAGGING_COMMUNES, len(communes)))
            + rng.sample(divisions, min(LAGGING_DIVISIONS, len(divisions)))
        )

    def sends(self, person: DemoPerson, years: Collection[int]) -> bool:
        return not any(person.unit_code in self.lagging.get(year, ()) for year in years)

    def weight(self, person: DemoPerson, programme: str, year: int) -> float:
        groups = priority_groups(
            year=year,
            birth_year=person.birth_year,
            female=person.gender == "female",
            ethnicity_code=person.ethnicity_code,
            source_pool=person.source_pool,
        )
        local = self.kinds[person.unit_code] in _LOCAL
        weight = self.factors[person.unit_code] * _affinity(programme, person, local, groups)
        if PriorityGroup.SOURCE_POOL in groups:
            weight *= 2.0
        if PriorityGroup.WOMEN in groups:
            weight *= 0.65
        if PriorityGroup.MINORITY in groups:
            weight *= 0.8
        return weight


def _affinity(
    programme: str, person: DemoPerson, local: bool, groups: frozenset[PriorityGroup]
) -> float:
    """Who each programme is for: a grade course for that grade, a commune course for
    commune cadres, leadership for division heads and the source pool."""
    title, grade = person.title_code, person.grade_code
    leader, young = title in _LEADERS, PriorityGroup.YOUNG in groups
    match programme:
        case "CBCX":
            return 1.6 if local else 0.0
        case "CNKT4":
            return 0.6 if local else 1.2
        case "LDCP":
            if title in _DIVISION_HEADS:
                return 5.0
            return 2.0 if leader or person.source_pool else 0.1
        case "CVC":
            return 1.5 if grade == "01.003" else 0.0
        case "CV":
            if grade in ("01.004", "01.005"):
                return 1.5
            return 1.0 if young and grade == "01.003" else 0.0
        case "TCLLCT":
            return (2.5 if leader else 0.8) * (1.5 if young or person.source_pool else 1.0)
        case "DVM":
            return 3.0 if young else 0.3
        case "NTVD":
            return 2.0 if young else 0.5
        case "QPAN":
            return 2.0 if leader else 1.0
        case "AI":
            return 1.5 if young else 0.8
    return 1.0


def _within(code: str, roots: Iterable[str]) -> bool:
    return any(code == root or code.startswith(f"{root}.") for root in roots)


class LearnerDraw:
    """Draws the learners of classes one after another, remembering who took what and
    when: a programme once, one class a day."""

    def __init__(self, people: Sequence[DemoPerson], pool: range, propensity: Propensity,
                 rng: random.Random, never: Collection[str]) -> None:  # fmt: skip
        self.people, self.pool, self.propensity, self.rng = people, pool, propensity, rng
        self.never = never
        self.taken: defaultdict[str, set[str]] = defaultdict(set)
        self.busy: defaultdict[str, set[date]] = defaultdict(set)

    def book(self, phone: str, programme: str, days: Iterable[date] = ()) -> None:
        """`phone` takes (or has taken) `programme` on `days`."""
        self.taken[programme].add(phone)
        self.busy[phone].update(days)

    def draw(self, want: int, programme: str, days: frozenset[date], year: int,
             fits: Callable[[DemoPerson], bool],
             besides: Collection[str] = ()) -> list[str]:  # fmt: skip
        """Up to `want` people for a class of `programme` of `year`'s plan meeting on `days`,
        whom its audience rule `fits`, other than `besides`; each is booked. When a small
        roster has run out of people who never took the programme, a few take it again:
        a class that was held has learners."""
        found: list[str] = []
        years = frozenset({day.year for day in days} | {year})
        for _ in range(ROUNDS):
            if len(found) >= want:
                break
            found += self._round(want - len(found), programme, days, year, years, fits,
                                 {*besides, *found})  # fmt: skip
        if len(found) < min(want, FEW):
            found += self._round(min(want, FEW) - len(found), programme, days, year, years,
                                 fits, {*besides, *found}, again=True)  # fmt: skip
        return found

    def _round(self, want: int, programme: str, days: frozenset[date], year: int,
               years: frozenset[int], fits: Callable[[DemoPerson], bool],
               besides: Collection[str], again: bool = False) -> list[str]:  # fmt: skip
        """One uniform sample of the roster, each candidate accepted by their weight (or,
        `again`, whoever fits, even if they took the programme before)."""
        found: list[str] = []
        taken, busy, rng = self.taken[programme], self.busy, self.rng
        sample = min(len(self.pool), want * CANDIDATES_PER_SEAT + 40)
        for i in rng.sample(self.pool, sample):
            person = self.people[i]
            phone = person.phone
            if (phone in self.never or phone in besides or (phone in taken and not again)
                    or not days.isdisjoint(busy.get(phone, ()))
                    or not self.propensity.sends(person, years)):  # fmt: skip
                continue
            if not again and rng.random() * CEILING >= self.propensity.weight(
                person, programme, year
            ):
                continue
            if not fits(person):
                continue
            found.append(phone)
            self.book(phone, programme, days)
            if len(found) == want:
                break
        return found

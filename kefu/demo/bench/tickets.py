"""A year of tickets, day by day, as rows.

``Generator.days()`` yields one ``Batch`` per day of the seeded year: that day's tickets in
the order they came in, numbered per site, kind and day as intake numbers them
(``BX-20240601-0001``), each carried through its plan (``flows.plan``) by ``Life``, which
does what ``kefu.tickets.services`` do — the same transition table (a move the table does not
have stops the seed), the same stamps, version bumps, deltas, hand-overs and timeline events
— on epoch seconds in memory. The rows go to the database as they are (``sink``); nothing
here touches it.

The warning engine's state is the one a sweep running until two hours before the anchor
would have left: cards for the deadlines missed until then, their keys in ``sla_done``, and
``next_check_at`` at the next warning still to come, so that the sweep has work at the anchor.
"""

from __future__ import annotations

import json
import math
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from typing import Any
from zoneinfo import ZoneInfo

from kefu.org.models import Role
from kefu.tickets.lifecycle import NUMBER_PREFIX
from kefu.tickets.models import Category, Channel
from kefu.tickets.services.complaints import major_reasons
from kefu.tickets.sla import Rules

from .. import texts
from ..plans import HOUR_WEIGHTS, LEAF_WEIGHTS, OFFICE_WEIGHTS
from . import flows, rows, words
from .clock import DayTable, Windows
from .life import Life
from .people import Member, Place
from .sink import Row, TimeText

SWEEP_LAG = 2 * 3600  # the sweep last ran this long before the anchor
# How much more a leaf is reported in some months (air conditioning in summer …).
SEASON: dict[str, dict[int, float]] = {
    "空调": {6: 3.0, 7: 4.0, 8: 3.0, 12: 1.5, 1: 1.5},
    "给排水": {12: 1.6, 1: 1.8, 2: 1.5},
    "噪音扰民": {5: 1.3, 6: 1.5, 7: 1.5, 8: 1.3},
    "环境卫生": {7: 1.4, 8: 1.4},
    "房屋本体": {7: 1.8, 8: 1.8},
    "物业费": {3: 2.5, 12: 1.5},
}
_HOURS = list(accumulate(HOUR_WEIGHTS))


@dataclass
class Leaf:
    """A category leaf with what its tickets say and where they go."""

    category: Category
    id: int
    name: str
    path: str
    kinds: tuple[str, ...]
    department_id: int | None
    department_name: str
    department_kind: str
    skill_id: int | None
    templates: dict[str, tuple[words.Template, ...]]  # site kind → templates
    patrol: dict[str, tuple[words.Template, ...]]
    results: tuple[tuple[str, str], ...]
    answers: tuple[str, ...]
    paid: float
    weight: dict[str, float]  # site kind → base weight


def leaves_from(categories: list[Category]) -> list[Leaf]:
    found = []
    for category in categories:
        if category.name not in texts.TEXTS or not category.kinds or category.parent_id is None:
            continue
        node: Category | None = category
        department = None
        skill_id: int | None = None
        while node is not None and (department is None or skill_id is None):
            department = department or node.department
            skill_id = skill_id or node.skill_id
            node = node.parent
        said = texts.TEXTS[category.name]
        base = LEAF_WEIGHTS.get(category.name, 1.0)
        found.append(
            Leaf(
                category, category.id, category.name, category.path, tuple(category.kinds),
                department.id if department else None, department.name if department else "",
                department.kind if department else "", skill_id,
                {k: words.templates(said.templates(k)) for k in ("residential", "office")},
                {k: words.patrol_templates(said.templates(k), category.name) for k in ("residential", "office")},
                said.results, said.answers, said.paid,
                {"residential": base**2, "office": OFFICE_WEIGHTS.get(category.name, base) ** 2},
            )
        )  # fmt: skip
    return found


@dataclass
class Site:
    """One site as the generator sees it: its people by role and its tables."""

    place: Place
    table: DayTable
    windows: Windows
    rules: Rules
    sla: dict[tuple[str, str], tuple[int, int, int | None]]
    agents: list[Member] = field(default_factory=list)
    supervisors: list[Member] = field(default_factory=list)
    intake: dict[str, list[Member]] = field(default_factory=dict)
    field_staff: dict[tuple[int, int | None], list[Member]] = field(default_factory=dict)
    by_department: dict[int, list[Member]] = field(default_factory=dict)
    customer_weights: list[float] = field(default_factory=list)
    technicians: list[str] = field(default_factory=list)
    desk_names: list[str] = field(default_factory=list)
    visit_turn: int = 0
    members: dict[int, Member] = field(default_factory=dict)

    def __post_init__(self) -> None:
        staff = self.place.staff
        self.members = {m.id: m for m in staff}
        self.agents = [m for m in staff if m.role == Role.AGENT]
        self.supervisors = [m for m in staff if m.role == Role.SUPERVISOR]
        frontdesks = [m for m in staff if m.role == Role.FRONTDESK]
        self.intake = {
            Channel.VISIT: frontdesks * 3 + self.agents,
            Channel.PATROL: self.supervisors * 2 + self.agents,
            "": self.agents * 4 + self.supervisors + frontdesks,
        }
        for member in staff:
            if member.role in (Role.TECHNICIAN, Role.DEPT_STAFF) and member.department_id:
                self.by_department.setdefault(member.department_id, []).append(member)
        self.technicians = [m.name for m in staff if m.role == Role.TECHNICIAN]
        self.desk_names = [m.name for m in self.agents + frontdesks]
        weights = [3.0 if i < len(self.place.customers) / 5 else 1.0 for i in range(len(self.place.customers))]
        self.customer_weights = list(accumulate(weights))

    def candidates(self, department_id: int, skill_id: int | None) -> list[Member]:
        key = (department_id, skill_id)
        if key not in self.field_staff:
            self.field_staff[key] = [
                m for m in self.by_department.get(department_id, []) if skill_id is None or skill_id in m.skills
            ]
        return self.field_staff[key]


@dataclass
class Batch:
    """One day's rows, by table."""

    day: date
    tickets: int = 0
    rows: dict[str, list[Row]] = field(default_factory=dict)

    def add(self, name: str, row: Row) -> None:
        self.rows.setdefault(name, []).append(row)


class Generator:
    """Everything the year's tickets need, decided once; ``days()`` does the rest."""

    def __init__(
        self,
        *,
        sites: list[Site],
        leaves: list[Leaf],
        text: TimeText,
        ids: dict[type[Any], int],
        anchor: datetime,
        tickets: int,
        seed: int,
        tz: ZoneInfo,
        department_names: dict[int, str],
    ) -> None:
        self.sites, self.leaves, self.text, self.ids = sites, leaves, text, ids
        self.tz, self.seed = tz, seed
        self.anchor = int(anchor.timestamp())
        self.limit = self.anchor - 60
        self.swept = self.anchor - SWEEP_LAG
        self.first_day = anchor.astimezone(tz).date() - timedelta(days=365)
        self.department_names = department_names
        self.names = {m.id: m.name for site in sites for m in site.place.staff}
        self.site_weights = list(accumulate(s.place.weight for s in sites))
        self.kinds = [str(kind) for kind in flows.KIND_MIX]
        self.kind_weights = list(accumulate(flows.KIND_MIX.values()))
        self.counts = self._day_counts(random.Random(f"{seed}:days"), tickets)
        self.numbers: dict[str, int] = {}  # counter key → last number given
        self.complained: dict[int, int] = {}  # customer id → time of their last complaint
        self.majors: dict[tuple[bool, bool, bool, int], tuple[str, ...]] = {}
        self.created_data = {c: json.dumps({"channel": c}) for c in Channel.values}
        self.hand_data: dict[tuple[str, int | None, int | None], str] = {}
        self.shape_ticket = rows.Shaper(rows.TICKET_COLUMNS, rows.TICKET_TIMES, text)
        self.shape_complaint = rows.Shaper(rows.COMPLAINT_COLUMNS, rows.COMPLAINT_TIMES, text)
        self.shape_visit = rows.Shaper(rows.VISIT_COLUMNS, rows.VISIT_TIMES, text)
        self.leaf_weights: dict[tuple[str, str, int], tuple[list[Leaf], list[float]]] = {}

    # --- the calendar of the year --------------------------------------------------------

    def _day_counts(self, rng: random.Random, total: int) -> list[int]:
        """Tickets per day: more in summer, fewer at weekends and on holidays, some noise;
        exactly ``total`` over the year."""
        table = self.sites[0].table
        workdays = set(table.workdays)
        weights = []
        for offset in range(365):
            day = self.first_day + timedelta(days=offset)
            season = 1 + 0.18 * math.sin(2 * math.pi * (day.timetuple().tm_yday - 110) / 365)
            weekend = 0.78 if day.weekday() >= 5 else 1.0
            holiday = 0.7 if day.weekday() < 5 and table.index(self._start(day)) not in workdays else 1.0
            weights.append(season * weekend * holiday * rng.uniform(0.88, 1.12) * (1 + 0.1 * offset / 365))
        scale = total / sum(weights)
        exact = [w * scale for w in weights]
        counts = [int(x) for x in exact]
        order = sorted(range(365), key=lambda i: (counts[i] - exact[i], i))
        for i in order[: total - sum(counts)]:
            counts[i] += 1
        return counts

    def _start(self, day: date) -> int:
        return int(datetime.combine(day, time(0), tzinfo=self.tz).timestamp())

    def days(self) -> Iterator[Batch]:
        for offset, count in enumerate(self.counts):
            yield self.day(offset, count)

    def day(self, offset: int, count: int) -> Batch:
        day = self.first_day + timedelta(days=offset)
        rng = random.Random(f"{self.seed}:{day.isoformat()}")
        start, stamp = self._start(day), day.strftime("%Y%m%d")
        length = self._start(day + timedelta(days=1)) - start
        batch = Batch(day)
        arrivals = []
        for order in range(count):
            site = self.sites[bisect_right(self.site_weights, rng.random() * self.site_weights[-1])]
            kind = self.kinds[bisect_right(self.kind_weights, rng.random() * self.kind_weights[-1])]
            hour = bisect_right(_HOURS, rng.random() * _HOURS[-1])
            second = min(hour * 3600 + rng.randrange(3600), length - 1)
            arrivals.append((start + second, order, site, kind))
        arrivals.sort(key=lambda a: (a[0], a[1]))
        for created, _order, site, kind in arrivals:
            prefix = NUMBER_PREFIX[kind]
            key = f"ticket:{site.place.id}:{prefix}:{stamp}"
            n = self.numbers[key] = self.numbers.get(key, 0) + 1
            Life(self, rng, batch, site, kind, created, f"{prefix}-{stamp}-{n:04d}", day.month).run()
            batch.tickets += 1
        return batch

    def pick_leaf(self, rng: random.Random, site_kind: str, kind: str, month: int) -> Leaf:
        key = (site_kind, kind, month)
        if key not in self.leaf_weights:
            found = [leaf for leaf in self.leaves if kind in leaf.kinds]
            weights = [leaf.weight[site_kind] * SEASON.get(leaf.name, {}).get(month, 1.0) for leaf in found]
            self.leaf_weights[key] = (found, list(accumulate(weights)))
        found, cumulative = self.leaf_weights[key]
        return found[bisect_right(cumulative, rng.random() * cumulative[-1])]

    def next_id(self, model: type[Any]) -> int:
        value = self.ids[model]
        self.ids[model] = value + 1
        return value

    def hand_json(self, mode: str, department_id: int | None, assignee: Member | None) -> str:
        key = (mode, department_id, assignee.id if assignee else None)
        if key not in self.hand_data:
            self.hand_data[key] = json.dumps(
                {
                    "mode": mode,
                    "department": self.department_names.get(department_id or 0, ""),
                    "assignee": assignee.name if assignee else "",
                }
            )
        return self.hand_data[key]

    def major(self, flagged: bool, urgency: str, repeat: bool, leaf: Leaf) -> tuple[str, ...]:
        key = (flagged, urgency == "critical", repeat, leaf.id)
        if key not in self.majors:
            reasons = major_reasons(flagged=flagged, urgency=urgency, repeat=repeat, category=leaf.category)
            self.majors[key] = tuple(str(r) for r in reasons)
        return self.majors[key]

"""Three months of tickets, decided up front.

``Planner`` draws everything with the seeded random generator: site, category, kind,
channel, customer, content, urgency, and the steps each ticket goes through (intake,
dispatch, accept, arrive, complete, confirm, close …) with the time each one happens. A
ticket's final status follows its age: old ones are mostly closed, today's mostly still
open; a few old ones are stuck, and so overdue. ``tickets.Writer`` then carries the plans
out. Nothing here touches the database except reading what it is given.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from kefu.customers.models import Unit
from kefu.org.models import Department, Role, Site, Staff
from kefu.tickets.lifecycle import ACTIONS, Kind, Status
from kefu.tickets.models import Category, Channel, Urgency
from kefu.tickets.services import CONFIRM_METHODS

from . import data, texts
from .builders import Client, PhoneBook, polite_name
from .reference import Reference

# How often each category leaf is reported; the office tower differs where listed.
LEAF_WEIGHTS: dict[str, float] = {
    "水电维修": 12, "给排水": 9, "电梯": 4, "门窗": 5, "空调": 2, "弱电门禁": 4, "公共设施": 5,
    "房屋本体": 3, "消防设施": 1.5,
    "服务态度": 2, "工程质量": 1.5, "维修时效": 1.5, "环境卫生": 2.5, "噪音扰民": 2, "停车管理": 2,
    "安全管理": 1.5, "收费争议": 1.5,
    "物业费": 5, "装修": 3, "停车": 3, "入住": 1, "水电燃气": 2, "其他咨询": 3,
    "紧急求助": 1.5, "搬运协助": 2, "寻物寻人": 1.5, "便民服务": 2.5,
    "服务改进": 1.5, "设施完善": 1.5, "环境绿化": 1, "社区活动": 0.8,
    "客服表扬": 1.5, "维修表扬": 2, "秩序表扬": 1, "保洁表扬": 0.8,
    "产品质量": 1.5, "安装调试": 1, "退换货": 1, "配送": 1, "使用指导": 0.8,
}  # fmt: skip
OFFICE_WEIGHTS: dict[str, float] = {
    "空调": 8, "水电燃气": 0.5, "入住": 0.5, "噪音扰民": 0.5, "装修": 2, "房屋本体": 1, "产品质量": 0.3,
    "安装调试": 0.3, "退换货": 0.2, "配送": 1.5, "使用指导": 0.2, "社区活动": 0.2, "环境绿化": 0.3,
}  # fmt: skip
# Leaves a patrol (巡查) can find: public equipment, no customer needed.
PATROL_LEAVES = {"公共设施", "电梯", "消防设施", "给排水", "门窗", "弱电门禁"}

_CH = Channel
CHANNEL_WEIGHTS: dict[str, dict[str, float]] = {
    Kind.REPAIR: {_CH.PHONE: 40, _CH.WECHAT: 22, _CH.APP: 12, _CH.WEB: 5, _CH.VISIT: 10, _CH.PATROL: 10, _CH.EMAIL: 1},
    Kind.COMPLAINT: {_CH.PHONE: 45, _CH.WECHAT: 15, _CH.VISIT: 20, _CH.WEB: 8, _CH.APP: 5, _CH.EMAIL: 7},
    Kind.INQUIRY: {_CH.PHONE: 50, _CH.WECHAT: 20, _CH.VISIT: 18, _CH.WEB: 5, _CH.APP: 5, _CH.EMAIL: 2},
    Kind.HELP: {_CH.PHONE: 70, _CH.VISIT: 15, _CH.WECHAT: 10, _CH.APP: 5},
    Kind.SUGGESTION: {_CH.WECHAT: 30, _CH.WEB: 25, _CH.EMAIL: 15, _CH.APP: 10, _CH.VISIT: 10, _CH.PHONE: 10},
    Kind.PRAISE: {_CH.PHONE: 30, _CH.WECHAT: 30, _CH.VISIT: 30, _CH.WEB: 5, _CH.EMAIL: 5},
}

# Intake by hour of day: quiet at night, busy mornings and afternoons.
HOUR_WEIGHTS = [1, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 4, 8, 10, 10, 8, 5, 6, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1.5]

# Routine steps happen between these hours (local time).
WORKDAY_START, WORKDAY_END = 8, 21

# Final status by age of the ticket in days: (minimum age, {status: weight}).
STATUS_BY_AGE: list[tuple[int, dict[str, float]]] = [
    (10, {Status.CLOSED: 92, Status.CANCELLED: 3, Status.RESOLVED: 2.5, Status.PENDING_CONFIRM: 0.8,
          Status.IN_PROGRESS: 0.6, Status.SUSPENDED: 0.8, Status.ACCEPTED: 0.2, Status.DISPATCHED: 0.1}),
    (3, {Status.CLOSED: 75, Status.CANCELLED: 3, Status.RESOLVED: 8, Status.PENDING_CONFIRM: 5,
         Status.IN_PROGRESS: 3, Status.SUSPENDED: 3, Status.DISPATCHED: 1.5, Status.ACCEPTED: 1, Status.RECEIVED: 0.5}),
    (1, {Status.CLOSED: 50, Status.CANCELLED: 3, Status.RESOLVED: 12, Status.PENDING_CONFIRM: 12,
         Status.IN_PROGRESS: 9, Status.SUSPENDED: 4, Status.ACCEPTED: 4, Status.DISPATCHED: 4, Status.RECEIVED: 2}),
    (0, {Status.CLOSED: 20, Status.CANCELLED: 2, Status.RESOLVED: 8, Status.PENDING_CONFIRM: 15,
         Status.IN_PROGRESS: 20, Status.SUSPENDED: 3, Status.ACCEPTED: 12, Status.DISPATCHED: 15, Status.RECEIVED: 5}),
]  # fmt: skip

# Progress order, to cut a ticket's planned path at its final status.
RANK: dict[str, int] = {
    Status.RECEIVED: 0,
    Status.DISPATCHED: 1,
    Status.ACCEPTED: 2,
    Status.IN_PROGRESS: 3,
    Status.PENDING_CONFIRM: 4,
    Status.RESOLVED: 5,
    Status.CLOSED: 6,
}
# The same for complaints: where each planned status sits among the six steps' ranks.
C_RANK = {"dismiss": 8}
C_TARGET: dict[str, int] = {
    Status.RECEIVED: 0,
    Status.DISPATCHED: 1,
    Status.ACCEPTED: 3,
    Status.IN_PROGRESS: 4,
    Status.PENDING_CONFIRM: 5,
    Status.RESOLVED: 7,
    Status.CLOSED: 8,
}
# Faster hands for more urgent tickets.
PACE: dict[str, float] = {Urgency.LOW: 1.0, Urgency.NORMAL: 0.6, Urgency.HIGH: 0.25, Urgency.CRITICAL: 0.12}


@dataclass
class Step:
    """One thing that happens to a ticket, ``minutes`` after the step before it."""

    action: str
    rank: int
    minutes: float = 0
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)
    at: datetime | None = None


@dataclass
class Plan:
    """Everything about one ticket, decided before anything is written."""

    site: str
    category: Category
    kind: str
    channel: str
    urgency: str
    content: str
    first_responder: Staff
    desk: Staff  # who closes, cancels and answers at the desk
    flow: str
    steps: list[Step]
    seed: int
    client: Client | None = None
    unit: Unit | None = None
    contact_name: str = ""
    contact_phone: str = ""


@dataclass
class Team:
    """One site's people, by role, in roster order."""

    agents: list[Staff]
    frontdesks: list[Staff]
    supervisors: list[Staff]
    field: dict[int, list[Staff]]  # department id → technicians / department staff


def teams(sites: dict[str, Site], staff: dict[str, Staff]) -> dict[str, Team]:
    result = {}
    for code in sites:
        members = [staff[p.username] for p in data.ROSTER if code in p.sites and p.username in staff]
        by_role: dict[str, list[Staff]] = {}
        field_staff: dict[int, list[Staff]] = {}
        for member in members:
            by_role.setdefault(member.role, []).append(member)
            if member.role in (Role.TECHNICIAN, Role.DEPT_STAFF) and member.department_id:
                field_staff.setdefault(member.department_id, []).append(member)
        result[code] = Team(
            by_role.get(Role.AGENT, []), by_role.get(Role.FRONTDESK, []), by_role.get(Role.SUPERVISOR, []), field_staff
        )
    return result


def rule_department(category: Category) -> Department | None:
    node: Category | None = category
    while node is not None:
        if node.department_id:
            return node.department
        node = node.parent
    return None


# --- planning -----------------------------------------------------------------------------


class Planner:
    """Draws the plans of a number of tickets over the last ``days`` days before ``anchor``."""

    def __init__(
        self,
        rng: random.Random,
        *,
        ref: Reference,
        sites: dict[str, Site],
        staff: dict[str, Staff],
        clients: dict[str, list[Client]],
        phones: PhoneBook,
        anchor: datetime,
        days: int,
    ) -> None:
        self.rng, self.ref, self.sites, self.clients, self.phones = rng, ref, sites, clients, phones
        self.anchor, self.days = anchor, days
        self.teams = teams(sites, staff)
        self.leaves = [c for c in ref.categories.values() if c.name in texts.TEXTS and c.is_active and c.kinds]
        self.departments = {c.id: rule_department(c) for c in self.leaves}
        # Regular callers: the first fifth of each site's customers call three times as often.
        self.client_weights = {
            code: [3 if i < len(rows) / 5 else 1 for i in range(len(rows))] for code, rows in clients.items()
        }

    def plans(self, count: int) -> list[Plan]:
        rng = self.rng
        total = sum(len(rows) for rows in self.clients.values()) or 1
        site_codes = list(self.sites)
        site_weights = [max(len(self.clients[code]), 1) / total for code in site_codes]
        day_weights = [0.5] + [rng.uniform(0.7, 1.3) for _ in range(1, self.days)]
        result = []
        for _ in range(count):
            code = rng.choices(site_codes, weights=site_weights)[0]
            age = rng.choices(range(self.days), weights=day_weights)[0]
            result.append(self.plan(code, age, rng.randrange(2**32)))
        return result

    def created_at(self, rng: random.Random, age: int) -> datetime:
        if age == 0:
            return self.anchor - timedelta(seconds=rng.randrange(600, 36000))
        day = timezone.localtime(self.anchor).date() - timedelta(days=age)
        hour = rng.choices(range(24), weights=HOUR_WEIGHTS)[0]
        moment = time(hour, rng.randrange(60), rng.randrange(60))
        return timezone.make_aware(datetime.combine(day, moment))

    def plan(self, code: str, age: int, seed: int) -> Plan:
        rng = random.Random(seed)
        site_kind = self.sites[code].kind
        weights = [
            (OFFICE_WEIGHTS.get(c.name, LEAF_WEIGHTS[c.name]) if site_kind == "office" else LEAF_WEIGHTS[c.name])
            for c in self.leaves
        ]
        category = rng.choices(self.leaves, weights=weights)[0]
        kind = rng.choice(category.kinds)
        channel = rng.choices(*zip(*CHANNEL_WEIGHTS[kind].items(), strict=True))[0]
        if channel == Channel.PATROL and category.name not in PATROL_LEAVES:
            channel = Channel.PHONE
        team = self.teams[code]
        client = unit = None
        contact_name = contact_phone = ""
        if channel != Channel.PATROL:
            if rng.random() < 0.9 and self.clients[code]:
                client = rng.choices(self.clients[code], weights=self.client_weights[code])[0]
                unit = rng.choice(client.units) if client.units else None
                contact_name, contact_phone = client.contact, client.phone
            else:
                contact_name, contact_phone = polite_name(rng), self.phones.mobile()
        first_responder = self.first_responder(rng, team, channel)
        desk = first_responder if first_responder.role in ACTIONS["close"].roles else rng.choice(team.agents)
        urgent, content = self.content(rng, code, category, unit, channel == Channel.PATROL)
        urgency = self.urgency(rng, kind, urgent)
        target = self.target(rng, age)
        department = self.departments[category.id]
        if kind == Kind.PRAISE:
            flow = "praise"
        elif kind == Kind.COMPLAINT:
            flow = "complaint"
        elif kind == Kind.INQUIRY and target == Status.CLOSED and rng.random() < 0.6:
            flow = "fcr"
        elif kind in (Kind.INQUIRY, Kind.HELP, Kind.SUGGESTION) and (
            department is None or department.kind == Department.Kind.SERVICE
        ):
            flow = "desk"
        else:
            flow = "field"
        steps = self.steps(rng, flow, kind, category, urgency, target, client, contact_name)
        plan = Plan(
            code, category, kind, channel, urgency, content, first_responder, desk, flow, steps, seed,
            client, unit, contact_name, contact_phone,
        )  # fmt: skip
        self.schedule(rng, plan, self.created_at(rng, age))
        return plan

    def first_responder(self, rng: random.Random, team: Team, channel: str) -> Staff:
        if channel == Channel.VISIT:
            pool = team.frontdesks * 3 + team.agents
        elif channel == Channel.PATROL:
            pool = team.supervisors * 2 + team.agents
        else:
            pool = team.agents * 4 + team.supervisors + team.frontdesks
        return rng.choice(pool)

    def content(
        self, rng: random.Random, code: str, category: Category, unit: Unit | None, patrol: bool
    ) -> tuple[bool, str]:
        office = self.sites[code].kind == "office"
        site_kind = "office" if office else "residential"
        templates = texts.TEXTS[category.name].templates(site_kind)
        if patrol:
            templates = [t for t in templates if not any(w in t for w in ("{unit}", "{home}", "我"))]
            if not templates:
                templates = [f"{{area}}{category.name}设施损坏，需维修。"]
        template = rng.choice(templates)
        if unit is not None:
            label = f"{unit.building}座{unit.room}室" if office else unit.long_label
            building, floor = unit.building, int(unit.room[:-2] or 1)
        else:
            label = ""
            building = rng.choice(data.OFFICE_TOWERS) if office else str(rng.randint(1, data.ESTATE_BUILDINGS))
            floor = rng.randint(3, 28) if office else rng.randint(1, data.ESTATE_FLOORS)
        values = {
            "when": rng.choice(texts.WHEN),
            "please": "请安排维修。" if patrol else rng.choice(texts.PLEASE),
            "home": rng.choice(texts.HOME[site_kind]),
            "unit": label,
            "bld": f"{building}座" if office else f"{building}号楼",
            "area": rng.choice(texts.AREAS[site_kind]),
            "floor": f"{floor}层" if office else f"{floor}楼",
            "time": rng.choice(texts.TIMES),
            "item": rng.choice(texts.ITEMS),
            "plate": "京"
            + rng.choice("ABCEFGHJKLMNPQ")
            + "".join(rng.choice("0123456789ABCDEFGHJK") for _ in range(5)),
            "staff": self.praised(rng, code, category.name),
        }
        text = template.lstrip("!").format(**values)
        return template.startswith("!"), ("巡查发现：" + text) if patrol else text

    def praised(self, rng: random.Random, code: str, leaf: str) -> str:
        team = self.teams[code]
        if leaf == "维修表扬":
            engineering = self.ref.departments["工程部"].id
            return rng.choice(team.field.get(engineering, team.agents)).name[0] + "师傅"
        if leaf == "客服表扬":
            return rng.choice(team.agents + team.frontdesks).name
        surname = rng.choices(data.SURNAMES[:40])[0]
        return surname + ("阿姨" if leaf == "保洁表扬" else rng.choice(("师傅", "队长")))

    def urgency(self, rng: random.Random, kind: str, urgent: bool) -> str:
        if urgent:
            return Urgency.CRITICAL if rng.random() < 0.4 else Urgency.HIGH
        if kind == Kind.REPAIR:
            return rng.choices(Urgency.values, weights=[60, 30, 10, 0])[0]
        return rng.choices(Urgency.values, weights=[72, 24, 4, 0])[0]

    def target(self, rng: random.Random, age: int) -> str:
        weights = next(w for minimum, w in STATUS_BY_AGE if age >= minimum)
        return rng.choices(list(weights), weights=list(weights.values()))[0]

    def steps(
        self,
        rng: random.Random,
        flow: str,
        kind: str,
        category: Category,
        urgency: str,
        target: str,
        client: Client | None,
        contact: str,
    ) -> list[Step]:
        pace = PACE[urgency]
        said = texts.TEXTS[category.name]
        u = rng.uniform
        if flow == "fcr":
            return [Step("create", RANK[Status.CLOSED], note=rng.choice(said.answers or ("已当场答复客户",)))]
        if flow == "complaint":
            return self.complaint(rng, category, urgency, target, client, contact)
        if flow == "praise":
            path = [Step("create", 0)]
            if rng.random() < 0.6:
                path.append(Step("dispatch", 1, u(30, 600), note="转达客户表扬"))
            path.append(Step("close", 6, u(60, 2880), note="已转达表扬，纳入员工考核加分"))
            return self.cut(rng, path, target, flow)

        field_flow = flow == "field"
        path = [Step("create", 1 if field_flow else 0)]
        if field_flow and rng.random() < 0.06:
            path.append(Step("transfer", 1, u(5, 90), note=rng.choice(texts.TRANSFER_REASONS)))
        if field_flow:
            late = rng.random() < 0.08
            path.append(Step("accept", 2, u(60, 240) if late else u(2, 40) * pace))
            if kind == Kind.REPAIR:
                path.append(Step("arrive", 3, u(10, 90) * pace))
            else:
                path.append(Step("start", 3, u(5, 120) * pace))
        if rng.random() < 0.25:
            public = rng.random() < 0.4
            pool = texts.NOTES_PUBLIC if public else texts.NOTES_INTERNAL
            note = rng.choice(pool).format(time=rng.choice(texts.TIMES))
            path.append(Step("note", path[-1].rank, u(3, 60), note=note, extra={"public": public}))
        if rng.random() < 0.08:
            reasons = texts.SUSPEND_REASONS["repair" if kind == Kind.REPAIR else "other"]
            path.append(Step("suspend", path[-1].rank, u(10, 120), note=rng.choice(reasons)))
            path.append(Step("resume", path[-1].rank, u(240, 2880)))
        path.append(self.complete(rng, kind, said, pace))
        if rng.random() < 0.04:
            path.append(Step("reject", 3, u(60, 1440), note=rng.choice(texts.REJECT_REASONS)))
            path.append(self.complete(rng, kind, said, pace, minutes=u(60, 1440)))
        who = client.contact if client is not None else contact
        method = rng.choices(list(CONFIRM_METHODS), weights=[60, 30, 10])[0]
        path.append(Step("confirm", 5, u(30, 1440), extra={"confirmed_by": who or "客户", "method": method}))
        path.append(Step("close", 6, u(5, 2880)))
        return self.cut(rng, path, target, flow, kind)

    def complaint(
        self,
        rng: random.Random,
        category: Category,
        urgency: str,
        target: str,
        client: Client | None,
        contact: str,
    ) -> list[Step]:
        """The six steps (seed 002): judged, investigated, solved with a supervisor's
        instruction, carried out, confirmed by the customer, summed up — with the detours
        real complaints take (not valid, sent back, refused by the customer)."""
        pace = max(PACE[urgency], 0.3)
        said = texts.TEXTS[category.name]
        u = rng.uniform
        solutions = [result for result, _ in (said.results or texts.RESULTS_GENERIC)]
        path = [Step("create", 0, extra={"major": rng.random() < 0.03})]
        if rng.random() < 0.08:
            path.append(Step("dismiss", C_RANK["dismiss"], u(20, 600) * pace, note=rng.choice(texts.DISMISSALS)))
            return self.cut_complaint(rng, path, target)
        path.append(
            Step("judge", 1, u(10, 240) * pace, note=rng.choice(texts.JUDGMENTS), extra={"send": rng.random() < 0.5})
        )
        if rng.random() < 0.06:
            path.append(Step("suspend", 1, u(30, 240), note=rng.choice(texts.SUSPEND_REASONS["other"])))
            path.append(Step("resume", 1, u(240, 2880)))
        path.append(Step("investigate", 2, u(60, 1440) * pace, note=rng.choice(texts.CAUSES)))

        def solve(minutes: float) -> None:
            count = 2 if len(solutions) > 1 and rng.random() < 0.4 else 1
            offered = rng.sample(solutions, count)
            path.append(Step("propose", 3, minutes, extra={"proposals": offered}))
            if rng.random() < 0.1:
                path.append(Step("send_back", 3, u(30, 480), note=rng.choice(texts.SEND_BACKS)))
                path.append(Step("propose", 3, u(60, 720), extra={"proposals": rng.sample(solutions, 1)}))
            path.append(Step("approve", 4, u(20, 480) * pace, note=rng.choice(texts.INSTRUCTIONS)))
            penalty = rng.choice(texts.PENALTIES) if rng.random() < 0.3 else ""
            amount = rng.choice(("50", "100", "200")) if penalty and rng.random() < 0.5 else None
            path.append(
                Step(
                    "implement",
                    5,
                    u(60, 1440) * pace,
                    note="已按批示方案落实完毕，并已告知客户处理结果",
                    extra={
                        "method": rng.choice(("phone", "onsite", "phone", "sms")),
                        "penalty": penalty,
                        "amount": amount,
                    },
                )
            )

        solve(u(60, 720) * pace)
        if rng.random() < 0.05:
            path.append(Step("reject", 3, u(60, 1440), note=rng.choice(texts.COMPLAINT_REFUSALS)))
            solve(u(60, 720))
        who = client.contact if client is not None else contact
        method = rng.choices(list(CONFIRM_METHODS), weights=[60, 30, 10])[0]
        path.append(Step("confirm", 6, u(30, 1440), extra={"confirmed_by": who or "客户", "method": method}))
        summary = {"root_cause": rng.choice(texts.ROOT_CAUSES), "improvement": rng.choice(texts.IMPROVEMENTS)}
        path.append(Step("summarize", 7, u(60, 2880), extra=summary))
        path.append(Step("close", 8, u(5, 2880)))
        return self.cut_complaint(rng, path, target)

    def cut_complaint(self, rng: random.Random, path: list[Step], target: str) -> list[Step]:
        if target == Status.CANCELLED:
            kept = [s for s in _upto(path, rng.choice((0, 1))) if s.action not in ("suspend", "resume", "dismiss")]
            return [*kept, Step("cancel", kept[-1].rank, rng.uniform(5, 600), note=rng.choice(texts.CANCEL_REASONS))]
        if target == Status.SUSPENDED:
            kept = [s for s in _upto(path, rng.choice((1, 2, 3))) if s.action not in ("suspend", "resume", "dismiss")]
            # Waiting for the customer happens while the complaint is being worked on.
            while len(kept) > 1 and kept[-1].action not in ("judge", "investigate", "approve", "send_back", "reject"):
                kept.pop()
            if kept[-1].action == "create":
                return kept
            return [
                *kept,
                Step("suspend", kept[-1].rank, rng.uniform(10, 120), note=rng.choice(texts.SUSPEND_REASONS["other"])),
            ]
        return _upto(path, C_TARGET[target])

    def complete(
        self, rng: random.Random, kind: str, said: texts.Texts, pace: float, minutes: float | None = None
    ) -> Step:
        u = rng.uniform
        if minutes is None:
            if kind == Kind.REPAIR:
                minutes = u(600, 4000) if rng.random() < 0.1 else u(20, 240)
            elif kind == Kind.COMPLAINT:
                minutes = u(120, 2880) * max(pace, 0.3) * (2 if rng.random() < 0.1 else 1)
            else:
                minutes = u(20, 600) * pace
        results = said.results or tuple((answer, "") for answer in said.answers) or texts.RESULTS_GENERIC
        result, materials = rng.choice(results)
        extra: dict[str, Any] = {}
        if kind == Kind.REPAIR:
            paid = rng.random() < said.paid
            extra = {
                "work_notes": result,
                "materials": "" if materials == "无" else materials,
                "work_hours": rng.choice(("0.5", "1", "1.5", "2", "3")),
                "is_paid": paid,
                "fee": rng.choice(("20", "30", "50", "80", "120", "150")) if paid else None,
            }
        return Step("complete", 4, minutes, note="" if kind == Kind.REPAIR else result, extra=extra)

    def cut(self, rng: random.Random, path: list[Step], target: str, flow: str, kind: str = "") -> list[Step]:
        """Keep the path up to ``target``; a cancelled or suspended ticket stops early."""
        if target == Status.CANCELLED:
            stop = rng.choice((0, 1, 2)) if flow == "field" else 0
            kept = _upto(path, stop)
            return [*kept, Step("cancel", kept[-1].rank, rng.uniform(5, 600), note=rng.choice(texts.CANCEL_REASONS))]
        if target == Status.SUSPENDED:
            if flow == "praise":
                return _upto(path, 0)
            kept = [s for s in _upto(path, 3 if flow == "field" else 0) if s.action not in ("suspend", "resume")]
            reasons = texts.SUSPEND_REASONS["repair" if kind == Kind.REPAIR else "other"]
            return [*kept, Step("suspend", kept[-1].rank, rng.uniform(10, 120), note=rng.choice(reasons))]
        return _upto(path, RANK[target])

    def schedule(self, rng: random.Random, plan: Plan, created: datetime) -> None:
        """Give each step its time. Routine work waits for the working day; urgent work
        goes on at night. An unfinished ticket's steps fit into the time it has had."""
        urgent = plan.urgency in (Urgency.HIGH, Urgency.CRITICAL)
        moments, moment = [], created
        for step in plan.steps:
            moment += timedelta(minutes=step.minutes)
            # Always draw, so that the random sequence does not depend on the clock.
            morning = rng.uniform(0, 90)
            if step.minutes and not urgent:
                moment = _working_time(moment, morning)
            moments.append(moment)
        latest = self.anchor - timedelta(minutes=2)
        if moments[-1] > latest > created:
            scale = (latest - created) / (moments[-1] - created)
            moments = [created + (m - created) * scale for m in moments]
        for step, moment in zip(plan.steps, moments, strict=True):
            step.at = moment.replace(microsecond=0)


def _working_time(moment: datetime, morning: float) -> datetime:
    """``moment``, or the next morning (08:00 plus ``morning`` minutes) if it is night."""
    local = timezone.localtime(moment)
    if WORKDAY_START <= local.hour < WORKDAY_END:
        return moment
    day = local.date() if local.hour < WORKDAY_START else local.date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(day, time(WORKDAY_START))) + timedelta(minutes=morning)


def _upto(path: list[Step], rank: int) -> list[Step]:
    keep = 1
    for index, step in enumerate(path):
        if step.rank <= rank:
            keep = index + 1
    return path[:keep]

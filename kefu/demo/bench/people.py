"""The benchmark company: ten sites, 200 staff in every role, units and customers.

Sites and staff are few and go through the ORM; units, customers and what hangs off them
(phones, room links, tags, the history entry ``customer_create`` writes) are written in bulk
with explicit ids. Everything random comes from the ``random.Random`` handed in.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from kefu.core import refdata
from kefu.core.phones import last4
from kefu.customers.models import Customer, CustomerEvent, CustomerPhone, CustomerUnit, Unit
from kefu.org.models import Role, Site, Staff
from kefu.tickets.models import SlaPolicy
from kefu.visits.models import VisitRules

from .. import data
from ..builders import PhoneBook, person_name
from ..reference import Reference
from .sink import Row, Sink

PASSWORD = data.PASSWORD
# What ``build_customers`` writes with its own ids.
MODELS = (Unit, Customer, CustomerPhone, CustomerUnit, CustomerEvent, Customer.tags.through)
USERNAME_PREFIX = "bench_"
EMPLOYEE_PREFIX = "BN"


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    kind: str
    address: str
    phone: str
    floors: int = 18  # residential: storeys; office: the top floor (offices start on 3)
    weight: float = 1.0  # share of customers and tickets


_R, _O = Site.Kind.RESIDENTIAL, Site.Kind.OFFICE

# Larger estates first, so that a small seed (fewer sites) still has both kinds.
SITES: list[SiteSpec] = [
    SiteSpec("BN-BSY", "碧水云天花园", _R, "北京市海淀区西三旗路26号", "010-62751234", 18, 1.4),
    SiteSpec("BN-HQJ", "环球金融中心", _O, "北京市朝阳区光华路9号", "010-65861234", 40, 0.8),
    SiteSpec("BN-WJX", "望京新城", _R, "北京市朝阳区望京西路48号", "010-64721234", 26, 1.3),
    SiteSpec("BN-LZY", "丽泽雅园", _R, "北京市丰台区丽泽路16号", "010-63341234", 11, 1.1),
    SiteSpec("BN-HPL", "和平里小区", _R, "北京市东城区和平里北街5号", "010-84211234", 6, 0.9),
    SiteSpec("BN-JQJ", "金泉家园", _R, "北京市海淀区远大路20号", "010-88451234", 18, 1.0),
    SiteSpec("BN-ZGC", "中关村创新大厦", _O, "北京市海淀区中关村大街27号", "010-82681234", 28, 0.7),
    SiteSpec("BN-CAL", "长安绿洲", _R, "北京市石景山区长安街西延线88号", "010-68871234", 33, 1.0),
    SiteSpec("BN-TTH", "天通华府", _R, "北京市昌平区立汤路186号", "010-84821234", 26, 1.2),
    SiteSpec("BN-SJY", "双井苑", _R, "北京市朝阳区东三环中路39号", "010-87761234", 18, 0.8),
]

# Per site: (role, department, skills of each, title). Technicians cover every repair skill.
_SVC, _ENG, _SEC, _ENV, _FIN = "客服部", "工程部", "秩序维护部", "环境部", "财务部"
SITE_TEAM: list[tuple[str, str, tuple[str, ...], str]] = [
    (Role.MANAGER, _SVC, (), "客服经理"),
    *[(Role.SUPERVISOR, _SVC, (), "客服主管")] * 2,
    *[(Role.AGENT, _SVC, (), "客服专员")] * 6,
    *[(Role.FRONTDESK, _SVC, (), "客服前台")] * 2,
    (Role.TECHNICIAN, _ENG, ("水电", "门窗"), "工程组长"),
    (Role.TECHNICIAN, _ENG, ("水电", "空调"), "维修工"),
    (Role.TECHNICIAN, _ENG, ("电梯", "弱电"), "电梯维保员"),
    (Role.TECHNICIAN, _ENG, ("土建", "门窗", "消防"), "维修工"),
    (Role.TECHNICIAN, _ENG, ("水电", "弱电", "土建"), "维修工"),
    *[(Role.DEPT_STAFF, _SEC, ("安防",), "秩序维护员")] * 2,
    (Role.DEPT_STAFF, _ENV, ("保洁", "绿化"), "环境主管"),
]
# Company-wide, with every site: two directors, two administrators, the cashiers, and two
# lift specialists who go wherever a lift is stuck.
COMPANY_TEAM: list[tuple[str, str, tuple[str, ...], str]] = [
    *[(Role.DIRECTOR, _SVC, (), "客服总监")] * 2,
    *[(Role.ADMIN, "", (), "系统管理员")] * 2,
    *[(Role.DEPT_STAFF, _FIN, (), "收费员")] * 4,
    *[(Role.TECHNICIAN, _ENG, ("电梯", "消防"), "电梯专家")] * 2,
]
_EMPLOYEE_PREFIX = {_SVC: "KF", _ENG: "GC", _SEC: "ZX", _ENV: "HJ", _FIN: "CW", "": "XT"}


@dataclass
class Member:
    id: int
    name: str
    role: str
    department_id: int | None
    skills: frozenset[int]
    site_ids: frozenset[int]


@dataclass
class Person:
    """A customer as the ticket generator needs it."""

    id: int
    name: str
    contact: str
    phone: str
    unit_id: int | None
    unit_label: str  # 3号楼2单元1502室, A座1203室
    building: str
    floor: int
    tags: tuple[str, ...] = ()


@dataclass
class Place:
    """One site and its people."""

    id: int
    code: str
    name: str
    kind: str
    weight: float
    staff: list[Member] = field(default_factory=list)
    customers: list[Person] = field(default_factory=list)
    buildings: list[str] = field(default_factory=list)

    def by_role(self, role: str) -> list[Member]:
        return [m for m in self.staff if m.role == role]


def site_count(tickets: int) -> int:
    """Ten sites from 100,000 tickets on; fewer (at least two) for a small seed."""
    return 10 if tickets >= 100_000 else max(2, min(10, 2 + tickets // 12_500))


def build_org(rng: random.Random, ref: Reference, phones: PhoneBook, sites: int) -> list[Place]:
    """Sites, their time limits and visit rules, and the staff (users, staff, their sites
    and skills), through the ORM."""
    specs = SITES[:sites]
    created = [
        Site.objects.create(name=s.name, code=s.code, kind=s.kind, address=s.address, phone=s.phone) for s in specs
    ]
    places = [Place(s.id, spec.code, spec.name, spec.kind, spec.weight) for s, spec in zip(created, specs, strict=True)]
    # The office towers keep tighter repair limits than the company's (a site's own policy).
    company = {(p.kind, p.urgency): p for p in SlaPolicy.objects.filter(site__isnull=True, kind="repair")}
    SlaPolicy.objects.bulk_create(
        [
            SlaPolicy(
                site=site,
                kind=policy.kind,
                urgency=policy.urgency,
                respond_minutes=max(5, policy.respond_minutes // 2),
                arrive_minutes=max(15, (policy.arrive_minutes or 60) // 2),
                resolve_minutes=max(60, policy.resolve_minutes * 3 // 4),
            )
            for site in created
            if site.kind == Site.Kind.OFFICE
            for policy in company.values()
        ]
    )
    refdata.changed()  # a bulk insert sends no signal (decision 0012)
    password = make_password(PASSWORD)
    User = get_user_model()
    plan: list[tuple[str, str, tuple[str, ...], str, list[Site], str]] = []
    for role, department, skills, title in COMPANY_TEAM:
        plan.append((role, department, skills, title, created, "hq"))
    for site, spec in zip(created, specs, strict=True):
        for role, department, skills, title in SITE_TEAM:
            plan.append((role, department, skills, title, [site], spec.code.split("-")[-1].lower()))
    numbers: dict[str, int] = {}
    counts: dict[str, int] = {}
    users, members = [], []
    for role, department, _skills, _title, _sites, tag in plan:
        prefix = _EMPLOYEE_PREFIX[department]
        numbers[prefix] = numbers.get(prefix, 0) + 1
        key = f"{tag}_{role}"
        counts[key] = counts.get(key, 0) + 1
        name, _gender = person_name(rng)
        users.append(User(username=f"{USERNAME_PREFIX}{key}{counts[key]}", password=password, first_name=name))
        members.append(
            Staff(
                name=name,
                employee_no=f"{EMPLOYEE_PREFIX}{prefix}{numbers[prefix]:04d}",
                phone=phones.mobile(),
                role=role,
                department=ref.departments.get(department),
            )
        )
    users = User.objects.bulk_create(users)
    for user, member in zip(users, members, strict=True):
        member.user = user
    members = Staff.objects.bulk_create(members)
    _superiors(members, plan)
    site_links, skill_links = [], []
    SiteLink, SkillLink = Staff.sites.through, Staff.skills.through
    for member, (_role, _department, skills, _title, on_sites, _tag) in zip(members, plan, strict=True):
        site_links += [SiteLink(staff_id=member.id, site_id=site.id) for site in on_sites]
        skill_links += [SkillLink(staff_id=member.id, skill_id=ref.skills[name].id) for name in skills]
    SiteLink.objects.bulk_create(site_links)
    SkillLink.objects.bulk_create(skill_links)
    index = {p.id: p for p in places}
    for member, (_role, _department, skills, _title, on_sites, _tag) in zip(members, plan, strict=True):
        m = Member(
            member.id,
            member.name,
            member.role,
            member.department_id,
            frozenset(ref.skills[s].id for s in skills),
            frozenset(s.id for s in on_sites),
        )
        for site in on_sites:
            index[site.id].staff.append(m)
    for place in places:
        rules = VisitRules.objects.create(site_id=place.id)
        rules.team.set([m.id for m in place.by_role(Role.AGENT)])
    return places


def _superiors(members: list[Staff], plan: list[tuple[str, str, tuple[str, ...], str, list[Site], str]]) -> None:
    """Agents and the front desk answer to a supervisor, supervisors and the site's field
    staff to its manager, managers and the company-wide staff to the first director."""
    director = next(m for m in members if m.role == Role.DIRECTOR)
    by_site: dict[int, dict[str, list[Staff]]] = {}
    for member, entry in zip(members, plan, strict=True):
        if len(entry[4]) == 1:
            by_site.setdefault(entry[4][0].id, {}).setdefault(member.role, []).append(member)
    for member, entry in zip(members, plan, strict=True):
        if member.id == director.id or member.role == Role.ADMIN:
            continue
        if len(entry[4]) != 1:
            member.superior = director
            continue
        team = by_site[entry[4][0].id]
        if member.role in (Role.AGENT, Role.FRONTDESK):
            supervisors = team[Role.SUPERVISOR]
            member.superior = supervisors[member.id % len(supervisors)]
        elif member.role == Role.MANAGER:
            member.superior = director
        else:
            member.superior = team[Role.MANAGER][0]
    Staff.objects.bulk_update(members, ["superior"])


# --- units and customers --------------------------------------------------------------------


def build_customers(
    rng: random.Random, sink: Sink, places: list[Place], phones: PhoneBook, count: int, before: int
) -> dict[str, int]:
    """``count`` customers over the sites by weight, each with one or two phones and a room;
    all registered before ``before`` (the start of the seeded year). Returns rows per table."""
    text = sink.text
    unit_table = sink.table(Unit, ["id", "site_id", "building", "entrance", "room", "area"])
    customer_table = sink.table(
        Customer,
        ["id", "site_id", "kind", "name", "gender", "contact_person", "email", "source", "note", "visit_hours",
         "is_active", "owner_id", "owner_since", "first_contact_due", "first_contacted_at",
         "first_contact_warned_at", "created_by_id", "created_at", "updated_at", "version"],
    )  # fmt: skip
    phone_table = sink.table(CustomerPhone, ["id", "customer_id", "number", "last4", "label", "is_primary"])
    link_table = sink.table(CustomerUnit, ["id", "customer_id", "unit_id", "relation"])
    event_table = sink.table(CustomerEvent, ["id", "customer_id", "actor_id", "at", "type", "data"])
    tag_through = Customer.tags.through
    tag_table = sink.table(tag_through, ["id", "customer_id", "tag_id"])
    from kefu.customers.models import Tag

    tags = dict(Tag.objects.values_list("name", "id"))
    ids = {m: sink.next_id(m) for m in (Unit, Customer, CustomerPhone, CustomerUnit, CustomerEvent, tag_through)}
    written: dict[str, int] = {}
    total_weight = sum(p.weight for p in places)
    left = count
    for number, place in enumerate(places):
        share = left if number == len(places) - 1 else round(count * place.weight / total_weight)
        share = max(1, min(share, left - (len(places) - number - 1)))
        left -= share
        units, labels = _units(place, share)
        unit_rows: list[Row] = []
        unit_ids = []
        for building, entrance, room, area in units:
            unit_ids.append(ids[Unit])
            unit_rows.append((ids[Unit], place.id, building, entrance, room, area))
            ids[Unit] += 1
        sink.write(unit_table, unit_rows)
        agents = place.by_role(Role.AGENT)
        customers, phone_rows, link_rows, event_rows, tag_rows = [], [], [], [], []
        free = list(range(len(units)))
        rng.shuffle(free)
        owned: list[int] = []
        office = place.kind == Site.Kind.OFFICE
        for index in range(share):
            cid = ids[Customer]
            ids[Customer] += 1
            draw = rng.random()
            company = office and index % 3 == 0
            domain = ""
            if company:
                brand, domain = rng.choice(data.COMPANY_BRANDS)
                city = rng.choice(("北京", "北京", "中科", "华夏", "京华", "东方"))
                name, gender, kind = f"{city}{brand}{rng.choice(data.COMPANY_TRADES)}", "", Customer.Kind.COMPANY
                contact, _ = person_name(rng)
                relation, source = CustomerUnit.Relation.TENANT, Customer.Source.SALES
            else:
                name, gender = person_name(rng)
                kind, contact = Customer.Kind.PERSON, ""
                if draw < 0.14 and owned:
                    relation, source = CustomerUnit.Relation.FAMILY, Customer.Source.VISIT
                elif draw < 0.3:
                    relation, source = CustomerUnit.Relation.TENANT, Customer.Source.PHONE
                else:
                    relation, source = CustomerUnit.Relation.OWNER, Customer.Source.DELIVERY
            if relation == CustomerUnit.Relation.FAMILY or not free:
                unit_index = rng.choice(owned) if owned else rng.randrange(len(units))
            else:
                unit_index = free.pop()
                owned.append(unit_index)
            numbers = [phones.mobile() for _ in range(2 if rng.random() < 0.25 else 1)]
            tag_names = (
                (["大客户"] if rng.random() < 0.4 else [])
                if company
                else (["VIP"] if draw > 0.96 else ["会员"] if draw > 0.86 else [])
            )
            note = rng.choice(data.COMPANY_NOTES if company else data.CUSTOMER_NOTES) if rng.random() < 0.1 else ""
            email = f"admin@{domain}.com.cn" if company else ""
            owner = agents[index % len(agents)]
            days = rng.randint(30, 1800) if source == Customer.Source.DELIVERY else rng.randint(10, 700)
            created = before - days * 86400 - rng.randrange(36000)
            since = created + rng.randrange(3600, 86400)
            contacted = since + rng.randrange(7200, 150 * 3600)
            customers.append(
                (cid, place.id, kind, name, gender, contact, email, source, note, "", True, owner.id,
                 text(since), text(since + 7 * 86400), text(contacted), None, owner.id, text(created),
                 text(created), 1)
            )  # fmt: skip
            for position, phone in enumerate(numbers):
                phone_rows.append((ids[CustomerPhone], cid, phone, last4(phone), "", position == 0))
                ids[CustomerPhone] += 1
            unit_id = unit_ids[unit_index]
            link_rows.append((ids[CustomerUnit], cid, unit_id, relation))
            ids[CustomerUnit] += 1
            for tag in tag_names:
                tag_rows.append((ids[tag_through], cid, tags[tag]))
                ids[tag_through] += 1
            building, entrance, room, _area = units[unit_index]
            snapshot = {
                "kind": kind, "name": name, "gender": gender, "contact_person": contact, "email": email,
                "source": source, "note": note, "visit_hours": "", "phones": numbers,
                "units": [f"{labels[unit_index][0]}({CustomerUnit.Relation(relation).label})"],
                "tags": sorted(tag_names),
            }  # fmt: skip
            event_rows.append((ids[CustomerEvent], cid, owner.id, text(created), "created", json.dumps(snapshot)))
            ids[CustomerEvent] += 1
            place.customers.append(
                Person(cid, name, contact or name, numbers[0], unit_id, labels[unit_index][1], building,
                       _floor(room), tuple(tag_names))
            )  # fmt: skip
        for table, rows in (
            (customer_table, customers),
            (phone_table, phone_rows),
            (link_table, link_rows),
            (event_table, event_rows),
            (tag_table, tag_rows),
        ):
            sink.write(table, rows)
            written[table.name] = written.get(table.name, 0) + len(rows)
        written[unit_table.name] = written.get(unit_table.name, 0) + len(unit_rows)
        place.buildings = sorted({u[0] for u in units}, key=lambda b: (len(b), b))
    return written


def _floor(room: str) -> int:
    return int(room[:-2] or 1)


def _units(place: Place, customers: int) -> tuple[list[tuple[str, str, str, str]], list[tuple[str, str]]]:
    """Rooms for about ``customers`` / 1.15 households: estates in buildings of two or three
    entrances and two flats a floor; office towers A, B, C … of twelve offices a floor.
    Returns (building, entrance, room, area) and (short label 3-2-1502, long label)."""
    spec = next(s for s in SITES if s.code == place.code)
    wanted = max(4, round(customers / 1.15))
    units: list[tuple[str, str, str, str]] = []
    labels: list[tuple[str, str]] = []
    if place.kind == Site.Kind.OFFICE:
        towers = "ABCDEFGH"
        per_tower = (spec.floors - 2) * 12
        for index in range(wanted):
            tower, rest = divmod(index, per_tower)
            floor, room = divmod(rest, 12)
            name, number = towers[tower % len(towers)] + ("" if tower < len(towers) else str(tower)), floor + 3
            label = f"{number}{room + 1:02d}"
            area = "320.00" if room in (0, 11) else f"{120 + 20 * (room % 4)}.00"
            units.append((name, "", label, area))
            labels.append((f"{name}-{label}", f"{name}座{label}室"))
        return units, labels
    entrances = 3 if spec.floors > 11 else 2
    per_building = entrances * spec.floors * 2
    areas = data.ESTATE_FLAT_AREAS
    for index in range(wanted):
        building, rest = divmod(index, per_building)
        entrance, rest = divmod(rest, spec.floors * 2)
        floor, flat = divmod(rest, 2)
        b, e, r = str(building + 1), str(entrance + 1), f"{floor + 1}{flat + 1:02d}"
        units.append((b, e, r, f"{areas[(building + entrance + flat) % len(areas)]}.00"))
        labels.append((f"{b}-{e}-{r}", f"{b}栋{e}单元{r}室"))
    return units, labels

"""Builders for the demo company: wipe, sites and staff, units, customers.

Everything random comes from the ``random.Random`` handed in, so a fresh run with the
same seed gives the same people, rooms and phone numbers.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db.models import OuterRef, ProtectedError, Subquery

from kefu.appraisal.models import Period, RewardPenalty
from kefu.core.models import Counter
from kefu.customers.models import Customer, CustomerEvent, CustomerUnit, Unit
from kefu.customers.services import CustomerData, UnitLink, customer_create
from kefu.org.models import Role, Site, Staff
from kefu.reports.models import MonthlyReport
from kefu.surveys.models import Batch, Questionnaire
from kefu.tickets.loads import loads_recount
from kefu.tickets.models import Ticket, WarningCard
from kefu.visits.models import Visit, VisitCampaign

from . import data
from .reference import Reference


class DemoError(Exception):
    """The demo cannot be built or removed; the message says why (Chinese)."""


# --- names and phone numbers --------------------------------------------------------------

_SURNAME_WEIGHTS = [1 / (index + 8) for index in range(len(data.SURNAMES))]


def person_name(rng: random.Random) -> tuple[str, str]:
    """A realistic Chinese name and its gender: a common surname and one or two given characters."""
    surname = rng.choices(data.SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    gender = rng.choice((Customer.Gender.MALE, Customer.Gender.FEMALE))
    pool = data.MALE_GIVEN if gender == Customer.Gender.MALE else data.FEMALE_GIVEN
    given = "".join(rng.choice(pool) for _ in range(1 if rng.random() < 0.3 else 2))
    return surname + given, gender


def polite_name(rng: random.Random) -> str:
    """How a caller who gives no full name is written down: 王先生, 李女士."""
    surname = rng.choices(data.SURNAMES, weights=_SURNAME_WEIGHTS)[0]
    return surname + rng.choice(("先生", "女士"))


class PhoneBook:
    """Hands out valid, distinct mainland mobile numbers (1[3-9]xxxxxxxxx)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(data.MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used:
                self.used.add(number)
                return number


# --- detect and wipe ----------------------------------------------------------------------


def demo_sites() -> list[Site]:
    return list(Site.objects.filter(code__in=[spec.code for spec in data.SITES]).order_by("id"))


def demo_staff() -> list[Staff]:
    """The roster's staff; a username alone is not enough (a real ``admin`` may exist)."""
    numbers = employee_numbers()
    return list(
        Staff.objects.filter(
            user__username__in=[p.username for p in data.ROSTER], employee_no__in=numbers.values()
        ).select_related("user")
    )


def wipe() -> None:
    """Remove the demo sites and everything in them, and the roster's accounts. Reference
    data (departments, categories, time limits …) stays: real data may use it."""
    sites = Site.objects.filter(code__in=[spec.code for spec in data.SITES])
    site_ids = list(sites.values_list("id", flat=True))
    try:
        Visit.objects.filter(site_id__in=site_ids).delete()
        VisitCampaign.objects.filter(site_id__in=site_ids).delete()
        MonthlyReport.objects.filter(site_id__in=site_ids).delete()
        Period.objects.filter(sites__in=site_ids).delete()
        RewardPenalty.objects.filter(site_id__in=site_ids).delete()
        Batch.objects.filter(site_id__in=site_ids).delete()
        # The demo's questionnaires, unless a real batch elsewhere uses them.
        Questionnaire.objects.filter(created_by__in=demo_staff(), batches__isnull=True).delete()
        WarningCard.objects.filter(site_id__in=site_ids).delete()
        Ticket.objects.filter(site_id__in=site_ids).delete()
        loads_recount()  # deleted past the services
        Customer.objects.filter(site_id__in=site_ids).delete()
        Unit.objects.filter(site_id__in=site_ids).delete()
        get_user_model().objects.filter(staff__in=[s.id for s in demo_staff()]).delete()
        for site_id in site_ids:
            Counter.objects.filter(key__startswith=f"ticket:{site_id}:").delete()
        sites.delete()
    except ProtectedError as exc:
        names = sorted({str(obj) for obj in exc.protected_objects})[:5]
        raise DemoError(f"演示数据已被其他数据引用，无法自动清除：{'、'.join(names)}") from None


# --- organisation -------------------------------------------------------------------------


def employee_numbers() -> dict[str, str]:
    """Username → employee number, numbered per department: KF001, GC001 …"""
    counters: dict[str, int] = {}
    numbers = {}
    for person in data.ROSTER:
        prefix = data.EMPLOYEE_PREFIX[person.department]
        counters[prefix] = counters.get(prefix, 0) + 1
        numbers[person.username] = f"{prefix}{counters[prefix]:03d}"
    return numbers


def check_free() -> set[str]:
    """The roster usernames to leave out, or an error naming every clash.

    An installation usually has an ``admin`` already (``kefu createadmin``): the demo then
    keeps it and adds no administrator of its own. Any other taken username or employee
    number stops the demo, since other accounts would hang off the missing one."""
    User = get_user_model()
    numbers = employee_numbers()
    taken = set(User.objects.filter(username__in=[p.username for p in data.ROSTER]).values_list("username", flat=True))
    skip = {p.username for p in data.ROSTER if p.username in taken and p.role == Role.ADMIN}
    clashes = sorted(taken - skip)
    clashes += sorted(
        Staff.objects.filter(employee_no__in=[n for u, n in numbers.items() if u not in skip]).values_list(
            "employee_no", flat=True
        )
    )
    if clashes:
        raise DemoError(f"以下演示用户名或工号已被占用：{'、'.join(clashes)}。请先处理后再生成演示数据")
    return skip


def build_org(
    rng: random.Random, ref: Reference, phones: PhoneBook, *, skip: set[str] | frozenset[str] = frozenset()
) -> tuple[dict[str, Site], dict[str, Staff]]:
    sites = {
        spec.code: Site.objects.create(
            name=spec.name, code=spec.code, kind=spec.kind, address=spec.address, phone=spec.phone
        )
        for spec in data.SITES
    }
    # One hash for every account: hashing is deliberately slow (PBKDF2), and these accounts
    # share one published password anyway.
    password = make_password(data.PASSWORD)
    numbers = employee_numbers()
    User = get_user_model()
    staff: dict[str, Staff] = {}
    for person in data.ROSTER:
        if person.username in skip:
            continue
        is_admin = person.role == Role.ADMIN
        user = User.objects.create(
            username=person.username,
            password=password,
            first_name=person.name,
            is_staff=is_admin,
            is_superuser=is_admin,
        )
        member = Staff.objects.create(
            user=user,
            name=person.name,
            employee_no=numbers[person.username],
            phone=phones.mobile(),
            role=person.role,
            department=ref.departments.get(person.department),
            superior=staff.get(person.superior),
        )
        member.sites.set([sites[code] for code in person.sites])
        member.skills.set([ref.skills[name] for name in person.skills])
        staff[person.username] = member
    return sites, staff


# --- units --------------------------------------------------------------------------------


def build_units(sites: dict[str, Site]) -> dict[str, list[Unit]]:
    estate, office = sites[data.RESIDENTIAL.code], sites[data.OFFICE.code]
    rows = [
        Unit(
            site=estate,
            building=str(building),
            entrance=str(entrance),
            room=f"{floor}{flat:02d}",
            area=Decimal(data.ESTATE_FLAT_AREAS[(building + entrance + flat) % len(data.ESTATE_FLAT_AREAS)]),
        )
        for building in range(1, data.ESTATE_BUILDINGS + 1)
        for entrance in range(1, data.ESTATE_ENTRANCES + 1)
        for floor in range(1, data.ESTATE_FLOORS + 1)
        for flat in (1, 2)
    ]
    rows += [
        Unit(
            site=office,
            building=tower,
            entrance="",
            room=f"{floor}{room:02d}",
            area=Decimal(320 if room in (1, data.OFFICE_ROOMS_PER_FLOOR) else 120 + 20 * (room % 4)),
        )
        for tower in data.OFFICE_TOWERS
        for floor in data.OFFICE_FLOORS
        for room in range(1, data.OFFICE_ROOMS_PER_FLOOR + 1)
    ]
    created = Unit.objects.bulk_create(rows, batch_size=500)
    by_site: dict[str, list[Unit]] = {code: [] for code in sites}
    for unit in created:
        by_site[data.RESIDENTIAL.code if unit.site_id == estate.id else data.OFFICE.code].append(unit)
    return by_site


# --- customers ----------------------------------------------------------------------------


@dataclass
class Client:
    """A demo customer as the ticket builder needs it, without further queries."""

    customer: Customer
    phone: str
    contact: str
    units: list[Unit] = field(default_factory=list)


def _link(unit: Unit, relation: str) -> UnitLink:
    return UnitLink(unit.building, unit.entrance, unit.room, relation)


def build_customers(
    rng: random.Random,
    *,
    count: int,
    sites: dict[str, Site],
    units: dict[str, list[Unit]],
    staff: dict[str, Staff],
    phones: PhoneBook,
    anchor: datetime,
) -> dict[str, list[Client]]:
    """``count`` customers, about four in five at the estate: owners (some with two flats),
    their family members and tenants; at the office tower, companies and their people."""
    estate_count = round(count * 0.78)
    planned: dict[str, list[tuple[CustomerData, list[Unit]]]] = {
        data.RESIDENTIAL.code: _estate_people(rng, estate_count, units[data.RESIDENTIAL.code], phones),
        data.OFFICE.code: _office_tenants(rng, count - estate_count, units[data.OFFICE.code], phones),
    }
    agents = {
        code: [s for s in staff.values() if s.role == Role.AGENT and sites[code] in s.sites.all()] for code in sites
    }
    clients: dict[str, list[Client]] = {code: [] for code in sites}
    for code, rows in planned.items():
        for index, (customer_data, linked) in enumerate(rows):
            actor = agents[code][index % len(agents[code])]
            customer = customer_create(site=sites[code], data=customer_data, actor=actor)
            # Owners moved in at delivery (交房), years ago; everyone else registered later.
            delivered = customer_data.source == Customer.Source.DELIVERY
            days = rng.randint(400, 1800) if delivered else rng.randint(100, 700)
            customer.created_at = anchor - timedelta(days=days, minutes=rng.randint(0, 600))
            contact = customer_data.contact_person or customer.name
            clients[code].append(Client(customer, customer_data.phones[0], contact, linked))
    everyone = [c.customer for rows in clients.values() for c in rows]
    for customer in everyone:
        customer.updated_at = customer.created_at
    Customer.objects.bulk_update(everyone, ["created_at", "updated_at"], batch_size=500)
    CustomerEvent.objects.filter(customer__in=everyone).update(
        at=Subquery(Customer.objects.filter(pk=OuterRef("customer_id")).values("created_at")[:1])
    )
    return clients


def _phones(rng: random.Random, phones: PhoneBook) -> list[str]:
    return [phones.mobile() for _ in range(2 if rng.random() < 0.25 else 1)]


def _person_tags(rng: random.Random) -> list[str]:
    draw = rng.random()
    return ["VIP"] if draw < 0.04 else ["会员"] if draw < 0.14 else []


def _estate_people(
    rng: random.Random, count: int, units: list[Unit], phones: PhoneBook
) -> list[tuple[CustomerData, list[Unit]]]:
    free = list(units)
    rng.shuffle(free)
    owners: list[list[Unit]] = []
    rows = []
    for _ in range(count):
        name, gender = person_name(rng)
        draw = rng.random()
        if (draw < 0.14 and owners) or not free:
            linked, relation, source = rng.choice(owners)[:1], CustomerUnit.Relation.FAMILY, Customer.Source.VISIT
        elif draw < 0.28:
            linked, relation, source = [free.pop()], CustomerUnit.Relation.TENANT, Customer.Source.PHONE
        else:
            linked = [free.pop()] + ([free.pop()] if rng.random() < 0.08 and free else [])
            relation, source = CustomerUnit.Relation.OWNER, Customer.Source.DELIVERY
            owners.append(linked)
        note = rng.choice(data.CUSTOMER_NOTES) if rng.random() < 0.12 else ""
        customer_data = CustomerData(
            name=name,
            gender=gender,
            phones=_phones(rng, phones),
            units=[_link(unit, relation) for unit in linked],
            tags=_person_tags(rng),
            source=source,
            note=note,
        )
        rows.append((customer_data, linked))
    return rows


def _office_tenants(
    rng: random.Random, count: int, units: list[Unit], phones: PhoneBook
) -> list[tuple[CustomerData, list[Unit]]]:
    free = sorted(units, key=lambda u: (u.building, int(u.room)))
    start = 0
    companies = [(brand, domain, trade) for brand, domain in data.COMPANY_BRANDS for trade in data.COMPANY_TRADES]
    rng.shuffle(companies)
    rows = []
    for index in range(count):
        # Offices are let floor by floor from the bottom; a company takes one to three.
        width = rng.choice((1, 1, 2, 3)) if index % 3 == 0 else 1
        if start + width > len(free):
            start = 0
        linked, start = free[start : start + width], start + width
        if index % 3 == 0 and companies:
            brand, domain, trade = companies.pop()
            contact, _ = person_name(rng)
            draw = rng.random()
            customer_data = CustomerData(
                name=f"北京{brand}{trade}",
                kind=Customer.Kind.COMPANY,
                contact_person=contact,
                email=f"admin@{domain}.com.cn",
                phones=_phones(rng, phones),
                units=[_link(unit, CustomerUnit.Relation.TENANT) for unit in linked],
                tags=["大客户", "VIP"] if draw < 0.1 else ["大客户"] if draw < 0.45 else [],
                source=Customer.Source.SALES,
                note=rng.choice(data.COMPANY_NOTES) if rng.random() < 0.3 else "",
            )
        else:
            name, gender = person_name(rng)
            relation = CustomerUnit.Relation.OWNER if rng.random() < 0.2 else CustomerUnit.Relation.TENANT
            customer_data = CustomerData(
                name=name,
                gender=gender,
                phones=_phones(rng, phones),
                units=[_link(unit, relation) for unit in linked],
                tags=_person_tags(rng),
                source=Customer.Source.IMPORT if relation == CustomerUnit.Relation.OWNER else Customer.Source.PHONE,
            )
        rows.append((customer_data, linked))
    return rows

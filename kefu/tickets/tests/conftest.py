"""Personas for ticket tests: one site with a full team, and an outsider site."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kefu.customers.models import Customer
from kefu.org.models import Department, Role, Site, Skill, Staff
from kefu.testing import make_category, make_customer, make_site, make_staff
from kefu.tickets.models import Category


@dataclass
class World:
    site: Site
    other_site: Site
    eng: Department
    security: Department
    plumbing: Skill
    director: Staff
    manager: Staff
    supervisor: Staff
    agent: Staff
    frontdesk: Staff
    tech: Staff
    tech2: Staff
    guard: Staff
    admin: Staff
    outsider_agent: Staff
    outsider_tech: Staff
    repair_cat: Category
    customer: Customer


@pytest.fixture
def world(db) -> World:
    site, other = make_site("翠湖花园", code="CH"), make_site("国贸中心", code="GM")
    eng = Department.objects.create(name="工程部", kind=Department.Kind.ENGINEERING)
    security = Department.objects.create(name="秩序维护部", kind=Department.Kind.SECURITY)
    plumbing = Skill.objects.create(name="水电")
    director = make_staff(Role.DIRECTOR, name="周总监")
    manager = make_staff(Role.MANAGER, sites=[site], superior=director)
    supervisor = make_staff(Role.SUPERVISOR, sites=[site], superior=manager)
    agent = make_staff(Role.AGENT, sites=[site], superior=supervisor)
    frontdesk = make_staff(Role.FRONTDESK, sites=[site], superior=supervisor)
    tech = make_staff(Role.TECHNICIAN, sites=[site], department=eng, skills=[plumbing], name="王师傅")
    tech2 = make_staff(Role.TECHNICIAN, sites=[site], department=eng, name="李师傅")
    guard = make_staff(Role.DEPT_STAFF, sites=[site], department=security)
    admin = make_staff(Role.ADMIN)
    outsider_agent = make_staff(Role.AGENT, sites=[other])
    outsider_tech = make_staff(Role.TECHNICIAN, sites=[other], department=eng, skills=[plumbing])
    root = make_category("报修", department=eng, kinds=["repair"])
    repair_cat = make_category("给排水", parent=root, skill=plumbing, kinds=["repair"])
    customer = make_customer(site, agent, name="张业主", phone="13912345678", room=("1", "2", "301"))
    return World(
        site,
        other,
        eng,
        security,
        plumbing,
        director,
        manager,
        supervisor,
        agent,
        frontdesk,
        tech,
        tech2,
        guard,
        admin,
        outsider_agent,
        outsider_tech,
        repair_cat,
        customer,
    )

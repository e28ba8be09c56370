"""Personas for the customer pages: one site with its team, an outsider site, and records."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from kefu.customers.models import Customer
from kefu.org.models import Role, Site, Staff
from kefu.testing import make_customer, make_site, make_staff


@dataclass
class World:
    site: Site
    other_site: Site
    director: Staff
    supervisor: Staff
    agent: Staff
    admin: Staff
    tech: Staff
    outsider: Staff
    zhang: Customer
    li: Customer
    stranger: Customer


@pytest.fixture
def world(db) -> World:
    site, other = make_site("翠湖花园", code="CH"), make_site("国贸中心", code="GM")
    director = make_staff(Role.DIRECTOR, name="周总监")
    supervisor = make_staff(Role.SUPERVISOR, sites=[site], name="陈主管")
    agent = make_staff(Role.AGENT, sites=[site], name="刘专员")
    admin = make_staff(Role.ADMIN, name="系统管理员")
    tech = make_staff(Role.TECHNICIAN, sites=[site], name="王师傅")
    outsider = make_staff(Role.AGENT, sites=[other], name="外项目专员")
    zhang = make_customer(site, agent, name="张业主", phone="13912345678", room=("1", "2", "301"), tags=["VIP"])
    li = make_customer(site, agent, name="李租户", phone="13687654321", room=("5", "", "1201"))
    stranger = make_customer(other, outsider, name="赵先生", phone="13700001111", room=("1", "2", "301"))
    return World(site, other, director, supervisor, agent, admin, tech, outsider, zhang, li, stranger)


@pytest.fixture
def login(client):
    def _login(staff: Staff):
        client.force_login(staff.user)
        return client

    return _login

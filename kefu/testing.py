"""Factories for tests: build records through the services, with sensible defaults.

Personas (STYLE.md): ``make_staff(role=...)`` for a director, manager, supervisor, agent,
front-desk clerk, technician, department staff member and administrator; an outsider is
any of them attached to another site.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.contrib.auth import get_user_model

from kefu.customers.models import Customer
from kefu.customers.services import CustomerData, UnitLink, customer_create
from kefu.org.models import Department, Role, Site, Skill, Staff
from kefu.tickets.models import Category, Ticket
from kefu.tickets.services import ticket_create

_seq = itertools.count(1)
PASSWORD = "kefu-test-pass"


def make_site(name: str | None = None, **kwargs: Any) -> Site:
    n = next(_seq)
    return Site.objects.create(name=name or f"测试项目{n}", code=kwargs.pop("code", f"S{n}"), **kwargs)


def make_department(name: str | None = None, kind: str = Department.Kind.ENGINEERING) -> Department:
    return Department.objects.create(name=name or f"部门{next(_seq)}", kind=kind)


def make_staff(
    role: str = Role.AGENT,
    *,
    sites: list[Site] | tuple[Site, ...] = (),
    department: Department | None = None,
    skills: list[Skill] | tuple[Skill, ...] = (),
    superior: Staff | None = None,
    name: str | None = None,
    username: str | None = None,
) -> Staff:
    n = next(_seq)
    username = username or f"{role}{n}"
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    staff = Staff.objects.create(
        user=user,
        name=name or f"{Role(role).label}{n}",
        employee_no=f"E{n:05d}",
        role=role,
        department=department,
        superior=superior,
    )
    staff.sites.set(sites)
    staff.skills.set(skills)
    return staff


def make_customer(
    site: Site,
    actor: Staff,
    *,
    name: str | None = None,
    phone: str | None = None,
    room: tuple[str, str, str] | None = None,
    tags: list[str] | None = None,
) -> Customer:
    n = next(_seq)
    data = CustomerData(
        name=name or f"客户{n}",
        phones=[phone or f"139{n:08d}"],
        units=[UnitLink(*room)] if room else [],
        tags=tags or [],
    )
    return customer_create(site=site, data=data, actor=actor)


def make_category(
    name: str | None = None,
    *,
    parent: Category | None = None,
    department: Department | None = None,
    skill: Skill | None = None,
    kinds: list[str] | None = None,
) -> Category:
    return Category.objects.create(
        name=name or f"分类{next(_seq)}", parent=parent, department=department, skill=skill, kinds=kinds or []
    )


def make_ticket(
    site: Site,
    actor: Staff,
    *,
    kind: str = "repair",
    customer: Customer | None = None,
    category: Category | None = None,
    **kwargs: Any,
) -> Ticket:
    if customer is None and "contact_phone" not in kwargs:
        kwargs["contact_phone"] = "13800138000"
    return ticket_create(
        site=site,
        kind=kind,
        channel=kwargs.pop("channel", "phone"),
        content=kwargs.pop("content", "厨房水龙头漏水，请尽快上门维修"),
        actor=actor,
        customer=customer,
        category=category,
        **kwargs,
    )


def api_auth(staff: Staff) -> dict[str, str]:
    """Headers for ``django.test.Client`` calls to /api/v1 as ``staff`` (a fresh bearer token)."""
    from kefu.org.services import api_token_issue

    token, _ = api_token_issue(staff=staff)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def make_channel_target(
    kind: str, url: str, *, site: Site | None = None, token: str = "", events: list[str] | None = None
) -> Any:
    """A WeCom group robot (``kind="wecom"``) or the SMS gateway (``"sms_gateway"``)."""
    from kefu.notify.models import ChannelTarget

    n = next(_seq)
    return ChannelTarget.objects.create(
        name=f"通道{n}", kind=kind, url=url, site=site, token=token, events=events or []
    )


def with_contact(staff: Staff, *, email: str = "", phone: str = "") -> Staff:
    """Give ``staff`` an e-mail address and/or a mobile number (for notification channels)."""
    if email:
        staff.user.email = email
        staff.user.save(update_fields=["email"])
    if phone:
        staff.phone = phone
        staff.save(update_fields=["phone"])
    return staff

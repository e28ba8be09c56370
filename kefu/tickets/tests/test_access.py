"""Data scope on every ticket page: each role as an insider and as an outsider."""

from __future__ import annotations

import pytest

from kefu.org.models import Role
from kefu.testing import make_staff, make_ticket

ROLES_WITH_SITE_SCOPE = [Role.MANAGER, Role.SUPERVISOR, Role.AGENT, Role.FRONTDESK]


@pytest.fixture
def ticket(world):
    return make_ticket(world.site, world.agent, category=world.repair_cat, customer=world.customer)


def _sees(client, staff, ticket) -> tuple[int, bool, int]:
    client.force_login(staff.user)
    detail = client.get(f"/tickets/{ticket.pk}/").status_code
    listed = ticket.number in client.get("/tickets/?size=100").content.decode()
    action = client.post(f"/tickets/{ticket.pk}/close/", {"version": ticket.version}).status_code
    return detail, listed, action


@pytest.mark.parametrize("role", ROLES_WITH_SITE_SCOPE)
def test_site_roles_see_their_site_only(world, ticket, client, role):
    insider = make_staff(role, sites=[world.site])
    outsider = make_staff(role, sites=[world.other_site])
    assert _sees(client, insider, ticket)[:2] == (200, True)
    detail, listed, action = _sees(client, outsider, ticket)
    assert (detail, listed, action) == (404, False, 404)


def test_director_sees_every_site(world, ticket, client):
    other = make_ticket(world.other_site, world.director, auto_dispatch=False)
    client.force_login(world.director.user)
    assert client.get(f"/tickets/{ticket.pk}/").status_code == 200
    assert client.get(f"/tickets/{other.pk}/").status_code == 200


def test_technician_sees_only_work_of_him_or_his_department(world, ticket, client):
    assert ticket.assignee == world.tech
    assert _sees(client, world.tech, ticket)[:2] == (200, True)
    assert _sees(client, world.tech2, ticket)[:2] == (200, True)  # same department
    assert _sees(client, world.outsider_tech, ticket) == (404, False, 404)  # same department, other site
    desk_only = make_ticket(world.site, world.agent, auto_dispatch=False)
    assert _sees(client, world.tech, desk_only) == (404, False, 404)


def test_department_staff_see_only_their_department(world, ticket, client):
    assert _sees(client, world.guard, ticket) == (404, False, 404)
    mine = make_ticket(world.site, world.agent, kind="help", auto_dispatch=False)
    from kefu.tickets.services import ticket_dispatch

    ticket_dispatch(ticket=mine, actor=world.agent, version=mine.version, department=world.security)
    assert _sees(client, world.guard, mine)[:2] == (200, True)
    outsider_guard = make_staff(Role.DEPT_STAFF, sites=[world.other_site], department=world.security)
    assert _sees(client, outsider_guard, mine) == (404, False, 404)


def test_admin_configures_but_reads_no_tickets(world, ticket, client):
    assert _sees(client, world.admin, ticket) == (404, False, 404)


def test_attachments_follow_the_ticket_scope(world, client):
    from kefu.tickets.tests.test_intake import png

    t = make_ticket(world.site, world.agent, photos=[png()])
    a = t.attachments.get()
    client.force_login(world.agent.user)
    assert client.get(f"/tickets/{t.pk}/attachments/{a.pk}/").status_code == 200
    client.force_login(world.outsider_agent.user)
    assert client.get(f"/tickets/{t.pk}/attachments/{a.pk}/").status_code == 404


def test_export_follows_scope_and_right(world, ticket, client):
    from io import BytesIO

    from openpyxl import load_workbook

    make_ticket(world.other_site, world.director, auto_dispatch=False)
    client.force_login(world.supervisor.user)
    response = client.get("/tickets/export/")
    rows = list(load_workbook(BytesIO(response.getvalue())).active.iter_rows(values_only=True))
    assert rows[0][0] == "工单号" and [r[0] for r in rows[1:]] == [ticket.number]
    client.force_login(world.agent.user)
    assert client.get("/tickets/export/").status_code == 403


def test_anonymous_is_sent_to_login(client, world, ticket):
    response = client.get(f"/tickets/{ticket.pk}/")
    assert response.status_code == 302 and "/login/" in response["Location"]

"""Workload: handling time stored in business minutes at completion, and the report's figures."""

from __future__ import annotations

from datetime import date, datetime

import pytest
import time_machine

from kefu.reports.filters import ReportFilters
from kefu.reports.queries import workload
from kefu.testing import make_ticket
from kefu.tickets.models import Ticket
from kefu.tickets.services import ticket_dispatch, ticket_transition

from .conftest import SH

pytestmark = pytest.mark.django_db


def test_handling_time_is_business_minutes_and_cleared_on_reopen(world):
    # Friday 16:30 → Monday 09:30: one hour on Friday, one on Monday; the weekend is not counted.
    with time_machine.travel(datetime(2026, 11, 20, 16, 30, tzinfo=SH), tick=False):
        ticket = make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False)
        ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
        ticket_transition(ticket=ticket, action="accept", actor=world.tech, version=ticket.version)
        ticket_transition(ticket=ticket, action="arrive", actor=world.tech, version=ticket.version)
    with time_machine.travel(datetime(2026, 11, 23, 9, 30, tzinfo=SH), tick=False):
        ticket_transition(ticket=ticket, action="complete", actor=world.tech, version=ticket.version, note="已修好")
    ticket.refresh_from_db()
    assert ticket.handling_minutes == 120
    with time_machine.travel(datetime(2026, 11, 23, 10, 0, tzinfo=SH), tick=False):
        ticket_transition(ticket=ticket, action="reject", actor=world.agent, version=ticket.version, note="没修好")
    ticket.refresh_from_db()
    assert ticket.completed_at is None and ticket.handling_minutes is None


def test_answered_at_intake_takes_no_time(world):
    ticket = make_ticket(world.site, world.agent, kind="inquiry", content="物业费怎么交", answer="在服务中心前台缴纳")
    assert Ticket.objects.get(pk=ticket.pk).handling_minutes == 0


def test_workload_per_person_and_department(world, month):
    Ticket.objects.filter(pk=month["1"].pk).update(handling_minutes=120)
    Ticket.objects.filter(pk=month["2"].pk).update(handling_minutes=240)
    f = ReportFilters(start=date(2026, 11, 1), end=date(2026, 11, 30), site_ids=frozenset({world.site.id}))
    people = {w.label: w for w in workload(f, "person")}
    wang, li = people["王师傅"], people["李师傅"]
    assert (wang.open_now, wang.received, wang.handled, wang.average_hours) == (0, 2, 2, 3.0)
    # #3 is open and past due; #7 is suspended: open, but its clock is stopped.
    assert (li.open_now, li.overdue_now, li.received, li.handled, li.average_hours) == (2, 1, 2, 0, None)
    departments = {w.label: w for w in workload(f, "department")}
    # 工程部 also received #6 (cancelled) in the period; open now counts October's open repair too.
    assert (departments["工程部"].received, departments["工程部"].handled, departments["工程部"].open_now) == (5, 2, 3)
    assert departments["秩序维护部"].open_now == 1


def test_workload_page_and_excel(world, client, month):
    client.force_login(world.agent.user)
    assert client.get("/reports/workload/").status_code == 403
    client.force_login(world.manager.user)
    page = client.get("/reports/workload/?start=2026-11-01&end=2026-11-30").content.decode()
    assert 'data-label="王师傅"' in page and 'id="report-chart"' in page
    response = client.get("/reports/workload/?start=2026-11-01&end=2026-11-30&by=department&export=xlsx")
    assert response.status_code == 200 and response["Content-Type"].startswith("application/vnd.openxmlformats")

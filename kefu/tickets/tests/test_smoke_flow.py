import pytest

from kefu.org.models import Department, Role
from kefu.testing import make_category, make_customer, make_site, make_staff
from kefu.tickets.lifecycle import Status
from kefu.tickets.services import ticket_accept, ticket_arrive, ticket_complete, ticket_confirm, ticket_create, ticket_transition

pytestmark = pytest.mark.django_db


def test_repair_field_flow_reaches_closed():
    site = make_site()
    eng = Department.objects.create(name="工程部", kind="engineering")
    desk = make_staff(Role.FRONTDESK, sites=[site])
    tech = make_staff(Role.TECHNICIAN, sites=[site], department=eng)
    agent = make_staff(Role.AGENT, sites=[site])
    cat = make_category("水电维修", department=eng)
    customer = make_customer(site, agent, room=("1", "2", "301"))
    t = ticket_create(site=site, kind="repair", channel="phone", content="漏水", actor=desk, customer=customer, category=cat)
    assert t.status == Status.DISPATCHED and t.assignee == tech and t.first_responder == desk
    assert t.number.startswith("BX-") and t.number.endswith("-0001")
    ticket_accept(ticket=t, actor=tech, version=t.version)
    ticket_arrive(ticket=t, actor=tech, version=t.version)
    ticket_complete(ticket=t, actor=tech, version=t.version, work_notes="更换阀芯", materials="阀芯1个", work_hours="1.5", is_paid=True, fee="30")
    ticket_confirm(ticket=t, actor=agent, version=t.version, confirmed_by=customer.name, method="phone")
    ticket_transition(ticket=t, action="close", actor=agent, version=t.version)
    t.refresh_from_db()
    assert t.status == Status.CLOSED and t.version == 7
    assert [e.type for e in t.events.all()] == ["created", "dispatch", "accept", "arrive", "complete", "confirm", "close"]

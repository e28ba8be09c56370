"""``kefu demo`` on a small company: accounts, tickets, numbers, timelines, idempotence."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from kefu.core.phones import is_valid
from kefu.customers.models import Customer, CustomerPhone, CustomerUnit, Unit
from kefu.demo import data
from kefu.demo.reference import SLA_MINUTES, seed_reference_data
from kefu.org.models import Role, Site, Staff
from kefu.tickets.lifecycle import NUMBER_PREFIX, Kind, Status
from kefu.tickets.models import Assignment, Category, Channel, SlaPolicy, Ticket, TicketEvent
from kefu.tickets.services import ticket_create

pytestmark = pytest.mark.django_db

SMALL = ("--customers", "40", "--tickets", "200")


def run_demo(*args: str) -> str:
    out = StringIO()
    call_command("demo", *SMALL, *args, stdout=out)
    return out.getvalue()


def counts() -> dict[str, int]:
    models = [Site, Staff, Unit, Customer, CustomerPhone, CustomerUnit, Ticket, TicketEvent, Assignment, Category]
    return {model.__name__: model.objects.count() for model in [*models, SlaPolicy]}


@pytest.fixture
def demo() -> str:
    return run_demo()


def test_every_role_has_an_account_that_logs_in_with_the_documented_password(demo, client):
    staff = {s.user.username: s for s in Staff.objects.select_related("user")}
    assert {staff[username].role for username in data.ROLE_ACCOUNTS} == set(Role.values)
    table = {
        line.split()[1]: line.split()[2] for line in demo.splitlines() if line.endswith(("项目", "花园", "写字楼"))
    }
    for username in data.ROLE_ACCOUNTS:
        assert client.login(username=username, password="kefu12345"), username
        assert table[username] == "kefu12345"
        client.logout()


def test_staff_have_sites_superiors_and_skills(demo):
    for member in Staff.objects.exclude(role__in=[Role.DIRECTOR, Role.ADMIN]):
        assert member.sites.exists(), member.name
        assert member.superior is not None, member.name
    technicians = Staff.objects.filter(role=Role.TECHNICIAN)
    assert technicians.count() >= 4
    assert all(t.department.name == "工程部" and t.skills.exists() for t in technicians)
    assert Staff.objects.count() >= 20


def test_tickets_cover_every_kind_channel_and_several_statuses(demo):
    tickets = Ticket.objects.all()
    assert tickets.count() == 200
    assert set(tickets.values_list("kind", flat=True)) == set(Kind.values)
    assert set(tickets.values_list("channel", flat=True)) == set(Channel.values)
    statuses = Counter(tickets.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > tickets.count() / 2
    assert len(statuses) >= 5
    assert tickets.filter(category__isnull=True).count() == 0
    assert tickets.filter(first_contact_resolved=True).exists()


def test_numbers_are_unique_per_site_and_follow_the_intake_day(demo):
    rows = list(Ticket.objects.values_list("site_id", "number", "kind", "created_at"))
    assert len({(site, number) for site, number, _, _ in rows}) == len(rows)
    for _, number, kind, created_at in rows:
        assert number.startswith(f"{NUMBER_PREFIX[kind]}-{timezone.localtime(created_at):%Y%m%d}-"), number


def test_live_intake_after_the_demo_gets_a_fresh_number(demo):
    site = Site.objects.get(code="CH")
    agent = Staff.objects.get(user__username="agent")
    taken = set(Ticket.objects.filter(site=site).values_list("number", flat=True))
    ticket = ticket_create(
        site=site, kind=Kind.REPAIR, channel=Channel.PHONE, content="厨房漏水", actor=agent, contact_phone="13800138000"
    )
    assert ticket.number not in taken


def test_closed_and_cancelled_tickets_are_consistent(demo):
    closed = Ticket.objects.filter(status=Status.CLOSED)
    assert closed.exists()
    for ticket in closed:
        assert ticket.closed_at is not None
        # Closed by hand, at intake (answered at once) or as a complaint judged not valid.
        assert ticket.events.filter(type__in=["close", "closed", "dismiss"]).exists(), ticket.number
    cancelled = Ticket.objects.filter(status=Status.CANCELLED)
    for ticket in cancelled:
        assert ticket.cancel_reason and ticket.closed_at is not None
        assert ticket.events.filter(type="cancel").exists()


def test_complaints_walk_the_six_steps(demo):
    complaints = Ticket.objects.filter(kind=Kind.COMPLAINT).select_related("complaint")
    assert complaints.exists()
    statuses = set(complaints.values_list("status", flat=True))
    assert Status.CLOSED in statuses and len(statuses) >= 3, statuses
    for ticket in complaints:
        c = ticket.complaint
        types = list(ticket.events.values_list("type", flat=True))
        if ticket.status in (Status.RESOLVED, Status.VISITED) or (ticket.status == Status.CLOSED and c.valid):
            assert c.summarized_at and c.classification_id and c.chosen_id and c.instruction, ticket.number
            assert types.index("judge") < types.index("investigate") < types.index("approve") < types.index("summarize")
        if c.valid is False:
            assert ticket.status == Status.CLOSED and "dismiss" in types
        if ticket.status == Status.AWAITING_APPROVAL:
            assert c.proposals.filter(round=c.round, state="proposed").exists()
    assert complaints.filter(is_major=True).exists()


def test_timelines_lie_in_the_past_in_order_and_match_the_ticket(demo):
    now = timezone.now()
    for ticket in Ticket.objects.prefetch_related("events", "assignments"):
        events = list(ticket.events.all())
        assert events[0].type == "created" and events[0].at == ticket.created_at
        assert now - timedelta(days=91) < ticket.created_at < now
        assert all(ticket.created_at <= e.at <= now for e in events), ticket.number
        assert [e.at for e in events] == sorted(e.at for e in events)
        moves = [e for e in events if e.to_status]
        assert moves[-1].to_status == ticket.status, ticket.number
        assert all(ticket.created_at <= a.at <= now for a in ticket.assignments.all())
        respond, resolve = SLA_MINUTES[ticket.kind][ticket.urgency]
        # The clock stops while a ticket waits for the customer (suspend → resume).
        paused = sum(
            (b.at - a.at for a, b in pairwise(events) if a.type == "suspend" and b.type == "resume"),
            timedelta(),
        )
        assert ticket.respond_due >= ticket.created_at + timedelta(minutes=respond)
        assert ticket.resolve_due == ticket.created_at + timedelta(minutes=resolve) + paused, ticket.number


def test_some_open_tickets_are_overdue(demo):
    assert Ticket.objects.overdue().exists()
    assert Ticket.objects.open().exclude(id__in=Ticket.objects.overdue()).exists()


def test_customers_have_valid_unique_mobiles_and_units(demo):
    numbers = list(CustomerPhone.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    assert all(is_valid(n) and n[0] == "1" and n[1] in "3456789" and len(n) == 11 for n in numbers)
    assert Customer.objects.count() == 40
    assert not Customer.objects.filter(phones__isnull=True).exists()
    assert set(CustomerUnit.objects.values_list("relation", flat=True)) >= {"owner", "tenant"}
    assert Unit.objects.filter(site__code="CH", building="12", entrance="3", room="1802").exists()
    assert Unit.objects.filter(site__code="GM", building="A", entrance="", room="1203").exists()


def test_running_twice_changes_nothing(demo):
    before = counts()
    output = run_demo()
    assert "已存在" in output
    assert counts() == before
    assert "kefu12345" in output


def test_reset_rebuilds_the_same_data():
    def content() -> Counter[tuple[str, str, str]]:
        return Counter(Ticket.objects.values_list("kind", "status", "content"))

    run_demo()
    before, tickets = counts(), content()
    phones = set(CustomerPhone.objects.values_list("number", flat=True))
    run_demo("--reset")
    assert counts() == before
    assert content() == tickets
    assert set(CustomerPhone.objects.values_list("number", flat=True)) == phones


def test_categories_have_a_department_rule(demo):
    categories = list(Category.objects.select_related("parent", "skill"))
    assert len(categories) > 40
    for category in categories:
        assert category.department_id is not None, category.path
        assert category.kinds, category.path
    repairs = [c for c in categories if c.parent and c.parent.name == "报修"]
    assert repairs and all(c.skill_id for c in repairs)
    assert {c.name for c in categories} >= {"水电维修", "电梯", "服务态度", "物业费", "产品质量", "退换货", "配送"}


def test_reference_data_is_idempotent_and_keeps_local_changes():
    first = seed_reference_data()
    assert first.created > 0
    policy = SlaPolicy.objects.get(kind=Kind.REPAIR, urgency="low")
    policy.resolve_minutes = 999
    policy.save()
    before = counts()
    again = seed_reference_data()
    assert again.created == 0
    assert counts() == before
    assert SlaPolicy.objects.get(pk=policy.pk).resolve_minutes == 999
    assert SlaPolicy.objects.count() == len(Kind.values) * 4


def test_an_existing_admin_is_kept_and_shown():
    call_command("createadmin", username="admin", password="another-secret-1", stdout=StringIO())
    output = run_demo()
    assert Staff.objects.filter(user__username="admin").count() == 1
    assert Staff.objects.get(user__username="admin").employee_no.startswith("ADMIN-")
    assert any(line.split()[1:3] == ["admin", "（原有密码）"] for line in output.splitlines() if "admin" in line)
    run_demo("--reset")
    assert Staff.objects.filter(user__username="admin").exists()


def test_a_taken_username_stops_the_demo_and_writes_nothing():
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user(username="agent", password="x-secret-123")
    with pytest.raises(CommandError, match="agent"):
        run_demo()
    assert not Site.objects.exists()
    assert not Category.objects.exists()

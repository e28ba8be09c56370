"""``kefu demo`` on a small company: accounts, tickets, numbers, timelines, idempotence."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from decimal import Decimal
from io import StringIO
from itertools import pairwise

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F
from django.utils import timezone

from kefu.core.phones import is_valid
from kefu.core.quiet import ContactWindows
from kefu.customers.models import Customer, CustomerPhone, CustomerUnit, Unit
from kefu.demo import data
from kefu.demo.reference import SLA_MINUTES, seed_reference_data
from kefu.org.models import Role, Site, Staff
from kefu.surveys.models import Answer, Batch, Response
from kefu.tickets.lifecycle import NUMBER_PREFIX, Kind, Status
from kefu.tickets.models import Assignment, Category, Channel, SlaPolicy, Ticket, TicketEvent, WarningCard
from kefu.tickets.services import ticket_create
from kefu.visits.models import Visit, VisitCampaign

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
    # The planned tickets, and the follow-ups today's survey answers opened (as many as low answers).
    planned = tickets.exclude(pk__in=Answer.objects.filter(followup_ticket__isnull=False).values("followup_ticket"))
    assert planned.count() == 200
    assert set(tickets.values_list("kind", flat=True)) == set(Kind.values)
    assert set(tickets.values_list("channel", flat=True)) == set(Channel.values)
    statuses = Counter(tickets.values_list("status", flat=True))
    assert statuses[Status.CLOSED] > tickets.count() / 2
    assert len(statuses) >= 5
    assert planned.filter(category__isnull=True).count() == 0
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


# --- the follow-up half: owners, visits, ratings, the member plan, the survey ---------------


def test_every_customer_has_an_agent_of_its_site_and_first_contacts_follow_the_7_day_rule(demo):
    now = timezone.now()
    customers = list(Customer.objects.select_related("owner").prefetch_related("owner__sites"))
    assert all(c.owner is not None and c.owner.role == Role.AGENT for c in customers)
    assert all(c.site_id in {s.id for s in c.owner.sites.all()} for c in customers)
    # Balanced per site: counts differ by one at most.
    for site in Site.objects.all():
        load = Counter(c.owner_id for c in customers if c.site_id == site.id)
        assert max(load.values()) - min(load.values()) <= 1, load
    for c in customers:
        assert c.first_contact_due == c.owner_since + timedelta(days=7) and c.owner_since <= now
        if c.first_contacted_at is not None:
            assert c.owner_since < c.first_contacted_at <= now
        # Warned exactly when the first contact is overdue.
        overdue = c.first_contacted_at is None and c.first_contact_due < now
        assert (c.first_contact_warned_at is not None) == overdue, c.pk


def test_closed_repairs_and_complaints_were_visited_by_the_rules(demo):
    now = timezone.now()
    visited = set(Visit.objects.filter(kind="after_service").values_list("ticket_id", flat=True))
    closed = Ticket.objects.filter(kind__in=["repair", "complaint"], status=Status.CLOSED, completed_at__isnull=False)
    # Found on patrol, with nobody to call back: no visit.
    closed = closed.exclude(contact_phone="", customer__isnull=True)
    assert closed.exists() and set(closed.values_list("id", flat=True)) <= visited
    windows = ContactWindows.outside()
    made = Visit.objects.filter(status__in=["done", "unreachable"]).prefetch_related("calls")
    assert made.filter(status="done").exists() and made.filter(status="unreachable").exists()
    for visit in made:
        calls = list(visit.calls.all())
        assert len(calls) == visit.attempts >= 1 and calls[-1].at == visit.done_at <= now
        assert all(windows.allows(c.at) for c in calls), visit.pk
        assert all(b.at - a.at >= timedelta(hours=2) for a, b in pairwise(calls)), visit.pk
        if visit.status == "unreachable":
            assert visit.attempts == 3 and {c.outcome for c in calls} == {"unreachable"}
        else:
            assert calls[-1].outcome == "reached" and visit.result
            assert visit.result != "dissatisfied" or visit.reason
        if visit.kind == "after_service":
            assert visit.ticket.completed_at == visit.created_at < visit.due_at
    # Each visit made late, and each open one past its deadline, holds one yellow card.
    late = [v.pk for v in Visit.objects.all() if (v.done_at or now) > v.due_at and v.kind == "after_service"]
    cards = WarningCard.objects.filter(rule="visit")
    assert late and sorted(int(k.split(":")[1]) for k in cards.values_list("key", flat=True)) == sorted(late)
    assert not cards.exclude(color="yellow").exists()
    # Visits still to be made are open, one per ticket, and none for a ticket already visited.
    open_visits = Visit.objects.filter(status__in=Visit.OPEN, kind="after_service")
    assert open_visits.exists()
    assert open_visits.values("ticket").distinct().count() == open_visits.count()


def test_ratings_come_only_from_the_link_and_name_the_handler(demo):
    rated = Ticket.objects.filter(rating__isnull=False)
    assert rated.exists()
    for ticket in rated:
        assert ticket.confirm_method == "link" and 1 <= ticket.rating <= 5
        assert ticket.rated_at == ticket.confirmed_at
        assert ticket.rated_staff_id in (ticket.assignee_id, ticket.first_responder_id)


def test_the_member_plan_and_the_survey_are_live_and_consistent():
    # Big enough for members at the estate and low answers in the survey.
    run_demo("--customers", "200", "--tickets", "300")
    now = timezone.now()
    plan = VisitCampaign.objects.get()
    members = Customer.objects.filter(site=plan.site, tags__name__in=["会员", "VIP"]).distinct()
    assert plan.total == plan.visits.count() == members.count() > 0
    assert not plan.visits.exclude(assignee=F("customer__owner")).exists()
    batches = Batch.objects.all()
    assert batches.exists()
    responses = Response.objects.filter(batch__in=batches)
    assert responses.exists()
    for response in responses.select_related("batch", "invitation"):
        assert response.batch.starts_on <= timezone.localtime(response.submitted_at).date()
        assert response.submitted_at <= now and response.invitation.used_at == response.submitted_at
    # Every answer at or below the threshold (2) opened its follow-up ticket.
    low = Answer.objects.filter(response__in=responses, score__lte=2)
    assert low.exists() and not low.filter(followup_ticket__isnull=True).exists()
    assert not Answer.objects.filter(response__in=responses, score__gt=2, followup_ticket__isnull=False).exists()


def test_last_months_appraisal_is_computed_and_scored(demo):
    from kefu.appraisal.models import Appraisal, Period, Sheet

    period = Period.objects.get()
    assert period.computed_at is not None and period.appraisals.count() >= 15
    agent = Appraisal.objects.get(period=period, staff__user__username="agent")
    assert Sheet.objects.get(appraisal=agent).scorer.user.username == "supervisor"
    assert agent.sheet_score == Decimal("90.00") and agent.total is not None
    ranked = Appraisal.objects.filter(period=period, role="agent", rank__isnull=False)
    assert sorted(ranked.values_list("rank", flat=True))[0] == 1

"""Return visits: planned at completion, due in working days and outside quiet hours, assigned
with balanced load, retried when unreachable, and a dissatisfied customer sends the work back
or opens a linked complaint."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.org.models import Role
from kefu.testing import make_category, make_staff, make_ticket
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import SlaPolicy, Ticket, WarningCard
from kefu.tickets.services import ticket_confirm, ticket_dispatch, ticket_transition
from kefu.visits.models import Visit, VisitRules
from kefu.visits.services import (
    visit_appoint,
    visit_record,
    visit_unreachable,
    visits_overdue_sweep,
)

SH = ZoneInfo("Asia/Shanghai")
FRIDAY = datetime(2026, 11, 20, 16, 0, tzinfo=SH)


def _completed_repair(world, at: datetime = FRIDAY, **extra) -> Ticket:
    with time_machine.travel(at - timedelta(hours=2), tick=False):
        ticket = make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False, **extra)
        ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
        ticket_transition(ticket=ticket, action="accept", actor=world.tech, version=ticket.version)
        ticket_transition(ticket=ticket, action="arrive", actor=world.tech, version=ticket.version)
    with time_machine.travel(at, tick=False):
        ticket_transition(ticket=ticket, action="complete", actor=world.tech, version=ticket.version, note="已修好")
    ticket.refresh_from_db()
    return ticket


def _visit(ticket: Ticket) -> Visit:
    return Visit.objects.get(ticket=ticket, status__in=Visit.OPEN)


def test_completion_plans_a_visit_due_in_three_working_days(world):
    ticket = _completed_repair(world)
    visit = _visit(ticket)
    # Friday 16:00 + 3 working days = Wednesday 16:00.
    assert visit.due_at == datetime(2026, 11, 25, 16, 0, tzinfo=SH)
    assert visit.assignee_id == world.agent.id  # the site's only agent, without a visit team
    assert visit.contact_phone == "13912345678"
    assert ticket.events.filter(type="visit_planned").count() == 1


def test_deadline_and_first_call_avoid_quiet_hours(world):
    evening = datetime(2026, 11, 20, 21, 30, tzinfo=SH)
    visit = _visit(_completed_repair(world, at=evening))
    # 3 working days later is Wednesday 21:30, inside the night's quiet hours: due by 20:59.
    assert visit.due_at == datetime(2026, 11, 25, 20, 59, tzinfo=SH)
    assert visit.next_try_at == datetime(2026, 11, 21, 8, 0, tzinfo=SH)


def test_customer_preferred_time_overrides(world):
    world.customer.visit_hours = "19:00-20:00"
    world.customer.save()
    visit = _visit(_completed_repair(world))
    assert visit.next_try_at == datetime(2026, 11, 20, 19, 0, tzinfo=SH)
    assert visit.due_at == datetime(2026, 11, 24, 19, 59, tzinfo=SH)  # the last preferred minute before


def test_deadline_counts_working_days_over_a_holiday(world):
    # The policy says 2 days; 2026 National Day: 1–7 October off, 10 October (Saturday) worked.
    SlaPolicy.objects.create(kind="repair", urgency="low", respond_minutes=30, resolve_minutes=600, visit_minutes=2880)
    visit = _visit(_completed_repair(world, at=datetime(2026, 9, 30, 10, 0, tzinfo=SH)))
    assert visit.due_at == datetime(2026, 10, 9, 10, 0, tzinfo=SH)


def test_kinds_without_visits_and_praise_plan_nothing(world):
    VisitRules.objects.create(kinds=["complaint"])
    _completed_repair(world)
    assert not Visit.objects.exists()


def test_visit_team_balances_the_load(world):
    rules = VisitRules.objects.create()
    one = make_staff(Role.AGENT, sites=[world.site], name="回访一")
    two = make_staff(Role.AGENT, sites=[world.site], name="回访二")
    rules.team.set([one, two])
    owners = [_visit(_completed_repair(world, at=FRIDAY + timedelta(minutes=i))).assignee_id for i in range(4)]
    assert sorted(owners) == sorted([one.id, one.id, two.id, two.id])


def test_satisfied_visit_confirms_and_marks_visited(world):
    ticket = _completed_repair(world)
    visit = _visit(ticket)
    visit_record(visit=visit, actor=world.agent, version=visit.version, result="satisfied", notes="师傅很专业")
    ticket.refresh_from_db()
    assert ticket.status == Status.VISITED and ticket.confirm_method == "phone"
    assert list(ticket.events.values_list("type", flat=True))[-3:] == ["visit_done", "confirm", "visit"]
    visit.refresh_from_db()
    assert (visit.status, visit.result, visit.attempts) == ("done", "satisfied", 1)


def test_dissatisfied_repair_is_sent_back(world):
    ticket = _completed_repair(world)
    visit = _visit(ticket)
    with pytest.raises(ValidationFailed) as err:
        visit_record(visit=visit, actor=world.agent, version=visit.version, result="dissatisfied")
    assert "reason" in err.value.fields
    visit_record(visit=visit, actor=world.agent, version=visit.version, result="dissatisfied", reason="仍在滴水")
    ticket.refresh_from_db()
    assert ticket.status == Status.IN_PROGRESS  # 客户不认可: back to the technician
    assert "仍在滴水" in ticket.events.order_by("-id").first().note
    # Completing again plans a new visit.
    ticket_transition(ticket=ticket, action="complete", actor=world.tech, version=ticket.version, note="换了阀芯")
    assert Visit.objects.filter(ticket=ticket).count() == 2


def test_dissatisfied_after_close_reopens(world):
    ticket = _completed_repair(world)
    ticket_confirm(ticket=ticket, actor=world.agent, version=ticket.version, confirmed_by="张业主", method="phone")
    ticket_transition(ticket=ticket, action="close", actor=world.agent, version=ticket.version)
    visit = _visit(ticket)
    visit_record(visit=visit, actor=world.agent, version=visit.version, result="dissatisfied", reason="又坏了")
    ticket.refresh_from_db()
    assert ticket.status == Status.RECEIVED and ticket.reopen_count == 1


def test_dissatisfied_inquiry_opens_a_linked_complaint(world):
    VisitRules.objects.create(kinds=["inquiry"])
    cat = make_category("物业费", kinds=["inquiry"])
    ticket = make_ticket(
        world.site, world.agent, kind="inquiry", customer=world.customer, category=cat, auto_dispatch=False
    )
    ticket_transition(
        ticket=ticket, action="complete", actor=world.agent, version=ticket.version, note="已解释收费标准"
    )
    visit = _visit(ticket)
    visit_record(visit=visit, actor=world.agent, version=visit.version, result="dissatisfied", reason="解释不清楚")
    complaint = Ticket.objects.get(kind="complaint")
    assert complaint.origin_id == ticket.id and complaint.customer_id == world.customer.id
    assert ticket.number in complaint.content
    visit.refresh_from_db()
    assert visit.followup_id == complaint.id
    assert ticket.events.filter(type="followup", data__number=complaint.number).exists()


def test_unreachable_retries_two_hours_later_outside_quiet_hours_then_closes(world):
    ticket = _completed_repair(world)
    visit = _visit(ticket)
    with time_machine.travel(datetime(2026, 11, 21, 10, 30, tzinfo=SH), tick=False):
        visit_unreachable(visit=visit, actor=world.agent, version=visit.version, note="无人接听")
    # 12:30 is lunch: the next try is 14:00.
    assert (visit.status, visit.attempts, visit.next_try_at) == ("retry", 1, datetime(2026, 11, 21, 14, 0, tzinfo=SH))
    with time_machine.travel(datetime(2026, 11, 21, 19, 30, tzinfo=SH), tick=False):
        visit_unreachable(visit=visit, actor=world.agent, version=visit.version)
    assert visit.next_try_at == datetime(2026, 11, 22, 8, 0, tzinfo=SH)  # 21:30 is night
    visit_unreachable(visit=visit, actor=world.agent, version=visit.version)
    visit.refresh_from_db()
    assert (visit.status, visit.attempts) == ("unreachable", 3)
    assert visit.calls.filter(outcome="unreachable").count() == 3
    with pytest.raises(ValidationFailed):
        visit_unreachable(visit=visit, actor=world.agent, version=visit.version)


def test_appointment_must_be_in_the_future(world):
    visit = _visit(_completed_repair(world))
    with time_machine.travel(datetime(2026, 11, 21, 10, 0, tzinfo=SH), tick=False):
        with pytest.raises(ValidationFailed):
            visit_appoint(
                visit=visit, actor=world.agent, version=visit.version, at=datetime(2026, 11, 21, 9, 0, tzinfo=SH)
            )
        visit_appoint(
            visit=visit, actor=world.agent, version=visit.version, at=datetime(2026, 11, 21, 12, 30, tzinfo=SH)
        )
    # The customer's own choice stands even at lunch time.
    assert (visit.status, visit.next_try_at) == ("appointed", datetime(2026, 11, 21, 12, 30, tzinfo=SH))


def test_only_the_visitor_or_a_supervisor_records_and_stale_forms_conflict(world):
    visit = _visit(_completed_repair(world))
    with pytest.raises(PermissionDenied):
        visit_record(visit=visit, actor=world.frontdesk, version=visit.version, result="satisfied")
    with pytest.raises(Conflict):
        visit_record(visit=visit, actor=world.agent, version=visit.version + 5, result="satisfied")
    visit_record(visit=visit, actor=world.supervisor, version=visit.version, result="ordinary")
    assert Visit.objects.get(pk=visit.pk).result == "ordinary"


def test_reject_or_cancel_drops_the_open_visit(world):
    ticket = _completed_repair(world)
    ticket_transition(ticket=ticket, action="reject", actor=world.agent, version=ticket.version, note="客户说没修好")
    assert Visit.objects.get(ticket=ticket).status == "cancelled"


def test_overdue_visit_gets_one_yellow_card(world):
    visit = _visit(_completed_repair(world))
    with time_machine.travel(visit.due_at + timedelta(minutes=1), tick=False):
        assert visits_overdue_sweep() == 1
        assert visits_overdue_sweep() == 0
    card = WarningCard.objects.get(rule="visit")
    assert (card.color, card.staff_id, card.deadline) == ("yellow", world.agent.id, visit.due_at)


def test_quiet_sweep_dates_the_card_at_the_deadline_and_tells_nobody(world):
    from kefu.notify.models import Notification

    visit = _visit(_completed_repair(world))
    told = Notification.objects.count()
    assert visits_overdue_sweep(now=visit.due_at + timedelta(days=2), quiet=True) == 1
    assert visits_overdue_sweep(now=visit.due_at + timedelta(days=3), quiet=True) == 0
    card = WarningCard.objects.get(rule="visit")
    assert card.issued_at == visit.due_at == Visit.objects.get(pk=visit.pk).warned_at
    assert Notification.objects.count() == told


def test_unreadable_quiet_hours_never_stop_a_completion(world):
    from django.core.exceptions import ValidationError

    rules = VisitRules(quiet_hours="午休时间")
    with pytest.raises(ValidationError):
        rules.full_clean()
    VisitRules.objects.create(quiet_hours="午休时间")  # saved around the form, e.g. by a script
    visit = _visit(_completed_repair(world))
    assert visit.next_try_at == datetime(2026, 11, 20, 16, 0, tzinfo=SH)  # default quiet hours apply

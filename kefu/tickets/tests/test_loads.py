"""Tickets in hand per handler (decision 0017): kept by the services as tickets change, the
dispatch rule's count, put right by a recount."""

from __future__ import annotations

from django.db.models import Count

from kefu.org.models import Role
from kefu.testing import make_staff, make_ticket
from kefu.tickets import services
from kefu.tickets.lifecycle import IN_HAND
from kefu.tickets.loads import loads_of, loads_recount
from kefu.tickets.models import HandlerLoad, Ticket
from kefu.tickets.tasks import recount_loads


def _counted() -> dict[int, int]:
    """What a count of the tickets themselves says."""
    rows = (
        Ticket.objects.filter(status__in=IN_HAND, assignee__isnull=False)
        .order_by()
        .values_list("assignee_id")
        .annotate(n=Count("*"))
    )
    return dict(rows)


def _kept() -> dict[int, int]:
    return {staff: n for staff, n in HandlerLoad.objects.values_list("staff_id", "in_hand") if n}


def test_the_kept_counts_follow_every_change(world):
    made = [make_ticket(world.site, world.agent, category=world.repair_cat) for _ in range(3)]
    assert _kept() == _counted() == {world.tech.pk: 3}
    a, b, c = made
    steps = [
        lambda: services.ticket_accept(ticket=a, actor=world.tech, version=a.version),
        lambda: services.ticket_transfer(
            ticket=a, actor=world.supervisor, version=a.version, assignee=world.tech2, reason="王师傅休假"
        ),
        lambda: services.ticket_transition(
            ticket=b, action="cancel", actor=world.agent, version=b.version, note="重复"
        ),
        lambda: services.ticket_accept(ticket=c, actor=world.tech, version=c.version),
        lambda: services.ticket_arrive(ticket=c, actor=world.tech, version=c.version),
        lambda: services.ticket_transition(
            ticket=c, action="suspend", actor=world.tech, version=c.version, note="业主出差，约下周"
        ),
        lambda: services.ticket_transition(ticket=c, action="resume", actor=world.tech, version=c.version),
        lambda: services.ticket_complete(ticket=c, actor=world.tech, version=c.version, work_notes="更换阀门"),
    ]
    for step in steps:
        step()
        assert _kept() == _counted()
    assert _kept() == {world.tech2.pk: 1}
    # An inquiry answered at intake and a ticket left with the desk count for nobody.
    make_ticket(world.site, world.agent, kind="inquiry", answer="物业费可在前台缴纳")
    make_ticket(world.site, world.agent, auto_dispatch=False)
    assert _kept() == _counted() == {world.tech2.pk: 1}


def test_dispatch_goes_by_the_kept_counts(world):
    third = make_staff(Role.TECHNICIAN, sites=[world.site], department=world.eng, skills=[world.plumbing])
    HandlerLoad.objects.create(staff=world.tech, in_hand=5)
    HandlerLoad.objects.create(staff=third, in_hand=2)
    assert make_ticket(world.site, world.agent, category=world.repair_cat).assignee == third
    assert loads_of([world.tech.pk, third.pk]) == {world.tech.pk: 5, third.pk: 3}


def test_a_recount_puts_right_what_was_written_past_the_services(world):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    make_ticket(world.site, world.agent, category=world.repair_cat)
    # As an edit in the admin would: the ticket closed without a service.
    Ticket.objects.filter(pk=ticket.pk).update(status="closed")
    HandlerLoad.objects.create(staff=world.tech2, in_hand=7)
    assert _kept() == {world.tech.pk: 2, world.tech2.pk: 7}
    recount_loads()  # the hourly task
    assert _kept() == _counted() == {world.tech.pk: 1}
    assert loads_recount() == 1

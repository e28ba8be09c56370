"""Every allowed transition of every kind, and every refused one, through the services."""

from __future__ import annotations

import pytest

from kefu.core.errors import DomainError, PermissionDenied, ValidationFailed
from kefu.testing import make_ticket
from kefu.tickets import services
from kefu.tickets.lifecycle import ACTIONS, RESUME, TRANSITIONS, Kind, Status
from kefu.tickets.models import Ticket, TicketEvent


def _put(ticket: Ticket, status: str, **fields) -> Ticket:
    """Place a ticket in ``status`` directly (test set-up only)."""
    fields.setdefault("suspended_from", Status.IN_PROGRESS if status == Status.SUSPENDED else "")
    Ticket.objects.filter(pk=ticket.pk).update(status=status, **fields)
    ticket.refresh_from_db()
    return ticket


def _run(ticket: Ticket, action: str, world) -> Ticket:
    actor = world.supervisor
    v = ticket.version
    if action == "dispatch":
        return services.ticket_dispatch(ticket=ticket, actor=actor, version=v, assignee=world.tech)
    if action == "transfer":
        return services.ticket_transfer(ticket=ticket, actor=actor, version=v, assignee=world.tech2, reason="人手调整")
    if action == "complete":
        return services.ticket_complete(ticket=ticket, actor=actor, version=v, work_notes="已处理", note="已处理")
    if action == "confirm":
        return services.ticket_confirm(ticket=ticket, actor=actor, version=v, confirmed_by="张业主", method="phone")
    return services.ticket_transition(ticket=ticket, action=action, actor=actor, version=v, note="原因说明")


ALLOWED = [
    (kind, status, action, target) for kind, table in TRANSITIONS.items() for (status, action), target in table.items()
]


@pytest.mark.parametrize(
    ("kind", "status", "action", "target"), ALLOWED, ids=[f"{k}-{s}-{a}" for k, s, a, _ in ALLOWED]
)
def test_allowed_transition(world, kind, status, action, target):
    ticket = make_ticket(world.site, world.agent, kind=kind, auto_dispatch=False)
    assignee = world.tech if status not in (Status.NEW, Status.RECEIVED) else None
    ticket = _put(ticket, status, assignee=assignee, department=world.eng if assignee else None)
    events_before = ticket.events.count()
    version = ticket.version

    _run(ticket, action, world)

    ticket.refresh_from_db()
    expected = Status.IN_PROGRESS if target == RESUME else target
    assert ticket.status == expected
    assert ticket.version == version + 1
    # The move's own event; a completion also plans the return visit (visits app), which
    # writes its own event after it.
    moves = ticket.events.exclude(type="visit_planned")
    last = moves.order_by("-id").first()
    assert moves.count() == events_before + 1
    assert last.type == action and last.actor == world.supervisor
    assert (last.from_status, last.to_status) == (status, expected)


@pytest.mark.parametrize("kind", Kind.values)
def test_every_absent_transition_is_refused_and_changes_nothing(world, kind):
    ticket = make_ticket(world.site, world.agent, kind=kind, auto_dispatch=False)
    table = TRANSITIONS[kind]
    refused = 0
    for status in Status.values:
        ticket = _put(ticket, status, assignee=world.tech, department=world.eng)
        for action in ACTIONS:
            if (status, action) in table:
                continue
            before = (ticket.version, ticket.status, TicketEvent.objects.filter(ticket=ticket).count())
            with pytest.raises(ValidationFailed) as info:
                _run(ticket, action, world)
            assert "不能执行" in info.value.message or "请" in info.value.message
            ticket.refresh_from_db()
            assert (ticket.version, ticket.status, TicketEvent.objects.filter(ticket=ticket).count()) == before
            refused += 1
    assert refused > 50


def test_refusal_message_names_state_and_action(world):
    ticket = make_ticket(world.site, world.agent, kind="repair", auto_dispatch=False)
    _put(ticket, Status.CLOSED)
    with pytest.raises(ValidationFailed, match="工单当前状态为“已关闭”，不能执行“到场”"):
        services.ticket_arrive(ticket=ticket, actor=world.supervisor, version=ticket.version)


def test_agent_cannot_transfer(world):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    with pytest.raises(PermissionDenied, match="转派"):
        services.ticket_transfer(
            ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech2, reason="换人"
        )


def test_only_the_assigned_technician_accepts(world):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    assert ticket.assignee == world.tech
    with pytest.raises(PermissionDenied):
        services.ticket_accept(ticket=ticket, actor=world.tech2, version=ticket.version)
    services.ticket_accept(ticket=ticket, actor=world.tech, version=ticket.version)
    assert ticket.status == Status.ACCEPTED and ticket.accepted_at is not None


def test_reason_required_for_cancel_suspend_reopen(world):
    ticket = make_ticket(world.site, world.agent, auto_dispatch=False)
    for action in ("cancel", "suspend"):
        with pytest.raises(ValidationFailed, match="原因"):
            services.ticket_transition(ticket=ticket, action=action, actor=world.agent, version=ticket.version)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.RECEIVED


def test_repair_field_flow_end_to_end(world):
    t = make_ticket(world.site, world.frontdesk, customer=world.customer, category=world.repair_cat)
    assert (t.status, t.assignee, t.first_responder) == (Status.DISPATCHED, world.tech, world.frontdesk)
    services.ticket_accept(ticket=t, actor=world.tech, version=t.version)
    services.ticket_arrive(ticket=t, actor=world.tech, version=t.version)
    with pytest.raises(ValidationFailed, match="维修记录"):
        services.ticket_complete(ticket=t, actor=world.tech, version=t.version)
    with pytest.raises(ValidationFailed, match="费用"):
        services.ticket_complete(ticket=t, actor=world.tech, version=t.version, work_notes="换阀芯", is_paid=True)
    services.ticket_complete(
        ticket=t,
        actor=world.tech,
        version=t.version,
        work_notes="更换阀芯",
        materials="阀芯 1 个",
        work_hours="1.5",
        is_paid=True,
        fee="30",
    )
    services.ticket_confirm(ticket=t, actor=world.agent, version=t.version, confirmed_by="张业主", method="onsite")
    services.ticket_transition(ticket=t, action="close", actor=world.agent, version=t.version)
    t.refresh_from_db()
    assert t.status == Status.CLOSED
    assert (str(t.work_hours), str(t.fee), t.is_paid, t.confirm_method) == ("1.50", "30.00", True, "onsite")
    assert [e.type for e in t.events.all()] == [
        "created",
        "dispatch",
        "accept",
        "arrive",
        "complete",
        "visit_planned",
        "confirm",
        "close",
    ]
    # Every step has its time and actor; the visit plan is the system's own.
    assert all(e.at is not None and (e.actor is not None or e.type == "visit_planned") for e in t.events.all())


def test_customer_rejects_completion_back_to_handler(world):
    t = make_ticket(world.site, world.agent, category=world.repair_cat)
    services.ticket_accept(ticket=t, actor=world.tech, version=t.version)
    services.ticket_arrive(ticket=t, actor=world.tech, version=t.version)
    services.ticket_complete(ticket=t, actor=world.tech, version=t.version, work_notes="处理完毕")
    services.ticket_transition(ticket=t, action="reject", actor=world.agent, version=t.version, note="仍然漏水")
    assert t.status == Status.IN_PROGRESS and t.completed_at is None


def test_suspend_resume_returns_to_previous_state(world):
    t = make_ticket(world.site, world.agent, category=world.repair_cat)
    services.ticket_accept(ticket=t, actor=world.tech, version=t.version)
    services.ticket_transition(ticket=t, action="suspend", actor=world.tech, version=t.version, note="业主不在家")
    assert (t.status, t.suspended_from) == (Status.SUSPENDED, Status.ACCEPTED)
    services.ticket_transition(ticket=t, action="resume", actor=world.tech, version=t.version)
    assert (t.status, t.suspended_from) == (Status.ACCEPTED, "")


def test_reopen_counts_and_clears_resolution(world):
    t = make_ticket(world.site, world.agent, kind="inquiry", auto_dispatch=False, answer="物业费按季度缴纳")
    assert t.status == Status.CLOSED
    services.ticket_transition(ticket=t, action="reopen", actor=world.agent, version=t.version, note="客户再次来电")
    t.refresh_from_db()
    assert (t.status, t.reopen_count, t.closed_at, t.first_contact_resolved) == (Status.RECEIVED, 1, None, False)


def test_domain_errors_are_translatable_chinese(world):
    t = make_ticket(world.site, world.agent, auto_dispatch=False)
    with pytest.raises(DomainError) as info:
        services.ticket_transition(ticket=t, action="nonsense", actor=world.agent, version=t.version)
    assert info.value.message == "不支持的操作"

"""The demo's bulk ticket writer does what the real ticket services do.

The same plans are carried out twice: once by ``Writer`` (in memory, bulk insert), once
step by step through ``kefu.tickets.services``. Tickets, timelines and assignments must
come out the same, apart from the clock (the services stamp the real time) and numbers.
"""

from __future__ import annotations

import random
from datetime import timedelta
from operator import attrgetter
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from kefu.demo.builders import PhoneBook, build_customers, build_org, build_units
from kefu.demo.plans import Plan, Planner, Step
from kefu.demo.reference import seed_reference_data
from kefu.demo.tickets import Executor, Writer
from kefu.org.models import Department, Staff
from kefu.tickets import services
from kefu.tickets.loads import loads_recount
from kefu.tickets.models import Complaint, Ticket

pytestmark = pytest.mark.django_db

TIME_FIELDS = [
    "dispatched_at",
    "accepted_at",
    "arrived_at",
    "completed_at",
    "confirmed_at",
    "closed_at",
    "responded_at",
]
SAME_FIELDS = [
    "kind", "channel", "category_id", "urgency", "status", "suspended_from", "customer_id", "unit_id", "contact_name",
    "contact_phone", "content", "first_responder_id", "department_id", "assignee_id", "first_contact_resolved",
    "reopen_count", "cancel_reason", "work_notes", "materials", "work_hours", "is_paid", "fee", "confirmed_by",
    "confirm_method", "version", "is_major", "major_reason", "respond_delta", "arrive_delta", "resolve_delta",
    "progress_due", "clock.next_check_at", "clock.sla_done",
]  # fmt: skip


class ServiceReplay(Executor):
    """Each step through the real services (at the real time)."""

    def create(self, plan: Plan, step: Step) -> Ticket:
        return services.ticket_create(
            site=self.sites[plan.site],
            kind=plan.kind,
            channel=plan.channel,
            content=plan.content,
            actor=plan.first_responder,
            urgency=plan.urgency,
            category=plan.category,
            customer=plan.client.customer if plan.client else None,
            unit=plan.unit,
            contact_name=plan.contact_name,
            contact_phone=plan.contact_phone,
            answer=step.note if plan.flow == "fcr" else "",
            auto_dispatch=plan.flow == "field",
            major=bool(step.extra.get("major")),
        )

    def dispatch(self, ticket: Ticket, actor: Staff, department: Department | None, step: Step) -> None:
        services.ticket_dispatch(
            ticket=ticket, actor=actor, version=ticket.version, department=department, reason=step.note
        )

    def transfer(self, ticket: Ticket, actor: Staff, assignee: Staff, step: Step) -> None:
        services.ticket_transfer(
            ticket=ticket, actor=actor, version=ticket.version, reason=step.note, assignee=assignee
        )

    def note(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        services.ticket_add_note(ticket=ticket, actor=actor, text=step.note, public=step.extra["public"])

    def complete(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        services.ticket_complete(ticket=ticket, actor=actor, version=ticket.version, note=step.note, **step.extra)

    def confirm(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        services.ticket_confirm(ticket=ticket, actor=actor, version=ticket.version, **step.extra)

    def transition(self, ticket: Ticket, action: str, actor: Staff, step: Step) -> None:
        services.ticket_transition(ticket=ticket, action=action, actor=actor, version=ticket.version, note=step.note)

    def complaint_step(self, ticket: Ticket, action: str, actor: Staff, step: Step, inputs: dict[str, Any]) -> None:
        ticket.refresh_from_db()
        common = {"ticket": ticket, "actor": actor, "version": ticket.version}
        extra = step.extra
        if action in ("judge", "dismiss"):
            services.complaint_judge(
                **common, valid=action == "judge", reason=step.note, department=inputs.get("department")
            )
        elif action == "investigate":
            services.complaint_investigate(
                **common, cause=step.note, responsible_department=inputs["department"],
                responsible_person=inputs["person"],
            )  # fmt: skip
        elif action == "propose":
            services.complaint_propose(**common, proposals=extra["proposals"])
        elif action == "approve":
            current = list(ticket.complaint.proposals.filter(round=ticket.complaint.round).order_by("id"))
            chosen = current[inputs["choice"] % len(current)]
            services.complaint_approve(**common, proposal_id=chosen.id, instruction=step.note)
        elif action == "send_back":
            services.complaint_send_back(**common, reason=step.note)
        elif action == "implement":
            services.complaint_implement(
                **common, implementation=step.note, notify_method=extra["method"], penalty=extra["penalty"],
                penalty_amount=extra["amount"],
            )  # fmt: skip
        elif action == "reject":
            services.complaint_refuse(**common, reason=step.note)
        elif action == "confirm":
            services.ticket_confirm(**common, **extra)
        elif action == "summarize":
            services.complaint_summarize(
                **common, classification=inputs["classification"], root_cause=extra["root_cause"],
                improvement=extra["improvement"],
            )  # fmt: skip

    def step(self, index: int, plan: Plan, step: Step) -> None:
        # Each step at its planned moment, so that date rules (a second complaint within
        # 30 days) see the same history as the bulk writer.
        with time_machine.travel(step.at, tick=False):
            super().step(index, plan, step)


def complaint_snapshot(ticket: Ticket) -> dict[str, Any] | None:
    c = Complaint.objects.filter(pk=ticket.pk).first()
    if c is None:
        return None
    fields = [
        "valid", "judgment", "judged_by_id", "cause", "responsible_department_id", "responsible_person_id",
        "investigated_by_id", "round", "instruction", "approved_by_id", "implementation", "penalty", "penalty_amount",
        "notify_method", "implemented_by_id", "refusals", "classification_id", "root_cause", "improvement",
        "summarized_by_id",
    ]  # fmt: skip
    return {
        **{name: getattr(c, name) for name in fields},
        "chosen": c.chosen.text if c.chosen else None,
        "proposals": [
            (p.round, p.text, p.state, p.proposed_by_id, p.decided_by_id, p.decision_note)
            for p in c.proposals.order_by("id")
        ],
    }


def snapshot(ticket: Ticket) -> dict[str, Any]:
    ticket.refresh_from_db()
    return {
        "complaint": complaint_snapshot(ticket),
        "fields": {name: attrgetter(name)(ticket) for name in SAME_FIELDS},
        "stamped": [name for name in TIME_FIELDS if getattr(ticket, name) is not None],
        "events": [
            (e.type, e.actor_id, e.visibility, e.from_status, e.to_status, e.note, e.data)
            for e in ticket.events.order_by("id")
        ],
        "assignments": [
            (a.mode, a.from_department_id, a.from_assignee_id, a.to_department_id, a.to_assignee_id, a.by_id, a.reason)
            for a in ticket.assignments.order_by("id")
        ],
    }


@pytest.fixture
def tickets_alone():
    """The ticket services without the reactions of higher apps (the return visit a completion
    plans is the visits app's, added to the demo in a pass of its own)."""
    from kefu.tickets.hooks import AFTER_TRANSITION

    saved = list(AFTER_TRANSITION)
    AFTER_TRANSITION.clear()
    yield
    AFTER_TRANSITION.extend(saved)


def test_writer_does_what_the_services_do(tickets_alone):
    ref = seed_reference_data()
    rng = random.Random(7)
    phones = PhoneBook(rng)
    sites, staff = build_org(rng, ref, phones)
    units = build_units(sites)
    anchor = timezone.now().replace(microsecond=0)
    clients = build_customers(rng, count=30, sites=sites, units=units, staff=staff, phones=phones, anchor=anchor)

    def plans() -> list[Plan]:
        planner = Planner(
            random.Random(11), ref=ref, sites=sites, staff=staff, clients=clients, phones=PhoneBook(random.Random(5)),
            anchor=anchor, days=20,
        )  # fmt: skip
        return planner.plans(150)

    writer = Writer(plans(), sites, staff)
    writer.run()
    written = {index: snapshot(ticket) for index, ticket in writer.tickets.items()}
    for index, ticket in writer.tickets.items():
        step = writer.plans[index].steps[0]
        assert ticket.created_at == step.at
        assert ticket.events.order_by("-at", "-id").first().at == writer.plans[index].steps[-1].at
    actions = {step.action for plan in writer.plans for step in plan.steps}
    assert actions >= {"create", "dispatch", "accept", "arrive", "start", "complete", "confirm", "close", "cancel"}
    assert actions >= {"suspend", "note"}
    assert actions >= {"judge", "investigate", "propose", "approve", "implement", "summarize"}

    Ticket.objects.all().delete()
    loads_recount()  # tickets deleted past the services
    replay = ServiceReplay(plans(), sites, staff)
    replay.run()
    replayed = {index: snapshot(ticket) for index, ticket in replay.tickets.items()}

    assert written.keys() == replayed.keys()
    for index in written:
        fields, again = written[index]["fields"], replayed[index]["fields"]
        diff = {name: (value, again.get(name)) for name, value in fields.items() if again.get(name) != value}
        assert written[index] == replayed[index], (index, writer.plans[index].flow, diff)


def test_writer_refuses_a_plan_that_breaks_a_rule():
    """A wrong plan fails loudly instead of writing a ticket the services would refuse."""
    from kefu.demo.builders import DemoError

    ref = seed_reference_data()
    rng = random.Random(3)
    sites, staff = build_org(rng, ref, PhoneBook(rng))
    units = build_units(sites)
    anchor = timezone.now().replace(microsecond=0)
    clients = build_customers(rng, count=5, sites=sites, units=units, staff=staff, phones=PhoneBook(rng), anchor=anchor)
    planner = Planner(
        rng, ref=ref, sites=sites, staff=staff, clients=clients, phones=PhoneBook(rng), anchor=anchor, days=5
    )
    plan = next(p for p in planner.plans(50) if p.flow == "field")
    start = plan.steps[0].at
    assert start is not None
    plan.steps = [plan.steps[0], Step("close", 6, at=start + timedelta(minutes=5))]
    with pytest.raises(DemoError):
        Writer([plan], sites, staff).run()

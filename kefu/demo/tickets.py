"""Carrying out the ticket plans: every step of every ticket, in time order.

``Executor`` walks the steps of all plans in the order they happen and decides who acts
(the first responder, the assignee, the desk, a supervisor). ``Writer`` performs each step
the way ``kefu.tickets.services`` does — the same transition table, permission check,
timestamps, version bumps, timeline events and dispatch rule (least-loaded field staff
member with the skill) — but at the planned time and in memory, and then inserts
everything in bulk. The services cannot be used directly: they stamp the real clock and
number tickets by today's date, and calling them step by step for the 3,000 demo tickets
took about 60 seconds before any back-dating (measured); this takes a few.

``kefu/demo/tests/test_writer.py`` runs the same plans through the real services and
checks that both produce the same tickets, timelines and assignments, so the two cannot
drift apart unnoticed.
"""

from __future__ import annotations

import heapq
from abc import ABC, abstractmethod
from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from kefu.core.errors import ValidationFailed
from kefu.core.numbering import next_value
from kefu.org.models import Department, Site, Staff
from kefu.org.permissions import FIELD_ROLES, can
from kefu.org.queries import site_ids_for
from kefu.tickets.lifecycle import ACTIONS, DONE_FOR_SLA, NUMBER_PREFIX, Kind, Status, next_status
from kefu.tickets.loads import loads_recount
from kefu.tickets.models import (
    Assignment,
    Category,
    Complaint,
    ComplaintProposal,
    SlaPolicy,
    Ticket,
    TicketClock,
    TicketEvent,
)
from kefu.tickets.queries import is_handler
from kefu.tickets.services import hand_over_changes, transition_changes
from kefu.tickets.services.complaints import JUDGED_DISPATCH_REASON, REPEAT_DAYS, major_reasons, proposals_note
from kefu.tickets.sla import Rules, clock_of, default_minutes, next_check, rules_for, sla_fields

from .builders import DemoError
from .plans import Plan, Step, Team, rule_department, teams

# Steps of the complaint flow that go through ``complaint_step`` (the six steps' services
# and the customer's answer); suspend, resume, close and cancel are plain transitions.
COMPLAINT_ACTIONS = frozenset(
    {
        "judge",
        "dismiss",
        "investigate",
        "propose",
        "send_back",
        "approve",
        "implement",
        "confirm",
        "reject",
        "summarize",
    }
)


class Executor(ABC):
    """Runs the steps of all plans in time order; subclasses say how a step is done."""

    def __init__(self, plans: list[Plan], sites: dict[str, Site], staff: dict[str, Staff]) -> None:
        self.plans, self.sites = plans, sites
        self.staff_by_id = {s.id: s for s in staff.values()}
        self.teams: dict[str, Team] = teams(sites, staff)
        self.tickets: dict[int, Ticket] = {}

    def run(self) -> None:
        queue = [(plan.steps[0].at, index, 0) for index, plan in enumerate(self.plans)]
        heapq.heapify(queue)
        while queue:
            _, index, number = heapq.heappop(queue)
            plan = self.plans[index]
            self.step(index, plan, plan.steps[number])
            if number + 1 < len(plan.steps):
                heapq.heappush(queue, (plan.steps[number + 1].at, index, number + 1))

    def step(self, index: int, plan: Plan, step: Step) -> None:
        if step.action == "create":
            self.tickets[index] = self.create(plan, step)
            return
        ticket = self.tickets[index]
        action = step.action
        if plan.flow == "complaint" and action in COMPLAINT_ACTIONS:
            self.complaint_step(
                ticket, action, self.complaint_actor(plan, ticket, action), step, self.inputs(plan, ticket, step)
            )
            return
        if action == "dispatch":
            self.dispatch(ticket, plan.desk, rule_department(plan.category), step)
        elif action == "transfer":
            colleague = self.colleague(plan, ticket)
            if colleague is not None:
                self.transfer(ticket, self.teams[plan.site].supervisors[0], colleague, step)
        elif action == "note":
            self.note(ticket, self.handler(plan, ticket), step)
        elif action == "complete":
            self.complete(ticket, self.handler(plan, ticket), step)
        elif action == "confirm":
            self.confirm(ticket, plan.first_responder, step)
        else:
            actor = {"reject": plan.first_responder, "close": plan.desk, "cancel": plan.desk}.get(action)
            self.transition(ticket, action, actor or self.handler(plan, ticket), step)

    def complaint_actor(self, plan: Plan, ticket: Ticket, action: str) -> Staff:
        """Who takes each of the six steps: the desk judges and closes, the handler (or the
        supervisor) investigates, proposes and carries out, the supervisor signs and sums up,
        whoever took the complaint records the customer's answer."""
        supervisor = self.teams[plan.site].supervisors[0]
        if action in ("judge", "dismiss"):
            return plan.desk
        if action in ("approve", "send_back", "summarize"):
            return supervisor
        if action in ("confirm", "reject"):
            return plan.first_responder
        if ticket.assignee_id:
            return self.staff_by_id[ticket.assignee_id]
        return supervisor

    def inputs(self, plan: Plan, ticket: Ticket, step: Step) -> dict[str, Any]:
        """What a complaint step's form would carry, decided the same way for every executor."""
        action = step.action
        if action == "judge":
            return {"department": rule_department(plan.category) if step.extra.get("send") else None}
        if action == "investigate":
            department = ticket.department or rule_department(plan.category)
            people = self.teams[plan.site].field.get(department.id if department else 0, [])
            person = people[plan.seed % len(people)] if people and plan.seed % 2 else None
            return {"department": department, "person": person}
        if action == "approve":
            return {"choice": plan.seed % 2}
        if action == "summarize":
            return {"classification": plan.category}
        return {}

    def handler(self, plan: Plan, ticket: Ticket) -> Staff:
        """Who does the work: the assignee; the site's supervisor when a department without
        field staff (客服部) got it; the desk for tickets never dispatched."""
        if plan.flow != "field":
            return plan.desk
        if ticket.assignee_id:
            return self.staff_by_id[ticket.assignee_id]
        return self.teams[plan.site].supervisors[0]

    def colleague(self, plan: Plan, ticket: Ticket) -> Staff | None:
        """Someone else of the ticket's department at the site, to transfer to."""
        others = [
            s for s in self.teams[plan.site].field.get(ticket.department_id or 0, []) if s.id != ticket.assignee_id
        ]
        return others[plan.seed % len(others)] if others else None

    # What each step does, in the subclass.
    @abstractmethod
    def create(self, plan: Plan, step: Step) -> Ticket:
        """Carried out by the subclass."""

    @abstractmethod
    def dispatch(self, ticket: Ticket, actor: Staff, department: Department | None, step: Step) -> None:
        """Carried out by the subclass."""

    @abstractmethod
    def transfer(self, ticket: Ticket, actor: Staff, assignee: Staff, step: Step) -> None:
        """Carried out by the subclass."""

    @abstractmethod
    def note(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        """Carried out by the subclass."""

    @abstractmethod
    def complete(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        """Carried out by the subclass."""

    @abstractmethod
    def confirm(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        """Carried out by the subclass."""

    @abstractmethod
    def transition(self, ticket: Ticket, action: str, actor: Staff, step: Step) -> None:
        """Carried out by the subclass."""

    @abstractmethod
    def complaint_step(self, ticket: Ticket, action: str, actor: Staff, step: Step, inputs: dict[str, Any]) -> None:
        """Carried out by the subclass."""


class Writer(Executor):
    """Does each step as ``kefu.tickets.services`` would, at ``step.at``, then saves in bulk."""

    def __init__(self, plans: list[Plan], sites: dict[str, Site], staff: dict[str, Staff]) -> None:
        super().__init__(plans, sites, staff)
        self.skills = {s.id: set(s.skills.values_list("id", flat=True)) for s in self.staff_by_id.values()}
        self.sla = {
            (p.kind, p.urgency): (p.respond_minutes, p.resolve_minutes)
            for p in SlaPolicy.objects.all().only("kind", "urgency", "respond_minutes", "resolve_minutes")
        }
        # Only repairs have an arrival limit (``sla.due_times``).
        self.arrive: dict[str, int] = {
            p.urgency: p.arrive_minutes or 0
            for p in SlaPolicy.objects.filter(kind=Kind.REPAIR, arrive_minutes__isnull=False).only(
                "urgency", "arrive_minutes"
            )
        }
        # Open tickets per assignee, as the dispatch rule counts them.
        self.load: Counter[int] = Counter()
        self.events: list[TicketEvent] = []
        self.assignments: list[Assignment] = []
        # The complaint records, by the ticket object they belong to, and each customer's
        # complaints so far (for the "second complaint within 30 days" rule).
        self.complaints: dict[int, Complaint] = {}
        self.proposals: list[ComplaintProposal] = []
        self.complained: dict[int, list[Ticket]] = {}
        self.site_rules: dict[int, Rules] = {}

    def run(self) -> None:
        super().run()
        tickets = list(self.tickets.values())
        Ticket.objects.bulk_create(tickets, batch_size=500)
        TicketClock.objects.bulk_create([clock_of(t) for t in tickets], batch_size=1000)
        loads_recount()
        # Related tickets now have ids; bulk_create copies them into ticket_id.
        TicketEvent.objects.bulk_create(self.events, batch_size=1000)
        Assignment.objects.bulk_create(self.assignments, batch_size=1000)
        # A complaint points at its chosen proposal, which needs the complaint saved first.
        complaints = list(self.complaints.values())
        chosen = {id(c): c.chosen for c in complaints}
        for complaint in complaints:
            complaint.chosen = None
        Complaint.objects.bulk_create(complaints, batch_size=1000)
        ComplaintProposal.objects.bulk_create(self.proposals, batch_size=1000)
        for complaint in complaints:
            complaint.chosen = chosen[id(complaint)]
        Complaint.objects.bulk_update([c for c in complaints if c.chosen is not None], ["chosen"], batch_size=1000)

    # --- the steps, mirroring the services ------------------------------------------------

    def create(self, plan: Plan, step: Step) -> Ticket:
        """``services.ticket_create``."""
        actor, site, now = plan.first_responder, self.sites[plan.site], _at(step)
        if not can(actor.role, "tickets.intake") or site.id not in site_ids_for(actor):
            raise DemoError(f"{actor.name} 不能在 {site.name} 受理工单")
        respond, resolve = self.sla.get((plan.kind, plan.urgency)) or default_minutes(plan.kind, plan.urgency)
        customer = plan.client.customer if plan.client else None
        ticket = Ticket(
            site=site,
            number=_number(site.id, plan.kind, now),
            kind=plan.kind,
            channel=plan.channel,
            category=plan.category,
            urgency=plan.urgency,
            status=Status.RECEIVED,
            customer=customer,
            unit=plan.unit,
            contact_name=(plan.contact_name or (customer.name if customer else ""))[:50],
            contact_phone=plan.contact_phone,
            content=plan.content,
            first_responder=actor,
            created_at=now,
            updated_at=now,
            respond_due=now + timedelta(minutes=respond),
            arrive_due=now + timedelta(minutes=self.arrive[plan.urgency])
            if plan.kind == Kind.REPAIR and plan.urgency in self.arrive
            else None,
            resolve_due=now + timedelta(minutes=resolve),
        )
        clock_of(ticket).next_check_at = next_check(ticket, self.rules(site.id))
        self.event(ticket, actor, "created", now, to_status=Status.RECEIVED, data={"channel": plan.channel})
        if plan.kind == Kind.COMPLAINT:
            self.complaints[id(ticket)] = Complaint(ticket=ticket)
            earlier = self.complained.setdefault(customer.id, []) if customer is not None else []
            since = now - timedelta(days=REPEAT_DAYS)
            repeat = any(t.created_at >= since and t.status != Status.CANCELLED for t in earlier)
            earlier.append(ticket)
            reasons = major_reasons(
                flagged=bool(step.extra.get("major")), urgency=plan.urgency, repeat=repeat, category=plan.category
            )
            if reasons:
                ticket.is_major, ticket.major_reason = True, "；".join(reasons)[:200]
                self.event(ticket, actor, "major", now, note=ticket.major_reason, data={"reasons": reasons})
        elif plan.flow == "fcr":
            self.event(ticket, actor, "reply", now, note=step.note, public=True)
            self.apply(
                ticket,
                now,
                bump=False,
                status=Status.CLOSED,
                responded_at=now,
                completed_at=now,
                closed_at=now,
                first_contact_resolved=True,
            )
            self.event(
                ticket, actor, "closed", now, from_status=Status.RECEIVED, to_status=Status.CLOSED, data={"fcr": True}
            )
        elif plan.flow == "field" and plan.kind != Kind.PRAISE:
            department, assignee = self.pick_handler(site, plan.category)
            if department is not None:
                self.hand_over(
                    ticket, actor, department, assignee, Assignment.Mode.AUTO, "按分类规则自动派单", now, intake=True
                )
        return ticket

    def dispatch(self, ticket: Ticket, actor: Staff, department: Department | None, step: Step) -> None:
        """``services.ticket_dispatch`` by hand, to a department."""
        self.check(ticket, actor, "dispatch")
        self.hand_over(ticket, actor, department, None, Assignment.Mode.MANUAL, step.note, _at(step))

    def transfer(self, ticket: Ticket, actor: Staff, assignee: Staff, step: Step) -> None:
        """``services.ticket_transfer`` to a colleague."""
        self.check(ticket, actor, "transfer")
        self.hand_over(ticket, actor, assignee.department, assignee, Assignment.Mode.TRANSFER, step.note, _at(step))

    def note(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        """``services.ticket_add_note``."""
        now, public = _at(step), bool(step.extra["public"])
        changes: dict[str, Any] = {}
        if public and ticket.responded_at is None:
            changes["responded_at"] = now
        if ticket.progress_due is not None and actor.id == ticket.assignee_id:
            changes["progress_due"] = None
        if changes:  # ``services._touch``: no version bump
            sla, clock_of(ticket).next_check_at = sla_fields(ticket, changes, self.rules(ticket.site_id))
            changes.update(sla)
            for name, value in changes.items():
                setattr(ticket, name, value)
        self.event(ticket, actor, "reply" if public else "note", now, note=step.note, public=public)

    def complete(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        """``services.ticket_complete`` with the repair field report."""
        extra = step.extra
        hours, fee = _money(extra.get("work_hours")), _money(extra.get("fee"))
        paid = bool(extra.get("is_paid"))
        work_notes = extra.get("work_notes", "")
        self.transition(
            ticket,
            "complete",
            actor,
            step,
            note=step.note or work_notes,
            public=True,
            changes={
                "work_notes": work_notes,
                "materials": extra.get("materials", ""),
                "work_hours": hours,
                "is_paid": paid,
                "fee": fee,
            },
            data={"is_paid": paid, "fee": str(fee) if fee is not None else None},
        )

    def confirm(self, ticket: Ticket, actor: Staff, step: Step) -> None:
        """``services.ticket_confirm``."""
        who, method = step.extra["confirmed_by"][:50], step.extra["method"]
        self.transition(
            ticket,
            "confirm",
            actor,
            step,
            changes={"confirmed_by": who, "confirm_method": method},
            data={"confirmed_by": who, "method": method},
        )

    def transition(
        self,
        ticket: Ticket,
        action: str,
        actor: Staff,
        step: Step,
        *,
        note: str | None = None,
        public: bool = False,
        changes: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """``services.ticket_transition``."""
        self.check(ticket, actor, action)
        now = _at(step)
        note = (step.note if note is None else note).strip()
        target, fields = transition_changes(ticket=ticket, action=action, actor=actor, now=now, note=note)
        fields.update(changes or {})
        from_status = ticket.status
        self.apply(ticket, now, **fields)
        self.event(
            ticket, actor, action, now, from_status=from_status, to_status=target, note=note, public=public, data=data
        )

    def complaint_step(self, ticket: Ticket, action: str, actor: Staff, step: Step, inputs: dict[str, Any]) -> None:
        """``services.complaint_*``: the six steps, with what each records."""
        c, now = self.complaints[id(ticket)], _at(step)
        extra = step.extra
        if action == "judge":
            self.transition(ticket, "judge", actor, step, data={"valid": True})
            c.valid, c.judgment, c.judged_by, c.judged_at = True, step.note, actor, now
            if inputs["department"] is not None:
                reason = str(JUDGED_DISPATCH_REASON)
                self.hand_over(ticket, actor, inputs["department"], None, Assignment.Mode.MANUAL, reason, now)
        elif action == "dismiss":
            self.transition(ticket, "dismiss", actor, step, public=True, data={"valid": False})
            c.valid, c.judgment, c.judged_by, c.judged_at = False, step.note, actor, now
        elif action == "investigate":
            department, person = inputs["department"], inputs["person"]
            data = {"responsible_department": department.name, "responsible_person": person.name if person else ""}
            self.transition(ticket, "investigate", actor, step, data=data)
            c.cause, c.responsible_department, c.responsible_person = step.note, department, person
            c.investigated_by, c.investigated_at = actor, now
        elif action == "propose":
            offered = list(extra["proposals"])
            c.round += 1
            data = {"round": c.round, "count": len(offered)}
            self.transition(ticket, "propose", actor, step, note=proposals_note(offered), data=data)
            self.proposals += [
                ComplaintProposal(complaint=c, round=c.round, text=text, proposed_by=actor, proposed_at=now)
                for text in offered
            ]
        elif action == "approve":
            current = [p for p in self.proposals if p.complaint is c and p.round == c.round]
            chosen = current[inputs["choice"] % len(current)]
            data = {"proposal": chosen.text[:200], "round": chosen.round}
            self.transition(ticket, "approve", actor, step, data=data)
            for proposal in current:
                proposal.decided_by, proposal.decided_at = actor, now
                proposal.state = ComplaintProposal.State.NOT_CHOSEN
            chosen.state, chosen.decision_note = ComplaintProposal.State.CHOSEN, step.note
            c.chosen, c.instruction, c.approved_by, c.approved_at = chosen, step.note, actor, now
        elif action == "send_back":
            self.transition(ticket, "send_back", actor, step)
            for proposal in self.proposals:
                if proposal.complaint is c and proposal.round == c.round and proposal.state == "proposed":
                    proposal.state, proposal.decision_note = ComplaintProposal.State.RETURNED, step.note
                    proposal.decided_by, proposal.decided_at = actor, now
        elif action == "implement":
            amount = _money(extra.get("amount"))
            data = {"penalty": extra["penalty"], "penalty_amount": str(amount) if amount is not None else None}
            self.transition(ticket, "implement", actor, step, public=True, data=data)
            c.implementation, c.penalty, c.penalty_amount = step.note, extra["penalty"], amount
            c.notify_method, c.customer_notified_at = extra["method"], now
            c.implemented_by, c.implemented_at = actor, now
        elif action == "reject":
            self.transition(ticket, "reject", actor, step)
            if c.chosen is not None:
                c.chosen.state, c.chosen.decision_note = ComplaintProposal.State.REFUSED, step.note
            c.refusals += 1
        elif action == "confirm":
            self.confirm(ticket, actor, step)
        elif action == "summarize":
            classification = inputs["classification"]
            data = {"classification": classification.path}
            self.transition(ticket, "summarize", actor, step, note=extra["improvement"], data=data)
            c.classification, c.root_cause, c.improvement = classification, extra["root_cause"], extra["improvement"]
            c.summarized_by, c.summarized_at = actor, now

    # --- helpers, mirroring the services' private ones ------------------------------------

    def rules(self, site_id: int) -> Rules:
        if site_id not in self.site_rules:
            self.site_rules[site_id] = rules_for(site_id)
        return self.site_rules[site_id]

    def check(self, ticket: Ticket, actor: Staff, action: str) -> None:
        """``services._check_action``: a plan that breaks a rule is a bug in the demo."""
        spec = ACTIONS[action]
        if next_status(ticket.kind, ticket.status, action, suspended_from=ticket.suspended_from) is None:
            raise DemoError(f"演示工单 {ticket.number} 在“{ticket.get_status_display()}”状态不能“{spec.label}”")
        if not (actor.role in spec.roles or (spec.handler and is_handler(actor, ticket))):
            raise DemoError(f"演示工单 {ticket.number}：{actor.name} 无权“{spec.label}”")

    def pick_handler(self, site: Site, category: Category) -> tuple[Department | None, Staff | None]:
        """``services.pick_handler``: the category's (or nearest ancestor's) department and
        skill, then the least-loaded active field staff member there with the skill."""
        node: Category | None = category
        department: Department | None = None
        skill_id: int | None = None
        while node is not None and (department is None or skill_id is None):
            department = department or node.department
            skill_id = skill_id or node.skill_id
            node = node.parent
        if department is None:
            return None, None
        candidates = [
            s
            for s in self.staff_by_id.values()
            if s.is_active
            and s.user.is_active
            and s.department_id == department.id
            and s.role in FIELD_ROLES
            and site.id in site_ids_for(s)
            and (skill_id is None or skill_id in self.skills[s.id])
        ]
        if not candidates:
            return department, None
        return department, min(candidates, key=lambda s: (self.load[s.id], s.id))

    def hand_over(
        self,
        ticket: Ticket,
        actor: Staff,
        department: Department | None,
        assignee: Staff | None,
        mode: str,
        reason: str,
        now: datetime,
        *,
        intake: bool = False,
    ) -> None:
        """``services._dispatch``: the same hand-over, collected for the bulk write.
        ``intake``: the rule's dispatch as ``ticket_create`` writes it, with the new row."""
        try:
            change = hand_over_changes(
                ticket=ticket,
                actor=actor,
                department=department,
                assignee=assignee,
                mode=mode,
                reason=reason,
                now=now,
                rules=self.rules(ticket.site_id),
            )
        except ValidationFailed:
            raise DemoError(f"演示工单 {ticket.number} 在“{ticket.get_status_display()}”状态不能派单") from None
        self.assignments.append(change.assignment)
        self.apply(ticket, now, bump=not intake, **change.fields)
        self.event(
            ticket,
            actor,
            change.action,
            now,
            from_status=change.from_status,
            to_status=change.target,
            note=reason,
            data=change.event_data,
        )

    def apply(self, ticket: Ticket, now: datetime, *, bump: bool = True, **fields: Any) -> None:
        """``services._apply``: write the fields and bump the version; keep the load count.
        Without ``bump``: what intake settles before the ticket's first write (version 1)."""
        fields["updated_at"] = now
        sla, clock_of(ticket).next_check_at = sla_fields(ticket, fields, self.rules(ticket.site_id))
        fields.update(sla)
        if ticket.assignee_id and ticket.status not in DONE_FOR_SLA:
            self.load[ticket.assignee_id] -= 1
        for name, value in fields.items():
            setattr(ticket, name, value)
        if bump:
            ticket.version += 1
        ticket.updated_at = now
        if ticket.assignee_id and ticket.status not in DONE_FOR_SLA:
            self.load[ticket.assignee_id] += 1

    def event(
        self,
        ticket: Ticket,
        actor: Staff,
        type: str,
        at: datetime,
        *,
        from_status: str = "",
        to_status: str = "",
        note: str = "",
        public: bool = False,
        data: dict[str, Any] | None = None,
    ) -> None:
        """``services._event``."""
        visibility = TicketEvent.Visibility.PUBLIC if public else TicketEvent.Visibility.INTERNAL
        self.events.append(
            TicketEvent(
                ticket=ticket,
                actor=actor,
                type=type,
                from_status=from_status,
                to_status=to_status,
                note=note,
                visibility=visibility,
                data=data or {},
                at=at,
            )
        )


def _at(step: Step) -> datetime:
    assert step.at is not None
    return step.at


def _money(value: Any) -> Decimal | None:
    """``services._decimal`` for the demo's own, always valid, figures."""
    if value is None or value == "":
        return None
    return Decimal(str(value)).quantize(Decimal("0.01"))


def _number(site_id: int, kind: str, now: datetime) -> str:
    """``services._next_number``, for the planned day: the same counters live intake uses."""
    day = timezone.localtime(now).strftime("%Y%m%d")
    prefix = NUMBER_PREFIX[kind]
    return f"{prefix}-{day}-{next_value(f'ticket:{site_id}:{prefix}:{day}'):04d}"

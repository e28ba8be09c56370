"""One ticket's life: intake, its plan's steps at their times, and the state the warning
engine and the return visit leave it in, as the services would record them.

``Life`` does what ``kefu.tickets.services`` do — the same transition table (a move the table
does not have stops the seed), the same stamps, version bumps, deltas, hand-overs and
timeline events — on epoch seconds in memory, and adds its rows to the day's ``Batch``.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from datetime import datetime
from itertools import accumulate
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

from kefu.tickets.lifecycle import ACTIONS, ENDED, Kind, Status, next_status
from kefu.tickets.models import Assignment, Channel, Ticket, TicketEvent, WarningCard
from kefu.tickets.services.complaints import REPEAT_DAYS
from kefu.tickets.sla import sla_schedule
from kefu.visits.models import Visit, VisitAttempt

from ..aftercare import RATING_COMMENTS, RATING_WEIGHTS, VISIT_NOTES, VISIT_REASONS
from ..builders import polite_name
from ..plans import CHANNEL_WEIGHTS, PATROL_LEAVES
from . import complaints, flows, words
from .people import Member, Person
from .rows import (
    COMPLAINT_BLANK,
    TICKET_BLANK,
    VISIT_BLANK,
)
from .sink import Row

if TYPE_CHECKING:
    from .tickets import Batch, Generator, Site

# Plain strings (not the enum members) go into the rows.
S = SimpleNamespace(**{member.name: member.value for member in Status})
DESK_ROLES = ACTIONS["close"].roles
WORKDAY_START, WORKDAY_END = 8, 21
_CHANNELS = {str(kind): ([str(c) for c in w], list(accumulate(w.values()))) for kind, w in CHANNEL_WEIGHTS.items()}
_DEADLINE_WORDS = {"respond": "响应", "arrive": "到场", "resolve": "办结"}
_BREACH_RULE = {"respond": WarningCard.Rule.RESPOND.value, "arrive": WarningCard.Rule.ARRIVE.value,
                "resolve": WarningCard.Rule.RESOLVE.value}  # fmt: skip
_STAMP = {"accept": "accepted_at", "arrive": "arrived_at", "complete": "completed_at", "implement": "completed_at",
          "confirm": "confirmed_at"}  # fmt: skip
_UNDOING = frozenset({"reject", "reopen", "cancel"})
_RESPONDS = frozenset({"accept", "start", "complete", "judge", "dismiss", "close"})
_MET = (("respond_due", "responded_at", "respond_delta"), ("arrive_due", "arrived_at", "arrive_delta"),
        ("resolve_due", "completed_at", "resolve_delta"))  # fmt: skip


class Life:
    """One ticket, from intake to wherever its plan stops, as the services would record it."""

    def __init__(
        self,
        g: Generator,
        rng: random.Random,
        batch: Batch,
        site: Site,
        kind: str,
        created: int,
        number: str,
        month: int,
    ) -> None:
        self.g, self.rng, self.batch, self.site, self.kind = g, rng, batch, site, kind
        self.created, self.number = created, number
        place = site.place
        self.leaf = leaf = g.pick_leaf(rng, place.kind, kind, month)
        channels, cumulative = _CHANNELS[kind]
        channel = channels[bisect_right(cumulative, rng.random() * cumulative[-1])]
        if channel == Channel.PATROL and leaf.name not in PATROL_LEAVES:
            channel = Channel.PHONE.value
        self.channel = channel
        self.person: Person | None = None
        contact = phone = ""
        if channel != Channel.PATROL:
            if rng.random() < 0.9 and place.customers:
                weights = site.customer_weights
                self.person = place.customers[bisect_right(weights, rng.random() * weights[-1])]
                contact, phone = self.person.contact, self.person.phone
            else:
                contact = polite_name(rng)
                phone = rng.choice(("139", "138", "186", "159", "177")) + f"{rng.randrange(10**8):08d}"
        self.contact, self.phone = contact, phone
        self.first = rng.choice(site.intake.get(channel, site.intake[""]))
        self.desk = self.first if self.first.role in DESK_ROLES else rng.choice(site.agents)
        self.supervisor = rng.choice(site.supervisors)
        self.events: list[Row] = []
        self.fired: dict[str, tuple[int, str, str, int]] = {}  # key → (at, step, deadline, due)
        self.complaint: dict[str, Any] | None = None
        self.proposals: list[dict[str, Any]] = []
        self.visits: list[dict[str, Any]] = []
        self.calls: list[Row] = []
        self.visitor: Member | None = None
        self.t: dict[str, Any] = {}

    # --- intake --------------------------------------------------------------------------

    def run(self) -> None:
        g, rng, site, leaf, kind = self.g, self.rng, self.site, self.leaf, self.kind
        urgent, content = self.content()
        if urgent:
            urgency = "critical" if rng.random() < 0.4 else "high"
        elif kind == Kind.REPAIR:
            urgency = rng.choices(("low", "normal", "high"), weights=(60, 30, 10))[0]
        else:
            urgency = rng.choices(("low", "normal", "high"), weights=(72, 24, 4))[0]
        respond, resolve, arrive = site.sla[(kind, urgency)]
        age = (g.anchor - self.created) / 86400
        goal = flows.target(rng, age)
        if kind == Kind.PRAISE:
            flow = "praise"
        elif kind == Kind.COMPLAINT:
            flow = "complaint"
        elif kind == Kind.INQUIRY and goal == S.CLOSED and rng.random() < 0.6:
            flow = "fcr"
        elif kind in (Kind.INQUIRY, Kind.HELP, Kind.SUGGESTION) and leaf.department_kind in ("", "service"):
            flow = "desk"
        else:
            flow = "field"
        visited = kind in (Kind.REPAIR, Kind.COMPLAINT) and bool(self.phone or self.person)
        shape = flows.Shape(
            kind, flow, urgency, goal, visited, kind == Kind.REPAIR, leaf.results, leaf.answers, leaf.paid, resolve
        )
        steps = flows.plan(rng, shape)
        created = self.created
        t = self.t = dict(TICKET_BLANK)
        t.update(
            id=g.next_id(Ticket), site_id=site.place.id, number=self.number, kind=kind, channel=self.channel,
            category_id=leaf.id, urgency=urgency, status=S.RECEIVED,
            customer_id=self.person.id if self.person else None,
            unit_id=self.person.unit_id if self.person else None,
            contact_name=self.contact[:50], contact_phone=self.phone, content=content,
            first_responder_id=self.first.id, created_at=created, updated_at=created,
            respond_due=created + respond * 60, resolve_due=created + resolve * 60,
            arrive_due=created + arrive * 60 if arrive is not None and kind == Kind.REPAIR else None,
            sla_done="[]", version=1,
        )  # fmt: skip
        self.event(self.first, "created", created, to_status=S.RECEIVED, data=g.created_data[self.channel])
        if kind == Kind.COMPLAINT:
            self.intake_complaint(rng.random() < 0.03, urgency)
        elif flow == "fcr":
            answer = rng.choice(leaf.answers or ("已当场答复客户",))
            self.event(self.first, "reply", created, note=answer, public=True)
            self.apply(created, {"status": S.CLOSED, "responded_at": created, "completed_at": created,
                                 "closed_at": created, "first_contact_resolved": True}, bump=False)  # fmt: skip
            self.event(self.first, "closed", created, from_status=S.RECEIVED, to_status=S.CLOSED, data='{"fcr": true}')
        now = created
        # Routine work waits for the working day; anything more urgent goes on at night.
        urgent_pace = urgency != "low"
        for action, minutes, payload in steps:
            at = now + int(minutes * 60)
            if minutes and not urgent_pace:
                at = self.working(at)
            at = max(at, now + 1)
            if action == "call":
                at = self.call_time(now)
            if at >= g.limit:
                break
            self.step(action, at, payload)
            now = at
        self.finish()

    def content(self) -> tuple[bool, str]:
        rng, site, leaf, person = self.rng, self.site, self.leaf, self.person
        place = site.place
        office = place.kind == "office"
        patrol = self.channel == Channel.PATROL
        pool = (
            leaf.patrol[place.kind if office else "residential"]
            if patrol
            else leaf.templates["office" if office else "residential"]
        )
        template = rng.choice(pool)
        if person is not None:
            building, floor, unit = person.building, person.floor, person.unit_label
        else:
            building = rng.choice(place.buildings) if place.buildings else "1"
            floor, unit = rng.randint(3, 28) if office else rng.randint(1, 18), ""
        staff = words.praised(rng, leaf.name, site.technicians, site.desk_names) if "staff" in template.fields else ""
        body = words.fill(
            rng, template, office=office, unit=unit, building=building, floor=floor, staff=staff, patrol=patrol
        )
        if patrol:
            return template.urgent, "巡查发现：" + body
        who = self.contact
        if person is not None and rng.random() < 0.5:
            who = f"{place.name}{person.unit_label}{'' if office else '业主'}{person.name}"
        return template.urgent, words.dress(rng, body, channel=self.channel, who=who, name=self.contact,
                                            phone=self.phone)  # fmt: skip

    def intake_complaint(self, flagged: bool, urgency: str) -> None:
        g, t = self.g, self.t
        self.complaint = dict(COMPLAINT_BLANK, ticket_id=t["id"])
        repeat = False
        if self.person is not None:
            last = g.complained.get(self.person.id)
            repeat = last is not None and last >= self.created - REPEAT_DAYS * 86400
            g.complained[self.person.id] = self.created
        reasons = g.major(flagged, urgency, repeat, self.leaf)
        if reasons:
            t["is_major"], t["major_reason"] = True, "；".join(reasons)[:200]
            self.event(self.first, "major", self.created, note=t["major_reason"], data=json.dumps({"reasons": reasons}))

    def working(self, at: int) -> int:
        """Routine work waits for the working day (08:00–21:00 local)."""
        table = self.site.table
        index = table.index(at)
        start = table.day_start(index)
        hour = (at - start) // 3600
        if WORKDAY_START <= hour < WORKDAY_END:
            return at
        if hour >= WORKDAY_END:
            start = table.day_start(index + 1)
        return start + WORKDAY_START * 3600 + self.rng.randrange(90 * 60)

    # --- the steps -----------------------------------------------------------------------

    def step(self, action: str, at: int, payload: Any) -> None:
        t, site, leaf = self.t, self.site, self.leaf
        if action == "auto":
            department, assignee = self.pick_handler()
            if department is not None:
                self.hand_over(at, self.first, department, assignee, Assignment.Mode.AUTO.value, "按分类规则自动派单")
        elif action == "dispatch":
            department, assignee = self.pick_handler() if self.kind != Kind.PRAISE else (leaf.department_id, None)
            self.hand_over(at, self.desk, department, assignee, Assignment.Mode.MANUAL.value, payload)
        elif action == "transfer":
            others = [m for m in site.candidates(t["department_id"] or 0, leaf.skill_id) if m.id != t["assignee_id"]]
            if others:
                colleague = self.rng.choice(others)
                self.hand_over(at, self.supervisor, colleague.department_id, colleague, Assignment.Mode.TRANSFER.value,
                               payload)  # fmt: skip
        elif action == "note":
            self.note(at, payload)
        elif action == "complete":
            report = dict(payload)
            note = report.pop("note") or report.get("work_notes", "")
            data = {"is_paid": bool(report.get("is_paid")), "fee": report.get("fee")}
            self.move("complete", at, self.handler(), note=note, public=True, data=json.dumps(data), **report)
            self.plan_visit(at)
        elif action == "confirm":
            self.confirm(at, payload)
        elif action == "call":
            self.call(at, payload)
        elif action == "reopen":
            why = f"回访不满意：{self.visits[-1]['reason']}"[:200] if self.visits else "回访不满意"
            self.move("reopen", at, self.visitor or self.desk, note=why)
        elif action in ("reject",) and self.kind != Kind.COMPLAINT:
            self.move("reject", at, self.first, note=payload)
        elif self.kind == Kind.COMPLAINT and action in complaints.STEPS:
            complaints.STEPS[action](self, at, payload)
        elif action in ("close", "cancel"):
            self.move(action, at, self.desk, note=payload)
        elif action in ("accept", "arrive", "start"):
            self.move(action, at, self.handler(), note=payload)
        elif action in ("suspend", "resume"):
            self.move(action, at, self.handler() if self.t["assignee_id"] else self.desk, note=payload)
        else:
            raise ValueError(f"unknown step {action}")

    def handler(self) -> Member:
        """Who does the work: the assignee; for work sent to a department, whoever of it
        takes it up (else the supervisor); the desk for work never dispatched."""
        t = self.t
        if t["assignee_id"]:
            return self._member(t["assignee_id"])
        if t["department_id"]:
            people = self.site.by_department.get(t["department_id"], [])
            return self.rng.choice(people) if people else self.supervisor
        return self.desk

    def _member(self, staff_id: int) -> Member:
        return self.site.members[staff_id]

    def pick_handler(self) -> tuple[int | None, Member | None]:
        leaf = self.leaf
        if leaf.department_id is None:
            return None, None
        people = self.site.candidates(leaf.department_id, leaf.skill_id)
        return leaf.department_id, (self.rng.choice(people) if people else None)

    def move(
        self,
        action: str,
        at: int,
        actor: Member,
        *,
        note: str = "",
        public: bool = False,
        data: str = "{}",
        **changes: Any,
    ) -> None:
        """``services.ticket_transition`` with ``transition_changes``."""
        t = self.t
        target = next_status(t["kind"], t["status"], action, suspended_from=t["suspended_from"])
        if target is None:
            raise ValueError(f"{t['number']}: “{action}” is not allowed from {t['status']}")
        target = str(target)
        fields: dict[str, Any] = dict(changes, status=target)
        stamp = _STAMP.get(action)
        if stamp:
            fields[stamp] = at
        if action in _RESPONDS and t["responded_at"] is None:
            fields["responded_at"] = at
        if action == "accept" and t["assignee_id"] is None:
            fields["assignee_id"] = actor.id
        if t["progress_due"] is not None and (action == "accept" or actor.id == t["assignee_id"]):
            self.progress_met(at)
            fields["progress_due"] = None
        if action == "suspend":
            fields.update(suspended_from=t["status"], suspended_at=at)
        elif action == "resume":
            fields.update(suspended_from="", suspended_at=None)
            paused = at - (t["suspended_at"] or at)
            for due, met in (("respond_due", "responded_at"), ("arrive_due", "arrived_at"),
                             ("resolve_due", "completed_at")):  # fmt: skip
                if t[due] is not None and t[met] is None:
                    fields[due] = t[due] + paused
        elif action == "close":
            fields["closed_at"] = at
        elif action == "dismiss":
            fields.update(completed_at=at, closed_at=at)
        elif action == "cancel":
            fields.update(cancel_reason=note[:200], closed_at=at)
        elif action == "reopen":
            fields.update(reopen_count=t["reopen_count"] + 1, closed_at=None, completed_at=None, confirmed_at=None,
                          first_contact_resolved=False)  # fmt: skip
        elif action == "reject":
            fields["completed_at"] = None
        from_status = t["status"]
        self.apply(at, fields)
        self.event(actor, action, at, from_status=from_status, to_status=target, note=note, public=public, data=data)
        if action in _UNDOING:
            # ``visits.on_ticket_transition``: the open visit goes; the next completion plans one.
            for visit in self.visits:
                if visit["status"] in Visit.OPEN:
                    visit.update(status=Visit.Status.CANCELLED.value, version=visit["version"] + 1)

    def hand_over(
        self, at: int, actor: Member, department: int | None, assignee: Member | None, mode: str, reason: str
    ) -> None:
        """``services._dispatch`` (``hand_over_changes``) with its assignment record."""
        t = self.t
        action = "transfer" if mode == Assignment.Mode.TRANSFER.value else "dispatch"
        target = next_status(t["kind"], t["status"], action)
        if target is None:
            raise ValueError(f"{t['number']}: “{action}” is not allowed from {t['status']}")
        target = str(target)
        g = self.g
        self.batch.add(
            "assignment",
            (g.next_id(Assignment), t["id"], mode, t["department_id"], t["assignee_id"], department,
             assignee.id if assignee else None, actor.id, reason, g.text(at)),
        )  # fmt: skip
        if t["progress_due"] is not None:
            self.progress_met(at)
        fields = {
            "status": target, "department_id": department, "assignee_id": assignee.id if assignee else None,
            "dispatched_at": at, "accepted_at": None, "arrived_at": None, "responded_at": t["responded_at"] or at,
            "progress_due": at + self.site.rules.blue_minutes * 60 if assignee is not None else None,
        }  # fmt: skip
        from_status = t["status"]
        self.apply(at, fields)
        self.event(actor, action, at, from_status=from_status, to_status=target, note=reason,
                   data=g.hand_json(mode, department, assignee))  # fmt: skip

    def progress_met(self, at: int) -> None:
        """The person handed the work reported at ``at``: late, and the sweep had given the
        blue card at the deadline."""
        due = self.t["progress_due"]
        if due is not None and at > due and due <= self.g.swept:
            self.fired[f"blue:{due}"] = (due, "blue", "progress", due)

    def note(self, at: int, payload: tuple[bool, str]) -> None:
        """``services.ticket_add_note``: a reply answers the customer; no version bump."""
        public, text = payload
        t = self.t
        actor = self.handler()
        changes: dict[str, Any] = {}
        if public and t["responded_at"] is None:
            changes["responded_at"] = at
        if t["progress_due"] is not None and actor.id == t["assignee_id"]:
            self.progress_met(at)
            changes["progress_due"] = None
        self.deltas(changes)
        t.update(changes)
        self.event(actor, "reply" if public else "note", at, note=text, public=public)

    def confirm(self, at: int, method: str) -> None:
        who = (self.contact or "客户")[:50]
        data = json.dumps({"confirmed_by": who, "method": method})
        note = self.rng.choice(words.CONFIRM_NOTES)
        self.move("confirm", at, self.first, note=note, data=data, confirmed_by=who, confirm_method=method)

    def apply(self, at: int, fields: dict[str, Any], *, bump: bool = True) -> None:
        """``services._apply``: the fields, the deadlines' deltas, the version (not ``bump``:
        what intake settles before the ticket's first write, which stays version 1)."""
        t = self.t
        fields["updated_at"] = at
        for due_name, met_name, delta in _MET:
            if met_name in fields:
                due, met = fields.get(due_name, t[due_name]), fields[met_name]
                fields[delta] = None if due is None or met is None else round((met - due) / 60)
        if "completed_at" in fields:
            done = fields["completed_at"]
            fields["handling_minutes"] = (
                None if done is None else max(0, self.site.table.business_minutes_between(t["created_at"], done))
            )
        t.update(fields)
        if bump:
            t["version"] += 1

    def deltas(self, changes: dict[str, Any]) -> None:
        t = self.t
        for due, met, delta in _MET:
            if met in changes:
                changes[delta] = None if t[due] is None else round((changes[met] - t[due]) / 60)

    def event(
        self,
        actor: Member | None,
        type: str,
        at: int,
        *,
        from_status: str = "",
        to_status: str = "",
        note: str = "",
        public: bool = False,
        data: str = "{}",
    ) -> None:
        g = self.g
        self.events.append(
            (g.next_id(TicketEvent), self.t["id"], actor.id if actor else None, g.text(at), type,
             "public" if public else "internal", from_status, to_status, note, data)
        )  # fmt: skip

    # --- the return visit ----------------------------------------------------------------

    def plan_visit(self, at: int) -> None:
        """``visits.visit_create_for_ticket`` at completion: due in three working days,
        out of quiet hours, with the visit team's next agent."""
        if self.kind not in (Kind.REPAIR, Kind.COMPLAINT) or not self.phone:
            return
        site, g = self.site, self.g
        team = site.agents
        visitor = team[site.visit_turn % len(team)]
        site.visit_turn += 1
        self.visitor = visitor
        due = site.windows.last_allowed_by(site.table.add_workdays(at, 3))
        visit = dict(VISIT_BLANK)
        visit.update(
            id=g.next_id(Visit), kind="after_service", site_id=site.place.id, ticket_id=self.t["id"],
            customer_id=self.person.id if self.person else None, contact_name=self.contact[:50],
            contact_phone=self.phone, status=Visit.Status.PENDING.value, assignee_id=visitor.id, created_at=at,
            due_at=due, next_try_at=site.windows.next_allowed(at), attempts=0, version=1,
        )  # fmt: skip
        self.visits.append(visit)
        due_text = datetime.fromtimestamp(due, site.table.tz).isoformat()
        data = json.dumps({"visit": visit["id"], "assignee": visitor.name, "due": due_text})
        self.event(None, "visit_planned", at, data=data)

    def call_time(self, now: int) -> int:
        """When the visitor calls: within a day or two of the confirmation, one in ten after
        the deadline; always outside quiet hours."""
        if not self.visits:
            return now + 1
        visit, rng = self.visits[-1], self.rng
        if rng.random() < 0.1:
            at = visit["due_at"] + rng.randrange(3600, 30 * 3600)
        else:
            at = max(now, visit["created_at"]) + rng.randrange(3600, 40 * 3600)
        return self.site.windows.next_allowed(at)

    def call(self, at: int, outcome: str) -> None:
        """The calls of the visit (retried two hours or more later when nobody answers), its
        result, and what the result does to the ticket."""
        if not self.visits:
            return
        g, rng, visit, site = self.g, self.rng, self.visits[-1], self.site
        visitor = self._member(visit["assignee_id"])
        tries = 3 if outcome == "unreachable" else (2 if rng.random() < 0.2 else 1)
        moments = [at]
        while len(moments) < tries:
            moments.append(site.windows.next_allowed(moments[-1] + 7200 + rng.randrange(20 * 3600)))
        for number, moment in enumerate(moments, start=1):
            if moment >= g.limit:
                visit.update(status=Visit.Status.RETRY.value, next_try_at=moment)
                return
            reached = outcome != "unreachable" and number == tries
            visit["attempts"] = number
            if not reached:
                closed = number == 3
                self.calls.append((g.next_id(VisitAttempt), visit["id"], g.text(moment), visitor.id, "unreachable", ""))
                data = json.dumps({"visit": visit["id"], "attempts": number, "closed": closed})
                self.event(visitor, "visit_unreachable", moment, data=data)
                if closed:
                    visit.update(status=Visit.Status.UNREACHABLE.value, done_at=moment, done_by_id=visitor.id,
                                 next_try_at=None)  # fmt: skip
                else:
                    visit.update(status=Visit.Status.RETRY.value, next_try_at=moment + 7200)
                continue
            if outcome == "dissatisfied":
                visit["reason"] = said = rng.choice(VISIT_REASONS)
            else:
                visit["notes"] = said = rng.choice(VISIT_NOTES[Visit.Result(outcome)])
            visit.update(status=Visit.Status.DONE.value, result=outcome, done_at=moment, done_by_id=visitor.id,
                         next_try_at=None)  # fmt: skip
            self.calls.append((g.next_id(VisitAttempt), visit["id"], g.text(moment), visitor.id, "reached", said))
            label = words.VISIT_LABELS[outcome]
            data = json.dumps({"visit": visit["id"], "result": outcome, "label": label})
            self.event(visitor, "visit_done", moment, note=said, data=data)
            if outcome != "dissatisfied" and self.t["status"] == S.RESOLVED:
                self.move("visit", moment, visitor, note=label)
        if visit["due_at"] < (visit["done_at"] or g.limit) and visit["due_at"] <= g.swept:
            visit["warned_at"] = visit["due_at"]

    # --- the end of the story ------------------------------------------------------------

    def finish(self) -> None:
        g, t, site, rules = self.g, self.t, self.site, self.site.rules
        status = t["status"]
        ended = status in ENDED
        stop = t["closed_at"] if ended else (t["suspended_at"] if status == S.SUSPENDED else g.swept)
        fired = self.fired
        created = t["created_at"]
        for name, due_field, met_field in (("respond", "respond_due", "responded_at"),
                                           ("arrive", "arrive_due", "arrived_at"),
                                           ("resolve", "resolve_due", "completed_at")):  # fmt: skip
            due = t[due_field]
            if due is None:
                continue
            end = min(t[met_field] if t[met_field] is not None else stop, stop)
            prewarn = created + (due - created) * rules.prewarn_percent // 100
            if due > created and end > prewarn:
                fired.setdefault(f"prewarn:{name}", (prewarn, "prewarn", name, due))
            if end > due:
                fired.setdefault(f"breach:{name}", (due, "breach", name, due))
            if name == "resolve":
                for step, minutes in (("manager", rules.manager_after_minutes),
                                      ("director", rules.director_after_minutes),
                                      ("red", rules.red_after_minutes)):  # fmt: skip
                    at = due + minutes * 60
                    if end > at:
                        fired.setdefault(f"{step}:resolve", (at, step, name, due))
        if not ended:
            pending = []
            for d in sla_schedule(cast(Ticket, _Shadow(t, site.table.tz)), rules):
                at = int(d.at.timestamp())
                if d.key in fired:
                    continue
                if at <= g.swept:
                    fired[d.key] = (at, d.step, d.deadline, int(d.due.timestamp()))
                else:
                    pending.append(at)
            t["next_check_at"] = min(pending) if pending else None
        else:
            t["next_check_at"] = None
        order = sorted(fired.items(), key=lambda item: (item[1][0], item[0]))
        t["sla_done"] = json.dumps([key for key, _ in order])
        self.cards(order)
        self.rate()
        self.write()

    def cards(self, order: list[tuple[str, tuple[int, str, str, int]]]) -> None:
        """The cards the sweep gave (``cards._act`` in quiet mode), dated when each fell due."""
        g, t, tz = self.g, self.t, self.site.table.tz
        person = t["assignee_id"] or t["first_responder_id"]
        for key, (at, step, deadline, due) in order:
            when = datetime.fromtimestamp(due, tz).strftime("%m-%d %H:%M")
            if step == "blue":
                if not t["assignee_id"]:
                    continue
                color, rule, note = "blue", WarningCard.Rule.PROGRESS.value, f"交办后 {when} 前未反馈处理进度"
            elif step == "breach":
                color, rule = "yellow", _BREACH_RULE[deadline]
                note = f"{_DEADLINE_WORDS[deadline]}期限 {when} 已过"
            elif step == "red":
                color, rule, note = "red", WarningCard.Rule.LONG_OVERDUE.value, f"办结期限 {when} 已过，至今仍未办结"
            else:
                continue
            self.batch.add(
                "card",
                (g.next_id(WarningCard), f"{key}:{t['id']}", t["site_id"], t["id"], person, color, rule,
                 g.text(due), g.text(at), None, note, None, None, ""),
            )  # fmt: skip
        for visit in self.visits:
            if visit["warned_at"] is None and visit["status"] in Visit.OPEN and visit["due_at"] <= g.swept:
                visit["warned_at"] = visit["due_at"]
            if visit["warned_at"] is not None:
                self.batch.add(
                    "card",
                    (g.next_id(WarningCard), f"visit:{visit['id']}", t["site_id"], t["id"], visit["assignee_id"],
                     "yellow", WarningCard.Rule.VISIT.value, g.text(visit["due_at"]), g.text(visit["due_at"]), None,
                     f"回访期限 {datetime.fromtimestamp(visit['due_at'], tz).strftime('%m-%d %H:%M')} 已过",
                     None, None, ""),
                )  # fmt: skip

    def rate(self) -> None:
        """Most customers who confirmed through the link also gave the service stars."""
        t, rng = self.t, self.rng
        if t["confirm_method"] != "link" or t["confirmed_at"] is None or rng.random() >= 0.8:
            return
        stars = rng.choices(list(RATING_WEIGHTS), weights=list(RATING_WEIGHTS.values()))[0]
        t.update(rating=stars, rating_comment=rng.choice(RATING_COMMENTS[stars]), rated_at=t["confirmed_at"],
                 rated_staff_id=t["assignee_id"] or t["first_responder_id"])  # fmt: skip

    def write(self) -> None:
        g, t, batch = self.g, self.t, self.batch
        text = g.text
        batch.add("ticket", g.shape_ticket(t))
        batch.add("clock", (t["id"], text.opt(t["next_check_at"]), t["sla_done"]))
        batch.rows.setdefault("event", []).extend(self.events)
        if self.complaint is not None:
            batch.add("complaint", g.shape_complaint(self.complaint))
            for p in self.proposals:
                batch.add(
                    "proposal",
                    (p["id"], p["complaint_id"], p["round"], p["text"], p["state"], p["proposed_by_id"],
                     text(p["proposed_at"]), p["decided_by_id"], text.opt(p["decided_at"]), p["decision_note"]),
                )  # fmt: skip
        for visit in self.visits:
            batch.add("visit", g.shape_visit(visit))
        batch.rows.setdefault("attempt", []).extend(self.calls)


class _Shadow:
    """The columns ``sla_schedule`` reads, as datetimes."""

    def __init__(self, t: dict[str, Any], tz: ZoneInfo) -> None:
        def at(name: str) -> datetime | None:
            value = t[name]
            return None if value is None else datetime.fromtimestamp(value, tz)

        self.status = t["status"]
        self.assignee_id = t["assignee_id"]
        self.sla_done: list[str] = []
        self.created_at = at("created_at")
        self.updated_at = at("updated_at")
        self.progress_due = at("progress_due")
        self.respond_due, self.responded_at = at("respond_due"), at("responded_at")
        self.arrive_due, self.arrived_at = at("arrive_due"), at("arrived_at")
        self.resolve_due, self.completed_at = at("resolve_due"), at("completed_at")

"""Due times of a ticket: the site's policy for its kind × urgency, counted on the site's
business calendar or in calendar time."""

from __future__ import annotations

from collections.abc import Iterable
from copy import copy
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from kefu.core import refdata
from kefu.org.queries import calendar_for_site

from .lifecycle import DONE_FOR_SLA, ENDED, Kind, Status
from .models import SlaPolicy, Ticket, TicketClock, Urgency, WarningRules

# Fallback minutes (respond, resolve) when no policy row exists for kind × urgency.
_DEFAULT_RESOLVE_HOURS = {Urgency.LOW: 72, Urgency.NORMAL: 24, Urgency.HIGH: 8, Urgency.CRITICAL: 4}
_DEFAULT_RESPOND_MINUTES = {Urgency.LOW: 120, Urgency.NORMAL: 60, Urgency.HIGH: 30, Urgency.CRITICAL: 15}


def default_minutes(kind: str, urgency: str) -> tuple[int, int]:
    resolve = _DEFAULT_RESOLVE_HOURS.get(Urgency(urgency), 72) * 60
    if kind == Kind.COMPLAINT:
        resolve = max(resolve, 24 * 60)
    return _DEFAULT_RESPOND_MINUTES.get(Urgency(urgency), 120), resolve


@dataclass(frozen=True)
class DueTimes:
    respond: datetime
    resolve: datetime
    arrive: datetime | None = None


def policy_for(*, site_id: int, kind: str, urgency: str) -> SlaPolicy | None:
    """The site's own row for kind × urgency, else the company-wide one."""
    table = refdata.cached("tickets.sla_policies", _all_policies)
    found = table.get((site_id, kind, urgency)) or table.get((None, kind, urgency))
    return refdata.copy_of(found)


def _all_policies() -> dict[tuple[int | None, str, str], SlaPolicy]:
    return {(row.site_id, row.kind, row.urgency): row for row in SlaPolicy.objects.all()}


def due_times(*, site_id: int, kind: str, urgency: str, start: datetime) -> DueTimes:
    """Due times for a ticket of ``kind`` × ``urgency`` taken at ``start`` at the site."""
    policy = policy_for(site_id=site_id, kind=kind, urgency=urgency)
    if policy is None:
        respond, resolve = default_minutes(kind, urgency)
        arrive, business = None, False
    else:
        respond, resolve = policy.respond_minutes, policy.resolve_minutes
        arrive, business = policy.arrive_minutes, policy.business_hours
    if kind != Kind.REPAIR:
        arrive = None
    add = calendar_for_site(site_id).add_business_minutes if business else _add_calendar_minutes
    return DueTimes(
        respond=add(start, respond),
        resolve=add(start, resolve),
        arrive=add(start, arrive) if arrive is not None else None,
    )


def resumed_due_times(ticket: Ticket, *, paused_from: datetime, now: datetime) -> dict[str, datetime]:
    """The ticket's open deadlines moved on by the time it waited for the customer (挂起):
    the clock does not run while a ticket is suspended. Counted the way its policy counts."""
    policy = policy_for(site_id=ticket.site_id, kind=ticket.kind, urgency=ticket.urgency)
    if policy is not None and policy.business_hours:
        calendar = calendar_for_site(ticket.site_id)
        paused = calendar.business_minutes_between(paused_from, now)

        def shift(due: datetime) -> datetime:
            return calendar.add_business_minutes(due, paused)
    else:
        delta = now - paused_from

        def shift(due: datetime) -> datetime:
            return due + delta

    shifted = {}
    for name, met in (("respond_due", "responded_at"), ("arrive_due", "arrived_at"), ("resolve_due", "completed_at")):
        due = getattr(ticket, name)
        if due is not None and getattr(ticket, met) is None:
            shifted[name] = shift(due)
    return shifted


def _add_calendar_minutes(start: datetime, minutes: int) -> datetime:
    return start + timedelta(minutes=minutes)


# --- the warning engine's clock -------------------------------------------------------------


@dataclass(frozen=True)
class Rules:
    """``WarningRules`` as plain values (defaults when no row exists)."""

    blue_minutes: int = 60
    prewarn_percent: int = 80
    manager_after_minutes: int = 120
    director_after_minutes: int = 480
    red_after_minutes: int = 24 * 60
    stall_hours: int = field(default_factory=lambda: settings.KEFU_STALL_HOURS)


def rules_for(site_id: int) -> Rules:
    """The site's warning rules, else the company's, else the defaults."""
    table = refdata.cached("tickets.warning_rules", _all_rules)
    return table.get(site_id) or table.get(None) or Rules()


def _all_rules() -> dict[int | None, Rules]:
    return {
        row.site_id: Rules(
            row.blue_minutes,
            row.prewarn_percent,
            row.manager_after_minutes,
            row.director_after_minutes,
            row.red_after_minutes,
        )
        for row in WarningRules.objects.all()
    }


@dataclass(frozen=True)
class Due:
    """One thing the warning engine must do for a ticket at ``at``: ``step`` is blue,
    prewarn, breach, manager, director or red; ``deadline`` names the time limit it is
    about (progress, respond, arrive, resolve) and ``due`` is that limit. ``key`` is what
    makes it happen once."""

    key: str
    at: datetime
    step: str
    deadline: str
    due: datetime


_DEADLINES = (("respond", "respond_due", "responded_at"), ("arrive", "arrive_due", "arrived_at"))


def sla_schedule(ticket: Ticket, rules: Rules) -> list[Due]:
    """Everything the warning engine will do for ``ticket`` as it stands, done or not.

    Nothing while the ticket waits for the customer (挂起: its clock is stopped) or once it
    has ended. A deadline already met plans nothing. The resolution deadline alone climbs the
    chain to the manager and the director and ends in a red card."""
    if ticket.status in ENDED or ticket.status == Status.SUSPENDED:
        return []
    plan: list[Due] = []
    if ticket.updated_at is not None and rules.stall_hours:
        # 首问责任: the first responder hears when nothing has happened for a while.
        quiet_since = ticket.updated_at
        stamp = int(quiet_since.timestamp())
        at = quiet_since + timedelta(hours=rules.stall_hours)
        plan.append(Due(f"stall:{stamp}", at, "stall", "progress", at))
    if ticket.progress_due is not None and ticket.assignee_id is not None:
        stamp = int(ticket.progress_due.timestamp())
        plan.append(Due(f"blue:{stamp}", ticket.progress_due, "blue", "progress", ticket.progress_due))
    deadlines = [(name, getattr(ticket, due), getattr(ticket, met)) for name, due, met in _DEADLINES]
    if ticket.status not in DONE_FOR_SLA:
        deadlines.append(("resolve", ticket.resolve_due, ticket.completed_at))
    for name, due, met in deadlines:
        if due is None or met is not None:
            continue
        span = due - ticket.created_at
        if span > timedelta(0):
            plan.append(
                Due(f"prewarn:{name}", ticket.created_at + span * rules.prewarn_percent / 100, "prewarn", name, due)
            )
        plan.append(Due(f"breach:{name}", due, "breach", name, due))
        if name == "resolve":
            for step, minutes in (
                ("manager", rules.manager_after_minutes),
                ("director", rules.director_after_minutes),
                ("red", rules.red_after_minutes),
            ):
                plan.append(Due(f"{step}:resolve", due + timedelta(minutes=minutes), step, name, due))
    return plan


def clock_of(ticket: Ticket) -> TicketClock:
    """The ticket's warning clock: the one read with it, else read now; a new one (not yet
    saved, nothing done) for a ticket being made or one that has none."""
    try:
        return ticket.clock
    except TicketClock.DoesNotExist:
        clock = TicketClock(ticket=ticket)
        ticket.clock = clock
        return clock


def next_check(ticket: Ticket, rules: Rules, done: Iterable[str] = ()) -> datetime | None:
    """When the sweep must next look at ``ticket``: its earliest warning not in ``done``."""
    finished = set(done)
    pending = [d.at for d in sla_schedule(ticket, rules) if d.key not in finished]
    return min(pending) if pending else None


_MET = (("respond_due", "responded_at", "respond_delta"), ("arrive_due", "arrived_at", "arrive_delta"),
        ("resolve_due", "completed_at", "resolve_delta"))  # fmt: skip


def sla_fields(ticket: Ticket, changed: dict[str, object], rules: Rules) -> tuple[dict[str, object], datetime | None]:
    """The warning engine's columns of the ticket after ``changed`` is applied to it (by how
    much each deadline met in this change was met or missed), and its next check, from the
    warnings its clock has done."""
    after = copy(ticket)
    for name, value in changed.items():
        setattr(after, name, value)
    fields: dict[str, object] = {}
    for due_field, met_field, delta_field in _MET:
        if met_field in changed:
            due, met = getattr(after, due_field), getattr(after, met_field)
            fields[delta_field] = None if due is None or met is None else round((met - due).total_seconds() / 60)
    if "completed_at" in changed:
        # 处理用时: business minutes from receipt to completion on the site's calendar, kept
        # so that reports average it in SQL.
        done = after.completed_at
        fields["handling_minutes"] = (
            None
            if done is None
            else max(0, calendar_for_site(ticket.site_id).business_minutes_between(after.created_at, done))
        )
    return fields, next_check(after, rules, clock_of(ticket).sla_done or ())

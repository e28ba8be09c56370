"""Due times of a ticket: the site's policy for its kind × urgency, counted on the site's
business calendar or in calendar time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Q

from kefu.org.queries import calendar_for_site

from .lifecycle import Kind
from .models import SlaPolicy, Ticket, Urgency

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
    rows = SlaPolicy.objects.filter(Q(site_id=site_id) | Q(site__isnull=True), kind=kind, urgency=urgency)
    found = {row.site_id: row for row in rows}
    return found.get(site_id) or found.get(None)


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
    for field, met in (("respond_due", "responded_at"), ("arrive_due", "arrived_at"), ("resolve_due", "completed_at")):
        due = getattr(ticket, field)
        if due is not None and getattr(ticket, met) is None:
            shifted[field] = shift(due)
    return shifted


def _add_calendar_minutes(start: datetime, minutes: int) -> datetime:
    return start + timedelta(minutes=minutes)

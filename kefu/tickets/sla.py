"""Due times for a new ticket. The one lookup the business calendar will later replace."""

from __future__ import annotations

from datetime import datetime, timedelta

from .lifecycle import Kind
from .models import SlaPolicy, Urgency

# Fallback minutes (respond, resolve) when no policy row exists for kind × urgency.
_DEFAULT_RESOLVE_HOURS = {Urgency.LOW: 72, Urgency.NORMAL: 24, Urgency.HIGH: 8, Urgency.CRITICAL: 4}
_DEFAULT_RESPOND_MINUTES = {Urgency.LOW: 120, Urgency.NORMAL: 60, Urgency.HIGH: 30, Urgency.CRITICAL: 15}


def default_minutes(kind: str, urgency: str) -> tuple[int, int]:
    resolve = _DEFAULT_RESOLVE_HOURS.get(Urgency(urgency), 72) * 60
    if kind == Kind.COMPLAINT:
        resolve = max(resolve, 24 * 60)
    return _DEFAULT_RESPOND_MINUTES.get(Urgency(urgency), 120), resolve


def due_times(*, kind: str, urgency: str, start: datetime) -> tuple[datetime, datetime]:
    """(respond_due, resolve_due) for a ticket of ``kind`` × ``urgency`` taken at ``start``.

    Counted in calendar minutes for now.
    """
    policy = SlaPolicy.objects.filter(kind=kind, urgency=urgency).only("respond_minutes", "resolve_minutes").first()
    if policy is not None:
        respond, resolve = policy.respond_minutes, policy.resolve_minutes
    else:
        respond, resolve = default_minutes(kind, urgency)
    return start + timedelta(minutes=respond), start + timedelta(minutes=resolve)

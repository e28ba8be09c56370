"""Background tasks of tickets (Huey). Thin: the service does the work."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services.cards import sla_sweep


@db_periodic_task(crontab(minute="*"))
def sweep_time_limits() -> None:
    """Every minute: pre-warnings, warning cards and escalations that have come due."""
    sla_sweep()

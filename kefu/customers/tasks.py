"""Background tasks of customers (Huey). Thin: the service does the work."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import first_contact_overdue_sweep


@db_periodic_task(crontab(minute="*/10"))
def warn_first_contact_overdue() -> None:
    """Every ten minutes: tell owners of customers not contacted within 7 days of assignment."""
    first_contact_overdue_sweep()

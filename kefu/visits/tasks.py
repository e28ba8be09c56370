"""Background tasks of return visits (Huey). Thin: the service does the work."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task

from .services import visits_overdue_sweep


@db_periodic_task(crontab(minute="*"))
def warn_overdue_visits() -> None:
    """Every minute: a yellow card for each visit past its deadline, once."""
    visits_overdue_sweep()

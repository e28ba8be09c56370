"""Background tasks of notifications (Huey). Thin: ids in, the service does the work."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .services import deliveries_process


@db_task()
def deliver(ids: list[int]) -> None:
    """Send the deliveries a committed ``notify`` just wrote."""
    deliveries_process(ids=ids)


@db_periodic_task(crontab(minute="*"))
def deliver_due() -> None:
    """Every minute, whatever is due: retries after back-off, rows whose enqueue was lost,
    rows whose worker died mid-send (their lease ran out). The safety net of at-least-once."""
    deliveries_process()

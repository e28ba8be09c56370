"""Background tasks of tickets (Huey). Thin: the service does the work."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .search import index_customer
from .services.cards import sla_sweep


@db_periodic_task(crontab(minute="*"))
def sweep_time_limits() -> None:
    """Every minute: pre-warnings, warning cards and escalations that have come due."""
    sla_sweep()


@db_task()
def reindex_customer(customer_id: int) -> None:
    """Re-index the tickets of a customer renamed or given other rooms (too many to do
    inside the customer's own transaction)."""
    index_customer(customer_id=customer_id)

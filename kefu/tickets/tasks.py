"""Background tasks of tickets (Huey). Thin: the service does the work."""

from __future__ import annotations

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from .loads import loads_recount
from .search import index_customer
from .services.cards import sla_sweep


@db_periodic_task(crontab(minute="*"))
def sweep_time_limits() -> None:
    """Every minute: pre-warnings, warning cards and escalations that have come due."""
    sla_sweep()


@db_periodic_task(crontab(minute="17"))
def recount_loads() -> None:
    """Every hour: each handler's tickets in hand from the tickets themselves, in case a
    ticket was changed past the services (an edit in the admin, a restore)."""
    loads_recount()


@db_task()
def reindex_customer(customer_id: int) -> None:
    """Re-index the tickets of a customer renamed or given other rooms (too many to do
    inside the customer's own transaction)."""
    index_customer(customer_id=customer_id)

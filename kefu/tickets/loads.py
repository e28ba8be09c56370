"""Tickets in hand per handler, kept as the tickets change (decision 0017).

The dispatch rule picks the least-loaded handler. Counting each candidate's tickets in hand
at every dispatch read thousands of index entries at a million tickets (a technician holds
two thousand open tickets there), 1.2–1.4 ms of the database's CPU in a ticket creation of
about 3. ``HandlerLoad`` keeps the count instead: every service that writes a ticket's
handler or status moves it in the same transaction (``loads_move``), and ``loads_recount``
sets it from the tickets (after a bulk load, and every hour for anything written past the
services, such as an edit in the admin).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction
from django.db.models import Count

from .lifecycle import IN_HAND
from .models import HandlerLoad, Ticket

_IN_HAND = frozenset(IN_HAND)


def holder(assignee_id: int | None, status: str) -> int | None:
    """Whose load a ticket with this handler and status counts in: its handler's while it
    is in hand, nobody's otherwise."""
    return assignee_id if assignee_id is not None and status in _IN_HAND else None


def loads_move(before: int | None, after: int | None) -> None:
    """A ticket went from ``before``'s load to ``after``'s (``holder`` of each state); in
    the caller's transaction. Concurrent moves add up: each is one atomic UPDATE."""
    if before == after:
        return
    if before is not None:
        _add(before, -1)
    if after is not None:
        _add(after, 1)


def _add(staff_id: int, delta: int) -> None:
    table = connection.ops.quote_name(HandlerLoad._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (staff_id, in_hand) VALUES (%s, %s) "
            f"ON CONFLICT (staff_id) DO UPDATE SET in_hand = {table}.in_hand + excluded.in_hand",
            [staff_id, delta],
        )


def loads_of(staff_ids: Iterable[int]) -> dict[int, int]:
    """The tickets in hand of each of ``staff_ids`` (those with none may be missing)."""
    return dict(HandlerLoad.objects.filter(staff_id__in=list(staff_ids)).values_list("staff_id", "in_hand"))


def loads_recount() -> int:
    """Set every handler's load from the tickets; the number of handlers with tickets in hand."""
    counted = (
        Ticket.objects.filter(status__in=IN_HAND, assignee__isnull=False)
        .order_by()
        .values_list("assignee_id")
        .annotate(n=Count("*"))
    )
    with transaction.atomic():
        HandlerLoad.objects.all().delete()
        rows = HandlerLoad.objects.bulk_create([HandlerLoad(staff_id=staff, in_hand=n) for staff, n in counted])
    return len(rows)

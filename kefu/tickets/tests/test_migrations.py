"""Migrations that move data: each keeps every value, both ways."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from kefu.org.models import Role
from kefu.testing import make_site, make_staff, make_ticket
from kefu.tickets.models import TicketClock

BEFORE = [("tickets", "0016_list_filter_urgency")]
AFTER = [("tickets", "0017_ticket_clock")]


def _migrate(target: list[tuple[str, str]] | None = None) -> None:
    """To ``target``, else to the latest migration of every app (as the other tests need it)."""
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(target or executor.loader.graph.leaf_nodes())


@pytest.mark.django_db(transaction=True)
def test_the_warning_clock_moves_to_its_own_table_and_back():
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    open_ticket = make_ticket(site, agent, auto_dispatch=False)
    answered = make_ticket(site, agent, kind="inquiry", answer="物业费可在前台缴纳")
    clocks = {c.pk: (c.next_check_at, c.sla_done) for c in TicketClock.objects.all()}
    assert clocks[open_ticket.pk][0] is not None and clocks[answered.pk][0] is None
    try:
        _migrate(BEFORE)
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, next_check_at, sla_done FROM tickets_ticket ORDER BY id")
            rows = cursor.fetchall()
            # The values came back into the ticket's row; a sweep of the old code moves them on.
            assert [row[0] for row in rows] == sorted(clocks)
            back = {pk: at is not None for pk, at, _done in rows}
            assert back == {open_ticket.pk: True, answered.pk: False}
            moved = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
            cursor.execute(
                "UPDATE tickets_ticket SET next_check_at = %s, sla_done = %s WHERE id = %s",
                [moved, json.dumps(["prewarn:respond", "breach:respond"]), open_ticket.pk],
            )
        _migrate(AFTER)
    finally:
        _migrate()
    clock = TicketClock.objects.get(pk=open_ticket.pk)
    assert clock.next_check_at == moved and clock.sla_done == ["prewarn:respond", "breach:respond"]
    other = TicketClock.objects.get(pk=answered.pk)
    assert (other.next_check_at, other.sla_done) == clocks[answered.pk]
    assert TicketClock.objects.count() == 2

"""Rows a service wrote, kept on the instance: read from memory until forgotten."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.core.prefetch import forget, keep, kept
from kefu.org.models import Role
from kefu.testing import make_site, make_staff, make_ticket
from kefu.tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def ticket():
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    found = Ticket.objects.get(pk=make_ticket(site, agent, auto_dispatch=False).pk)
    assert not kept(found, "events")
    return found


def test_kept_rows_are_answered_without_a_query(ticket):
    rows = list(TicketEvent.objects.filter(ticket=ticket))
    keep(ticket, "events", rows)
    with CaptureQueriesContext(connection) as queries:
        assert list(ticket.events.all()) == rows
        assert ticket.events.count() == len(rows)
    assert len(queries) == 0 and kept(ticket, "events")


def test_what_is_kept_is_what_is_shown_even_if_the_database_has_more(ticket):
    keep(ticket, "events", [])
    TicketEvent.objects.create(ticket=ticket, type="note", note="x")
    assert list(ticket.events.all()) == []
    forget(ticket, "events")
    assert not kept(ticket, "events")
    assert [e.type for e in ticket.events.all()] == ["created", "note"]


def test_forgetting_what_was_never_kept_is_harmless(ticket):
    forget(ticket, "assignments")
    assert list(ticket.assignments.all()) == []

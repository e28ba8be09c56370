"""Prepared statements inside ``prepared_statements()`` only, on PostgreSQL (decision 0015)."""

import json

import pytest
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from kefu.core.prepared import prepared_statements
from kefu.org.models import Role, Site
from kefu.testing import api_auth, make_customer, make_site, make_staff
from kefu.tickets.models import Ticket

pytestmark = pytest.mark.django_db


def _prepared() -> list[str]:
    """The statements this connection holds prepared on the server."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


def _read_sites(times: int) -> None:
    for _ in range(times):
        list(Site.objects.filter(code="NOPE").values_list("id", flat=True))


@pytest.mark.postgres
def test_a_statement_sent_twice_inside_is_prepared_and_outside_nothing_is():
    _read_sites(3)
    assert not any("org_site" in s for s in _prepared())
    with prepared_statements():
        _read_sites(1)
        assert not any("org_site" in s for s in _prepared())  # met once: not prepared
        _read_sites(2)
        assert any("org_site" in s for s in _prepared())
        assert type(connection.connection.cursor()).__name__ == "ServerBindingCursor"
    # As Django made it again: client-side binding, nothing prepared.
    assert type(connection.connection.cursor()).__name__ == "Cursor"
    assert connection.connection.prepare_threshold is None


@pytest.mark.postgres
def test_nested_blocks_and_an_error_leave_the_connection_as_it_was():
    before = (connection.connection.cursor_factory, connection.connection.prepare_threshold)
    with pytest.raises(ZeroDivisionError), prepared_statements():
        with prepared_statements():
            _read_sites(1)
        assert connection.connection.prepare_threshold is not None  # the outer block still on
        1 / 0  # noqa: B018
    assert (connection.connection.cursor_factory, connection.connection.prepare_threshold) == before


@pytest.mark.postgres
@override_settings(KEFU_PG_PREPARED=False)
def test_turned_off_for_a_pooler_nothing_is_prepared():
    with prepared_statements():
        _read_sites(3)
    assert not any("org_site" in s for s in _prepared())


@pytest.mark.postgres
def test_while_queries_are_logged_each_is_logged_with_its_text():
    with CaptureQueriesContext(connection) as logged, prepared_statements():
        _read_sites(3)
    assert len(logged) == 3
    assert all('"org_site"' in q["sql"] and "NOPE" in q["sql"] for q in logged)
    assert not any("org_site" in s for s in _prepared())


def test_the_block_runs_its_body_and_lets_an_error_through():
    with pytest.raises(ValueError, match="stop"), prepared_statements():
        assert not Site.objects.filter(code="NOPE").exists()
        raise ValueError("stop")


@pytest.mark.postgres
def test_api_intake_sends_its_insert_prepared():
    """The second creation on a connection reuses the prepared INSERT of the ticket row."""
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    customer = make_customer(site, agent, phone="13812345678")
    body = {"site_id": site.id, "kind": "repair", "channel": "phone", "content": "水管漏水", "customer_id": customer.id}
    client = Client()
    for _ in range(2):
        response = client.post(
            "/api/v1/tickets", json.dumps(body, ensure_ascii=False), content_type="application/json", **api_auth(agent)
        )
        assert response.status_code == 201, response.content
    assert Ticket.objects.filter(site=site).count() == 2
    assert any(s.startswith('INSERT INTO "tickets_ticket"') for s in _prepared())
    assert connection.connection.prepare_threshold is None

"""Return visits over the API: the queue by persona, and the call's outcomes."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kefu.testing import api_auth
from kefu.tickets.models import Ticket
from kefu.visits.models import Visit

from .test_visits import _completed_repair, _visit


@pytest.fixture
def visit(world) -> Visit:
    return _visit(_completed_repair(world))


def _post(client, staff, path, body):
    return client.post(f"/api/v1{path}", json.dumps(body), "application/json", **api_auth(staff))


def test_queue_scope(world, visit):
    client = Client()
    mine = client.get("/api/v1/visits", **api_auth(world.agent)).json()
    assert [v["id"] for v in mine["items"]] == [visit.id]
    assert mine["items"][0]["ticket"]["number"] == visit.ticket.number
    assert client.get("/api/v1/visits", **api_auth(world.outsider_agent)).json()["count"] == 0
    assert client.get(f"/api/v1/visits/{visit.id}", **api_auth(world.outsider_agent)).status_code == 404
    assert client.get("/api/v1/visits", {"state": "done"}, **api_auth(world.supervisor)).json()["count"] == 0


def test_record_dissatisfied_and_conflicts(world, visit):
    client = Client()
    stale = _post(client, world.agent, f"/visits/{visit.id}/record", {"version": 99, "result": "satisfied"})
    assert stale.status_code == 409
    missing = _post(
        client, world.agent, f"/visits/{visit.id}/record", {"version": visit.version, "result": "dissatisfied"}
    )
    assert missing.status_code == 422 and "reason" in missing.json()["errors"]
    done = _post(
        client,
        world.agent,
        f"/visits/{visit.id}/record",
        {"version": visit.version, "result": "dissatisfied", "reason": "仍然漏水"},
    )
    assert (
        done.status_code == 200 and done.json()["status"] == "done" and done.json()["calls"][0]["outcome"] == "reached"
    )
    assert Ticket.objects.get(pk=visit.ticket_id).status == "in_progress"


def test_unreachable_and_reassign(world, visit):
    client = Client()
    first = _post(client, world.agent, f"/visits/{visit.id}/unreachable", {"version": visit.version, "note": "关机"})
    assert first.status_code == 200 and first.json()["status"] == "retry" and first.json()["attempts"] == 1
    version = first.json()["version"]
    denied = _post(
        client, world.agent, f"/visits/{visit.id}/reassign", {"version": version, "assignee_id": world.frontdesk.id}
    )
    assert denied.status_code == 403
    moved = _post(
        client,
        world.supervisor,
        f"/visits/{visit.id}/reassign",
        {"version": version, "assignee_id": world.frontdesk.id},
    )
    assert moved.status_code == 200 and moved.json()["assignee"]["id"] == world.frontdesk.id

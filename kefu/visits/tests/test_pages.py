"""The visit queue and workspace as each persona sees them."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.tickets.models import Ticket
from kefu.visits.models import Visit

from .test_visits import _completed_repair, _visit

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def visit(world) -> Visit:
    return _visit(_completed_repair(world))


def test_queue_and_workspace_for_the_visitor(world, client, visit):
    client.force_login(world.agent.user)
    with time_machine.travel(datetime(2026, 11, 21, 9, 0, tzinfo=SH), tick=False):
        body = client.get("/visits/").content.decode()
    assert f'data-visit="{visit.id}"' in body
    page = client.get(f"/visits/{visit.id}/").content.decode()
    assert 'id="script"' in page and "请问您对这次服务满意吗" in page
    assert 'data-branch="dissatisfied"' in page and "王师傅" in page  # the ticket's handler in the summary
    response = client.post(
        f"/visits/{visit.id}/record/", {"version": visit.version, "result": "satisfied", "notes": "满意"}
    )
    assert response.status_code == 302
    assert Ticket.objects.get(pk=visit.ticket_id).status == "visited"
    assert f'data-visit="{visit.id}"' in client.get("/visits/?state=done").content.decode()


def test_refusals_show_on_the_page_and_write_nothing(world, client, visit):
    client.force_login(world.agent.user)
    bad = [
        ("record", {"version": visit.version, "result": "angry"}),
        ("record", {"version": visit.version, "result": "dissatisfied", "reason": ""}),
        ("record", {"version": "x", "result": "satisfied"}),
        ("record", {"version": visit.version, "result": "satisfied", "notes": "x" * 3000}),
        ("appoint", {"version": visit.version, "at": "2026-02-30T10:00"}),
        ("appoint", {"version": visit.version, "at": ""}),
    ]
    for action, data in bad:
        response = client.post(f"/visits/{visit.id}/{action}/", data)
        assert response.status_code in (400, 409, 422), (action, data, response.status_code)
    assert client.post(f"/visits/{visit.id}/explode/", {"version": visit.version}).status_code == 404
    fresh = Visit.objects.get(pk=visit.pk)
    assert (fresh.status, fresh.version, fresh.calls.count()) == ("pending", visit.version, 0)


def test_who_sees_which_visits(world, client, visit):
    client.force_login(world.supervisor.user)
    assert f'data-visit="{visit.id}"' in client.get("/visits/?state=").content.decode()
    for outsider in (world.outsider_agent, world.tech, world.frontdesk):
        client.force_login(outsider.user)
        assert client.get(f"/visits/{visit.id}/").status_code == 404
        assert (
            client.post(f"/visits/{visit.id}/record/", {"version": visit.version, "result": "satisfied"}).status_code
            == 404
        )
    assert Visit.objects.get(pk=visit.pk).status == "pending"


def test_the_manuals_script_when_none_is_configured(world, client, visit):
    from kefu.visits.models import VisitScript

    VisitScript.objects.all().delete()
    client.force_login(world.agent.user)
    assert "请问您对这次服务满意吗" in client.get(f"/visits/{visit.id}/").content.decode()

"""Warning cards on screen and over the API: the ledger with its scope, filters and Excel,
revoking, the red card for serious consequences, badges on the ticket and the list."""

from __future__ import annotations

import io
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from kefu.testing import api_auth, make_ticket
from kefu.tickets.models import SlaPolicy, Ticket, WarningCard
from kefu.tickets.services import ticket_dispatch
from kefu.tickets.services.cards import sla_sweep

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=SH)


@pytest.fixture
def cards(world):
    """Two overdue repairs: one the agent holds (yellow cards to the agent), one dispatched to
    the technician who never answered (blue and yellow cards to the technician)."""
    SlaPolicy.objects.create(kind="repair", urgency="low", respond_minutes=30, resolve_minutes=600)
    with time_machine.travel(START, tick=False):
        mine = make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False, content="甲")
        theirs = make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False, content="乙")
        ticket_dispatch(ticket=theirs, actor=world.agent, version=theirs.version, assignee=world.tech)
    with time_machine.travel(START + timedelta(hours=11), tick=False):
        sla_sweep()
    return mine, theirs


def test_ledger_scope_and_totals(world, client, cards):
    mine, theirs = cards
    client.force_login(world.manager.user)
    body = client.get("/tickets/warnings/").content.decode()
    assert mine.number in body and theirs.number in body
    # The agent: respond and resolve missed; the technician: no progress report, resolve missed.
    assert sorted(WarningCard.objects.values_list("staff_id", "color", "rule")) == sorted(
        [
            (world.agent.id, "yellow", "respond"),
            (world.agent.id, "yellow", "resolve"),
            (world.tech.id, "blue", "progress"),
            (world.tech.id, "yellow", "resolve"),
        ]
    )
    assert 'data-total="blue">蓝牌 1' in body and 'data-total="yellow">黄牌 3' in body
    # The technician sees only the cards against himself; an outsider sees none.
    client.force_login(world.tech.user)
    body = client.get("/tickets/warnings/").content.decode()
    assert theirs.number in body and mine.number not in body
    client.force_login(world.outsider_agent.user)
    assert 'data-card="' not in client.get("/tickets/warnings/").content.decode()


def test_ledger_filters(world, client, cards):
    client.force_login(world.supervisor.user)
    body = client.get("/tickets/warnings/", {"color": "blue"}).content.decode()
    assert body.count('data-card="') == 1
    body = client.get("/tickets/warnings/", {"staff": world.agent.id}).content.decode()
    assert body.count('data-card="') == WarningCard.objects.filter(staff=world.agent).count()
    for params in ({"date_from": "2026-02-31"}, {"staff": "x"}, {"color": "pink"}, {"page": "-1"}):
        assert client.get("/tickets/warnings/", params).status_code == 200


def test_ledger_export(world, client, cards):
    client.force_login(world.manager.user)
    response = client.get("/tickets/warnings/export/", {"staff": world.tech.id})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.getvalue())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("发出时间", "颜色", "规则", "责任人")
    assert sorted((r[1], r[2], r[3]) for r in rows[1:]) == [
        ("蓝牌", "交办后未及时反馈", world.tech.name),
        ("黄牌", "超过办结时限", world.tech.name),
    ]


def test_ledger_days_are_local_days(world, client, cards):
    # Cards issued at 20:00 local (the sweep ran at START + 11 h): the day is the 23rd in
    # Shanghai, though 12:00 UTC; a card just after local midnight belongs to the 24th.
    WarningCard.objects.filter(color="blue").update(issued_at=datetime(2026, 11, 24, 0, 0, tzinfo=SH))
    client.force_login(world.manager.user)

    def exported(**days):
        response = client.get("/tickets/warnings/export/", days)
        return sorted(r[1] for r in list(load_workbook(io.BytesIO(response.getvalue())).active.values)[1:])

    assert exported(date_from="2026-11-23", date_to="2026-11-23") == ["黄牌"] * 3
    assert exported(date_from="2026-11-24", date_to="2026-11-24") == ["蓝牌"]
    assert exported(date_to="2026-11-22") == []


def test_revoke_from_the_ledger(world, client, cards):
    card = WarningCard.objects.filter(staff=world.tech, color="blue").get()
    client.force_login(world.supervisor.user)
    client.post(f"/tickets/warnings/{card.id}/revoke/", {"reason": "派单错误"})
    card.refresh_from_db()
    assert not card.is_revoked
    client.force_login(world.manager.user)
    response = client.post(f"/tickets/warnings/{card.id}/revoke/", {"reason": ""}, follow=True)
    assert "请填写撤销原因" in response.content.decode()
    client.post(f"/tickets/warnings/{card.id}/revoke/", {"reason": "派单错误，非本人责任", "next": "//evil.example"})
    card.refresh_from_db()
    assert card.is_revoked and card.revoke_reason == "派单错误，非本人责任"
    body = client.get("/tickets/warnings/", {"state": "revoked"}).content.decode()
    assert body.count('data-card="') == 1
    client.force_login(world.outsider_agent.user)
    assert client.post(f"/tickets/warnings/{card.id}/revoke/", {"reason": "x"}).status_code == 404


def test_ticket_page_shows_cards_and_serious_button(world, client, cards):
    _, theirs = cards
    client.force_login(world.supervisor.user)
    body = client.get(f"/tickets/{theirs.pk}/").content.decode()
    assert 'data-card-badge="blue"' in body and "严重后果发红牌" in body
    client.post(f"/tickets/{theirs.pk}/serious/", {"reason": "水淹楼下三户"})
    red = WarningCard.objects.get(rule="serious")
    assert red.staff_id == world.tech.id and red.issued_by_id == world.supervisor.id
    client.force_login(world.agent.user)
    assert "严重后果发红牌" not in client.get(f"/tickets/{theirs.pk}/").content.decode()
    client.post(f"/tickets/{theirs.pk}/serious/", {"reason": "x"})
    assert WarningCard.objects.filter(rule="serious").count() == 1


def test_list_shows_badges_and_countdown(world, client, cards):
    client.force_login(world.agent.user)
    with time_machine.travel(START + timedelta(hours=11), tick=False):
        body = client.get("/tickets/").content.decode()
    assert 'data-card-badge="yellow"' in body
    assert "超时 1小时0分" in body


# --- API ------------------------------------------------------------------------------------


def test_api_ledger_revoke_and_serious(world, cards):
    client = Client()
    mine, theirs = cards
    listing = client.get("/api/v1/warnings", {"staff": world.tech.id}, **api_auth(world.manager)).json()
    assert listing["count"] == WarningCard.objects.filter(staff=world.tech).count()
    assert {c["ticket"]["number"] for c in listing["items"]} == {theirs.number}
    own = client.get("/api/v1/warnings", **api_auth(world.tech)).json()
    assert {c["staff"]["id"] for c in own["items"]} == {world.tech.id}

    card = listing["items"][0]["id"]
    body = json.dumps({"reason": "误派"})
    denied = client.post(f"/api/v1/warnings/{card}/revoke", body, "application/json", **api_auth(world.supervisor))
    assert denied.status_code == 403
    done = client.post(f"/api/v1/warnings/{card}/revoke", body, "application/json", **api_auth(world.manager))
    assert done.status_code == 200 and done.json()["revoked"] is True

    body = json.dumps({"reason": "造成业主财产损失"})
    first = client.post(f"/api/v1/tickets/{mine.pk}/serious", body, "application/json", **api_auth(world.supervisor))
    assert first.status_code == 201 and first.json()["color"] == "red"
    again = client.post(f"/api/v1/tickets/{mine.pk}/serious", body, "application/json", **api_auth(world.supervisor))
    assert again.status_code == 422
    assert Ticket.objects.filter(pk=mine.pk).exists()

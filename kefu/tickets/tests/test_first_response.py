"""首问责任制: the first responder's list, and a formal hand-over that takes effect only when
the receiver acknowledges it."""

from __future__ import annotations

import pytest

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.notify.models import Notification
from kefu.testing import make_ticket
from kefu.tickets.models import Handover, Ticket
from kefu.tickets.services import ticket_transition
from kefu.tickets.services.first_response import first_responder_hand_over, handover_accept, handover_decline


@pytest.fixture
def ticket(world):
    return make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False)


def test_hand_over_waits_for_the_receiver(world, ticket):
    handover = first_responder_hand_over(ticket=ticket, actor=world.agent, to=world.frontdesk, reason="轮休三天")
    ticket.refresh_from_db()
    assert ticket.first_responder_id == world.agent.id  # still accountable until acknowledged
    assert Notification.objects.filter(recipient=world.frontdesk, event="first_response.handover").exists()
    with pytest.raises(PermissionDenied):
        handover_accept(handover=handover, actor=world.supervisor)
    handover_accept(handover=handover, actor=world.frontdesk, note="收到")
    ticket.refresh_from_db()
    assert ticket.first_responder_id == world.frontdesk.id
    assert Handover.objects.get().state == "accepted"
    assert list(ticket.events.values_list("type", flat=True))[-2:] == ["handover", "handover_accepted"]
    assert Notification.objects.filter(recipient=world.agent, event="first_response.handover").exists()
    with pytest.raises(ValidationFailed):
        handover_accept(handover=Handover.objects.get(), actor=world.frontdesk)


def test_declined_hand_over_changes_nothing(world, ticket):
    handover = first_responder_hand_over(ticket=ticket, actor=world.agent, to=world.frontdesk, reason="轮休")
    with pytest.raises(ValidationFailed):
        handover_decline(handover=handover, actor=world.frontdesk, note="")
    handover_decline(handover=handover, actor=world.frontdesk, note="本周也休假")
    ticket.refresh_from_db()
    assert ticket.first_responder_id == world.agent.id
    assert Handover.objects.get().state == "declined"
    # A new offer may follow once the first is answered.
    first_responder_hand_over(ticket=ticket, actor=world.agent, to=world.supervisor, reason="改交主管")


def test_who_may_offer_and_to_whom(world, ticket):
    with pytest.raises(PermissionDenied):
        first_responder_hand_over(ticket=ticket, actor=world.frontdesk, to=world.supervisor, reason="x")
    for to, field in ((None, "to"), (world.tech, "to"), (world.outsider_agent, "to"), (world.agent, "to")):
        with pytest.raises(ValidationFailed) as err:
            first_responder_hand_over(ticket=ticket, actor=world.agent, to=to, reason="x")
        assert field in err.value.fields
    with pytest.raises(ValidationFailed) as err:
        first_responder_hand_over(ticket=ticket, actor=world.agent, to=world.frontdesk, reason=" ")
    assert "reason" in err.value.fields
    # A supervisor may hand over on the first responder's behalf.
    first_responder_hand_over(ticket=ticket, actor=world.supervisor, to=world.frontdesk, reason="专员离职")
    with pytest.raises(ValidationFailed) as err:
        first_responder_hand_over(ticket=ticket, actor=world.agent, to=world.supervisor, reason="再移交")
    assert err.value.message == "该工单已有待确认的移交"


def test_closed_ticket_needs_no_hand_over(world, ticket):
    ticket_transition(ticket=ticket, action="cancel", actor=world.agent, version=ticket.version, note="客户撤回")
    with pytest.raises(ValidationFailed):
        first_responder_hand_over(ticket=ticket, actor=world.agent, to=world.frontdesk, reason="x")


def test_first_response_page_and_the_hand_over_screens(world, client, ticket):
    other = make_ticket(world.site, world.frontdesk, customer=world.customer, auto_dispatch=False, content="别人的")
    client.force_login(world.agent.user)
    body = client.get("/tickets/first-response/").content.decode()
    assert ticket.number in body and other.number not in body

    page = client.get(f"/tickets/{ticket.pk}/").content.decode()
    assert "移交首问责任" in page
    client.post(f"/tickets/{ticket.pk}/hand-over/", {"to": world.frontdesk.id, "reason": "轮休"})
    handover = Handover.objects.get()
    assert 'id="handover-pending"' in client.get(f"/tickets/{ticket.pk}/").content.decode()

    client.force_login(world.frontdesk.user)
    body = client.get("/tickets/first-response/").content.decode()
    assert f'data-handover="{handover.id}"' in body
    assert client.post(f"/tickets/handovers/{handover.id}/hijack/").status_code == 404
    client.post(f"/tickets/handovers/{handover.id}/accept/")
    body = client.get("/tickets/first-response/").content.decode()
    assert ticket.number in body and 'id="handovers-waiting"' not in body
    client.force_login(world.agent.user)
    assert ticket.number not in client.get("/tickets/first-response/").content.decode()


def test_outsiders_cannot_touch_hand_overs(world, client, ticket):
    handover = first_responder_hand_over(ticket=ticket, actor=world.agent, to=world.frontdesk, reason="轮休")
    client.force_login(world.outsider_agent.user)
    assert client.post(f"/tickets/handovers/{handover.id}/accept/").status_code == 404
    assert (
        client.post(f"/tickets/{ticket.pk}/hand-over/", {"to": world.outsider_agent.id, "reason": "x"}).status_code
        == 404
    )
    client.force_login(world.supervisor.user)  # sees the ticket, but is not the receiver
    client.post(f"/tickets/handovers/{handover.id}/accept/")
    assert Ticket.objects.get(pk=ticket.pk).first_responder_id == world.agent.id


def test_first_response_over_the_api(world, ticket):
    import json

    from django.test import Client

    from kefu.testing import api_auth

    client = Client()
    mine = client.get("/api/v1/first-response", **api_auth(world.agent)).json()
    assert [t["number"] for t in mine["items"]] == [ticket.number]
    offer = client.post(
        f"/api/v1/tickets/{ticket.pk}/hand-over",
        json.dumps({"to_id": world.tech.id, "reason": "轮休"}),
        "application/json",
        **api_auth(world.agent),
    )
    assert offer.status_code == 422 and "to_id" in offer.json()["errors"]
    offer = client.post(
        f"/api/v1/tickets/{ticket.pk}/hand-over",
        json.dumps({"to_id": world.frontdesk.id, "reason": "轮休"}),
        "application/json",
        **api_auth(world.agent),
    )
    assert offer.status_code == 201 and offer.json()["state"] == "pending"
    waiting = client.get("/api/v1/handovers/waiting", **api_auth(world.frontdesk)).json()
    assert [h["id"] for h in waiting] == [offer.json()["id"]]
    url = f"/api/v1/handovers/{offer.json()['id']}/accept"
    assert client.post(url, "{}", "application/json", **api_auth(world.agent)).status_code == 403
    done = client.post(url, "{}", "application/json", **api_auth(world.frontdesk))
    assert done.status_code == 200 and done.json()["state"] == "accepted"
    assert Ticket.objects.get(pk=ticket.pk).first_responder_id == world.frontdesk.id

"""Bad input to every ticket form of the web UI: a clear answer, never a 500, nothing half-written."""

from __future__ import annotations

import pytest

from kefu.testing import make_ticket
from kefu.tickets.lifecycle import ACTIONS
from kefu.tickets.models import Assignment, Ticket, TicketEvent

ACTION_FIELDS = (
    "department",
    "assignee",
    "reason",
    "note",
    "text",
    "work_notes",
    "materials",
    "work_hours",
    "fee",
    "confirmed_by",
    "method",
    "public",
)
INTAKE_FIELDS = (
    "site",
    "kind",
    "channel",
    "urgency",
    "category",
    "customer",
    "unit",
    "contact_name",
    "contact_phone",
    "content",
    "answer",
    "room",
)
NASTY = [
    "",
    " ",
    "abc",
    "-1",
    "0",
    "1e309",
    "NaN",
    "Infinity",
    "9" * 40,
    "' OR 1=1 --",
    "<script>x</script>",
    "\u202e\u0000",
    "漏" * 6000,
]


@pytest.mark.parametrize("action", [*ACTIONS, "note"])
def test_every_action_survives_garbage(world, client, action):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    client.force_login(world.supervisor.user)
    before = (Ticket.objects.get().version, TicketEvent.objects.count(), Assignment.objects.count())
    url = f"/tickets/{ticket.pk}/{action}/" if action != "note" else f"/tickets/{ticket.pk}/note/"
    for value in NASTY:
        data = dict.fromkeys(ACTION_FIELDS, value)
        data["version"] = value
        response = client.post(url, data)
        assert response.status_code < 500, (action, value, response.status_code)
    after = (Ticket.objects.get().version, TicketEvent.objects.count(), Assignment.objects.count())
    if action == "note":  # plain text is a valid note: only notes may have been added
        assert after[0] == before[0] and after[2] == before[2]
        assert set(TicketEvent.objects.values_list("type", flat=True)[before[1] :]) <= {"note", "reply"}
        assert not any("\x00" in note for note in TicketEvent.objects.values_list("note", flat=True))
    else:
        assert after == before


def test_intake_survives_garbage(world, client):
    client.force_login(world.frontdesk.user)
    for value in NASTY:
        data = dict.fromkeys(INTAKE_FIELDS, value)
        data["new_customer"] = "1"
        response = client.post("/tickets/intake/", data)
        assert response.status_code < 500, (value, response.status_code)
    assert Ticket.objects.count() == 0


def test_complete_with_bad_numbers_is_refused_in_chinese(world, client):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    from kefu.tickets import services

    services.ticket_accept(ticket=ticket, actor=world.tech, version=ticket.version)
    services.ticket_arrive(ticket=ticket, actor=world.tech, version=ticket.version)
    client.force_login(world.tech.user)
    for hours, fee, message in (("abc", "", "工时必须是数字"), ("NaN", "", "工时必须在"), ("1", "-5", "费用必须在")):
        response = client.post(
            f"/tickets/{ticket.pk}/complete/",
            {"version": ticket.version, "work_notes": "换灯泡", "work_hours": hours, "is_paid": "1", "fee": fee},
        )
        assert response.status_code == 422 and message in response.content.decode(), (hours, fee)
    assert Ticket.objects.get().status == "in_progress"


@pytest.mark.parametrize(
    "path",
    [
        "/tickets/abc/",
        "/tickets/99999999999999999999/",
        "/tickets/1/attachments/abc/",
        "/tickets/m/-1/",
        "/tickets/99999999999999999999/attachments/1/",
    ],
)
def test_odd_urls_are_404_not_500(world, client, path):
    client.force_login(world.agent.user)
    assert client.get(path).status_code == 404
    assert client.post("/tickets/0/accept/", {"version": "1"}).status_code == 404


def test_nul_characters_get_a_clear_400(world, client):
    client.force_login(world.agent.user)
    response = client.get("/tickets/", {"q": "a\x00b"})
    assert response.status_code == 400 and "非法字符" in response.content.decode()
    response = client.post("/tickets/intake/", {"content": "漏水\x00"})
    assert response.status_code in (400, 422) and Ticket.objects.count() == 0


def test_unparsable_form_body_gets_a_clear_answer(world, client):
    client.force_login(world.frontdesk.user)
    response = client.generic(
        "POST", "/tickets/intake/", b"--x\r\nbroken", content_type="multipart/form-data; boundary=x"
    )
    assert response.status_code in (400, 422) and Ticket.objects.count() == 0

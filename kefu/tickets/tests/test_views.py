"""Ticket pages: list filters, pinned query counts, intake form, actions, phone page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.customers.models import Unit
from kefu.testing import make_ticket
from kefu.tickets.models import Ticket
from kefu.tickets.queries import numbered


def _list_queries(client, n_extra, world) -> int:
    for _ in range(n_extra):
        make_ticket(world.site, world.agent, category=world.repair_cat, customer=world.customer)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get("/tickets/?size=50").status_code == 200
    return len(ctx.captured_queries)


def test_list_query_count_does_not_grow_with_rows(world, client):
    client.force_login(world.supervisor.user)
    few = _list_queries(client, 3, world)
    many = _list_queries(client, 20, world)
    assert few == many
    assert many <= 12


def test_list_filters_and_search(world, client):
    a = make_ticket(world.site, world.agent, category=world.repair_cat, content="电梯困人")
    b = make_ticket(world.site, world.agent, kind="inquiry", content="物业费怎么交", auto_dispatch=False)
    client.force_login(world.agent.user)
    body = client.get("/tickets/", {"kind": "inquiry"}).content.decode()
    assert b.number in body and a.number not in body
    body = client.get("/tickets/", {"q": "电梯"}).content.decode()
    assert a.number in body and b.number not in body
    body = client.get("/tickets/", {"q": a.number}).content.decode()
    assert a.number in body and b.number not in body
    # Garbage filters never break the page.
    for params in (
        {"date_from": "2026-13-45"},
        {"page": "abc"},
        {"size": "-5"},
        {"department": "x"},
        {"status": "'; drop table"},
    ):
        assert client.get("/tickets/", params).status_code == 200


def test_htmx_request_gets_the_results_fragment(world, client):
    make_ticket(world.site, world.agent, category=world.repair_cat)
    client.force_login(world.agent.user)
    response = client.get("/tickets/", headers={"HX-Request": "true"})
    body = response.content.decode()
    assert 'id="results"' in body and "<html" not in body


def test_intake_page_creates_and_redirects(world, client):
    client.force_login(world.frontdesk.user)
    assert client.get("/tickets/intake/").status_code == 200
    response = client.post(
        "/tickets/intake/",
        {
            "site": world.site.pk,
            "kind": "repair",
            "channel": "phone",
            "urgency": "high",
            "category": world.repair_cat.pk,
            "customer": world.customer.pk,
            "content": "客厅插座没电",
            "auto_dispatch": "1",
        },
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/tickets/{ticket.pk}/"
    assert ticket.assignee == world.tech and ticket.first_responder == world.frontdesk


def test_intake_errors_are_shown_next_to_fields_and_nothing_saved(world, client):
    client.force_login(world.frontdesk.user)
    response = client.post(
        "/tickets/intake/",
        {
            "site": world.site.pk,
            "kind": "repair",
            "channel": "phone",
            "urgency": "low",
            "content": "",
            "contact_phone": "abc",
        },
    )
    assert response.status_code == 422
    assert "内容不能为空" in response.content.decode()
    assert Ticket.objects.count() == 0
    response = client.post("/tickets/intake/", {"site": "999999", "kind": "x", "channel": "y", "content": "z"})
    assert response.status_code == 422 and Ticket.objects.count() == 0


def test_intake_takes_the_unit_chosen_and_refuses_one_it_cannot(world, client):
    """The customer's own unit is taken; an unknown unit or one of another site is an error
    at the field, and nothing is saved."""
    client.force_login(world.frontdesk.user)
    own = world.customer.unit_links.get().unit
    foreign = Unit.objects.create(site=world.other_site, building="2", entrance="", room="808")
    form = {
        "site": world.site.pk,
        "kind": "repair",
        "channel": "phone",
        "urgency": "low",
        "customer": world.customer.pk,
        "content": "厨房水管漏水",
    }
    for unit, message in ((987654, "房屋不存在"), (foreign.pk, "房屋不存在")):
        response = client.post("/tickets/intake/", {**form, "unit": unit})
        assert response.status_code == 422
        assert message in response.content.decode()
    assert Ticket.objects.count() == 0
    response = client.post("/tickets/intake/", {**form, "unit": own.pk})
    assert response.status_code == 302
    assert Ticket.objects.get().unit == own


def test_intake_lookup_by_last_four_digits_and_room(world, client):
    client.force_login(world.frontdesk.user)
    for q in ("5678", "13912345678", "1-2-301", "张业主"):
        body = client.get("/tickets/intake/lookup/", {"q": q}).content.decode()
        assert "张业主" in body, q


def test_intake_lookup_by_ticket_number_in_any_case(world, client, django_assert_num_queries):
    t = make_ticket(world.site, world.agent, category=world.repair_cat)
    client.force_login(world.frontdesk.user)
    for q in (t.number, t.number.lower(), f" {t.number.lower()} "):
        body = client.get("/tickets/intake/lookup/", {"q": q}).content.decode()
        assert f"/tickets/{t.pk}/" in body, q
    # Another site's ticket of the same number (numbers are per site) stays out of sight.
    other = make_ticket(world.other_site, world.outsider_agent)
    assert other.number == t.number
    body = client.get("/tickets/intake/lookup/", {"q": other.number}).content.decode()
    assert f"/tickets/{t.pk}/" in body and f"/tickets/{other.pk}/" not in body
    # What cannot be a number asks the ticket table nothing.
    with django_assert_num_queries(0):
        assert list(numbered(Ticket.objects.all(), "13912345678")) == []
        assert list(numbered(Ticket.objects.all(), "1-2-301")) == []


def test_detail_offers_only_allowed_actions(world, client):
    t = make_ticket(world.site, world.agent, category=world.repair_cat)
    client.force_login(world.tech.user)
    body = client.get(f"/tickets/{t.pk}/").content.decode()
    assert 'data-action="accept"' in body and 'data-dialog="dlg-transfer"' not in body
    client.force_login(world.supervisor.user)
    body = client.get(f"/tickets/{t.pk}/").content.decode()
    assert 'data-dialog="dlg-transfer"' in body


def test_refused_action_shows_message_and_changes_nothing(world, client):
    t = make_ticket(world.site, world.agent, category=world.repair_cat)
    client.force_login(world.tech.user)
    response = client.post(f"/tickets/{t.pk}/arrive/", {"version": t.version})
    assert response.status_code == 422
    assert "不能执行“到场”" in response.content.decode()
    t.refresh_from_db()
    assert t.status == "dispatched"
    assert client.post(f"/tickets/{t.pk}/fly/", {"version": t.version}).status_code == 404
    assert client.post(f"/tickets/{t.pk}/accept/", {"version": "abc"}).status_code == 409


def test_notes_and_replies_are_distinct(world, client):
    t = make_ticket(world.site, world.agent, auto_dispatch=False)
    client.force_login(world.agent.user)
    client.post(f"/tickets/{t.pk}/note/", {"text": "业主脾气急，注意沟通", "public": "0"})
    client.post(f"/tickets/{t.pk}/note/", {"text": "师傅下午两点上门", "public": "1"})
    kinds = list(t.events.filter(type__in=["note", "reply"]).values_list("type", "visibility"))
    assert kinds == [("note", "internal"), ("reply", "public")]


@pytest.mark.parametrize("path", ["/tickets/m/", "/tickets/m/?tab=done", "/"])
def test_phone_page_and_home_render(world, client, path):
    t = make_ticket(world.site, world.agent, category=world.repair_cat)
    client.force_login(world.tech.user)
    body = client.get(path).content.decode()
    assert "我的工单" in body or "我的待办" in body
    if path == "/tickets/m/":
        assert t.number in body


def test_only_desk_and_handler_may_reply_to_the_customer(world):
    from kefu.core.errors import PermissionDenied
    from kefu.tickets import services

    t = make_ticket(world.site, world.agent, category=world.repair_cat)
    services.ticket_add_note(ticket=t, actor=world.tech2, text="我也可以去", public=False)
    with pytest.raises(PermissionDenied):
        services.ticket_add_note(ticket=t, actor=world.tech2, text="明天上门", public=True)
    services.ticket_add_note(ticket=t, actor=world.tech, text="今天下午三点上门", public=True)
    assert t.responded_at is not None
    assert list(t.events.filter(type="reply").values_list("actor", flat=True)) == [world.tech.id]

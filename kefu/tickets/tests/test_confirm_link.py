"""The customer's confirmation link: one-time, expiring, rated 1–5, stored against the
handler; refusals go back to the handler; nothing is revealed for bad tokens."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.utils import timezone

from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.testing import make_ticket
from kefu.tickets.models import ConfirmLink, Ticket
from kefu.tickets.services import ticket_dispatch, ticket_transition
from kefu.tickets.services.confirm_link import LinkGone, confirm_link_issue, ticket_confirm_by_customer


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def done(world) -> Ticket:
    ticket = make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False)
    ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
    for action in ("accept", "arrive"):
        ticket_transition(ticket=ticket, action=action, actor=world.tech, version=ticket.version)
    ticket_transition(ticket=ticket, action="complete", actor=world.tech, version=ticket.version, note="换阀芯")
    return ticket


def test_customer_confirms_and_rates_the_handler(world, done):
    token = confirm_link_issue(ticket=done, actor=world.agent)
    assert len(token) >= 32 and ConfirmLink.objects.get().digest != token  # only the digest is kept
    ticket_confirm_by_customer(token=token, solved=True, rating="4", comment="师傅很准时")
    done.refresh_from_db()
    assert done.status == "resolved" and done.confirm_method == "link" and done.confirmed_by == "张业主"
    assert (done.rating, done.rating_comment, done.rated_staff_id) == (4, "师傅很准时", world.tech.id)
    event = done.events.get(type="confirm")
    assert event.actor is None and event.data["via"] == "link" and event.visibility == "public"
    with pytest.raises(LinkGone):
        ticket_confirm_by_customer(token=token, solved=True, rating=5)


def test_not_solved_goes_back_to_the_handler(world, done):
    token = confirm_link_issue(ticket=done, actor=world.agent)
    with pytest.raises(ValidationFailed) as err:
        ticket_confirm_by_customer(token=token, solved=False, rating=2, comment="")
    assert "comment" in err.value.fields
    ticket_confirm_by_customer(token=token, solved=False, rating=2, comment="还是漏水")
    done.refresh_from_db()
    assert done.status == "in_progress" and done.rating == 2


@pytest.mark.parametrize("rating", [None, "", "0", "6", "abc", "4.5", "-1"])
def test_rating_must_be_one_to_five(world, done, rating):
    token = confirm_link_issue(ticket=done, actor=world.agent)
    with pytest.raises(ValidationFailed) as err:
        ticket_confirm_by_customer(token=token, solved=True, rating=rating)
    assert "rating" in err.value.fields
    assert Ticket.objects.get(pk=done.pk).status == "pending_confirm"


def test_links_expire_and_a_new_link_replaces_the_old(world, done):
    first = confirm_link_issue(ticket=done, actor=world.agent)
    second = confirm_link_issue(ticket=done, actor=world.agent)
    with pytest.raises(LinkGone):
        ticket_confirm_by_customer(token=first, solved=True, rating=5)
    with time_machine.travel(timezone.now() + timedelta(days=8)), pytest.raises(LinkGone):
        ticket_confirm_by_customer(token=second, solved=True, rating=5)
    with pytest.raises(NotFound):
        ticket_confirm_by_customer(token="not-a-real-token", solved=True, rating=5)


def test_who_may_make_a_link(world, done):
    with pytest.raises(PermissionDenied):
        confirm_link_issue(ticket=done, actor=world.guard)
    confirm_link_issue(ticket=done, actor=world.tech)  # the handler may send it
    ticket = make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False)
    with pytest.raises(ValidationFailed):
        confirm_link_issue(ticket=ticket, actor=world.agent)  # not completed yet


def test_the_customer_page(world, client, done):
    client.force_login(world.agent.user)
    response = client.post(f"/tickets/{done.pk}/confirm-link/", follow=True)
    url = re.search(r"http://testserver(/c/[^/]+/)", response.content.decode()).group(1)
    client.logout()
    page = client.get(url)
    assert page.status_code == 200 and "服务确认与评价" in page.content.decode()
    assert "张业主" not in page.content.decode()  # no personal details on a page anyone could open
    bad = client.post(url, {"solved": "1", "rating": "9"})
    assert bad.status_code == 422 and "请为本次服务打分" in bad.content.decode()
    assert client.post(url, {"solved": "1", "rating": "5", "comment": "好"}).status_code == 200
    assert client.get(url).status_code == 410
    assert client.get("/c/guess/").status_code == 404
    assert Ticket.objects.get(pk=done.pk).rating == 5


def test_the_page_is_rate_limited(db, client):
    for _ in range(30):
        client.get("/c/guess/")
    assert client.get("/c/guess/").status_code == 429

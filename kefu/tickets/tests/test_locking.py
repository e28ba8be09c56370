"""Optimistic locking: the second of two people acting on one ticket gets a conflict."""

from __future__ import annotations

import pytest

from kefu.core.errors import Conflict
from kefu.testing import make_ticket
from kefu.tickets import services
from kefu.tickets.models import Ticket


def test_stale_version_is_refused_and_nothing_is_overwritten(world):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    mine = Ticket.objects.get(pk=ticket.pk)
    theirs = Ticket.objects.get(pk=ticket.pk)
    services.ticket_transfer(
        ticket=theirs, actor=world.supervisor, version=theirs.version, assignee=world.tech2, reason="调整"
    )
    with pytest.raises(Conflict, match="已被他人处理"):
        services.ticket_accept(ticket=mine, actor=world.tech, version=mine.version)
    fresh = Ticket.objects.get(pk=ticket.pk)
    assert (fresh.assignee, fresh.status, fresh.accepted_at) == (world.tech2, "dispatched", None)
    assert fresh.events.filter(type="accept").count() == 0


def test_version_from_an_old_form_is_refused(world):
    ticket = make_ticket(world.site, world.agent, auto_dispatch=False)
    old = ticket.version
    services.ticket_add_note(ticket=ticket, actor=world.agent, text="已联系业主")
    services.ticket_dispatch(ticket=ticket, actor=world.agent, version=old, assignee=world.tech)
    with pytest.raises(Conflict):
        services.ticket_transition(ticket=ticket, action="cancel", actor=world.agent, version=old, note="重复")
    assert Ticket.objects.get(pk=ticket.pk).status == "dispatched"


def test_conflict_page_shows_message_and_409(world, client):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    stale = ticket.version
    services.ticket_accept(ticket=ticket, actor=world.tech, version=stale)
    client.force_login(world.tech.user)
    response = client.post(f"/tickets/{ticket.pk}/accept/", {"version": stale})
    assert response.status_code == 409
    assert "该工单已被他人处理，请刷新后重试" in response.content.decode()

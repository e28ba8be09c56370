"""客户归属: customers given out with balanced load and skills, first contact within 7 days,
overdue first contacts listed and warned once, everything moved when an agent leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.customers.models import Customer, CustomerEvent
from kefu.customers.services import (
    customer_assign,
    customer_contact_record,
    customers_reassign_from,
    first_contact_overdue_sweep,
)
from kefu.notify.models import Notification
from kefu.org.models import Role, Skill
from kefu.testing import make_customer, make_staff


@pytest.fixture
def team(world):
    second = make_staff(Role.AGENT, sites=[world.site], name="孙专员", superior=world.supervisor)
    world.agent.superior = world.supervisor
    world.agent.save()
    return world.agent, second


def _customers(world, n: int) -> list[Customer]:
    return [make_customer(world.site, world.agent, name=f"客户{i}", phone=f"1391000{i:04d}") for i in range(n)]


def test_balanced_assignment(world, team):
    people = [*_customers(world, 4), world.zhang, world.li]
    assert customer_assign(customers=people, actor=world.supervisor) == 6
    counts = sorted(Customer.objects.filter(owner__isnull=False).values_list("owner", flat=True))
    assert counts.count(team[0].id) == 3 and counts.count(team[1].id) == 3
    zhang = Customer.objects.get(pk=world.zhang.pk)
    assert zhang.first_contact_due - zhang.owner_since == timedelta(days=7)
    assert CustomerEvent.objects.filter(type="assigned").count() == 6


def test_skill_matching_a_tag_comes_first(world, team):
    vip = Skill.objects.create(name="VIP")
    team[1].skills.add(vip)
    customer_assign(customers=[Customer.objects.get(pk=world.zhang.pk)], actor=world.supervisor)  # tagged VIP
    assert Customer.objects.get(pk=world.zhang.pk).owner_id == team[1].id


def test_only_supervisors_assign_within_their_sites(world, team):
    with pytest.raises(PermissionDenied):
        customer_assign(customers=[world.zhang], actor=world.agent)
    with pytest.raises(PermissionDenied):
        customer_assign(customers=[world.stranger], actor=world.supervisor)
    with pytest.raises(ValidationFailed):
        customer_assign(customers=[world.zhang], actor=world.supervisor, to=world.tech)
    with pytest.raises(ValidationFailed):
        customer_assign(customers=[world.zhang], actor=world.director, to=world.outsider)
    assert not Customer.objects.filter(owner__isnull=False).exists()


def test_first_contact_within_seven_days(world, team):
    customer_assign(customers=[world.zhang], actor=world.supervisor, to=team[0])
    zhang = Customer.objects.get(pk=world.zhang.pk)
    with pytest.raises(PermissionDenied):
        customer_contact_record(customer=zhang, actor=team[1], channel="phone")
    with pytest.raises(ValidationFailed):
        customer_contact_record(customer=zhang, actor=team[0], channel="telepathy")
    customer_contact_record(customer=zhang, actor=team[0], channel="phone", note="自我介绍，留了电话")
    zhang.refresh_from_db()
    assert zhang.first_contacted_at is not None
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert first_contact_overdue_sweep() == 0


def test_overdue_first_contact_is_warned_once(world, team):
    customer_assign(customers=[world.zhang, world.li], actor=world.supervisor, to=team[0])
    customer_contact_record(customer=Customer.objects.get(pk=world.li.pk), actor=team[0], channel="visit")
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        assert first_contact_overdue_sweep() == 1
        assert first_contact_overdue_sweep() == 0
    told = set(Notification.objects.filter(event="customer.first_contact").values_list("recipient_id", flat=True))
    assert told == {team[0].id, world.supervisor.id}


def test_reassign_everything_when_an_agent_leaves(world, team):
    third = make_staff(Role.AGENT, sites=[world.site], name="周专员")
    people = _customers(world, 4)
    customer_assign(customers=people, actor=world.supervisor, to=team[0])
    moved = customers_reassign_from(from_staff=team[0], actor=world.supervisor)
    assert moved == 4
    owners = list(Customer.objects.filter(pk__in=[c.pk for c in people]).values_list("owner", flat=True))
    assert team[0].id not in owners and sorted(set(owners)) == sorted({team[1].id, third.id})
    assert customers_reassign_from(from_staff=team[1], actor=world.supervisor, to=third) == owners.count(team[1].id)


def test_pages(world, team, client):
    customer_assign(customers=[world.zhang], actor=world.supervisor, to=team[0])
    Customer.objects.filter(pk=world.zhang.pk).update(first_contact_due=timezone.now() - timedelta(days=1))
    client.force_login(world.supervisor.user)
    page = client.get("/customers/ownership/").content.decode()
    assert f'data-overdue="{world.zhang.pk}"' in page
    assert client.get(f"/customers/{world.zhang.pk}/").content.decode().count('id="first-contact-overdue"') == 1
    # Assign everyone unowned, balanced, from the page.
    client.post("/customers/ownership/?owner=none", {"action": "assign", "to": ""})
    assert not Customer.objects.filter(site=world.site, owner__isnull=True).exists()
    # Hostile input changes nothing and never fails.
    before = list(Customer.objects.order_by("id").values_list("owner", flat=True))
    for data in ({"action": "reassign", "from": "x"}, {"action": "assign", "to": "\x00"}, {"action": "reassign"}):
        assert client.post("/customers/ownership/", data).status_code in (302, 400)
    assert list(Customer.objects.order_by("id").values_list("owner", flat=True)) == before
    client.force_login(world.agent.user)
    assert client.get("/customers/ownership/").status_code == 403
    client.post(f"/customers/{world.zhang.pk}/contact/", {"channel": "phone", "note": "你好"})
    assert Customer.objects.get(pk=world.zhang.pk).first_contacted_at is not None
    client.force_login(world.outsider.user)
    assert client.post(f"/customers/{world.zhang.pk}/assign/", {"to": world.outsider.id}).status_code == 404

"""客户归属 over the API: balanced assignment, hand-over when an agent leaves, contacts and the
first contacts still to make; the same services and query as the ownership page."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import get_args
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from kefu.customers.api import ContactIn
from kefu.customers.models import Customer, CustomerEvent
from kefu.customers.queries import customers_for, first_contact_overdue
from kefu.customers.services import CONTACT_CHANNELS, customer_assign
from kefu.org.models import Role
from kefu.testing import api_auth, make_customer, make_staff

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=SH)


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def sun(world):
    """A second agent at the site."""
    return make_staff(Role.AGENT, sites=[world.site], name="孙专员")


def _post(client, staff, path, body):
    return client.post(f"/api/v1{path}", json.dumps(body), "application/json", **api_auth(staff))


def _get(client, staff, path, params=None):
    return client.get(f"/api/v1{path}", params or {}, **api_auth(staff))


def _customers(world, n: int) -> list[Customer]:
    return [make_customer(world.site, world.agent, name=f"客户{i}", phone=f"1391000{i:04d}") for i in range(n)]


def _owners() -> dict[int, int | None]:
    return dict(Customer.objects.values_list("id", "owner_id"))


# --- assignment -------------------------------------------------------------------------------


def test_balanced_assignment_counts_the_load_already_held(world, sun, client):
    """孙专员 already owns 李租户. Five customers given out balanced, newest first as on the page:
    客户3 to 刘专员 (0 against 1), 客户2 too (a tie goes to the lower id), 客户1 to 孙专员, 客户0
    to 刘专员, 张业主 to 孙专员: 3 each."""
    customer_assign(customers=[world.li], actor=world.supervisor, to=sun)
    extra = _customers(world, 4)
    ids = [world.zhang.id, *(c.id for c in extra)]
    response = _post(client, world.supervisor, "/customers/assign", {"customer_ids": [*ids, world.zhang.id]})
    assert response.status_code == 200, response.content
    assert response.json() == {"given": 5}  # the repeated id counts once
    owners = _owners()
    assert [owners[i] for i in ids] == [sun.id, world.agent.id, sun.id, world.agent.id, world.agent.id]
    assert list(owners.values()).count(sun.id) == 3
    zhang = Customer.objects.get(pk=world.zhang.pk)
    assert zhang.first_contact_due - zhang.owner_since == timedelta(days=7) and zhang.first_contacted_at is None
    assert CustomerEvent.objects.filter(type="assigned").count() == 6  # 李租户's and these five
    # Again to the same owner: nothing changes hands.
    again = _post(client, world.supervisor, "/customers/assign", {"customer_ids": [world.zhang.id], "to_id": sun.id})
    assert again.json() == {"given": 0}


def test_assignment_to_one_agent_and_its_refusals(world, sun, client):
    done = _post(
        client, world.supervisor, "/customers/assign", {"customer_ids": [world.zhang.id, world.li.id], "to_id": sun.id}
    )
    assert done.json() == {"given": 2} and {_owners()[world.zhang.id], _owners()[world.li.id]} == {sun.id}
    cases = [
        ({"customer_ids": [world.zhang.id], "to_id": world.tech.id}, "to_id", "客户专员须为在岗的客服专员或主管"),
        ({"customer_ids": [world.zhang.id], "to_id": world.outsider.id}, "to_id", "员工不存在或不在您负责的项目"),
        ({"customer_ids": []}, "customer_ids", "至少 1 项"),
        ({"customer_ids": list(range(1, 502))}, "customer_ids", "最多 500 项"),
        ({"customer_ids": [0]}, "customer_ids.0", "不能小于 1"),
        ({"customer_ids": "all"}, "customer_ids", "应为列表"),
    ]
    for body, field, message in cases:
        response = _post(client, world.supervisor, "/customers/assign", body)
        assert response.status_code == 422, (body, response.content)
        assert response.json()["errors"][field] == [message]
    assert {_owners()[world.zhang.id], _owners()[world.li.id]} == {sun.id}  # nothing moved


def test_only_supervisors_assign_and_only_their_sites_customers(world, sun, client):
    agent = _post(client, world.agent, "/customers/assign", {"customer_ids": [world.zhang.id]})
    assert (agent.status_code, agent.json()["detail"]) == (403, "只有主管及以上可以分配客户")
    reassign = _post(client, world.agent, "/customers/reassign", {"from_id": sun.id})
    assert (reassign.status_code, reassign.json()["detail"]) == (403, "只有主管及以上可以分配客户")
    # One customer of another site in the list: 404 and nobody is assigned.
    mixed = _post(client, world.supervisor, "/customers/assign", {"customer_ids": [world.zhang.id, world.stranger.id]})
    assert (mixed.status_code, mixed.json()["detail"]) == (404, "客户不存在")
    unknown = _post(client, world.supervisor, "/customers/assign", {"customer_ids": [world.zhang.id, 987654]})
    assert unknown.status_code == 404
    outsider = _post(client, world.outsider, "/customers/assign", {"customer_ids": [world.zhang.id]})
    assert outsider.status_code == 404
    assert not Customer.objects.filter(owner__isnull=False).exists()
    # A director covers every site.
    director = _post(client, world.director, "/customers/assign", {"customer_ids": [world.stranger.id]})
    assert director.json() == {"given": 1} and _owners()[world.stranger.id] == world.outsider.id


# --- hand-over --------------------------------------------------------------------------------


def test_reassign_moves_every_customer_of_the_leaver(world, sun, client):
    zhao = make_staff(Role.AGENT, sites=[world.site], name="赵专员")
    extra = _customers(world, 1)
    customer_assign(customers=[world.zhang, world.li, *extra], actor=world.supervisor, to=world.agent)
    customer_assign(customers=[world.stranger], actor=world.director, to=world.outsider)
    same = _post(client, world.supervisor, "/customers/reassign", {"from_id": world.agent.id, "to_id": world.agent.id})
    assert same.status_code == 422 and same.json()["errors"] == {"to_id": ["接手人不能是原客户专员"]}
    stranger = _post(client, world.supervisor, "/customers/reassign", {"from_id": world.outsider.id})
    assert stranger.status_code == 422 and stranger.json()["errors"] == {"from_id": ["员工不存在或不在您负责的项目"]}
    response = _post(client, world.supervisor, "/customers/reassign", {"from_id": world.agent.id})
    assert response.json() == {"given": 3}
    owners = _owners()
    # Balanced over the two others, in id order: 孙专员, 赵专员, then 孙专员 again.
    assert [owners[c.id] for c in (world.zhang, world.li, extra[0])] == [sun.id, zhao.id, sun.id]
    assert owners[world.stranger.id] == world.outsider.id  # another site's customer stays
    assert not Customer.objects.filter(owner=world.agent).exists()
    to_one = _post(client, world.supervisor, "/customers/reassign", {"from_id": sun.id, "to_id": zhao.id})
    assert to_one.json() == {"given": 2} and Customer.objects.filter(owner=zhao).count() == 3


# --- contacts and first contacts ------------------------------------------------------------


def test_channels_are_the_services(world):
    assert set(get_args(ContactIn.model_fields["channel"].annotation)) == set(CONTACT_CHANNELS)


def test_contact_meets_the_first_contact_rule(world, sun, client):
    with time_machine.travel(T0, tick=False):
        customer_assign(customers=[world.zhang, world.li], actor=world.supervisor, to=world.agent)
    with time_machine.travel(T0 + timedelta(days=2), tick=False):
        first = _post(
            client, world.agent, f"/customers/{world.zhang.id}/contacts", {"channel": "phone", "note": "已加微信"}
        )
    with time_machine.travel(T0 + timedelta(days=3), tick=False):
        second = _post(client, world.supervisor, f"/customers/{world.zhang.id}/contacts", {"channel": "visit"})
        not_owner = _post(client, sun, f"/customers/{world.li.id}/contacts", {"channel": "phone"})
        outsider = _post(client, world.outsider, f"/customers/{world.li.id}/contacts", {"channel": "phone"})
        bad = [
            _post(client, world.agent, f"/customers/{world.li.id}/contacts", body)
            for body in ({"channel": "sms"}, {"channel": "phone", "note": "长" * 501}, {"note": "x"})
        ]
    assert first.status_code == 201, first.content
    body = first.json()
    assert body["owner"]["id"] == world.agent.id
    assert datetime.fromisoformat(body["first_contacted_at"]) == T0 + timedelta(days=2)
    assert datetime.fromisoformat(body["first_contact_due"]) == T0 + timedelta(days=7)
    # A later contact is recorded but the first one stands.
    assert second.status_code == 201
    assert datetime.fromisoformat(second.json()["first_contacted_at"]) == T0 + timedelta(days=2)
    events = CustomerEvent.objects.filter(customer=world.zhang, type="contacted").order_by("id")
    assert [e.data["channel"] for e in events] == ["phone", "visit"] and events[0].data["note"] == "已加微信"
    assert (not_owner.status_code, not_owner.json()["detail"]) == (403, "只有客户专员或主管及以上可以记录联系")
    assert outsider.status_code == 404
    assert [r.status_code for r in bad] == [422, 422, 422]
    assert bad[0].json()["errors"] == {"channel": ["取值不正确，可选：phone、visit、wechat、meeting"]}
    assert bad[1].json()["errors"] == {"note": ["不能超过 500 个字符"]}
    assert bad[2].json()["errors"] == {"channel": ["必填"]}
    assert Customer.objects.get(pk=world.li.pk).first_contacted_at is None


def test_first_contacts_still_to_make(world, sun, client):
    """张业主 and 李租户 assigned on 1 December (due the 8th), 客户0 on the 9th (due the 16th),
    客户1 on the 9th and contacted at once; asked on the 10th."""
    extra = _customers(world, 2)
    with time_machine.travel(T0, tick=False):
        customer_assign(customers=[world.zhang, world.li], actor=world.supervisor, to=world.agent)
        customer_assign(customers=[world.stranger], actor=world.director, to=world.outsider)
    with time_machine.travel(T0 + timedelta(days=8), tick=False):
        customer_assign(customers=extra, actor=world.supervisor, to=sun)
        assert _post(client, sun, f"/customers/{extra[1].id}/contacts", {"channel": "wechat"}).status_code == 201
    with time_machine.travel(T0 + timedelta(days=9), tick=False):

        def ids(staff=world.supervisor, **params):
            response = _get(client, staff, "/customers/first-contacts", params)
            assert response.status_code == 200, response.content
            return response.json()["count"], [(row["id"], row["overdue"]) for row in response.json()["items"]]

        overdue = ids(overdue="true")
        within = ids(overdue="false")
        everything = ids()
        paged = ids(overdue="true", limit=1, offset=1)
        everywhere = ids(world.director, overdue="true")
        page_query = list(first_contact_overdue(customers_for(world.supervisor), T0 + timedelta(days=9)))
        agent = _get(client, world.agent, "/customers/first-contacts")
        bad = _get(client, world.supervisor, "/customers/first-contacts", {"overdue": "maybe"})
        row = _get(client, world.supervisor, "/customers/first-contacts", {"overdue": "false"}).json()["items"][0]
    assert overdue == (2, [(world.zhang.id, True), (world.li.id, True)])
    assert [c.id for c in page_query] == [world.zhang.id, world.li.id]  # the ownership page's list
    assert within == (1, [(extra[0].id, False)])
    assert everything == (3, [(world.zhang.id, True), (world.li.id, True), (extra[0].id, False)])
    assert paged == (2, [(world.li.id, True)])
    assert everywhere[0] == 3 and (world.stranger.id, True) in everywhere[1]
    assert (agent.status_code, agent.json()["detail"]) == (403, "只有主管及以上可以分配客户")
    assert bad.status_code == 422 and bad.json()["errors"] == {"overdue": ["应为 true 或 false"]}
    assert row["owner"] == {"id": sun.id, "name": "孙专员"} and row["site"]["id"] == world.site.id
    assert datetime.fromisoformat(row["first_contact_due"]) == T0 + timedelta(days=15)

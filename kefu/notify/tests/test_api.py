"""Notifications over the API: only mine, unread filter, mark read, unread count, bad input."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from kefu.notify.models import Notification
from kefu.notify.services import notify
from kefu.testing import api_auth


@pytest.fixture
def client():
    return Client()


def _tell(staff, n=1, **kwargs):
    out = []
    for i in range(n):
        values = {"event": "handover", "title": f"派单通知 {i}", "body": "请及时处理", "link": f"/tickets/{i + 1}/"}
        values.update(kwargs)
        out += notify(recipients=[staff], **values)
    return out


def _post(client, staff, body, raw=None):
    data = raw if raw is not None else json.dumps(body)
    return client.post("/api/v1/notifications/read", data, content_type="application/json", **api_auth(staff))


def test_list_is_mine_only_with_unread_first(team, client):
    read, unread = _tell(team.agent, 2, site=team.site)
    Notification.objects.filter(pk=read.pk).update(read_at=unread.created_at)
    _tell(team.outsider_agent, title="别人的")
    response = client.get("/api/v1/notifications", **api_auth(team.agent))
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["unread"], body["limit"], body["offset"]) == (2, 1, 20, 0)
    assert [item["id"] for item in body["items"]] == [unread.pk, read.pk]
    first = body["items"][0]
    assert first["unread"] is True and first["read_at"] is None
    assert first["event"] == "handover" and first["event_label"] == "工单派转"
    assert first["site"] == {"id": team.site.id, "name": "翠湖花园"}
    assert first["link"] == "/tickets/2/"


def test_unread_filter_and_paging(team, client):
    notes = _tell(team.agent, 5)
    Notification.objects.filter(pk=notes[0].pk).update(read_at=notes[0].created_at)
    body = client.get("/api/v1/notifications", {"unread": "true", "limit": 2}, **api_auth(team.agent)).json()
    assert body["count"] == 4 and len(body["items"]) == 2
    assert all(item["unread"] for item in body["items"])
    body = client.get("/api/v1/notifications", {"unread": "true", "limit": 2, "offset": 4}, **api_auth(team.agent))
    assert body.json()["items"] == []


def test_list_query_count_does_not_grow(team, client, django_assert_max_num_queries):
    _tell(team.agent, 2, site=team.site)
    headers = api_auth(team.agent)
    with django_assert_max_num_queries(8) as few:
        client.get("/api/v1/notifications", **headers)
    _tell(team.agent, 30, site=team.site)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(client.get("/api/v1/notifications", {"limit": 50}, **headers).json()["items"]) == 32


def test_mark_some_read_only_touches_mine(team, client):
    mine = _tell(team.agent, 3)
    theirs = _tell(team.supervisor, 1)
    response = _post(client, team.agent, {"ids": [mine[0].pk, mine[1].pk, theirs[0].pk, 99999999]})
    assert response.status_code == 200
    assert response.json() == {"marked": 2, "unread": 1}
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None


def test_mark_all_read(team, client):
    _tell(team.agent, 3)
    (theirs,) = _tell(team.supervisor)
    assert _post(client, team.agent, {"all": True}).json() == {"marked": 3, "unread": 0}
    assert Notification.objects.get(pk=theirs.pk).read_at is None
    assert _post(client, team.agent, {}).json() == {"marked": 0, "unread": 0}


def test_unread_count(team, client):
    _tell(team.agent, 4)
    response = client.get("/api/v1/notifications/unread-count", **api_auth(team.agent))
    assert response.json() == {"unread": 4}
    assert client.get("/api/v1/notifications/unread-count", **api_auth(team.outsider_agent)).json() == {"unread": 0}


def test_without_token_401(db, client):
    for response in (
        client.get("/api/v1/notifications"),
        client.get("/api/v1/notifications/unread-count"),
        client.post("/api/v1/notifications/read", "{}", content_type="application/json"),
    ):
        assert response.status_code == 401
        assert response.json()["detail"] == "未登录或令牌无效"


@pytest.mark.parametrize(
    "body",
    [
        {"ids": "1,2"},
        {"ids": [0]},
        {"ids": [-1]},
        {"ids": [2**63]},
        {"ids": ["abc"]},
        {"ids": [None]},
        {"ids": list(range(1, 1000))},
        {"ids": [1], "all": "maybe"},
        {"ids": ["\x00"]},
    ],
)
def test_hostile_read_bodies_are_422(team, client, body):
    (n,) = _tell(team.agent)
    response = _post(client, team.agent, body)
    assert response.status_code == 422
    assert response.json()["detail"] == "请求参数不正确"
    assert Notification.objects.get(pk=n.pk).read_at is None


@pytest.mark.parametrize("raw", ["{bad", '{"ids": [1, 2', "\ufeff{", "{'ids': [1]}"])
def test_malformed_json_is_4xx(team, client, raw):
    response = _post(client, team.agent, None, raw=raw)
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]


@pytest.mark.parametrize("raw", ["null", "[]", '"text"'])
def test_bodies_that_say_nothing_mark_nothing(team, client, raw):
    (n,) = _tell(team.agent)
    response = _post(client, team.agent, None, raw=raw)
    assert response.status_code < 500
    assert Notification.objects.get(pk=n.pk).read_at is None


@pytest.mark.parametrize(
    "query", [{"unread": "abc"}, {"limit": "0"}, {"limit": "1000"}, {"offset": "-1"}, {"unread": "\x00"}]
)
def test_hostile_list_queries_are_4xx(team, client, query):
    response = client.get("/api/v1/notifications", query, **api_auth(team.agent))
    assert 400 <= response.status_code < 500
    assert response.json()["detail"]

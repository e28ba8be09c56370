"""The survey endpoints: same rules, scope and error shape as the pages."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.surveys.models import Response
from kefu.testing import api_auth, make_customer

from .factories import make_batch, make_questionnaire

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _in_november():
    with time_machine.travel(datetime(2026, 11, 10, 10, 0, tzinfo=SH), tick=False):
        yield


@pytest.fixture
def batch(world):
    make_customer(world.site, world.agent, room=("1", "1", "101"))
    return make_batch(world)


def test_templates_and_batches(world, client, batch):
    headers = api_auth(world.agent)
    templates = client.get("/api/v1/surveys/templates", **headers).json()
    assert templates[0]["items"][0] == {
        "no": 1,
        "kind": "scale",
        "text": "物业服务整体满意度",
        "department": {"id": batch.questionnaire.items.get(position=1).department_id, "name": "客服部"},
        "weight": 2,
        "choices": [[5, "满意"], [4, "较满意"], [3, "一般"], [2, "较不满意"], [1, "不满意"]],
    }
    listing = client.get("/api/v1/surveys/batches", **headers).json()
    assert listing["count"] == 1 and listing["items"][0]["handed_out"] == 2


def test_supervisor_creates_a_batch_agent_may_not(world, client):
    q = make_questionnaire(world.supervisor)
    body = {
        "questionnaire_id": q.id,
        "site_id": world.site.id,
        "name": "API 批次",
        "starts_on": "2026-11-01",
        "ends_on": "2026-11-30",
        "target": "customers",
        "customer_ids": [world.customer.id],
    }
    response = client.post("/api/v1/surveys/batches", body, content_type="application/json", **api_auth(world.agent))
    assert response.status_code == 403 and response.json()["detail"]
    headers = api_auth(world.supervisor)
    response = client.post("/api/v1/surveys/batches", body, content_type="application/json", **headers)
    assert response.status_code == 201 and response.json()["handed_out"] == 1
    bad = {**body, "site_id": world.other_site.id}
    response = client.post("/api/v1/surveys/batches", bad, content_type="application/json", **headers)
    assert response.status_code == 422 and "site_id" in response.json()["errors"]


def test_paper_response_figures_and_list(world, client, batch):
    headers = api_auth(world.agent)
    url = f"/api/v1/surveys/batches/{batch.id}/responses"
    body = {"customer_id": world.customer.id, "answers": [{"no": 1, "choice": 2}, {"no": 4, "choices": [1, 3]}]}
    response = client.post(url, body, content_type="application/json", **headers)
    assert response.status_code == 201, response.content
    answers = response.json()["answers"]
    assert answers[0]["value"] == "较不满意" and answers[0]["followup_ticket"]["name"]
    again = client.post(url, body, content_type="application/json", **headers)
    assert again.status_code == 409
    bad = {"customer_id": world.customer.id, "answers": [{"no": 1, "choice": 7}]}
    response = client.post(url, bad, content_type="application/json", **headers)
    assert response.status_code in (409, 422)
    detail = client.get(f"/api/v1/surveys/batches/{batch.id}", **headers).json()
    assert detail["figures"]["response_rate"] == 50.0 and detail["figures"]["satisfaction_rate"] == 0.0
    assert detail["items"][0]["scale"] == [0, 0, 0, 1, 0]
    assert client.get(url, **headers).json()["count"] == 1


def test_invalid_answers_are_field_errors(world, client, batch):
    url = f"/api/v1/surveys/batches/{batch.id}/responses"
    body = {"customer_id": world.customer.id, "answers": [{"no": 3, "choice": 9}, {"no": 99, "choice": 1}]}
    response = client.post(url, body, content_type="application/json", **api_auth(world.agent))
    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"q3", "answers"}
    assert not Response.objects.exists()


def test_outsiders_get_404_and_field_roles_403(world, client, batch):
    url = f"/api/v1/surveys/batches/{batch.id}"
    assert client.get(url, **api_auth(world.outsider_agent)).status_code == 404
    assert client.get("/api/v1/surveys/batches", **api_auth(world.outsider_agent)).json()["count"] == 0
    body = {"customer_id": world.customer.id, "answers": [{"no": 1, "choice": 5}]}
    response = client.post(f"{url}/responses", body, content_type="application/json", **api_auth(world.outsider_agent))
    assert response.status_code == 404
    assert client.get(url, **api_auth(world.tech)).status_code == 403
    assert not Response.objects.exists()

"""Appraisal endpoints: the same scope and rules as the pages."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.appraisal.models import RewardPenalty
from kefu.appraisal.services import period_compute, period_create
from kefu.testing import api_auth

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(world):
    p = period_create(name="2026年11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                      actor=world.manager)  # fmt: skip
    period_compute(period=p)
    return p


def test_results_by_scope(world, client, period):
    everyone = client.get(f"/api/v1/appraisal/periods/{period.pk}/results", **api_auth(world.manager)).json()
    mine = client.get(f"/api/v1/appraisal/periods/{period.pk}/results", **api_auth(world.tech)).json()
    assert {r["staff"]["name"] for r in everyone} >= {world.tech.name, world.agent.name}
    assert [r["staff"]["name"] for r in mine] == [world.tech.name] and "handled" in mine[0]["kpis"]
    listed = client.get("/api/v1/appraisal/periods", **api_auth(world.tech)).json()
    assert [p["id"] for p in listed["items"]] == [period.pk]
    assert (
        client.get(f"/api/v1/appraisal/periods/{period.pk}/results", **api_auth(world.outsider_agent)).status_code
        == 404
    )


def test_ledger_through_the_api(world, client):
    body = {"staff_id": world.tech.id, "site_id": world.site.id, "day": "2026-11-02", "kind": "reward",
            "points": "5", "reason": "雨夜抢修"}  # fmt: skip
    assert client.post("/api/v1/appraisal/ledger", body, content_type="application/json",
                       **api_auth(world.agent)).status_code == 403  # fmt: skip
    bad = client.post("/api/v1/appraisal/ledger", {**body, "points": "500"}, content_type="application/json",
                      **api_auth(world.supervisor))  # fmt: skip
    assert bad.status_code == 422 and not RewardPenalty.objects.exists()
    ok = client.post("/api/v1/appraisal/ledger", body, content_type="application/json", **api_auth(world.supervisor))
    assert ok.status_code == 201 and ok.json()["points"] == "5.00"
    rows = client.get("/api/v1/appraisal/ledger?start=2026-11-01&end=2026-11-30", **api_auth(world.tech)).json()
    assert [(r["reason"], r["source"]) for r in rows] == [("雨夜抢修", "登记")]
    assert client.get("/api/v1/appraisal/ledger?start=2026-11-01&end=2026-11-30", **api_auth(world.agent)).json() == []

"""The report endpoints give the pages' figures, to the same people."""

from __future__ import annotations

from datetime import date

import pytest

from kefu.reports.models import MonthlyReport
from kefu.testing import api_auth

pytestmark = pytest.mark.django_db
NOVEMBER = "start=2026-11-01&end=2026-11-30"


def test_dashboard_for_everyone_in_their_scope(world, client, month):
    body = client.get(f"/api/v1/reports/dashboard?{NOVEMBER}", **api_auth(world.manager)).json()
    figures = {f["key"]: f for f in body["data"]["figures"]}
    assert body["data"]["scope"] == "全部人员" and figures["received"]["value"] == 6
    mine = client.get(f"/api/v1/reports/dashboard?{NOVEMBER}", **api_auth(world.tech)).json()
    assert mine["data"]["scope"] == "本人" and {f["key"]: f for f in mine["data"]["figures"]}["received"]["value"] == 2


def test_reports_for_supervisors_and_above(world, client, month):
    assert client.get(f"/api/v1/reports/volume?{NOVEMBER}", **api_auth(world.agent)).status_code == 403
    volume = client.get(f"/api/v1/reports/volume?{NOVEMBER}&by=kind", **api_auth(world.manager)).json()
    assert volume["data"]["total"] == 7 and volume["data"]["rows"][0] == {"label": "报修", "n": 5, "share": 71.4}
    sla = client.get(f"/api/v1/reports/sla?{NOVEMBER}", **api_auth(world.manager)).json()
    assert sla["data"]["overall"]["resolve_rate"] == 50.0
    pareto = client.get(f"/api/v1/reports/pareto?{NOVEMBER}&by=department", **api_auth(world.manager)).json()
    assert pareto["data"]["rows"][0]["label"] == "工程部" and pareto["data"]["rows"][0]["n"] == 5
    workload = client.get(f"/api/v1/reports/workload?{NOVEMBER}", **api_auth(world.manager)).json()
    assert {r["label"]: r["handled"] for r in workload["data"]["rows"]}["王师傅"] == 2
    # Another site's figures are not served: the filter falls back to the caller's sites and says so.
    other = client.get(
        f"/api/v1/reports/volume?{NOVEMBER}&site={world.other_site.id}", **api_auth(world.manager)
    ).json()
    assert other["data"]["total"] == 7 and other["problems"]


def test_monthly_reports_in_scope(world, client, month):
    mine = MonthlyReport.objects.create(site=world.site, month=date(2026, 10, 1), status="ready", summary="十月小结")
    theirs = MonthlyReport.objects.create(site=world.other_site, month=date(2026, 10, 1), status="ready")
    listed = client.get("/api/v1/reports/monthly", **api_auth(world.manager)).json()
    assert [r["id"] for r in listed["items"]] == [mine.id]
    assert client.get(f"/api/v1/reports/monthly/{mine.id}", **api_auth(world.manager)).json()["summary"] == "十月小结"
    assert client.get(f"/api/v1/reports/monthly/{theirs.id}", **api_auth(world.manager)).status_code == 404
    assert client.get(f"/api/v1/reports/monthly/{mine.id}", **api_auth(world.agent)).status_code == 403

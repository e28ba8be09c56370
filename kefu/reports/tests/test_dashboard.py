"""Dashboards per role: the figures, the change against the period before, and the scope."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kefu.reports.filters import ReportFilters
from kefu.reports.queries import dashboard, kpis

pytestmark = pytest.mark.django_db


def november(world, **kwargs) -> ReportFilters:
    return ReportFilters(start=date(2026, 11, 1), end=date(2026, 11, 30), site_ids=frozenset({world.site.id}), **kwargs)


def test_site_figures(world, month):
    k = kpis(november(world))
    # #6 is cancelled; #1, #2 and #5 were completed in November.
    assert (k["received"], k["handled"], k["respond_rate"], k["resolve_rate"]) == (6, 3, 83.3, 50.0)
    # Open now: #3, #4, #7 and October's repair; overdue: #3 only (#7 is suspended).
    assert (k["open_now"], k["overdue_now"]) == (4, 1)


def test_change_against_the_previous_period(world, month):
    rows = {r["key"]: r for r in dashboard(november(world))}
    # October 2–31 holds the repair of 10-31 23:00, answered 50 minutes late.
    assert (rows["received"]["value"], rows["received"]["previous"], rows["received"]["change"]) == (6, 1, 5)
    assert (rows["respond_rate"]["previous"], rows["respond_rate"]["change"], rows["respond_rate"]["good"]) == (
        0.0,
        83.3,
        True,
    )
    # Figures of the moment have no previous value.
    assert rows["open_now"]["previous"] is None and rows["open_now"]["change"] is None


def test_one_persons_figures(world, month):
    mine = kpis(replace(november(world), people=frozenset({world.tech.id})))
    assert (mine["received"], mine["handled"], mine["respond_rate"], mine["resolve_rate"]) == (2, 2, 50.0, 50.0)
    assert mine["open_now"] == 0


@pytest.mark.parametrize(
    ("who", "scope", "departments"),
    [("manager", "全部人员", True), ("supervisor", "本组（3 人）", False), ("tech", "本人", False)],
)
def test_each_role_sees_its_own_scope(world, client, month, who, scope, departments):
    client.force_login(getattr(world, who).user)
    page = client.get("/reports/dashboard/?start=2026-11-01&end=2026-11-30").content.decode()
    assert f'id="scope">{scope}<' in page
    assert ('id="departments"' in page) is departments
    assert 'data-kpi="resolve_rate"' in page and 'id="report-chart"' in page
    if departments:
        # 工程部: #3 and #7 open now (October's repair too), #3 overdue; no department: no open work.
        row = page.split('data-label="工程部"')[1].split("</tr>")[0]
        assert row.endswith('<td class="num">3</td><td class="num">1</td>')
        assert page.split('data-label="未派部门"')[1].split("</tr>")[0].count("—") == 2

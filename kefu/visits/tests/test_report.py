"""The visit summary report (回访总结报告) against a hand-computed fixture, on screen and in Excel."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from kefu.org.models import Role
from kefu.testing import make_staff
from kefu.visits.models import Visit
from kefu.visits.queries import visit_report

SH = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 12, 10, 18, 0, tzinfo=SH)


@pytest.fixture
def visits(world):
    """Six visits due in December for two visitors, one due in November:
    agent: satisfied on time, ordinary late, dissatisfied on time (service visit), unreachable;
    sun: satisfied on time, still open. The November one is outside the period."""
    sun = make_staff(Role.AGENT, sites=[world.site], name="孙专员")

    def visit(who, status, result="", late=False, kind="after_service", due=DUE, reason=""):
        done_at = due + timedelta(hours=5 if late else -5) if status == "done" else None
        return Visit.objects.create(site=world.site, customer=world.customer, assignee=who, status=status,
                                    result=result, kind=kind, due_at=due, done_at=done_at, reason=reason)  # fmt: skip

    visit(world.agent, "done", "satisfied")
    visit(world.agent, "done", "ordinary", late=True)
    visit(world.agent, "done", "dissatisfied", reason="漏水未修好")
    visit(world.agent, "unreachable")
    visit(sun, "done", "satisfied", kind="periodic")
    visit(sun, "pending")
    visit(sun, "done", "dissatisfied", due=datetime(2026, 11, 20, 10, 0, tzinfo=SH))
    return sun


def test_figures_by_hand(world, visits):
    f = visit_report(site_ids=[world.site.id], start=date(2026, 12, 1), end=date(2026, 12, 31))
    assert (f["total"], f["done"], f["on_time"], f["unreachable"], f["open"]) == (6, 4, 3, 1, 1)
    assert (f["satisfied"], f["ordinary"], f["dissatisfied"]) == (2, 1, 1)
    assert f["on_time_rate"] == 75.0  # 3 of 4 done
    assert f["satisfied_rate"] == 75.0  # satisfied + ordinary: 3 of 4
    assert f["reopen_rate"] == 33.3  # 1 dissatisfied of 3 service visits done
    rows = {v["name"]: (v["total"], v["done"], v["on_time"], v["on_time_rate"]) for v in f["visitors"]}
    assert rows == {world.agent.name: (4, 3, 2, 66.7), "孙专员": (2, 1, 1, 100.0)}
    assert [r["reason"] for r in f["reasons"]] == ["漏水未修好"]


def test_page_excel_and_permissions(world, visits, client):
    client.force_login(world.supervisor.user)
    page = client.get("/visits/report/", {"start": "2026-12-01", "end": "2026-12-31"}).content.decode()
    assert 'id="k-on-time">75.0%' in page and "echarts.min.js" in page and 'id="report-charts"' in page
    response = client.get("/visits/report/", {"start": "2026-12-01", "end": "2026-12-31", "export": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = {row[0]: row[1] for row in sheet.iter_rows(values_only=True) if row and row[0]}
    assert (
        values["应回访"] == 6 and values["已回访"] == 4 and values["按时率(%)"] == 75.0 and values["返工率(%)"] == 33.3
    )
    assert client.get("/visits/report/", {"start": "nonsense", "end": "2026-02-31"}).status_code == 200
    client.force_login(world.agent.user)
    assert client.get("/visits/report/").status_code == 403

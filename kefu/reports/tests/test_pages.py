"""Report pages by persona: the figures on the page, in the chart data and in the Excel file."""

from __future__ import annotations

from io import BytesIO

import pytest
from openpyxl import load_workbook

pytestmark = pytest.mark.django_db

NOVEMBER = "start=2026-11-01&end=2026-11-30"


def sheet(response) -> list[tuple]:
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return list(load_workbook(BytesIO(response.content), read_only=True).active.iter_rows(values_only=True))


@pytest.mark.parametrize("path", ["/reports/", "/reports/volume/", "/reports/pareto/", "/reports/sla/"])
def test_agents_are_refused_supervisors_read(world, client, month, path):
    client.force_login(world.agent.user)
    assert client.get(path).status_code == 403
    client.force_login(world.supervisor.user)
    assert client.get(path).status_code == 200


def test_volume_page_chart_and_excel(world, client, month):
    client.force_login(world.manager.user)
    page = client.get(f"/reports/volume/?{NOVEMBER}&by=kind").content.decode()
    assert 'id="total">7<' in page and 'id="report-chart"' in page and "vendor/echarts.min.js" in page
    assert '"2026-11-02"' in page  # the chart's buckets
    rows = sheet(client.get(f"/reports/volume/?{NOVEMBER}&by=kind&export=xlsx"))
    assert rows[0] == ("日期", "报修", "投诉", "咨询", "合计")
    day2 = next(r for r in rows if r[0] == "2026-11-02")
    assert day2 == ("2026-11-02", 2, 0, 0, 2)
    assert rows[-1] == ("合计", 5, 1, 1, 7)


def test_pareto_page_and_excel(world, client, month):
    client.force_login(world.manager.user)
    page = client.get(f"/reports/pareto/?{NOVEMBER}&by=department").content.decode()
    assert 'data-label="工程部"' in page and 'id="total">7<' in page
    rows = sheet(client.get(f"/reports/pareto/?{NOVEMBER}&by=department&export=xlsx"))
    assert rows[0][0] == "处理部门" and rows[1] == ("工程部", 5, 71.4, 71.4, "A")


def test_sla_page_and_excel(world, client, month):
    client.force_login(world.manager.user)
    page = client.get(f"/reports/sla/?{NOVEMBER}").content.decode()
    assert 'data-label="工程部"' in page and "33.3%" in page and "83.3%" in page
    rows = sheet(client.get(f"/reports/sla/?{NOVEMBER}&by=person&export=xlsx"))
    wang = next(r for r in rows if r[0] == "王师傅")
    assert wang == ("王师傅", 2, 1, 1, 50.0, 2, 0, 100.0, 1, 1, 50.0)
    assert rows[-1][0] == "合计" and rows[-1][1] == 6


@pytest.mark.parametrize(
    "query",
    ["start=2026-02-30&end=x", "site=abc&department=%E2%80%AE&kind=<script>", "by=../../etc&start=1900-01-01",
     "site=999999999999999999999"],
)  # fmt: skip
def test_bad_filters_explain_and_never_break(world, client, month, query):
    client.force_login(world.manager.user)
    for path in ("/reports/volume/", "/reports/pareto/", "/reports/sla/"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)
        assert 'role="alert"' in response.content.decode()
        assert client.get(f"{path}?{query}&export=xlsx").status_code == 200


def test_a_manager_sees_only_the_sites_in_scope(world, client, month):
    client.force_login(world.manager.user)
    page = client.get(f"/reports/volume/?{NOVEMBER}&site={world.other_site.id}").content.decode()
    assert 'id="total">7<' in page and "无权查看所选项目" in page

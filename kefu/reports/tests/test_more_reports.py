"""First-contact resolution and reopening, the complaint ledger, the satisfaction trend and
the warning cards, against the hand-built month in conftest plus what each test adds."""

from __future__ import annotations

from datetime import date, datetime
from io import BytesIO

import pytest
from openpyxl import load_workbook

from kefu.reports.filters import ReportFilters
from kefu.reports.queries import cards_by_person, complaint_steps, complaints, resolution, satisfaction_trend
from kefu.tickets.models import Complaint, Ticket, WarningCard
from kefu.visits.models import Visit

from .conftest import SH, at

pytestmark = pytest.mark.django_db


def november(world) -> ReportFilters:
    return ReportFilters(start=date(2026, 11, 1), end=date(2026, 11, 30), site_ids=frozenset({world.site.id}))


def test_first_contact_resolution_and_reopen_rates(world, month):
    Ticket.objects.filter(pk=month["5"].pk).update(first_contact_resolved=True)
    Ticket.objects.filter(pk=month["2"].pk).update(reopen_count=1)
    figures = resolution(november(world), "kind")
    rows = {r.label: r for r in figures["rows"]}
    # Cancelled #6 is left out: four repairs, two of them done, one reopened.
    assert (rows["报修"].received, rows["报修"].completed, rows["报修"].reopen_rate) == (4, 2, 50.0)
    assert (rows["咨询"].first_contact_rate, rows["咨询"].reopen_rate) == (100.0, 0.0)
    assert rows["投诉"].reopen_rate is None
    total = figures["overall"]
    assert (total.received, total.first_contact_rate, total.completed, total.reopen_rate) == (6, 16.7, 3, 33.3)
    by_department = {r.label: r.received for r in resolution(november(world), "department")["rows"]}
    assert by_department == {"工程部": 4, "秩序维护部": 1, "未派部门": 1}


def _visit(world, ticket, result, day):
    return Visit.objects.create(site=world.site, ticket=ticket, customer=ticket.customer, assignee=world.agent,
                                status="done", result=result, due_at=at(day), done_at=at(day))  # fmt: skip


def test_complaint_ledger_and_steps(world, month):
    complaint = month["4"]
    Complaint.objects.filter(ticket=complaint).update(
        valid=True, judged_at=at(10, 11), responsible_department=world.security, responsible_person=world.guard
    )
    _visit(world, complaint, "satisfied", 12)
    _visit(world, complaint, "dissatisfied", 14)  # the later visit counts
    rows = list(complaints(november(world)))
    assert [t.number for t in rows] == [complaint.number]
    assert rows[0].visit_result == "dissatisfied"
    steps = {s["key"]: s["n"] for s in complaint_steps(november(world))}
    assert steps == {"received": 1, "judged": 1, "investigated": 0, "approved": 0, "implemented": 0,
                     "confirmed": 0, "summarized": 0}  # fmt: skip


def test_complaint_ledger_page_and_excel(world, client, month):
    Complaint.objects.filter(ticket=month["4"]).update(
        valid=True, judged_at=at(10, 11), responsible_department=world.security, responsible_person=world.guard
    )
    client.force_login(world.manager.user)
    page = client.get("/reports/complaints/?start=2026-11-01&end=2026-11-30").content.decode()
    assert f'data-ticket="{month["4"].number}"' in page and "保安态度差" in page
    response = client.get("/reports/complaints/?start=2026-11-01&end=2026-11-30&export=xlsx")
    rows = list(load_workbook(BytesIO(response.getvalue()), read_only=True).active.iter_rows(values_only=True))
    assert rows[0][:3] == ("工单号", "项目", "受理时间") and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["是否成立"], row["责任部门"], row["责任人"], row["判定时间"]) == (
        "成立",
        "秩序维护部",
        world.guard.name,
        "2026-11-10 11:00",
    )


def test_satisfaction_trend_by_month(world, month):
    Ticket.objects.filter(pk=month["1"].pk).update(rating=5, rated_at=at(3))
    Ticket.objects.filter(pk=month["2"].pk).update(rating=3, rated_at=at(5))
    Ticket.objects.filter(pk=month["3"].pk).update(rating=1, rated_at=datetime(2026, 10, 31, 23, 0, tzinfo=SH))
    _visit(world, month["1"], "satisfied", 6)
    _visit(world, month["2"], "ordinary", 7)
    _visit(world, month["3"], "dissatisfied", 8)
    f = ReportFilters(start=date(2026, 10, 1), end=date(2026, 11, 30), site_ids=frozenset({world.site.id}))
    rows = {r["month"]: r for r in satisfaction_trend(f)["rows"]}
    assert list(rows) == ["2026-10", "2026-11"]
    nov = rows["2026-11"]
    assert (nov["rated"], nov["rating_average"], nov["rating_rate"]) == (2, 4.0, 50.0)
    assert (nov["visits"], nov["visit_rate"], nov["survey_rate"]) == (3, 66.7, None)
    assert (rows["2026-10"]["rated"], rows["2026-10"]["rating_average"]) == (1, 1.0)


def _card(world, staff, color, rule, day, site=None, revoked=False, key=""):
    return WarningCard.objects.create(
        key=key or f"{staff.pk}:{color}:{rule}:{day}:{revoked}", site=site or world.site, staff=staff, color=color,
        rule=rule, issued_at=at(day) if day > 0 else datetime(2026, 10, 20, tzinfo=SH),
        revoked_at=at(day) if revoked else None,
    )  # fmt: skip


def test_cards_by_person_and_rule(world, month):
    _card(world, world.tech, "yellow", "respond", 3)
    _card(world, world.tech, "yellow", "respond", 4)
    _card(world, world.tech, "blue", "progress", 4)
    _card(world, world.guard, "red", "long_overdue", 5)
    _card(world, world.guard, "red", "serious", 6, revoked=True)  # revoked: not counted
    _card(world, world.tech2, "yellow", "visit", -1)  # October
    _card(world, world.outsider_tech, "yellow", "respond", 3, site=world.other_site)
    figures = cards_by_person(november(world))
    people = {p["name"]: p for p in figures["rows"]}
    assert list(people) == ["王师傅", world.guard.name]
    assert (people["王师傅"]["yellow"], people["王师傅"]["blue"], people["王师傅"]["total"]) == (2, 1, 3)
    assert people["王师傅"]["rules"]["respond"] == 2 and people[world.guard.name]["red"] == 1
    assert figures["totals"] == {"blue": 1, "yellow": 2, "red": 1, "total": 4}
    assert figures["by_rule"]["long_overdue"] == 1 and figures["by_rule"]["serious"] == 0


@pytest.mark.parametrize("path", ["/reports/resolution/", "/reports/complaints/", "/reports/satisfaction/",
                                  "/reports/cards/"])  # fmt: skip
def test_pages_answer_and_export_for_managers_only(world, client, month, path):
    client.force_login(world.agent.user)
    assert client.get(path).status_code == 403
    client.force_login(world.manager.user)
    page = client.get(f"{path}?start=2026-11-01&end=2026-11-30")
    assert page.status_code == 200 and 'id="report-chart"' in page.content.decode()
    export = client.get(f"{path}?start=2026-11-01&end=2026-11-30&export=xlsx")
    assert export.status_code == 200 and export["Content-Type"].startswith("application/vnd.openxmlformats")
    assert client.get(f"{path}?start=bad&kind=%E2%80%AE&site=x").status_code == 200

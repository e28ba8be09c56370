"""The report endpoints for first-contact resolution, the complaint ledger, the satisfaction
trend and the warning cards: the pages' figures (the hand-built month in conftest, with what
test_more_reports adds), to the same people, in the same scope."""

from __future__ import annotations

from datetime import datetime
from typing import get_args

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.customers.models import Unit
from kefu.org.models import Role
from kefu.reports import api as reports_api
from kefu.reports.queries import RESOLUTION_GROUPS
from kefu.testing import api_auth, make_staff, make_ticket
from kefu.tickets.models import Complaint, Ticket

from .conftest import SH, at
from .test_more_reports import _card, _visit

pytestmark = pytest.mark.django_db
NOVEMBER = "start=2026-11-01&end=2026-11-30"
NEW_REPORTS = ["/api/v1/reports/resolution", "/api/v1/reports/complaints", "/api/v1/reports/satisfaction",
               "/api/v1/reports/cards"]  # fmt: skip


def _get(client, staff, path, query=NOVEMBER):
    response = client.get(f"{path}?{query}", **api_auth(staff))
    assert response.status_code == 200, response.content
    return response.json()


# --- first-contact resolution ---------------------------------------------------------------


def test_resolution_by_the_pages_groupings(world, client, month):
    Ticket.objects.filter(pk=month["5"].pk).update(first_contact_resolved=True)
    Ticket.objects.filter(pk=month["2"].pk).update(reopen_count=1)
    body = _get(client, world.manager, "/api/v1/reports/resolution", f"{NOVEMBER}&by=kind")
    rows = {r["label"]: r for r in body["data"]["rows"]}
    # Cancelled #6 is left out: four repairs, two of them done, one reopened.
    assert (rows["报修"]["received"], rows["报修"]["completed"], rows["报修"]["reopen_rate"]) == (4, 2, 50.0)
    assert (rows["咨询"]["first_contact_rate"], rows["咨询"]["reopen_rate"]) == (100.0, 0.0)
    assert rows["投诉"]["reopen_rate"] is None
    total = body["data"]["overall"]
    assert (total["label"], total["received"], total["first_contact"], total["first_contact_rate"]) == (
        "合计", 6, 1, 16.7,
    )  # fmt: skip
    assert (total["completed"], total["reopened"], total["reopen_rate"]) == (3, 1, 33.3)
    assert body["start"] == "2026-11-01" and body["end"] == "2026-11-30" and body["problems"] == []
    by_department = _get(client, world.manager, "/api/v1/reports/resolution", f"{NOVEMBER}&by=department")
    assert {r["label"]: r["received"] for r in by_department["data"]["rows"]} == {
        "工程部": 4, "秩序维护部": 1, "未派部门": 1,
    }  # fmt: skip
    by_responder = _get(client, world.manager, "/api/v1/reports/resolution", f"{NOVEMBER}&by=first_responder")
    assert [(r["label"], r["received"]) for r in by_responder["data"]["rows"]] == [(world.agent.name, 6)]


def test_resolution_groupings_are_the_pages_and_nothing_else(world, client, month):
    assert get_args(reports_api.ResolutionBy) == tuple(RESOLUTION_GROUPS)
    response = client.get(f"/api/v1/reports/resolution?{NOVEMBER}&by=responder", **api_auth(world.manager))
    assert response.status_code == 422 and response.json()["detail"]


# --- the complaint ledger -------------------------------------------------------------------


def test_complaint_ledger_rows_and_steps(world, client, month):
    complaint = month["4"]
    Complaint.objects.filter(ticket=complaint).update(
        valid=True, judged_at=at(10, 11), responsible_department=world.security, responsible_person=world.guard,
        investigated_at=at(11), implementation="当面致歉，调整岗位", classification=world.repair_cat,
    )  # fmt: skip
    Ticket.objects.filter(pk=complaint.pk).update(
        customer=world.customer, confirmed_by="张业主", confirm_method="电话", confirmed_at=at(13), is_major=True
    )
    _visit(world, Ticket.objects.get(pk=complaint.pk), "satisfied", 12)
    _visit(world, Ticket.objects.get(pk=complaint.pk), "dissatisfied", 14)  # the later visit counts
    body = _get(client, world.manager, "/api/v1/reports/complaints")
    data = body["data"]
    assert (data["count"], data["limit"], data["offset"]) == (1, 50, 0)
    [row] = data["items"]
    assert (row["id"], row["number"], row["content"], row["is_major"]) == (complaint.id, complaint.number,
                                                                           "保安态度差", True)  # fmt: skip
    assert row["site"] == {"id": world.site.id, "name": "翠湖花园"}
    assert row["customer"] == {"id": world.customer.id, "name": "张业主"}
    assert row["department"] == {"id": world.security.id, "name": "秩序维护部"}
    assert row["classification"] == {"id": world.repair_cat.id, "name": "给排水"} and row["category"] is None
    assert row["valid"] is True
    assert row["responsible_department"] == {"id": world.security.id, "name": "秩序维护部"}
    assert row["responsible_person"] == {"id": world.guard.id, "name": world.guard.name}
    assert datetime.fromisoformat(row["created_at"]) == at(10)
    assert datetime.fromisoformat(row["judged_at"]) == at(10, 11)
    assert datetime.fromisoformat(row["investigated_at"]) == at(11)
    assert row["approved_at"] is None and row["implemented_at"] is None and row["summarized_at"] is None
    assert (row["implementation"], row["confirmed_by"], row["confirm_method"]) == ("当面致歉，调整岗位", "张业主",
                                                                                  "电话")  # fmt: skip
    assert datetime.fromisoformat(row["confirmed_at"]) == at(13)
    assert (row["visit_result"], row["visit_result_label"]) == ("dissatisfied", "不满意")
    assert (row["status"], row["status_label"]) == ("investigating", complaint.get_status_display())
    steps = {s["key"]: s["n"] for s in data["steps"]}
    assert steps == {"received": 1, "judged": 1, "investigated": 1, "approved": 0, "implemented": 0,
                     "confirmed": 1, "summarized": 0}  # fmt: skip
    assert data["steps"][0]["label"] == "受理"


def _complaints(world, n, day):
    """``n`` complaints of day ``day`` with everything the ledger reads filled in."""
    flat = Unit.objects.get(site=world.site, building="1", entrance="2", room="301")
    made = []
    for i in range(n):
        t = make_ticket(world.site, world.agent, kind="complaint", customer=world.customer, content=f"投诉{day}-{i}")
        Ticket.objects.filter(pk=t.pk).update(
            created_at=at(day, 8 + i), unit=flat, department=world.security, category=world.repair_cat
        )
        Complaint.objects.filter(ticket=t).update(
            valid=bool(i % 2), judged_at=at(day, 20), responsible_department=world.security,
            responsible_person=world.guard, classification=world.repair_cat,
        )  # fmt: skip
        _visit(world, t, "satisfied", day)
        made.append(t)
    return made


def test_complaint_ledger_pages_and_its_queries_do_not_grow(world, client, month, django_assert_max_num_queries):
    first = _complaints(world, 2, 3)
    flat = Unit.objects.get(site=world.site, building="1", entrance="2", room="301")
    headers = api_auth(world.manager)
    client.get("/api/v1/reports/complaints", **headers)  # first use stamps the token's last_used_at

    def count():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(f"/api/v1/reports/complaints?{NOVEMBER}&limit=100", **headers)
        assert response.status_code == 200
        items = response.json()["data"]["items"]
        units = {r["number"]: r["unit"] for r in items}
        assert units.pop(month["4"].number) is None
        assert all(unit == {"id": flat.id, "label": "1-2-301"} for unit in units.values())
        return len(ctx), len(items)

    few, rows = count()
    assert rows == 3  # two new ones and the month's #4
    _complaints(world, 12, 4)
    many, rows = count()
    assert rows == 15
    assert many == few
    with django_assert_max_num_queries(few):
        client.get(f"/api/v1/reports/complaints?{NOVEMBER}&limit=100&kind=complaint", **headers)
    assert few <= 6
    # By receipt time: the 3rd's two first, then the 4th's twelve, then the 10th's #4.
    second = _get(client, world.manager, "/api/v1/reports/complaints", f"{NOVEMBER}&limit=1&offset=1")["data"]
    assert (second["count"], second["limit"], second["offset"]) == (15, 1, 1)
    assert [r["number"] for r in second["items"]] == [first[1].number]
    last = _get(client, world.manager, "/api/v1/reports/complaints", f"{NOVEMBER}&limit=5&offset=14")["data"]
    assert [r["number"] for r in last["items"]] == [month["4"].number]
    assert client.get("/api/v1/reports/complaints?limit=101", **headers).status_code == 422


# --- satisfaction ---------------------------------------------------------------------------


def test_satisfaction_trend_by_month(world, client, month):
    Ticket.objects.filter(pk=month["1"].pk).update(rating=5, rated_at=at(3))
    Ticket.objects.filter(pk=month["2"].pk).update(rating=3, rated_at=at(5))
    Ticket.objects.filter(pk=month["3"].pk).update(rating=1, rated_at=datetime(2026, 10, 31, 23, 0, tzinfo=SH))
    _visit(world, month["1"], "satisfied", 6)
    _visit(world, month["2"], "ordinary", 7)
    _visit(world, month["3"], "dissatisfied", 8)
    body = _get(client, world.manager, "/api/v1/reports/satisfaction", "start=2026-10-01&end=2026-11-30")
    rows = {r["month"]: r for r in body["data"]["rows"]}
    assert list(rows) == ["2026-10", "2026-11"]
    nov = rows["2026-11"]
    assert (nov["rated"], nov["rating_average"], nov["rating_rate"]) == (2, 4.0, 50.0)
    assert (nov["visits"], nov["visits_good"], nov["visit_rate"], nov["survey_rate"]) == (3, 2, 66.7, None)
    assert (rows["2026-10"]["rated"], rows["2026-10"]["rating_average"], rows["2026-10"]["visits"]) == (1, 1.0, 0)


# --- warning cards --------------------------------------------------------------------------


def test_cards_by_person_and_rule(world, client, month):
    _card(world, world.tech, "yellow", "respond", 3)
    _card(world, world.tech, "yellow", "respond", 4)
    _card(world, world.tech, "blue", "progress", 4)
    _card(world, world.guard, "red", "long_overdue", 5)
    _card(world, world.guard, "red", "serious", 6, revoked=True)  # revoked: not counted
    _card(world, world.tech2, "yellow", "visit", -1)  # October
    data = _get(client, world.manager, "/api/v1/reports/cards")["data"]
    people = {p["name"]: p for p in data["rows"]}
    assert list(people) == ["王师傅", world.guard.name]
    assert (people["王师傅"]["yellow"], people["王师傅"]["blue"], people["王师傅"]["total"]) == (2, 1, 3)
    assert people["王师傅"]["rules"]["respond"] == 2 and people[world.guard.name]["red"] == 1
    assert data["totals"] == {"blue": 1, "yellow": 2, "red": 1, "total": 4}
    assert data["by_rule"]["long_overdue"] == 1 and data["by_rule"]["serious"] == 0
    rules = {r["key"]: r["label"] for r in data["rules"]}
    assert set(rules) == set(data["by_rule"]) and rules["respond"]


# --- who may read, and what ------------------------------------------------------------------


@pytest.mark.parametrize("path", NEW_REPORTS)
def test_supervisors_and_above_only(world, client, month, path):
    for staff in (world.agent, world.tech, world.frontdesk):
        response = client.get(f"{path}?{NOVEMBER}", **api_auth(staff))
        assert response.status_code == 403
        assert response.json()["detail"] == "只有主管及以上可以查看统计报表"
    assert client.get(f"{path}?{NOVEMBER}", **api_auth(world.supervisor)).status_code == 200
    assert client.get(f"{path}?{NOVEMBER}").status_code == 401


def test_an_outsider_supervisor_sees_only_their_site(world, client, month):
    outsider = make_staff(Role.SUPERVISOR, sites=[world.other_site])
    theirs = make_ticket(world.other_site, world.outsider_agent, kind="complaint", content="电梯噪音")
    Ticket.objects.filter(pk=theirs.pk).update(rating=2, rated_at=at(24))
    Ticket.objects.filter(pk=month["1"].pk).update(rating=5, rated_at=at(3))
    _card(world, world.tech, "yellow", "respond", 3)
    _card(world, world.outsider_tech, "red", "respond", 3, site=world.other_site)
    ours = f"{NOVEMBER}&site={world.site.id}"  # asking for the other site does not widen the scope

    resolution = _get(client, outsider, "/api/v1/reports/resolution", ours)
    assert resolution["problems"] == ["无权查看所选项目，已显示您负责的全部项目"]
    # The other site's repair of the 5th and the complaint: not the month's six.
    assert resolution["data"]["overall"]["received"] == 2
    assert _get(client, world.manager, "/api/v1/reports/resolution")["data"]["overall"]["received"] == 6

    ledger = _get(client, outsider, "/api/v1/reports/complaints", ours)
    assert [r["number"] for r in ledger["data"]["items"]] == [theirs.number] and ledger["data"]["count"] == 1
    assert {s["key"]: s["n"] for s in ledger["data"]["steps"]}["received"] == 1
    mine = _get(client, world.manager, "/api/v1/reports/complaints")["data"]["items"]
    assert [r["number"] for r in mine] == [month["4"].number]

    nov = _get(client, outsider, "/api/v1/reports/satisfaction", ours)["data"]["rows"][0]
    assert (nov["month"], nov["rated"], nov["rating_average"]) == ("2026-11", 1, 2.0)
    ours_nov = _get(client, world.manager, "/api/v1/reports/satisfaction")["data"]["rows"][0]
    assert (ours_nov["rated"], ours_nov["rating_average"]) == (1, 5.0)

    cards = _get(client, outsider, "/api/v1/reports/cards", ours)["data"]
    assert [p["name"] for p in cards["rows"]] == [world.outsider_tech.name] and cards["totals"]["red"] == 1
    assert [p["name"] for p in _get(client, world.manager, "/api/v1/reports/cards")["data"]["rows"]] == ["王师傅"]


@pytest.mark.parametrize("path", NEW_REPORTS)
def test_bad_filters_are_reported_not_fatal(world, client, month, path):
    Ticket.objects.filter(pk=month["1"].pk).update(rating=5, rated_at=at(3))
    _card(world, world.tech, "yellow", "respond", 3)
    plain = _get(client, world.manager, path)
    body = _get(client, world.manager, path, f"{NOVEMBER}&kind=nonsense&department=999999")
    assert body["problems"] == ["部门不存在，已显示全部部门", "工单类型不正确，已显示全部类型"]
    # The filters that were not understood are dropped: the same figures as without them.
    assert body["data"] == plain["data"]
    narrowed = _get(client, world.manager, path, f"{NOVEMBER}&kind=inquiry")
    assert narrowed["problems"] == [] and narrowed["data"] != plain["data"]
    assert client.get(f"{path}?start=2026-02-30", **api_auth(world.manager)).status_code == 422

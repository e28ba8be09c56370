"""Visit plans, member coverage and the visit summary report over the API: the same services
and queries as the pages, supervisors and above only, figures checked by hand."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from kefu.customers.services import customer_assign
from kefu.org.models import Role
from kefu.testing import api_auth, make_customer, make_staff
from kefu.visits.models import Visit, VisitCampaign
from kefu.visits.queries import member_coverage, visit_report
from kefu.visits.services import campaign_create, visit_record, visit_unreachable

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=SH)
MID = datetime(2026, 12, 15, 9, 0, tzinfo=SH)


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def members(world):
    """Four members (会员) in building 8, an ordinary customer there too, and a member of the
    other site, besides 张业主 (building 1, no tag)."""
    people = [
        make_customer(
            world.site, world.agent, name=f"会员{i}", phone=f"1371000{i:04d}", room=("8", "1", f"{i}01"), tags=["会员"]
        )
        for i in range(1, 5)
    ]
    make_customer(world.site, world.agent, name="普通客户", phone="13710009999", room=("8", "1", "901"))
    make_customer(world.other_site, world.outsider_agent, name="外项目会员", phone="13710008888", tags=["会员"])
    return people


def _get(client, staff, path, params=None):
    return client.get(f"/api/v1{path}", params or {}, **api_auth(staff))


def _post(client, staff, path, body):
    return client.post(f"/api/v1{path}", json.dumps(body), "application/json", **api_auth(staff))


def _plan(world, **extra):
    body = {
        "site_id": world.site.id,
        "name": "12月会员回访",
        "kind": "periodic",
        "start": "2026-12-01",
        "end": "2026-12-31",
        "tags": ["会员"],
    }
    body.update(extra)
    return body


# --- permissions ------------------------------------------------------------------------------


def test_agents_get_403_on_plans_coverage_and_report(world, members, client):
    with time_machine.travel(NOW, tick=False):
        refused = [
            (_get(client, world.agent, "/visits/campaigns"), "只有主管及以上可以制定回访计划"),
            (_post(client, world.agent, "/visits/campaigns", _plan(world)), "只有主管及以上可以制定回访计划"),
            (_get(client, world.agent, "/visits/coverage"), "只有主管及以上可以查看回访覆盖率"),
            (_get(client, world.frontdesk, "/visits/report"), "只有主管及以上可以查看回访总结报告"),
            (_get(client, world.agent, "/visits/report"), "只有主管及以上可以查看回访总结报告"),
        ]
    assert [(r.status_code, r.json()["detail"]) for r, _ in refused] == [(403, m) for _, m in refused]
    assert not VisitCampaign.objects.exists() and not Visit.objects.exists()
    with time_machine.travel(NOW, tick=False):
        assert _get(client, world.supervisor, "/visits/coverage").status_code == 200
        assert _get(client, world.manager, "/visits/report").status_code == 200


# --- plans ------------------------------------------------------------------------------------


def test_created_plan_visits_exactly_the_matching_customers(world, members, client):
    with time_machine.travel(NOW, tick=False):
        response = _post(client, world.supervisor, "/visits/campaigns", _plan(world))
        by_building = _post(
            client,
            world.supervisor,
            "/visits/campaigns",
            _plan(world, name="8栋专项", kind="campaign", tags=[], building="8"),
        )
    assert response.status_code == 201, response.content
    plan = response.json()
    visited = set(Visit.objects.filter(campaign_id=plan["id"]).values_list("customer_id", flat=True))
    assert visited == {m.id for m in members}  # not 张业主, not the ordinary one, not the other site's member
    assert (plan["total"], plan["done"], plan["kind_label"], plan["tags"]) == (4, 0, "定期回访", ["会员"])
    assert plan["site"] == {"id": world.site.id, "name": world.site.name} and plan["script"] is None
    assert plan["created_by"]["id"] == world.supervisor.id and plan["end"] == "2026-12-31"
    assert {v.kind for v in Visit.objects.filter(campaign_id=plan["id"])} == {"periodic"}
    # Building 8 without tags: the four members and the ordinary customer.
    assert by_building.status_code == 201 and by_building.json()["total"] == 5
    assert Visit.objects.filter(campaign_id=by_building.json()["id"], kind="campaign").count() == 5


def test_list_shows_progress_within_the_callers_sites(world, members, client):
    with time_machine.travel(NOW, tick=False):
        mine = campaign_create(
            site=world.site,
            name="会员回访",
            kind="periodic",
            start=date(2026, 12, 1),
            end=date(2026, 12, 31),
            tags=["会员"],
            actor=world.supervisor,
        )
        theirs = campaign_create(
            site=world.other_site,
            name="外项目回访",
            kind="campaign",
            start=date(2026, 12, 1),
            end=date(2026, 12, 31),
            tags=["会员"],
            actor=world.director,
        )
    first, second, third = Visit.objects.filter(campaign=mine).order_by("id")[:3]
    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        visit_record(visit=first, actor=world.supervisor, version=first.version, result="satisfied")
        visit_record(visit=second, actor=world.supervisor, version=second.version, result="ordinary")
        # Retry: still open, so not counted as done.
        visit_unreachable(visit=third, actor=world.supervisor, version=third.version)
    with time_machine.travel(NOW + timedelta(hours=2), tick=False):
        seen = _get(client, world.supervisor, "/visits/campaigns").json()
        everything = _get(client, world.director, "/visits/campaigns").json()
        one_site = _get(client, world.director, "/visits/campaigns", {"site": world.other_site.id}).json()
        paged = _get(client, world.director, "/visits/campaigns", {"limit": 1, "offset": 1}).json()
        stranger = _get(client, world.supervisor, "/visits/campaigns", {"site": world.other_site.id})
    assert seen["count"] == 1 and [(c["id"], c["total"], c["done"]) for c in seen["items"]] == [(mine.id, 4, 2)]
    assert [c["id"] for c in everything["items"]] == [theirs.id, mine.id]  # newest first
    assert [(c["id"], c["total"], c["done"]) for c in one_site["items"]] == [(theirs.id, 1, 0)]
    assert paged["count"] == 2 and [c["id"] for c in paged["items"]] == [mine.id]
    assert stranger.status_code == 422 and stranger.json()["errors"] == {"site": ["项目不存在"]}


def test_plan_validation_is_422_in_chinese(world, members, client):
    other_site_plan = _plan(world, site_id=world.other_site.id)
    cases = [
        (_plan(world, name=""), "name", "请填写计划名称"),
        (_plan(world, start="2026-12-20", end="2026-12-10"), "end", "结束日期不能早于开始日期"),
        (_plan(world, start="2026-11-01", end="2026-11-30"), "end", "结束日期不能早于今天"),
        (_plan(world, older_than_days=0), "older_than_days", "天数应在 1–3650 之间"),
        (_plan(world, tags=["无人有此标签"]), "tags", "没有符合条件的客户"),
        (other_site_plan, "site_id", "项目不存在"),  # the supervisor's scope is one site
        (_plan(world, script_id=987654), "script_id", "话术不存在或已停用"),
        (_plan(world, kind="party"), "kind", "取值不正确，可选：periodic、campaign"),
        (_plan(world, end="2026-02-30"), "end", "日期格式应为 YYYY-MM-DD"),
        (_plan(world, name="长" * 101), "name", "不能超过 100 个字符"),
        (_plan(world, tags=["会员"] * 21), "tags", "最多 20 项"),
    ]
    with time_machine.travel(NOW, tick=False):
        answers = [_post(client, world.supervisor, "/visits/campaigns", body) for body, _, _ in cases]
    for response, (_, field, message) in zip(answers, cases, strict=True):
        assert response.status_code == 422, (field, response.content)
        assert response.json()["errors"][field] == [message]
    assert not VisitCampaign.objects.exists() and not Visit.objects.exists()


# --- coverage ---------------------------------------------------------------------------------


def _done(world, customer, when, site=None):
    Visit.objects.create(
        site=site or world.site,
        customer=customer,
        kind="periodic",
        status="done",
        due_at=when,
        done_at=when,
        result="satisfied",
    )


@pytest.fixture
def visited(world, members):
    """孙专员 owns members 1 and 2. Member 1 visited on 3 and 9 December, member 3 on 4 December,
    member 4 on 20 December, member 2 in November; the ordinary customer and the other site's
    member are visited in December but are not members of this site.
    December: 3 of 4 = 75 %; 孙专员 1 of 2, unassigned 2 of 2. 1–15 December: 2 of 4."""
    sun = make_staff(Role.AGENT, sites=[world.site], name="孙专员")
    customer_assign(customers=members[:2], actor=world.supervisor, to=sun)
    _done(world, members[0], datetime(2026, 12, 3, 10, 0, tzinfo=SH))
    _done(world, members[0], datetime(2026, 12, 9, 10, 0, tzinfo=SH))
    _done(world, members[2], datetime(2026, 12, 4, 10, 0, tzinfo=SH))
    _done(world, members[3], datetime(2026, 12, 20, 10, 0, tzinfo=SH))
    _done(world, members[1], datetime(2026, 11, 28, 10, 0, tzinfo=SH))
    _done(world, world.customer, datetime(2026, 12, 5, 10, 0, tzinfo=SH))
    outside = type(world.customer).objects.get(name="外项目会员")
    _done(world, outside, datetime(2026, 12, 5, 10, 0, tzinfo=SH), site=world.other_site)
    return sun


def test_coverage_figures_by_hand(world, visited, client):
    with time_machine.travel(MID, tick=False):
        december = _get(client, world.supervisor, "/visits/coverage", {"start": "2026-12-01", "end": "2026-12-31"})
        swapped = _get(client, world.supervisor, "/visits/coverage", {"start": "2026-12-31", "end": "2026-12-01"})
        so_far = _get(client, world.supervisor, "/visits/coverage")
    assert december.status_code == 200, december.content
    body = december.json()
    assert (body["total"], body["visited"], body["rate"], body["tags"]) == (4, 3, 75.0, ["VIP", "会员"])
    rows = {(r["owner"] or {}).get("name", ""): (r["total"], r["visited"], r["rate"]) for r in body["rows"]}
    assert rows == {"孙专员": (2, 1, 50.0), "": (2, 2, 100.0)}
    assert {r["owner"]["id"] for r in body["rows"] if r["owner"]} == {visited.id}
    # The very figures of the query the page shows.
    query = member_coverage(
        site_ids=[world.site.id], tags=["VIP", "会员"], start=date(2026, 12, 1), end=date(2026, 12, 31)
    )
    assert (body["total"], body["visited"], body["rate"]) == (query["total"], query["visited"], query["rate"])
    assert [(r["total"], r["visited"], r["rate"]) for r in body["rows"]] == [
        (r["total"], r["visited"], r["rate"]) for r in query["rows"]
    ]
    assert swapped.json() == body  # reversed dates are swapped, as on the page
    # Defaults: the first of this month to today (15 December): member 4's visit is later.
    defaults = so_far.json()
    assert (defaults["start"], defaults["end"], defaults["visited"], defaults["rate"]) == (
        "2026-12-01",
        "2026-12-15",
        2,
        50.0,
    )


def test_coverage_of_all_the_directors_sites(world, visited, client):
    with time_machine.travel(MID, tick=False):
        everywhere = _get(client, world.director, "/visits/coverage", {"start": "2026-12-01", "end": "2026-12-31"})
        other = _get(
            client,
            world.director,
            "/visits/coverage",
            {"start": "2026-12-01", "end": "2026-12-31", "site": world.other_site.id},
        )
        bad_date = _get(client, world.director, "/visits/coverage", {"start": "2026-02-30"})
    assert (everywhere.json()["total"], everywhere.json()["visited"]) == (5, 4)  # plus the other site's member
    assert (other.json()["total"], other.json()["visited"], other.json()["rate"]) == (1, 1, 100.0)
    assert bad_date.status_code == 422 and bad_date.json()["errors"] == {"start": ["日期格式应为 YYYY-MM-DD"]}


# --- report -----------------------------------------------------------------------------------

DUE = datetime(2026, 12, 10, 18, 0, tzinfo=SH)


@pytest.fixture
def report_visits(world):
    """Six visits due in December at the site: agent: satisfied on time, ordinary late,
    dissatisfied on time (service visit), unreachable; 孙专员: satisfied on time (periodic),
    still open. Outside: one due in November, one at the other site."""
    sun = make_staff(Role.AGENT, sites=[world.site], name="孙专员")

    def visit(who, status, result="", late=False, kind="after_service", due=DUE, reason="", site=None):
        done_at = due + timedelta(hours=5 if late else -5) if status == "done" else None
        Visit.objects.create(
            site=site or world.site,
            customer=world.customer,
            assignee=who,
            status=status,
            result=result,
            kind=kind,
            due_at=due,
            done_at=done_at,
            reason=reason,
        )

    visit(world.agent, "done", "satisfied")
    visit(world.agent, "done", "ordinary", late=True)
    visit(world.agent, "done", "dissatisfied", reason="漏水未修好")
    visit(world.agent, "unreachable")
    visit(sun, "done", "satisfied", kind="periodic")
    visit(sun, "pending")
    visit(sun, "done", "dissatisfied", due=datetime(2026, 11, 20, 10, 0, tzinfo=SH), reason="十一月的")
    visit(world.outsider_agent, "done", "dissatisfied", site=world.other_site, reason="外项目")
    return sun


def test_report_figures_by_hand(world, report_visits, client):
    with time_machine.travel(MID, tick=False):
        response = _get(client, world.supervisor, "/visits/report", {"start": "2026-12-01", "end": "2026-12-31"})
        swapped = _get(client, world.supervisor, "/visits/report", {"start": "2026-12-31", "end": "2026-12-01"})
        everywhere = _get(client, world.director, "/visits/report", {"start": "2026-12-01", "end": "2026-12-31"})
    assert response.status_code == 200, response.content
    f = response.json()
    assert (f["total"], f["done"], f["on_time"], f["unreachable"], f["open"], f["cancelled"]) == (6, 4, 3, 1, 1, 0)
    assert (f["satisfied"], f["ordinary"], f["dissatisfied"], f["after_service"], f["sent_back"]) == (2, 1, 1, 3, 1)
    assert (f["on_time_rate"], f["satisfied_rate"], f["reopen_rate"]) == (75.0, 75.0, 33.3)
    rows = {
        v["name"]: (v["total"], v["done"], v["on_time"], v["on_time_rate"], v["dissatisfied"]) for v in f["visitors"]
    }
    assert rows == {world.agent.name: (4, 3, 2, 66.7, 1), "孙专员": (2, 1, 1, 100.0, 0)}
    assert [r["reason"] for r in f["reasons"]] == ["漏水未修好"]
    # The very figures of the query the page shows.
    query = visit_report(site_ids=[world.site.id], start=date(2026, 12, 1), end=date(2026, 12, 31))
    scalars = [k for k, v in query.items() if isinstance(v, int | float)]
    assert len(scalars) == 14 and {k: f[k] for k in scalars} == {k: query[k] for k in scalars}
    assert [v["name"] for v in f["visitors"]] == [v["name"] for v in query["visitors"]]
    assert swapped.json() == f
    # A director sees both sites: the other site's dissatisfied visit counts too.
    assert (everywhere.json()["total"], everywhere.json()["dissatisfied"]) == (7, 2)
    assert {r["reason"] for r in everywhere.json()["reasons"]} == {"漏水未修好", "外项目"}


def test_report_defaults_to_this_month_so_far(world, report_visits, client):
    with time_machine.travel(datetime(2026, 12, 9, 12, 0, tzinfo=SH), tick=False):
        body = _get(client, world.supervisor, "/visits/report").json()
    # Nothing of the site falls due between 1 and 9 December.
    assert (body["start"], body["end"], body["total"], body["on_time_rate"]) == ("2026-12-01", "2026-12-09", 0, 0.0)

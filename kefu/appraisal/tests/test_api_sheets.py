"""The appraisal's settings and score sheets through the API: the pages' services, checks and
scope (insiders and outsiders, one's own result only)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kefu.appraisal.models import Appraisal, Scheme, Sheet, SheetTemplate
from kefu.appraisal.services import parse_sheet_items, period_compute, period_create, sheet_template_create
from kefu.org.models import Role
from kefu.testing import api_auth, make_staff

pytestmark = pytest.mark.django_db
JSON = "application/json"


@pytest.fixture
def scored(world):
    """November computed; an agents' sheet of two items of 10."""
    items = parse_sheet_items("服务态度|礼貌|10\n业务能力|熟练|10")
    template = sheet_template_create(name="客服专员评分表", role="agent", items=items, actor=world.manager)
    period = period_create(name="11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                           actor=world.manager)  # fmt: skip
    period_compute(period=period)
    return template, Appraisal.objects.get(period=period, staff=world.agent)


def post(client, url, body, staff, method="post"):
    return getattr(client, method)(url, body, content_type=JSON, **api_auth(staff))


# --- templates ------------------------------------------------------------------------------


def test_templates_are_read_by_supervisors_and_above(world, client, scored):
    template, _ = scored
    rows = client.get("/api/v1/appraisal/sheet-templates", **api_auth(world.supervisor)).json()
    seed = next(r for r in rows if r["name"] == "客户服务部经理绩效测评标准")
    assert (seed["role"], len(seed["items"]), seed["max_points"], seed["is_active"]) == ("manager", 37, 185, True)
    assert seed["items"][0]["position"] == 1 and seed["items"][0]["section"] == "业务工作"
    mine = next(r for r in rows if r["id"] == template.pk)
    assert [(i["text"], i["max_score"]) for i in mine["items"]] == [("礼貌", 10), ("熟练", 10)]
    assert mine["in_use"] is False
    for staff in (world.agent, world.tech):
        response = client.get("/api/v1/appraisal/sheet-templates", **api_auth(staff))
        assert response.status_code == 403 and response.json()["detail"] == "只有客服主管及以上可以查看评分表模板"


def test_create_a_template(world, client):
    items = [
        {"section": "接待", "text": "微笑服务", "max_score": 10},
        {"section": "接待", "text": " 登记完整 ", "max_score": 5},
        {"section": "纪律", "text": "按时交接班", "max_score": 5},
    ]
    body = {"name": "前台评分表", "role": "frontdesk", "items": items}
    assert post(client, "/api/v1/appraisal/sheet-templates", body, world.supervisor).status_code == 403
    created = post(client, "/api/v1/appraisal/sheet-templates", body, world.manager)
    assert created.status_code == 201
    data = created.json()
    assert (data["name"], data["role"], data["max_points"]) == ("前台评分表", "frontdesk", 20)
    assert [(i["position"], i["section"], i["text"]) for i in data["items"]] == [
        (1, "接待", "微笑服务"), (2, "接待", "登记完整"), (3, "纪律", "按时交接班")]  # fmt: skip
    assert list(SheetTemplate.objects.get(pk=data["id"]).items.values_list("max_score", flat=True)) == [10, 5, 5]


def test_bad_templates_are_refused_field_by_field(world, client):
    item = {"section": "接待", "text": "微笑服务", "max_score": 10}
    before = SheetTemplate.objects.count()
    cases = [
        ({"items": []}, "items"),
        ({"items": [item] * 201}, "items"),
        ({"items": [{**item, "max_score": 0}]}, "items.0.max_score"),
        ({"items": [item, {**item, "max_score": 101}]}, "items.1.max_score"),
        ({"items": [{**item, "section": "   "}]}, "items.0.section"),
        ({"items": [{**item, "section": "类" * 51}]}, "items.0.section"),
        ({"items": [{**item, "text": "项" * 201}]}, "items.0.text"),
        ({"name": " "}, "name"),
        ({"role": "boss"}, "role"),
    ]
    for change, field in cases:
        response = post(client, "/api/v1/appraisal/sheet-templates", {"name": "前台评分表", "role": "", "items": [item],
                                                                      **change}, world.manager)  # fmt: skip
        assert response.status_code == 422, change
        assert field in response.json()["errors"], (change, response.json())
    assert SheetTemplate.objects.count() == before


# --- a result's sheets -------------------------------------------------------------------------


def test_score_read_and_sign_a_result(world, client, scored):
    template, appraisal = scored
    first, second = template.items.all()
    url = f"/api/v1/appraisal/results/{appraisal.pk}/sheets"
    body = {"template_id": template.pk, "scores": {str(first.id): 9, str(second.id): 6}}
    ok = post(client, url, body, world.supervisor)
    assert ok.status_code == 200
    sheet = ok.json()
    assert (sheet["points"], sheet["max_points"], sheet["score"]) == (15, 20, "75.00")
    assert sheet["scorer"]["id"] == world.supervisor.id
    assert [(i["text"], i["score"]) for i in sheet["items"]] == [("礼貌", 9), ("熟练", 6)]
    appraisal.refresh_from_db()
    assert appraisal.total == Decimal("22.50")  # 0 × .7 + 75 × .3
    # The agent reads their own result's sheets.
    mine = client.get(url, **api_auth(world.agent))
    assert mine.status_code == 200 and [s["points"] for s in mine.json()] == [15]
    # Sign-off: not one's own; the superior may.
    sign = f"/api/v1/appraisal/results/{appraisal.pk}/sign"
    refused = post(client, sign, {}, world.agent)
    assert refused.status_code == 403 and refused.json()["detail"] == "不能签核自己的考核结果"
    signed = post(client, sign, {}, world.supervisor)
    assert signed.status_code == 200 and signed.json()["signed_by"]["id"] == world.supervisor.id
    assert Appraisal.objects.get(pk=appraisal.pk).signed_by == world.supervisor


def test_an_agent_reads_only_their_own_results_sheets(world, client, scored):
    template, appraisal = scored
    first, second = template.items.all()
    post(client, f"/api/v1/appraisal/results/{appraisal.pk}/sheets",
         {"template_id": template.pk, "scores": {str(first.id): 9, str(second.id): 6}}, world.supervisor)  # fmt: skip
    colleague = Appraisal.objects.get(period=appraisal.period, staff=world.frontdesk)
    assert client.get(f"/api/v1/appraisal/results/{colleague.pk}/sheets", **api_auth(world.agent)).status_code == 404
    assert (
        client.get(f"/api/v1/appraisal/results/{appraisal.pk}/sheets", **api_auth(world.frontdesk)).status_code == 404
    )
    # Scoring one's own sheet is refused, and so is an item over its maximum.
    full = {"template_id": template.pk, "scores": {str(first.id): 10, str(second.id): 10}}
    own = post(client, f"/api/v1/appraisal/results/{appraisal.pk}/sheets", full, world.agent)
    assert own.status_code == 403
    assert Sheet.objects.get().points == 15


def test_an_outsider_manager_neither_reads_nor_scores_nor_signs(world, client, scored):
    template, appraisal = scored
    first, second = template.items.all()
    outsider = make_staff(Role.MANAGER, sites=[world.other_site])
    url = f"/api/v1/appraisal/results/{appraisal.pk}/sheets"
    body = {"template_id": template.pk, "scores": {str(first.id): 10, str(second.id): 10}}
    assert client.get(url, **api_auth(outsider)).status_code == 404
    scored_by_outsider = post(client, url, body, outsider)
    assert scored_by_outsider.status_code == 404 and scored_by_outsider.json()["detail"] == "考核结果不存在"
    assert post(client, f"/api/v1/appraisal/results/{appraisal.pk}/sign", {}, outsider).status_code == 404
    assert not Sheet.objects.exists() and Appraisal.objects.get(pk=appraisal.pk).signed_by is None
    # This site's manager does all three.
    assert post(client, url, body, world.manager).status_code == 200
    assert [s["scorer"]["id"] for s in client.get(url, **api_auth(world.manager)).json()] == [world.manager.id]


def test_bad_scores_are_named(world, client, scored):
    template, appraisal = scored
    first, second = template.items.all()
    url = f"/api/v1/appraisal/results/{appraisal.pk}/sheets"
    over = post(client, url, {"template_id": template.pk, "scores": {str(first.id): 11, str(second.id): 5}},
                world.supervisor)  # fmt: skip
    assert over.status_code == 422 and over.json()["errors"] == {f"scores.{first.id}": ["第 1 项：请填写 0–10 的整数"]}
    missing = post(client, url, {"template_id": template.pk, "scores": {str(first.id): 5}}, world.supervisor)
    assert list(missing.json()["errors"]) == [f"scores.{second.id}"]
    unknown = post(client, url, {"template_id": 999_999, "scores": {}}, world.supervisor)
    assert unknown.status_code == 422 and list(unknown.json()["errors"]) == ["template_id"]
    manager_sheet = SheetTemplate.objects.get(name="客户服务部经理绩效测评标准")
    wrong = post(client, url, {"template_id": manager_sheet.pk, "scores": {}}, world.supervisor)
    assert wrong.status_code == 422 and wrong.json()["errors"]["template_id"] == ["该评分表不适用于此岗位"]
    assert not Sheet.objects.exists()


# --- schemes --------------------------------------------------------------------------------

SCHEME = {"weights": {"handled": 0, "on_time": 50, "satisfaction": 50, "visits_on_time": 0, "first_contact": 0},
          "handled_target": 40, "sheet_share": 20, "card_points": {"blue": 1, "yellow": 5, "red": 10},
          "praise_points": 3}  # fmt: skip


def test_schemes_read_and_put(world, client):
    rows = client.get("/api/v1/appraisal/schemes", **api_auth(world.manager)).json()
    assert [r["role"] for r in rows] == ["agent", "frontdesk", "technician", "dept_staff", "supervisor", "manager",
                                         "director"]  # fmt: skip
    tech = next(r for r in rows if r["role"] == "technician")
    assert tech["is_default"] is True and tech["weights"]["handled"] == 35 and tech["updated_by"] is None
    put = post(client, "/api/v1/appraisal/schemes/technician", SCHEME, world.director, method="put")
    assert put.status_code == 200
    data = put.json()
    assert (data["is_default"], data["handled_target"], data["weights"]["handled"]) == (False, 40, 0)
    assert data["updated_by"]["id"] == world.director.id and data["updated_at"]
    assert Scheme.objects.get(role="technician").card_points == {"blue": 1, "yellow": 5, "red": 10}


def test_bad_schemes_are_refused(world, client):
    zero = {**SCHEME, "weights": dict.fromkeys(SCHEME["weights"], 0)}
    bad = post(client, "/api/v1/appraisal/schemes/technician", zero, world.manager, method="put")
    assert bad.status_code == 422 and bad.json()["errors"] == {"weights": ["至少一项指标的权重大于 0"]}
    over = {**SCHEME, "sheet_share": 101, "weights": {**SCHEME["weights"], "on_time": 200}}
    bad = post(client, "/api/v1/appraisal/schemes/technician", over, world.manager, method="put")
    assert bad.status_code == 422 and {"sheet_share", "weights.on_time"} <= set(bad.json()["errors"])
    assert post(client, "/api/v1/appraisal/schemes/admin", SCHEME, world.manager, method="put").status_code == 404
    for staff in (world.supervisor, world.agent):
        assert post(client, "/api/v1/appraisal/schemes/agent", SCHEME, staff, method="put").status_code == 403
        assert client.get("/api/v1/appraisal/schemes", **api_auth(staff)).status_code == 403
    assert not Scheme.objects.exists()


def test_the_lists_do_not_query_per_row(world, client, scored, django_assert_max_num_queries):
    template, appraisal = scored
    headers = api_auth(world.manager)
    first, second = template.items.all()
    body = {"template_id": template.pk, "scores": {str(first.id): 9, str(second.id): 6}}
    post(client, f"/api/v1/appraisal/results/{appraisal.pk}/sheets", body, world.supervisor)
    client.get("/api/v1/appraisal/sheet-templates", **headers)  # the token's first use writes its last use
    counts = []
    for _round in range(2):
        # The token's lookup is kept after a use (decision 0013); the writes below drop it.
        client.get("/api/v1/appraisal/sheet-templates", **headers)
        with django_assert_max_num_queries(20) as templates:
            client.get("/api/v1/appraisal/sheet-templates", **headers)
        with django_assert_max_num_queries(20) as sheets:
            client.get(f"/api/v1/appraisal/results/{appraisal.pk}/sheets", **headers)
        counts.append((len(templates), len(sheets)))
        for n in range(5):  # more templates, and more sheets of this result
            items = [("a", "b", 5)] * 3
            extra = sheet_template_create(name=f"评分表{_round}{n}", role="", items=items, actor=world.manager)
            body = {"template_id": extra.pk, "scores": {str(i.id): 5 for i in extra.items.all()}}
            post(client, f"/api/v1/appraisal/results/{appraisal.pk}/sheets", body, world.manager)
    assert counts[0] == counts[1]
    assert len(client.get(f"/api/v1/appraisal/results/{appraisal.pk}/sheets", **headers).json()) == 11

"""The settings pages: score-sheet templates (managers write, supervisors read) and each role's
scheme (managers and directors), reached from the appraisal pages' tabs."""

from __future__ import annotations

import re
from datetime import date

import pytest

from kefu.appraisal.models import Appraisal, Scheme, SheetTemplate
from kefu.appraisal.services import (
    parse_sheet_items,
    period_close,
    period_compute,
    period_create,
    sheet_submit,
    sheet_template_create,
)

pytestmark = pytest.mark.django_db
MANAGER_SHEET = "客户服务部经理绩效测评标准"
ITEMS = "服务态度|接听电话礼貌规范|10\n业务能力|熟悉收费标准\n服务态度|首问负责|8"


@pytest.fixture
def template(world):
    items = parse_sheet_items("服务态度|礼貌|10\n业务能力|熟练|10")
    return sheet_template_create(name="客服专员评分表", role="agent", items=items, actor=world.manager)


def row_of(page: str, attr: str, value: object) -> str:
    match = re.search(rf'<tr {attr}="{value}">(.*?)</tr>', page, re.S)
    assert match, f"no row {attr}={value}"
    return match.group(1)


# --- navigation -----------------------------------------------------------------------------


def test_the_tabs_show_the_settings_to_whom_may_use_them(world, client):
    for staff, sheets, schemes in ((world.manager, True, True), (world.director, True, True),
                                   (world.supervisor, True, False), (world.agent, False, False)):  # fmt: skip
        client.force_login(staff.user)
        for url in ("/appraisal/", "/appraisal/ledger/"):
            page = client.get(url).content.decode()
            assert ('href="/appraisal/sheets/"' in page) is sheets, (staff.role, url)
            assert ('href="/appraisal/schemes/"' in page) is schemes, (staff.role, url)


# --- score-sheet templates ------------------------------------------------------------------


def test_the_list_shows_the_manual_manager_sheet(world, client, template):
    seed = SheetTemplate.objects.get(name=MANAGER_SHEET)
    client.force_login(world.supervisor.user)
    page = client.get("/appraisal/sheets/").content.decode()
    row = row_of(page, "data-template", seed.pk)
    # 37 items of 5 points each: 185; for managers; in use.
    assert MANAGER_SHEET in row and "客服经理" in row and ">37<" in row and ">185<" in row and "启用" in row
    assert "通用" not in row and "新增" not in page  # supervisors read, they do not add
    assert "客服专员" in row_of(page, "data-template", template.pk)
    sheet_template_create(name="通用评分表", role="", items=[("纪律", "按时到岗", 5)], actor=world.manager)
    client.force_login(world.manager.user)
    page = client.get("/appraisal/sheets/").content.decode()
    assert "通用" in row_of(page, "data-template", SheetTemplate.objects.get(name="通用评分表").pk)
    assert 'href="/appraisal/sheets/new/"' in page


def test_others_are_refused_in_chinese(world, client, template):
    for staff in (world.agent, world.tech, world.frontdesk):
        client.force_login(staff.user)
        for url in ("/appraisal/sheets/", f"/appraisal/sheets/{template.pk}/", "/appraisal/sheets/new/"):
            response = client.get(url)
            assert response.status_code == 403, (staff.role, url)
        assert "只有客服主管及以上可以查看评分表模板" in client.get("/appraisal/sheets/").content.decode()


def test_a_manager_creates_a_template(world, client):
    client.force_login(world.manager.user)
    assert client.get("/appraisal/sheets/new/").status_code == 200
    response = client.post("/appraisal/sheets/new/", {"name": "客服专员月度评分表", "role": "agent", "items": ITEMS})
    assert response.status_code == 302
    created = SheetTemplate.objects.get(name="客服专员月度评分表")
    assert response["Location"] == f"/appraisal/sheets/{created.pk}/" and created.role == "agent"
    assert list(created.items.values_list("position", "section", "text", "max_score")) == [
        (1, "服务态度", "接听电话礼貌规范", 10),
        (2, "业务能力", "熟悉收费标准", 5),
        (3, "服务态度", "首问负责", 8),
    ]
    # Its page groups the items by section, in the order the sections first appear.
    page = client.get(response["Location"]).content.decode()
    assert re.findall(r'data-section="([^"]+)"', page) == ["服务态度", "业务能力"]
    assert "首问负责" in page.split('data-section="服务态度"')[1].split('data-section="业务能力"')[0]
    assert "小计 18 分" in page and "满分合计 23 分" in page


def test_a_bad_textarea_names_the_line_and_saves_nothing(world, client):
    client.force_login(world.manager.user)
    before = SheetTemplate.objects.count()
    bad = client.post(
        "/appraisal/sheets/new/", {"name": "", "role": "agent", "items": "服务|礼貌|10\n只有一列\n服务|x|0"}
    )
    assert bad.status_code == 422
    page = bad.content.decode()
    assert "第 2 行：请按“类别|评分项|满分”填写" in page and "第 3 行：满分应为 1–100 的整数" in page
    assert "请填写名称（不超过 100 字）" in page  # the name's error at the same time
    assert "只有一列" in page  # what was typed is kept
    assert SheetTemplate.objects.count() == before


def test_a_supervisor_reads_but_does_not_write(world, client, template):
    client.force_login(world.supervisor.user)
    page = client.get(f"/appraisal/sheets/{template.pk}/").content.decode()
    assert "礼貌" in page and 'id="sheet-template-form"' not in page and 'id="toggle-active"' not in page
    refused = [
        client.post("/appraisal/sheets/new/", {"name": "x", "role": "", "items": "a|b|5"}),
        client.post(f"/appraisal/sheets/{template.pk}/", {"name": "x", "role": "", "items": "a|b|5"}),
        client.post(f"/appraisal/sheets/{template.pk}/active/", {"active": "0"}),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]
    assert "只有客服经理和总监可以编辑评分表" in refused[1].content.decode()
    template.refresh_from_db()
    assert (template.name, template.is_active, template.items.count()) == ("客服专员评分表", True, 2)
    assert not SheetTemplate.objects.filter(name="x").exists()


def test_edit_while_unused_then_locked_once_scored(world, client, template):
    client.force_login(world.manager.user)
    page = client.get(f"/appraisal/sheets/{template.pk}/").content.decode()
    assert "服务态度|礼貌|10\n业务能力|熟练|10" in page  # the form starts from the items
    ok = client.post(f"/appraisal/sheets/{template.pk}/", {"name": "客服评分表", "role": "", "items": ITEMS})
    assert ok.status_code == 302
    template.refresh_from_db()
    assert (template.name, template.role, template.items.count()) == ("客服评分表", "", 3)
    period = period_create(name="11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                           actor=world.manager)  # fmt: skip
    period_compute(period=period)
    appraisal = Appraisal.objects.get(period=period, staff=world.agent)
    sheet_submit(appraisal=appraisal, template=template, actor=world.supervisor,
                 scores={str(i.id): "5" for i in template.items.all()})  # fmt: skip
    page = client.get(f"/appraisal/sheets/{template.pk}/").content.decode()
    assert 'id="locked"' in page and 'id="sheet-template-form"' not in page
    refused = client.post(f"/appraisal/sheets/{template.pk}/", {"name": "改名", "role": "", "items": "a|b|5"})
    assert refused.status_code == 422
    assert "已有评分记录的评分表不能修改评分项，请停用后新建" in refused.content.decode()
    template.refresh_from_db()
    assert (template.name, template.items.count()) == ("客服评分表", 3)


def test_stop_and_resume_from_the_pages(world, client, template):
    period = period_create(name="11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                           actor=world.manager)  # fmt: skip
    period_compute(period=period)
    appraisal = Appraisal.objects.get(period=period, staff=world.agent)
    offered = f"/appraisal/results/{appraisal.pk}/sheets/{template.pk}/"
    client.force_login(world.manager.user)
    stop = client.post(f"/appraisal/sheets/{template.pk}/active/", {"active": "0", "back": "list"})
    assert stop.status_code == 302 and stop["Location"] == "/appraisal/sheets/"
    assert SheetTemplate.objects.get(pk=template.pk).is_active is False
    assert "停用" in row_of(client.get("/appraisal/sheets/").content.decode(), "data-template", template.pk)
    client.force_login(world.supervisor.user)
    assert offered not in client.get(f"/appraisal/results/{appraisal.pk}/").content.decode()
    assert client.get(offered).status_code == 404
    client.force_login(world.director.user)
    resume = client.post(f"/appraisal/sheets/{template.pk}/active/", {"active": "1"})
    assert resume["Location"] == f"/appraisal/sheets/{template.pk}/"
    client.force_login(world.supervisor.user)
    assert offered in client.get(f"/appraisal/results/{appraisal.pk}/").content.decode()


# --- schemes --------------------------------------------------------------------------------


def scheme_form(**changes: str) -> dict[str, str]:
    form = {"role": "technician", "handled_target": "40", "sheet_share": "20", "praise_points": "3"}
    form |= {"weights.handled": "0", "weights.on_time": "50", "weights.satisfaction": "50",
             "weights.visits_on_time": "0", "weights.first_contact": "0"}  # fmt: skip
    form |= {"card_points.blue": "1", "card_points.yellow": "5", "card_points.red": "10"}
    form.update(changes)
    return form


def test_the_scheme_page_shows_every_role_and_saves(world, client):
    client.force_login(world.manager.user)
    page = client.get("/appraisal/schemes/").content.decode()
    assert "修改后在下次计算考核期时生效" in page and "已结束的考核期不受影响" in page
    for role in ("agent", "frontdesk", "technician", "dept_staff", "supervisor", "manager", "director"):
        assert "系统默认" in row_of(page, "data-role", role)
    tech = row_of(page, "data-role", "technician")
    assert re.search(r'data-kpi="handled">35<', tech) and re.search(r'data-field="handled_target">60<', tech)
    saved = client.post("/appraisal/schemes/", scheme_form())
    assert saved.status_code == 302 and saved["Location"] == "/appraisal/schemes/"
    scheme = Scheme.objects.get(role="technician")
    assert scheme.weights == {"handled": 0, "on_time": 50, "satisfaction": 50, "visits_on_time": 0, "first_contact": 0}
    assert (scheme.handled_target, scheme.sheet_share, scheme.praise_points) == (40, 20, 3)
    assert scheme.card_points == {"blue": 1, "yellow": 5, "red": 10} and scheme.updated_by == world.manager
    page = client.get("/appraisal/schemes/").content.decode()
    tech = row_of(page, "data-role", "technician")
    assert "系统默认" not in tech and world.manager.name in tech
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", tech)  # when, as YYYY-MM-DD HH:mm
    assert re.search(r'data-field="handled_target">40<', tech) and re.search(r'data-kpi="handled"><span', tech)
    assert "系统默认" in row_of(page, "data-role", "agent")


def test_bad_scheme_input_is_named_and_nothing_saved(world, client):
    client.force_login(world.director.user)
    bad = client.post("/appraisal/schemes/", scheme_form(**{"weights.on_time": "150", "sheet_share": "abc",
                                                            "card_points.red": ""}))  # fmt: skip
    assert bad.status_code == 422 and not Scheme.objects.exists()
    page = bad.content.decode()

    def error_after(name: str) -> str | None:  # the message shown under that input of the refused form
        dialog = page.split('id="dlg-technician"')[1].split("</dialog>")[0]
        found = re.search(rf'name="{re.escape(name)}"[^>]*>\s*(?:<span class="field-error">([^<]*)</span>)?', dialog)
        assert found, name
        return found.group(1)

    assert error_after("weights.on_time") == "权重应为 0–100 的整数"
    assert error_after("sheet_share") == "评分表占比应为 0–100 的整数"
    assert error_after("card_points.red") == "扣分应为 0–100 的整数"
    assert error_after("weights.handled") is None and error_after("handled_target") is None
    assert 'id="dlg-technician" open' in page and 'value="150"' in page  # the refused form, open again
    assert 'id="dlg-agent" open' not in page
    zero = {f"weights.{code}": "0" for code in ("on_time", "satisfaction")}
    bad = client.post("/appraisal/schemes/", scheme_form(**zero))
    assert bad.status_code == 422 and "至少一项指标的权重大于 0" in bad.content.decode()
    assert client.post("/appraisal/schemes/", scheme_form(role="admin")).status_code == 422
    assert not Scheme.objects.exists()


def test_only_managers_and_directors_reach_the_schemes(world, client):
    for staff in (world.supervisor, world.agent, world.tech):
        client.force_login(staff.user)
        response = client.get("/appraisal/schemes/")
        assert response.status_code == 403 and "只有客服经理和总监可以设置考核方案" in response.content.decode()
        assert client.post("/appraisal/schemes/", scheme_form()).status_code == 403
    assert not Scheme.objects.exists()


def test_a_closed_periods_result_shows_the_rules_it_was_computed_with(world, client):
    period = period_create(name="11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                           actor=world.manager)  # fmt: skip
    period_compute(period=period)
    period_close(period=period, actor=world.manager)
    client.force_login(world.manager.user)
    client.post("/appraisal/schemes/", scheme_form())
    tech = Appraisal.objects.get(period=period, staff=world.tech)
    page = client.get(f"/appraisal/results/{tech.pk}/").content.decode()
    # The default weight of handled tickets (35) and target (60), not the new 0 and 40.
    assert re.search(r'data-kpi="handled">.*?<td class="num">35</td></tr>', page, re.S)
    assert "每月 60 张为满分" in page


# --- garbage and query counts ---------------------------------------------------------------

NASTY = ["", " ", "abc", "-1", "1.5", "1e309", "NaN", "9" * 40, "１２", "²", "' OR 1=1 --", "<script>x</script>",
         "\u202e", "漏" * 6000]  # fmt: skip


def test_garbage_in_the_settings_forms_is_refused_cleanly(world, client, template):
    client.force_login(world.manager.user)
    for name in scheme_form():
        for value in NASTY:  # none of them is a whole number in range
            response = client.post("/appraisal/schemes/", scheme_form(**{name: value}))
            assert response.status_code == 422, (name, value, response.status_code)
            if name != "role":
                assert name in response.content.decode()  # the refused form is shown again, with the field
    assert not Scheme.objects.exists()
    for value in NASTY:
        for field in ("name", "role", "items"):
            form = {"name": "客服评分表", "role": "agent", "items": "服务|礼貌|10", field: value}
            response = client.post(f"/appraisal/sheets/{template.pk}/", form)
            assert response.status_code in (302, 422), (field, value, response.status_code)
    template.refresh_from_db()
    assert template.items.count() >= 1


def test_the_settings_pages_do_not_query_per_row(world, client, django_assert_max_num_queries):
    client.force_login(world.manager.user)
    client.get("/appraisal/sheets/")  # warm the session and the caller's lookups
    client.get("/appraisal/schemes/")
    with django_assert_max_num_queries(12) as captured:
        client.get("/appraisal/sheets/")
    sheets = len(captured)
    with django_assert_max_num_queries(12) as captured:
        client.get("/appraisal/schemes/")
    schemes = len(captured)
    for n in range(6):
        sheet_template_create(name=f"评分表{n}", role="", items=[("a", "b", 5)] * 3, actor=world.manager)
    client.post("/appraisal/schemes/", scheme_form())
    client.post("/appraisal/schemes/", scheme_form(role="agent"))
    with django_assert_max_num_queries(sheets):
        client.get("/appraisal/sheets/")
    with django_assert_max_num_queries(schemes):
        client.get("/appraisal/schemes/")

"""Score sheets: the manual's manager sheet, free-form templates, scoring into the total."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from kefu.appraisal.models import Appraisal, Sheet, SheetTemplate
from kefu.appraisal.services import (
    parse_sheet_items,
    period_compute,
    period_create,
    sheet_submit,
    sheet_template_create,
)
from kefu.core.errors import PermissionDenied, ValidationFailed

pytestmark = pytest.mark.django_db


def test_the_manual_manager_sheet_is_there():
    sheet = SheetTemplate.objects.get(name="客户服务部经理绩效测评标准")
    sections = list(sheet.items.values_list("section", flat=True))
    assert sheet.role == "manager" and len(sections) == 37
    assert [sections.count(s) for s in ("业务工作", "管理监督", "指导协调", "审查报告")] == [7, 9, 11, 10]


def test_free_form_templates_are_parsed_and_checked(world):
    items = parse_sheet_items("服务态度|接听电话礼貌规范|10\n服务态度|首问负责|\n业务能力|熟悉收费标准|5")
    assert items == [("服务态度", "接听电话礼貌规范", 10), ("服务态度", "首问负责", 5), ("业务能力", "熟悉收费标准", 5)]
    for bad in ("只有一列", "a|b|0", "a|b|x", ""):
        with pytest.raises(ValidationFailed):
            parse_sheet_items(bad)
    with pytest.raises(PermissionDenied):
        sheet_template_create(name="客服专员评分表", role="agent", items=items, actor=world.supervisor)
    t = sheet_template_create(name="客服专员评分表", role="agent", items=items, actor=world.manager)
    assert list(t.items.values_list("position", "max_score")) == [(1, 10), (2, 5), (3, 5)]


@pytest.fixture
def scored(world):
    items = parse_sheet_items("服务态度|礼貌|10\n业务能力|熟练|10")
    template = sheet_template_create(name="客服专员评分表", role="agent", items=items, actor=world.manager)
    period = period_create(name="11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                           actor=world.manager)  # fmt: skip
    period_compute(period=period)
    return template, Appraisal.objects.get(period=period, staff=world.agent)


def test_a_sheet_scores_into_the_total(world, scored):
    template, appraisal = scored
    first, second = template.items.all()
    with pytest.raises(PermissionDenied):  # not one's own
        sheet_submit(appraisal=appraisal, template=template, actor=world.agent, scores={})
    with pytest.raises(ValidationFailed):  # 11 is over the maximum; nothing is saved
        sheet_submit(appraisal=appraisal, template=template, actor=world.supervisor,
                     scores={str(first.id): "11", str(second.id): "5"})  # fmt: skip
    assert not Sheet.objects.exists()
    sheet_submit(appraisal=appraisal, template=template, actor=world.supervisor,
                 scores={str(first.id): "9", str(second.id): "6"})  # fmt: skip
    appraisal.refresh_from_db()
    # 15 of 20 = 75; the agent's KPI score is 0 (nothing handled): 0 × .7 + 75 × .3 = 22.5
    assert appraisal.sheet_score == Decimal("75.00")
    assert (appraisal.kpi_score, appraisal.total) == (Decimal("0.00"), Decimal("22.50"))
    # A manager's sheet too: the sheet score is the mean of the two.
    sheet_submit(appraisal=appraisal, template=template, actor=world.manager,
                 scores={str(first.id): "10", str(second.id): "10"})  # fmt: skip
    appraisal.refresh_from_db()
    assert appraisal.sheet_score == Decimal("87.50") and appraisal.total == Decimal("26.25")
    # Recomputing the period from the data keeps the sheets' score.
    period_compute(period=appraisal.period)
    appraisal.refresh_from_db()
    assert appraisal.total == Decimal("26.25")


def test_the_sheet_page(world, client, scored):
    template, appraisal = scored
    client.force_login(world.supervisor.user)
    page = client.get(f"/appraisal/results/{appraisal.pk}/").content.decode()
    assert f"/appraisal/results/{appraisal.pk}/sheets/{template.pk}/" in page
    # The manager's sheet is for managers, not offered for an agent.
    manager_sheet = SheetTemplate.objects.get(name="客户服务部经理绩效测评标准")
    assert f"/sheets/{manager_sheet.pk}/" not in page
    first, second = template.items.all()
    bad = client.post(f"/appraisal/results/{appraisal.pk}/sheets/{template.pk}/", {f"item-{first.id}": "x"})
    assert bad.status_code == 422
    ok = client.post(f"/appraisal/results/{appraisal.pk}/sheets/{template.pk}/",
                     {f"item-{first.id}": "8", f"item-{second.id}": "8"})  # fmt: skip
    assert ok.status_code == 302 and Sheet.objects.get().points == 16
    client.force_login(world.agent.user)
    assert client.get(f"/appraisal/results/{appraisal.pk}/sheets/{template.pk}/").status_code == 403

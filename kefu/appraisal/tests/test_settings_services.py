"""The settings' services: score-sheet templates edited only while unused, stopped and resumed;
schemes checked field by field, saved whole, and reaching a period when it is next computed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from kefu.appraisal.models import DEFAULT_WEIGHTS, Appraisal, Period, Scheme, SheetItem, SheetTemplate
from kefu.appraisal.queries import rules_applied, rules_for, schemes_for
from kefu.appraisal.services import (
    parse_sheet_items,
    period_close,
    period_compute,
    period_create,
    scheme_update,
    sheet_submit,
    sheet_template_create,
    sheet_template_set_active,
    sheet_template_update,
)
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.testing import make_ticket
from kefu.tickets.models import Ticket, WarningCard

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
TECH_WEIGHTS = {"handled": 0, "on_time": 50, "satisfaction": 50, "visits_on_time": 0, "first_contact": 0}


def scheme(world, **changes):
    values = {"role": "technician", "weights": dict(TECH_WEIGHTS), "handled_target": 60, "sheet_share": 30,
              "card_points": {"blue": 1, "yellow": 5, "red": 10}, "praise_points": 2,
              "actor": world.manager}  # fmt: skip
    values.update(changes)
    return scheme_update(**values)


def month(world) -> Period:
    period = period_create(name="2026年11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site],
                           actor=world.manager)  # fmt: skip
    period_compute(period=period)
    return period


@pytest.fixture
def template(world):
    items = parse_sheet_items("服务态度|礼貌|10\n业务能力|熟练|10")
    return sheet_template_create(name="客服专员评分表", role="agent", items=items, actor=world.manager)


# --- score-sheet templates ------------------------------------------------------------------


def test_a_template_is_edited_while_nobody_scored_with_it(world, template):
    old_ids = set(template.items.values_list("id", flat=True))
    items = [("工作纪律", "按时到岗", 5), ("服务态度", "礼貌", 10), ("服务态度", "首问负责", 8)]
    with pytest.raises(PermissionDenied):
        sheet_template_update(template=template, name="新名称", role="", items=items, actor=world.supervisor)
    sheet_template_update(template=template, name=" 客服评分表 ", role="", items=items, actor=world.manager)
    template.refresh_from_db()
    assert (template.name, template.role) == ("客服评分表", "")
    rows = list(template.items.values_list("position", "section", "text", "max_score"))
    assert rows == [(1, "工作纪律", "按时到岗", 5), (2, "服务态度", "礼貌", 10), (3, "服务态度", "首问负责", 8)]
    assert not old_ids & set(template.items.values_list("id", flat=True))
    # A bad change is refused whole: the name is not saved without the items.
    with pytest.raises(ValidationFailed) as refused:
        sheet_template_update(template=template, name="", role="boss", items=[("", "x", 0)], actor=world.manager)
    assert set(refused.value.fields) == {"name", "role", "items"}
    assert SheetTemplate.objects.get(pk=template.pk).name == "客服评分表" and template.items.count() == 3


def test_a_template_scored_with_is_not_edited(world, template):
    period = month(world)
    appraisal = Appraisal.objects.get(period=period, staff=world.agent)
    first, second = template.items.all()
    sheet_submit(appraisal=appraisal, template=template, actor=world.supervisor,
                 scores={str(first.id): "8", str(second.id): "9"})  # fmt: skip
    with pytest.raises(ValidationFailed) as refused:
        sheet_template_update(template=template, name="改名", role="agent", items=[("a", "b", 5)], actor=world.manager)
    assert refused.value.message == "已有评分记录的评分表不能修改评分项，请停用后新建"
    template.refresh_from_db()
    assert template.name == "客服专员评分表"
    assert list(SheetItem.objects.filter(template=template).values_list("id", flat=True)) == [first.id, second.id]


def test_stop_and_resume(world, template):
    period = month(world)
    appraisal = Appraisal.objects.get(period=period, staff=world.agent)
    first, second = template.items.all()
    scores = {str(first.id): "8", str(second.id): "9"}
    with pytest.raises(PermissionDenied):
        sheet_template_set_active(template=template, active=False, actor=world.supervisor)
    assert sheet_template_set_active(template=template, active=False, actor=world.director).is_active is False
    with pytest.raises(ValidationFailed):  # a stopped sheet scores nothing, even from a stale instance
        stale = SheetTemplate(pk=template.pk, is_active=True)
        sheet_submit(appraisal=appraisal, template=stale, actor=world.supervisor, scores=scores)
    assert not appraisal.sheets.exists()
    assert sheet_template_set_active(template=template, active=True, actor=world.manager).is_active is True
    sheet_submit(appraisal=appraisal, template=template, actor=world.supervisor, scores=scores)
    assert appraisal.sheets.get().points == 17


def test_items_built_by_hand_are_checked_like_the_textarea(world):
    for bad in ([], [("服务", "礼貌", 0)], [("服务", "礼貌", 101)], [("  ", "礼貌", 5)], [("服务", "x" * 201, 5)],
                [("服务", "礼貌", 5)] * 201):  # fmt: skip
        with pytest.raises(ValidationFailed) as refused:
            sheet_template_create(name="评分表", role="", items=bad, actor=world.manager)
        assert "items" in refused.value.fields
    assert not SheetTemplate.objects.filter(name="评分表").exists()
    with pytest.raises(ValidationFailed):  # not a role anyone is appraised in
        sheet_template_create(name="评分表", role="admin", items=[("服务", "礼貌", 5)], actor=world.manager)
    # Full-width and superscript digits are not maxima (int("²") would fail).
    for text in ("服务|礼貌|²", "服务|礼貌|1000"):
        with pytest.raises(ValidationFailed):
            parse_sheet_items(text)


# --- schemes --------------------------------------------------------------------------------


def test_defaults_when_no_scheme_was_saved(world):
    assert not Scheme.objects.exists()
    rules = rules_for("technician")
    assert rules.weights == DEFAULT_WEIGHTS["technician"]
    assert (rules.handled_target, rules.sheet_share, rules.praise_points) == (60, 30, 2)
    assert rules.card_points == {"blue": 1, "yellow": 3, "red": 10}
    rows = schemes_for(world.manager)
    assert [r["role"] for r in rows] == list(DEFAULT_WEIGHTS)
    tech = next(r for r in rows if r["role"] == "technician")
    assert tech["scheme"] is None and tech["weights"]["visits_on_time"] == 0 and tech["weights"]["handled"] == 35
    with pytest.raises(PermissionDenied):
        schemes_for(world.supervisor)


def test_a_scheme_is_checked_field_by_field_and_nothing_saved(world):
    with pytest.raises(PermissionDenied):
        scheme(world, actor=world.supervisor)
    cases = [
        ({"weights": {**TECH_WEIGHTS, "on_time": 101}}, "weights.on_time", "权重应为 0–100 的整数"),
        ({"weights": {**TECH_WEIGHTS, "satisfaction": "5.5"}}, "weights.satisfaction", "权重应为 0–100 的整数"),
        ({"weights": {**TECH_WEIGHTS, "handled": -1}}, "weights.handled", "权重应为 0–100 的整数"),
        ({"weights": {**TECH_WEIGHTS, "on_time": True}}, "weights.on_time", "权重应为 0–100 的整数"),
        ({"weights": dict.fromkeys(TECH_WEIGHTS, 0)}, "weights", "至少一项指标的权重大于 0"),
        ({"weights": {**TECH_WEIGHTS, "speed": 10}}, "weights", "未知的指标：speed"),
        ({"handled_target": 0}, "handled_target", "办结量满分标准应为 1–10000 的整数（张/月）"),
        ({"handled_target": "１２"}, "handled_target", "办结量满分标准应为 1–10000 的整数（张/月）"),
        ({"sheet_share": 101}, "sheet_share", "评分表占比应为 0–100 的整数"),
        ({"sheet_share": ""}, "sheet_share", "评分表占比应为 0–100 的整数"),
        ({"card_points": {"blue": 1, "yellow": 3}}, "card_points.red", "扣分应为 0–100 的整数"),
        ({"card_points": {"blue": 1, "yellow": 300, "red": 10}}, "card_points.yellow", "扣分应为 0–100 的整数"),
        ({"card_points": {"blue": 1, "yellow": 3, "red": 10, "green": 1}}, "card_points", "未知的警告卡颜色：green"),
        ({"praise_points": "abc"}, "praise_points", "表扬加分应为 0–100 的整数"),
        ({"role": "admin"}, "role", "岗位不正确"),
    ]
    for change, field, message in cases:
        with pytest.raises(ValidationFailed) as refused:
            scheme(world, **change)
        assert refused.value.fields.get(field) == [message], (change, refused.value.fields)
    # Several wrong at once: each one named.
    with pytest.raises(ValidationFailed) as refused:
        scheme(world, handled_target="x", sheet_share=-5, praise_points=1000)
    assert {"handled_target", "sheet_share", "praise_points"} <= set(refused.value.fields)
    assert not Scheme.objects.exists()


def test_a_scheme_is_saved_whole_with_who_and_when(world):
    saved = scheme(world, weights={"on_time": "50", "satisfaction": 50}, handled_target="40")
    assert saved.weights == TECH_WEIGHTS  # a KPI left out weighs 0; text from a form becomes a number
    assert (saved.handled_target, saved.updated_by) == (40, world.manager) and saved.updated_at is not None
    again = scheme(world, sheet_share=50, actor=world.director)
    assert Scheme.objects.count() == 1 and again.pk == saved.pk
    assert (again.sheet_share, again.handled_target, again.updated_by) == (50, 60, world.director)
    rules = rules_for("technician")
    assert rules.weights == TECH_WEIGHTS and rules.card_points == {"blue": 1, "yellow": 5, "red": 10}


@pytest.fixture
def tech_month(world):
    """王师傅 in November: three handled, one of the two measured on time (50 %); rated 5, 4
    and 2 (66.7 % satisfied); one yellow card."""

    def ticket(**fields):
        t = make_ticket(world.site, world.agent, auto_dispatch=False)
        Ticket.objects.filter(pk=t.pk).update(assignee=world.tech, rated_staff=world.tech, **fields)

    def at(day: int) -> datetime:
        return datetime(2026, 11, day, 10, tzinfo=SH)

    ticket(created_at=at(2), completed_at=at(3), resolve_delta=-10, rating=5, rated_at=at(4))
    ticket(created_at=at(5), completed_at=at(6), resolve_delta=5, rating=4, rated_at=at(7))
    ticket(created_at=at(8), completed_at=at(9), rating=2, rated_at=at(10))
    WarningCard.objects.create(key="y1", site=world.site, staff=world.tech, color="yellow", rule="respond",
                               issued_at=at(14))  # fmt: skip
    return world


def test_a_saved_scheme_changes_the_next_computed_score(tech_month):
    w = tech_month
    period = month(w)
    tech = Appraisal.objects.get(period=period, staff=w.tech)
    # Defaults: handled 3 of 60 → 5; (35 × 5 + 35 × 50 + 30 × 66.7) / 100 = 39.26; a yellow card −3.
    assert (tech.kpi_score, tech.adjustments, tech.total) == (Decimal("39.26"), Decimal("-3.00"), Decimal("36.26"))
    scheme(w)  # handled no longer counts, on time and satisfaction half each; a yellow card costs 5
    tech.refresh_from_db()
    assert tech.total == Decimal("36.26")  # not before the period is computed again
    period_compute(period=period, actor=w.manager)
    tech.refresh_from_db()
    # (50 × 50 + 50 × 66.7) / 100 = 58.35; − 5 = 53.35
    assert (tech.kpi_score, tech.adjustments, tech.total) == (Decimal("58.35"), Decimal("-5.00"), Decimal("53.35"))
    assert rules_applied(tech).weights == TECH_WEIGHTS
    # A monthly target of 3 makes the three handled a full 100: (100 + 50 + 66.7) / 3 = 72.23.
    scheme(w, weights={"handled": 1, "on_time": 1, "satisfaction": 1}, handled_target=3)
    period_compute(period=period, actor=w.manager)
    tech.refresh_from_db()
    assert tech.kpis["scores"]["handled"] == 100.0 and tech.kpi_score == Decimal("72.23")


def test_a_sheet_scored_before_recomputing_keeps_the_rules_the_period_was_computed_with(world, template):
    period = month(world)
    agent = Appraisal.objects.get(period=period, staff=world.agent)
    scheme(world, role="agent", weights=DEFAULT_WEIGHTS["agent"], sheet_share=50)
    first, second = template.items.all()
    sheet_submit(appraisal=agent, template=template, actor=world.supervisor,
                 scores={str(first.id): "9", str(second.id): "6"})  # fmt: skip
    agent.refresh_from_db()
    # 15 of 20 = 75; the agent's KPI score is 0: 0 × .7 + 75 × .3 = 22.5 (the share it was computed with)
    assert agent.total == Decimal("22.50")
    period_compute(period=period)
    agent.refresh_from_db()
    assert agent.total == Decimal("37.50")  # 0 × .5 + 75 × .5


def test_a_closed_period_is_never_affected(tech_month):
    w = tech_month
    period = month(w)
    period_close(period=period, actor=w.manager)
    scheme(w)
    with pytest.raises(ValidationFailed):
        period_compute(period=period, actor=w.manager)
    tech = Appraisal.objects.get(period=period, staff=w.tech)
    assert tech.total == Decimal("36.26") and rules_applied(tech).weights == DEFAULT_WEIGHTS["technician"]

"""Survey rules: templates and their items, batches and one-time links, answer validation,
the figures against a hand-computed fixture, and the follow-up of negative answers."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from kefu.surveys.models import Answer, Batch, Invitation, Item, Response
from kefu.surveys.queries import batch_figures, item_figures, summary
from kefu.surveys.services import (
    LinkGone,
    invitation_for_token,
    parse_items,
    questionnaire_copy,
    questionnaire_update,
    response_submit,
    token_digest,
)
from kefu.surveys.views import summary_charts
from kefu.testing import make_customer
from kefu.tickets.models import Ticket

from .factories import make_batch, make_questionnaire

SH = ZoneInfo("Asia/Shanghai")
NOV10 = datetime(2026, 11, 10, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _in_november():
    with time_machine.travel(NOV10, tick=False):
        yield


@pytest.fixture
def building(world):
    """Ten customers in building 1: 张业主 and nine neighbours; one in building 2."""
    for n in range(9):
        make_customer(world.site, world.agent, room=("1", "1", f"10{n}"))
    make_customer(world.site, world.agent, room=("2", "1", "101"))
    return world


def paper(world, invitation, answers, actor=None):
    return response_submit(
        invitation=invitation, answers=answers, channel=Response.Channel.PAPER, actor=actor or world.agent
    )


# --- templates ------------------------------------------------------------------------------


def test_items_are_parsed_from_lines(world):
    q = make_questionnaire(world.supervisor)
    items = list(q.items.order_by("position"))
    assert [(i.position, i.kind, i.weight) for i in items] == [
        (1, "scale", 2),
        (2, "scale", 1),
        (3, "single", 1),
        (4, "multiple", 1),
        (5, "text", 1),
    ]
    assert items[0].department.name == "客服部"
    assert items[2].options[2] == {"label": "3年以上", "score": 5}
    assert q.formula == "满意率 = (满意+较满意) / 该题有效答卷数"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "请至少填写一道题目"),
        ("打分|题目", "第 1 行：题型应为"),
        ("满意度|", "第 1 行：题目不能为空"),
        ("满意度|服务|不存在的部门", "部门“不存在的部门”不存在"),
        ("满意度|服务||权重0", "权重应为 1–100"),
        ("满意度|服务||权重abc", "权重应为 1–100"),
        ("单选|年限|||只有一项", "2–20 个选项"),
        ("单选|年限|||a=9;b=1", "选项分值应为 0–5"),
        ("多选|服务|||a;a", "选项不能重复"),
        ("满意度|服务|||a;b", "只有单选、多选题可以填写选项"),
        ("满意度|" + "长" * 201, "题目不能超过 200 字"),
    ],
)
def test_bad_item_lines_are_refused_by_line(world, text, message):
    with pytest.raises(ValidationFailed) as exc:
        parse_items(text)
    assert message in exc.value.message
    assert exc.value.fields["items"]


def test_only_supervisors_and_above_write_templates(world):
    for persona in (world.agent, world.frontdesk, world.tech):
        with pytest.raises(PermissionDenied):
            make_questionnaire(persona)
    make_questionnaire(world.manager)


def test_template_with_responses_is_copied_not_changed(building):
    world = building
    batch = make_batch(world)
    q = batch.questionnaire
    q = questionnaire_update(questionnaire=q, title="改过", items=parse_items("满意度|总体"), actor=world.supervisor)
    assert list(q.items.values_list("text", flat=True)) == ["总体"]
    paper(world, batch.invitations.first(), {1: ["5"]})
    with pytest.raises(Conflict):
        questionnaire_update(questionnaire=q, title="再改", items=parse_items("满意度|别的"), actor=world.supervisor)
    copy = questionnaire_copy(questionnaire=q, actor=world.supervisor)
    assert copy.pk != q.pk and copy.title == "改过（副本）"
    assert list(copy.items.values_list("text", flat=True)) == ["总体"]


# --- batches --------------------------------------------------------------------------------


def test_batch_by_building_makes_one_invitation_per_customer(building):
    batch = make_batch(building)
    assert batch.handed_out == 10 == batch.invitations.count()
    tokens = list(batch.invitations.values_list("token", "digest", "expires_at"))
    assert len({t for t, _d, _e in tokens}) == 10
    assert all(len(t) >= 32 and d == token_digest(t) for t, d, _e in tokens)
    assert {e for _t, _d, e in tokens} == {datetime(2026, 11, 30, 23, 59, 59, tzinfo=SH)}


def test_batch_by_tag_and_by_list(building):
    world = building
    vip = make_customer(world.site, world.agent, room=("3", "1", "101"), tags=["VIP"])
    tag = vip.tags.get()
    assert make_batch(world, target="tag", tag=tag).handed_out == 1
    ids = [world.customer.id, vip.id]
    assert make_batch(world, target="customers", customer_ids=ids).handed_out == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"target": "everyone"}, "target"),
        ({"buildings": []}, "buildings"),
        ({"buildings": ["99"]}, "target"),
        ({"target": "tag", "tag": None}, "tag"),
        ({"target": "customers", "customer_ids": [999999]}, "customers"),
        ({"ends_on": date(2026, 10, 1)}, "ends_on"),
        ({"name": "  "}, "name"),
    ],
)
def test_bad_batches_are_refused(building, change, field):
    with pytest.raises(ValidationFailed) as exc:
        make_batch(building, **change)
    assert field in exc.value.fields
    assert not Batch.objects.exists()


def test_batches_only_by_supervisors_at_their_sites(building):
    world = building
    q = make_questionnaire(world.supervisor)
    with pytest.raises(PermissionDenied):
        make_batch(world, q, actor=world.agent)
    with pytest.raises(ValidationFailed):
        make_batch(world, q, site=world.other_site)
    outsider = make_customer(world.other_site, world.outsider_agent)
    with pytest.raises(ValidationFailed):
        make_batch(world, q, target="customers", customer_ids=[outsider.id])


# --- links ----------------------------------------------------------------------------------


def test_link_is_one_time(building):
    batch = make_batch(building)
    invitation = batch.invitations.first()
    found = invitation_for_token(invitation.token)
    assert found.pk == invitation.pk
    response_submit(invitation=found, answers={1: ["5"], 2: ["4"], 3: ["1"], 4: ["1"]}, channel="link")
    with pytest.raises(LinkGone) as exc:
        invitation_for_token(invitation.token)
    assert exc.value.status_code == 410
    with pytest.raises(Conflict):
        response_submit(invitation=found, answers={1: ["5"], 2: ["4"], 3: ["1"], 4: ["1"]}, channel="link")
    assert Response.objects.count() == 1


def test_link_expires_at_the_end_dates_evening(building):
    invitation = make_batch(building).invitations.first()
    with time_machine.travel(datetime(2026, 11, 30, 23, 59, 0, tzinfo=SH), tick=False):
        invitation_for_token(invitation.token)
    with time_machine.travel(datetime(2026, 12, 1, 0, 0, tzinfo=SH), tick=False), pytest.raises(LinkGone):
        invitation_for_token(invitation.token)


@pytest.mark.parametrize("token", ["", "x", "a" * 65, "abc/../", "' OR 1=1 --", "\x00", "\ud800"])
def test_unknown_or_malformed_token(building, token):
    make_batch(building)
    with pytest.raises(NotFound):
        invitation_for_token(token)


# --- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({1: ["6"]}, "q1"),
        ({1: ["0"]}, "q1"),
        ({1: ["abc"]}, "q1"),
        ({1: ["5", "4"]}, "q1"),
        ({1: ["9" * 50]}, "q1"),
        ({3: ["4"]}, "q3"),
        ({3: ["1", "2"]}, "q3"),
        ({4: ["1", "1"]}, "q4"),
        ({4: ["7"]}, "q4"),
        ({5: ["客" * 1001]}, "q5"),
        ({5: ["a\x00b"]}, "q5"),
        ({9: ["5"]}, "answers"),
        ({}, "answers"),
        ({1: ["  "]}, "answers"),
    ],
)
def test_every_answer_is_validated(building, answers, field):
    invitation = make_batch(building).invitations.first()
    with pytest.raises(ValidationFailed) as exc:
        paper(building, invitation, answers)
    assert field in exc.value.fields, exc.value.fields
    assert not Response.objects.exists()
    assert Invitation.objects.get(pk=invitation.pk).used_at is None


def test_link_requires_every_choice_item_paper_does_not(building):
    batch = make_batch(building)
    first, second = batch.invitations.all()[:2]
    with pytest.raises(ValidationFailed) as exc:
        response_submit(invitation=first, answers={1: ["5"]}, channel="link")
    assert {"q2", "q3", "q4"} <= set(exc.value.fields) and "q5" not in exc.value.fields
    response = paper(building, second, {1: ["5"]})
    assert response.answers.count() == 1


def test_answers_are_stored_with_scores_and_labels(building):
    invitation = make_batch(building).invitations.first()
    response = paper(building, invitation, {1: ["4"], 3: ["2"], 4: ["3", "1"], 5: ["  希望加装充电桩  "]})
    stored = {a.item.position: (a.score, a.choices, a.value) for a in response.answers.select_related("item")}
    assert stored == {
        1: (4, [4], "较满意"),
        3: (3, [2], "1-3年"),
        4: (None, [1, 3], "家政、洗车"),
        5: (None, [], "希望加装充电桩"),
    }
    assert response.entered_by == building.agent


def test_paper_entry_permissions(building):
    world = building
    invitation = make_batch(world).invitations.first()
    with pytest.raises(PermissionDenied):
        paper(world, invitation, {1: ["5"]}, actor=world.tech)
    with pytest.raises(NotFound):
        paper(world, invitation, {1: ["5"]}, actor=world.outsider_agent)
    paper(world, invitation, {1: ["5"]}, actor=world.frontdesk)


# --- figures --------------------------------------------------------------------------------

# Six of ten answer: item 1 (weight 2) 5,5,4,3,2,1; item 2 5,4,4,4,3 and one blank; item 3
# option 3 (score 5) every time.
ITEM1 = ["5", "5", "4", "3", "2", "1"]
ITEM2 = ["5", "4", "4", "4", "3", None]


@pytest.fixture
def answered(building):
    batch = make_batch(building)
    for invitation, one, two in zip(batch.invitations.order_by("id"), ITEM1, ITEM2, strict=False):
        answers = {1: [one], 3: ["3"]}
        if two:
            answers[2] = [two]
        paper(building, invitation, answers)
    return batch


def test_response_and_satisfaction_rates(answered):
    figures = batch_figures(answered)
    assert (figures.handed_out, figures.collected, figures.response_rate) == (10, 6, 60.0)
    # Item 1: 3 of 6 satisfied; item 2: 4 of 5 → 7 of 11 = 63.6 %.
    assert (figures.valid, figures.satisfied, figures.satisfaction_rate) == (11, 7, 63.6)
    # (20×2 + 20×1 + 30×1) / (12 + 5 + 6) = 90 / 23.
    assert figures.weighted_score == 3.91


def test_per_item_table(answered):
    rows = item_figures(answered)
    assert [(r["valid"], r["satisfied"], r["rate"]) for r in rows] == [
        (6, 3, 50.0),
        (5, 4, 80.0),
        (0, 0, None),
        (0, 0, None),
        (0, 0, None),
    ]
    assert rows[0]["scale"] == [2, 1, 1, 1, 1]
    assert rows[1]["average"] == 4.0 and rows[2]["average"] == 5.0
    assert rows[0]["followups"] == 2


def test_satisfied_bar_is_the_templates_setting(building):
    q = make_questionnaire(building.supervisor, satisfied_min_score=5)
    batch = make_batch(building, q)
    for invitation, one in zip(batch.invitations.order_by("id"), ITEM1, strict=False):
        paper(building, invitation, {1: [one]})
    assert batch_figures(batch).satisfaction_rate == 33.3
    assert q.formula == "满意率 = (满意) / 该题有效答卷数"


def test_summary_per_site_department_month(answered, world):
    tables = summary(site_ids={world.site.id})
    site = tables["site"][0]
    assert (site.label, site.handed_out, site.collected, site.satisfaction_rate) == ("翠湖花园", 10, 6, 63.6)
    departments = {row.label: row.satisfaction_rate for row in tables["department"]}
    assert departments == {"客服部": 50.0, "工程部": 80.0, "未指定部门": None}
    assert [(m.label, m.valid) for m in tables["month"]] == [("2026-11", 11)]
    assert tables["batch"][0].response_rate == 60.0
    assert summary(site_ids={world.other_site.id})["site"] == []


def test_summary_charts_plot_the_rated_rows(answered, world):
    charts = summary_charts(summary(site_ids={world.site.id}))
    assert (charts["months"], charts["month_rate"], charts["month_valid"]) == (["2026-11"], [63.6], [11])
    # Items 3–5 are not on the satisfaction scale: no rate, so no bar.
    assert charts["item_rate"] == [50.0, 80.0] and len(charts["items"]) == 2
    assert dict(zip(charts["departments"], charts["department_rate"], strict=True)) == {"客服部": 50.0, "工程部": 80.0}
    assert summary_charts(summary(site_ids={world.other_site.id}))["months"] == []


# --- follow-up ------------------------------------------------------------------------------


def test_negative_answer_opens_exactly_one_ticket(building):
    world = building
    invitation = make_batch(world).invitations.get(customer=world.customer)
    before = Ticket.objects.count()
    response = paper(world, invitation, {1: ["2"], 2: ["3"], 3: ["1"], 5: ["楼道灯坏了很久"]})
    assert Ticket.objects.count() == before + 2
    one = Answer.objects.get(response=response, item__position=1)
    three = Answer.objects.get(response=response, item__position=3)
    assert Answer.objects.get(response=response, item__position=2).followup_ticket is None
    ticket = one.followup_ticket
    assert (ticket.kind, ticket.customer, ticket.first_responder, ticket.site) == (
        "complaint",
        world.customer,
        world.agent,
        world.site,
    )
    assert "物业服务整体满意度" in ticket.content and "较不满意" in ticket.content
    assert "楼道灯坏了很久" in ticket.content and "客服部" in ticket.content
    assert three.followup_ticket.kind == "suggestion"


def test_link_followups_are_taken_by_the_batch_creator(building):
    world = building
    invitation = make_batch(world).invitations.get(customer=world.customer)
    response_submit(invitation=invitation, answers={1: ["1"], 2: ["5"], 3: ["3"], 4: ["2"]}, channel="link")
    answer = Answer.objects.get(item__position=1)
    assert answer.followup_ticket.first_responder == world.supervisor
    assert answer.followup_ticket.channel == "web"
    assert Ticket.objects.filter(content__contains="满意度调查").count() == 1


def test_followup_threshold_is_the_templates_setting(building):
    q = make_questionnaire(building.supervisor, followup_max_score=3)
    invitation = make_batch(building, q).invitations.first()
    paper(building, invitation, {1: ["3"], 2: ["4"]})
    assert Answer.objects.filter(followup_ticket__isnull=False).count() == 1
    item = Item.objects.get(questionnaire=q, position=1)
    assert Answer.objects.get(item=item).followup_ticket is not None

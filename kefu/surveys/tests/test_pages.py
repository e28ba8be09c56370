"""Survey pages by persona, the customer's link page, the rate limit and the query count."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache

from kefu.surveys.models import Batch, Questionnaire, Response
from kefu.surveys.services import response_submit
from kefu.surveys.views import RATE_LIMIT
from kefu.testing import make_customer
from kefu.tickets.models import Ticket

from .factories import ITEMS, make_batch

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def _setup():
    cache.clear()
    with time_machine.travel(datetime(2026, 11, 10, 10, 0, tzinfo=SH), tick=False):
        yield
    cache.clear()


@pytest.fixture
def batch(world) -> Batch:
    for n in range(3):
        make_customer(world.site, world.agent, room=("1", "1", f"10{n}"))
    return make_batch(world)


def test_supervisor_creates_a_template_and_a_batch(world, client):
    client.force_login(world.supervisor.user)
    from kefu.org.models import Department

    Department.objects.create(name="客服部", kind="service")
    response = client.post("/surveys/templates/new/", {"title": "业主意见征询表", "items": ITEMS.replace("工程部", "")})
    assert response.status_code == 302, response.content.decode()[:2000]
    q = Questionnaire.objects.get(title="业主意见征询表")
    assert q.items.count() == 5
    page = client.get(f"/surveys/templates/{q.id}/").content.decode()
    assert "满意率 = (满意+较满意) / 该题有效答卷数" in page
    data = {
        "questionnaire": q.id,
        "site": world.site.id,
        "name": "四季度调查",
        "starts_on": "2026-11-01",
        "ends_on": "2026-11-30",
        "target": "customers",
        "phones": "13912345678",
    }
    response = client.post("/surveys/batches/new/", data)
    assert response.status_code == 302
    batch = Batch.objects.get(name="四季度调查")
    assert batch.handed_out == 1
    assert f'data-batch="{batch.id}"' in client.get("/surveys/").content.decode()


def test_a_stopped_template_serves_no_new_batch_but_its_batches_keep_collecting(world, client, batch):
    q = batch.questionnaire
    client.force_login(world.agent.user)
    assert client.post(f"/surveys/templates/{q.id}/active/", {"active": "0"}).status_code == 403
    client.force_login(world.supervisor.user)
    assert f">{q.title}</option>" in client.get("/surveys/batches/new/").content.decode()
    response = client.post(f"/surveys/templates/{q.id}/active/", {"active": "0"})
    assert response.status_code == 302
    q.refresh_from_db()
    assert q.is_active is False
    assert 'id="inactive"' in client.get(f"/surveys/templates/{q.id}/").content.decode()
    assert f">{q.title}</option>" not in client.get("/surveys/batches/new/").content.decode()
    data = {"questionnaire": q.id, "site": world.site.id, "name": "x", "starts_on": "2026-11-10",
            "ends_on": "2026-11-20", "target": "building", "buildings": "1"}  # fmt: skip
    assert client.post("/surveys/batches/new/", data).status_code == 422
    assert Batch.objects.count() == 1
    # The batch already handed out still takes answers.
    response_submit(invitation=batch.invitations.first(), answers={1: ["4"]}, channel="paper", actor=world.agent)
    client.post(f"/surveys/templates/{q.id}/active/", {"active": "1"})
    q.refresh_from_db()
    assert q.is_active is True


def test_bad_forms_show_errors_and_write_nothing(world, client):
    client.force_login(world.supervisor.user)
    for data in ({"title": "", "items": "满意度|总体"}, {"title": "x", "items": "打分|总体"}, {"title": "x"}):
        response = client.post("/surveys/templates/new/", data)
        assert response.status_code == 422
    assert "请至少填写一道题目" in response.content.decode()
    bad = {"questionnaire": "abc", "site": "\u202e", "starts_on": "2026-02-30", "ends_on": "x", "target": "x"}
    assert client.post("/surveys/batches/new/", bad).status_code == 422
    assert not Questionnaire.objects.exists() and not Batch.objects.exists()


def test_batch_page_with_links_for_supervisors_only(world, client, batch):
    client.force_login(world.supervisor.user)
    page = client.get(f"/surveys/batches/{batch.id}/").content.decode()
    token = batch.invitations.first().token
    assert f"/surveys/s/{token}/" in page and 'id="handed-out">4<' in page
    client.force_login(world.agent.user)
    page = client.get(f"/surveys/batches/{batch.id}/").content.decode()
    assert token not in page and "录入纸质问卷" in page


def test_paper_entry_page(world, client, batch):
    client.force_login(world.frontdesk.user)
    invitation = batch.invitations.get(customer=world.customer)
    url = f"/surveys/batches/{batch.id}/entry/{invitation.id}/"
    assert 'name="q1"' in client.get(url).content.decode()
    response = client.post(url, {"q1": "9"})
    assert response.status_code == 422 and "第 1 题：选项不正确" in response.content.decode()
    response = client.post(url, {"q1": "1", "q4": ["1", "2"], "q5": "电梯常坏"})
    assert response.status_code == 302
    saved = Response.objects.get(invitation=invitation)
    assert saved.entered_by == world.frontdesk and saved.answers.count() == 3
    ticket = Ticket.objects.get(first_responder=world.frontdesk, kind="complaint")
    assert f'data-followup="{ticket.id}"' in client.get(f"/surveys/batches/{batch.id}/").content.decode()
    assert client.post(url, {"q1": "5"}).status_code == 409


def test_outsiders_and_field_roles_see_nothing(world, client, batch):
    invitation = batch.invitations.first()
    urls = [
        f"/surveys/batches/{batch.id}/",
        f"/surveys/batches/{batch.id}/entry/{invitation.id}/",
    ]
    for persona in (world.outsider_agent, world.tech, world.guard):
        client.force_login(persona.user)
        for url in urls:
            assert client.get(url).status_code == 404, (persona, url)
        assert client.post(urls[1], {"q1": "5"}).status_code == 404
        assert f'data-batch="{batch.id}"' not in client.get("/surveys/").content.decode()
    client.force_login(world.agent.user)
    assert client.get("/surveys/templates/new/").status_code == 403
    assert client.post("/surveys/templates/new/", {"title": "x", "items": "满意度|a"}).status_code == 403
    assert client.get("/surveys/batches/new/").status_code == 403
    assert not Response.objects.exists()


def test_customer_link_page(world, client, batch):
    invitation = batch.invitations.get(customer=world.customer)
    url = f"/surveys/s/{invitation.token}/"
    page = client.get(url).content.decode()
    assert 'name="viewport"' in page and "物业服务整体满意度" in page
    assert "张业主" not in page and "sidebar" not in page
    response = client.post(url, {"q1": "5"})
    assert response.status_code == 422 and "第 2 题：请作答" in response.content.decode()
    response = client.post(url, {"q1": "5", "q2": "4", "q3": "2", "q4": "3"})
    assert response.status_code == 200 and "感谢" in response.content.decode()
    assert Response.objects.get(invitation=invitation).channel == "link"
    for method in (client.get, client.post):
        gone = method(url)
        assert gone.status_code == 410 and "已提交" in gone.content.decode()
    unknown = client.get("/surveys/s/not-a-real-token-aaaaaaaaaaaaaaaa/")
    assert unknown.status_code == 404 and "链接无效" in unknown.content.decode()
    with time_machine.travel(datetime(2026, 12, 1, 0, 0, 1, tzinfo=SH), tick=False):
        other = batch.invitations.exclude(pk=invitation.pk).first()
        assert client.get(f"/surveys/s/{other.token}/").status_code == 410


def test_customer_link_is_rate_limited_per_address(world, client, batch):
    url = f"/surveys/s/{batch.invitations.first().token}/"
    codes = [client.post(url, {"q1": "x"}, REMOTE_ADDR="10.1.1.1").status_code for _ in range(RATE_LIMIT + 1)]
    assert codes[:RATE_LIMIT] == [422] * RATE_LIMIT and codes[-1] == 429
    assert client.post(url, {"q1": "x"}, REMOTE_ADDR="10.1.1.2").status_code == 422


@pytest.mark.parametrize("value", ["\x00", "客" * 5000, "-1", "99999999999999999999", "<script>", "\u202e"])
def test_hostile_form_values_are_4xx(world, client, batch, value):
    client.force_login(world.agent.user)
    invitation = batch.invitations.first()
    for url in (f"/surveys/batches/{batch.id}/entry/{invitation.id}/", f"/surveys/s/{invitation.token}/"):
        response = client.post(url, {"q1": value, "q4": [value, value], "q5": value})
        assert 400 <= response.status_code < 500, (url, response.status_code)
    assert not Response.objects.exists()


def test_summary_export_and_print(world, client, batch):
    response_submit(invitation=batch.invitations.first(), answers={1: ["5"]}, channel="paper", actor=world.agent)
    client.force_login(world.supervisor.user)
    page = client.get("/surveys/summary/").content.decode()
    assert 'data-table="department"' in page and "100.0%" in page
    assert 'id="chart-trend"' in page and "vendor/echarts.min.js" in page and '"month_rate": [100.0]' in page
    export = client.get("/surveys/summary/?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    printed = client.get("/surveys/summary/?print=1&start=2026-11-01&end=bad").content.decode()
    assert "签字" in printed and "sidebar" not in printed
    assert "var printing = true" in printed and 'id="chart-items"' in printed and "var printing = false" in page
    client.force_login(world.outsider_agent.user)
    assert "100.0%" not in client.get("/surveys/summary/").content.decode()


def test_batch_page_queries_do_not_grow(world, client, batch, django_assert_max_num_queries):
    client.force_login(world.supervisor.user)
    client.get(f"/surveys/batches/{batch.id}/")
    invitations = list(batch.invitations.all())
    response_submit(invitation=invitations[0], answers={1: ["1"]}, channel="paper", actor=world.agent)
    with django_assert_max_num_queries(20) as few:
        client.get(f"/surveys/batches/{batch.id}/")
    for invitation in invitations[1:]:
        response_submit(invitation=invitation, answers={1: ["2"], 5: ["差"]}, channel="paper", actor=world.agent)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(f"/surveys/batches/{batch.id}/").status_code == 200

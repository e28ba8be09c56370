"""A customer answers a satisfaction survey on a phone: the link from the batch opens without
login, the answers are checked, and a low answer becomes a follow-up ticket."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from kefu.org.models import Role
from kefu.surveys.models import Invitation, Response
from kefu.surveys.services import batch_create, parse_items, questionnaire_create
from kefu.testing import make_customer, make_site, make_staff
from kefu.tickets.models import Ticket

from .test_repair_journey import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_customer_answers_on_a_phone(browser, live_server, shot):
    site = make_site("翠湖花园", code="CH")
    supervisor = make_staff(Role.SUPERVISOR, sites=[site], name="刘主管")
    make_customer(site, supervisor, name="张伟", phone="13912345678", room=("1", "2", "301"))
    questionnaire = questionnaire_create(
        title="2026年四季度业主满意度调查",
        items=parse_items("满意度|物业服务总体满意度\n满意度|维修及时性\n填空|您的其他意见"),
        actor=supervisor,
    )
    batch = batch_create(
        questionnaire=questionnaire,
        site=site,
        name="1号楼",
        starts_on=date.today(),
        ends_on=date.today() + timedelta(days=7),
        target="building",
        buildings=["1"],
        actor=supervisor,
    )
    invitation = Invitation.objects.get(batch=batch)
    url = f"{live_server.url}/surveys/s/{invitation.token}/"

    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = phone.new_page()
    page.goto(url)
    assert "2026年四季度业主满意度调查" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no sideways scroll
    shot(page, "survey-form")
    page.click("button[type=submit]")  # nothing answered: refused with a clear message
    page.wait_for_load_state("networkidle")
    assert "请" in page.content() and Response.objects.count() == 0
    page.check("input[name=q1][value='5']")
    page.check("input[name=q2][value='2']")
    page.fill("textarea[name=q3]", "电梯维修太慢")
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "提交成功" in page.content() or "感谢" in page.content()
    shot(page, "survey-thanks")
    assert Response.objects.filter(invitation=invitation).count() == 1
    followup = Ticket.objects.get()
    assert "维修及时性" in followup.content and followup.customer.name == "张伟"
    # The link works once.
    page.goto(url)
    assert "已提交" in page.content()

    # The supervisor reads the results summary: the answer is in the charts and the tables.
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    office = login(desk, live_server.url, supervisor.user.username)
    office.goto(f"{live_server.url}/surveys/summary/")
    office.wait_for_selector("#chart-trend canvas")
    office.wait_for_selector("#chart-items canvas")
    # Item 1 answered 5 (satisfied), item 2 answered 2: one of two valid answers is satisfied.
    assert "50.0%" in office.inner_text("table[data-table='site']")
    shot(office, "survey-summary")

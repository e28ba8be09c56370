"""Appraisal in the browser: a manager sets up the month, the supervisor scores an agent's
sheet and signs the result off, the agent sees only their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from kefu.appraisal.models import Appraisal
from kefu.appraisal.services import parse_sheet_items, sheet_template_create
from kefu.org.models import Role
from kefu.testing import make_site, make_staff

from .test_repair_journey import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_period_sheet_and_sign_off(browser, live_server, shot):
    site = make_site("翠湖花园", code="CH")
    manager = make_staff(Role.MANAGER, sites=[site], name="李经理", username="manager")
    supervisor = make_staff(Role.SUPERVISOR, sites=[site], name="刘主管", username="supervisor", superior=manager)
    agent = make_staff(Role.AGENT, sites=[site], name="王芳", username="agent", superior=supervisor)
    make_staff(Role.AGENT, sites=[site], name="张丽娟", username="agent2", superior=supervisor)
    items = parse_sheet_items("服务态度|礼貌规范|10\n业务能力|熟悉流程|10")
    sheet = sheet_template_create(name="客服专员月度评分表", role="agent", items=items, actor=manager)
    end = timezone.localdate()
    start = end - timedelta(days=29)

    office = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = login(office, live_server.url, manager.user.username)
    page.click("a[href='/appraisal/']")
    page.fill("#new-period input[name=name]", "本月考核")
    page.fill("#new-period input[name=start]", start.isoformat())
    page.fill("#new-period input[name=end]", end.isoformat())
    page.click("#new-period button[type=submit]")
    page.wait_for_selector("#ranking")
    assert page.locator("#ranking tr[data-staff='王芳']").count() == 1
    shot(page, "ranking")

    lead = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = login(lead, live_server.url, supervisor.user.username)
    result = Appraisal.objects.get(staff=agent)
    page.goto(f"{live_server.url}/appraisal/results/{result.pk}/")
    page.click(f"a[href='/appraisal/results/{result.pk}/sheets/{sheet.pk}/']")
    first, second = sheet.items.all()
    page.fill(f"#item-{first.id}", "9")
    page.fill(f"#item-{second.id}", "7")
    page.click("#sheet-form button[type=submit]")
    page.wait_for_selector("#sheets")
    assert "16 / 20" in page.inner_text("#sheets")
    page.click("#sign")
    page.wait_for_load_state("networkidle")
    assert "已由 刘主管 签核" in page.content()
    shot(page, "signed")
    result.refresh_from_db()
    assert result.sheet_score == 80 and result.signed_by == supervisor

    own = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = login(own, live_server.url, agent.user.username)
    page.goto(f"{live_server.url}/appraisal/periods/{result.period_id}/")
    assert page.locator("#ranking tr[data-staff='王芳']").count() == 1
    assert page.locator("#ranking tr[data-staff='张丽娟']").count() == 0

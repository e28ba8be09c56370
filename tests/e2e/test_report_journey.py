"""A manager opens the monthly report and exports it to Excel; the file's figures are checked."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO
from pathlib import Path

import pytest
from django.utils import timezone
from openpyxl import load_workbook

from kefu.org.models import Department, Role
from kefu.testing import make_customer, make_site, make_staff, make_ticket
from kefu.tickets.models import Ticket

from .test_repair_journey import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_manager_generates_reads_and_exports_the_monthly_report(browser, live_server, shot):
    site = make_site("翠湖花园", code="CH")
    eng = Department.objects.create(name="工程部", kind="engineering")
    manager = make_staff(Role.MANAGER, sites=[site], name="李经理", username="manager")
    agent = make_staff(Role.AGENT, sites=[site], name="刘专员", username="agent")
    customer = make_customer(site, agent, name="张伟", phone="13912345678", room=("3", "1", "502"))
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=10)
    when = timezone.make_aware(timezone.datetime.combine(last_month, timezone.datetime.min.time())) + timedelta(hours=9)
    kinds = ["repair", "repair", "repair", "complaint", "inquiry"]
    for kind in kinds:
        ticket = make_ticket(
            site, agent, kind=kind, customer=customer, content="楼道灯不亮" if kind != "complaint" else "保安态度差"
        )
        Ticket.objects.filter(pk=ticket.pk).update(created_at=when, department=eng)

    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", accept_downloads=True)
    page = login(desk, live_server.url, manager.user.username)
    page.click("a[href='/reports/']")
    page.click("a[href^='/reports/monthly/']")
    page.click("#generate button[type=submit]")  # last month is the default
    page.wait_for_selector("[data-kpi='received']")
    page.wait_for_selector("#chart-kinds canvas")
    assert page.inner_text("[data-kpi='received'] strong") == "5"
    assert "本月共受理工单 5 张" in page.input_value("textarea[name=summary]")
    shot(page, "monthly-report")
    page.fill("textarea[name=summary]", "本月报修集中在楼道照明，已安排统一更换。")
    page.click("#summary-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    with page.expect_download() as caught:
        page.click("#export")
    book = load_workbook(BytesIO(Path(caught.value.path()).read_bytes()), read_only=True)
    overview = {row[0]: row[1:] for row in book["概况"].iter_rows(min_row=2, values_only=True)}
    assert overview["受理"][0] == 5 and overview["工作小结"][0] == "本月报修集中在楼道照明，已安排统一更换。"
    volume = {row[0]: row[1] for row in book["工单量"].iter_rows(min_row=2, values_only=True)}
    assert volume == {"报修": 3, "投诉": 1, "咨询": 1, "合计": 5}

"""The main journey: front desk takes a repair call → auto-dispatched → technician accepts,
arrives and completes on a phone → agent records the customer's confirmation → closed."""

from __future__ import annotations

import pytest

from kefu.org.models import Department, Role, Skill
from kefu.testing import PASSWORD, make_category, make_customer, make_site, make_staff
from kefu.tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def login(context, base: str, username: str):
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
    return page


def test_repair_call_to_closed(browser, live_server, shot):
    site = make_site("翠湖花园", code="CH")
    eng = Department.objects.create(name="工程部", kind="engineering")
    water = Skill.objects.create(name="水电")
    clerk = make_staff(Role.FRONTDESK, sites=[site], name="陈前台", username="desk")
    tech = make_staff(Role.TECHNICIAN, sites=[site], department=eng, skills=[water], name="王师傅", username="tech")
    agent = make_staff(Role.AGENT, sites=[site], name="刘专员", username="agent")
    parent = make_category("报修", department=eng, kinds=["repair"])
    make_category("给排水", parent=parent, skill=water, kinds=["repair"])
    make_customer(site, agent, name="张伟", phone="13912345678", room=("3", "1", "502"))
    base = live_server.url

    # 1. Front desk: find the caller by the last four digits, take the repair.
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = login(desk, base, clerk.user.username)
    page.goto(f"{base}/tickets/intake/")
    assert page.evaluate("typeof htmx") == "object", "htmx not loaded"
    page.fill("#lookup-q", "5678")
    page.wait_for_selector("[data-customer]")
    shot(page, "lookup")
    page.click("[data-customer]")
    page.wait_for_selector("input[name=customer]", state="attached")
    page.select_option("#f-kind", "repair")
    page.select_option("#f-category", label="报修 / 给排水")
    page.fill("#f-content", "卫生间水管爆裂，水流不止，请尽快上门")
    shot(page, "intake-form")
    page.click("#intake-form button[type=submit]")
    page.wait_for_selector("#ticket-status")
    assert page.inner_text("#ticket-status") == "已派单"
    assert "王师傅" in page.content()
    shot(page, "dispatched")
    ticket = Ticket.objects.get()
    assert ticket.first_responder == clerk and ticket.assignee == tech

    # 2. Technician on a phone: accept, arrive, complete with a work report.
    phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, locale="zh-CN")
    page = login(phone, base, tech.user.username)
    page.goto(f"{base}/tickets/m/")
    page.click(f"[data-ticket='{ticket.number}']")
    shot(page, "tech-detail")
    page.click("button[data-action=accept]")
    page.wait_for_selector("text=接单成功")
    page.click("button[data-action=arrive]")
    page.wait_for_selector("text=到场成功")
    page.click("button[data-dialog=dlg-complete]")
    page.fill("#dlg-complete textarea[name=work_notes]", "更换三通阀门一个，试水正常")
    page.fill("#dlg-complete input[name=materials]", "三通阀门 1 个")
    page.fill("#dlg-complete input[name=work_hours]", "1.5")
    shot(page, "tech-complete")
    page.click("#dlg-complete button[type=submit]")
    page.wait_for_selector("text=完成成功")
    assert page.inner_text("#ticket-status") == "待确认"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")  # no horizontal scroll
    shot(page, "tech-done")

    # 3. Agent records the customer's confirmation by phone, then closes.
    office = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = login(office, base, agent.user.username)
    page.goto(f"{base}/tickets/{ticket.pk}/")
    page.click("button[data-dialog=dlg-confirm]")
    page.select_option("#dlg-confirm select[name=method]", "phone")
    page.click("#dlg-confirm button[type=submit]")
    page.wait_for_selector("text=客户确认成功")
    page.click("button[data-action=close]")
    page.wait_for_selector("text=关闭成功")
    assert page.inner_text("#ticket-status") == "已关闭"
    shot(page, "closed")

    ticket.refresh_from_db()
    assert ticket.status == "closed"
    assert [e.type for e in ticket.events.all()] == [
        "created",
        "dispatch",
        "accept",
        "arrive",
        "complete",
        "visit_planned",
        "confirm",
        "close",
    ]

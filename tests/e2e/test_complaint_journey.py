"""The complaint journey, six steps in a real browser: an agent takes a major complaint (the
manager is told at once) and judges it valid → the supervisor reports the investigation and
proposes two solutions → the manager finds it in 待我批示, picks one and signs it → the
supervisor records the implementation → the agent records the customer's confirmation → the
supervisor sums it up."""

from __future__ import annotations

import pytest

from kefu.notify.models import Notification
from kefu.org.models import Department, Role
from kefu.testing import make_category, make_customer, make_site, make_staff
from kefu.tickets.models import Complaint, Ticket

from .test_repair_journey import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def step_of(page) -> str:
    return page.get_attribute("ol.stepper li[aria-current=step]", "data-step") or ""


def test_complaint_six_steps(browser, live_server, shot):
    site = make_site("翠湖花园", code="CH")
    service = Department.objects.create(name="客服部", kind="service")
    manager = make_staff(Role.MANAGER, sites=[site], name="李经理", username="manager")
    supervisor = make_staff(
        Role.SUPERVISOR, sites=[site], department=service, superior=manager, name="刘主管", username="sup"
    )
    agent = make_staff(
        Role.AGENT, sites=[site], department=service, superior=supervisor, name="王专员", username="agent"
    )
    make_category("服务态度", kinds=["complaint"])
    make_customer(site, agent, name="张伟", phone="13912345678", room=("3", "1", "502"))
    base = live_server.url

    def desk():
        """A fresh browser window for each person at their own desk."""
        return browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")

    # 1. The agent takes the complaint, flagged major.
    page = login(desk(), base, agent.user.username)
    page.goto(f"{base}/tickets/intake/")
    page.fill("#lookup-q", "5678")
    page.wait_for_selector("[data-customer]")
    page.click("[data-customer]")
    page.wait_for_selector("input[name=customer]", state="attached")
    page.select_option("#f-kind", "complaint")
    page.fill("#f-content", "前台工作人员态度恶劣，对我大声呵斥")
    page.check("input[name=major]")
    page.click("#intake-form button[type=submit]")
    page.wait_for_selector("#complaint")
    ticket = Ticket.objects.get()
    assert ticket.is_major and step_of(page) == "judge"
    assert Notification.objects.filter(recipient=manager, event="complaint.major").exists()
    shot(page, "complaint-registered")

    # 2. Judged valid.
    page.fill("#step-form textarea[name=reason]", "调取监控，情况属实")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("text=已判定：投诉成立")
    assert step_of(page) == "investigate"

    # 3–4. The supervisor investigates and proposes two solutions.
    page = login(desk(), base, supervisor.user.username)
    page.goto(f"{base}/tickets/{ticket.pk}/")
    page.fill("#step-form textarea[name=cause]", "当班前台情绪失控，未按服务规范接待")
    page.select_option("#step-form select[name=responsible_department]", label="客服部")
    page.wait_for_selector("#responsible-person option:has-text('王专员')", state="attached")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("text=调查结果已提交")
    assert step_of(page) == "propose"
    boxes = page.locator("#step-form textarea[name=proposal]")
    boxes.nth(0).fill("主管上门致歉，当事人书面检讨")
    boxes.nth(1).fill("赠送一个月停车费")
    shot(page, "complaint-proposals")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("text=处理方案已提交，等待批示")

    # 4. The manager signs it from 待我批示.
    page = login(desk(), base, manager.user.username)
    assert page.inner_text("#approvals-waiting") == "1"
    page.click("a[href='/tickets/approvals/']")
    page.click(f"[data-ticket='{ticket.number}'] a.btn")
    page.check("#step-form label:has-text('主管上门致歉') input[type=radio]")
    page.fill("#step-form textarea[name=instruction]", "同意方案一，今日内落实")
    shot(page, "complaint-instruction")
    page.click("#step-form button[type=submit]:has-text('选定并批示')")
    page.wait_for_selector("text=已批示，进入方案实施")
    assert step_of(page) == "implement"

    # 5. Implemented, then the customer confirms.
    page = login(desk(), base, supervisor.user.username)
    page.goto(f"{base}/tickets/{ticket.pk}/")
    page.fill("#step-form textarea[name=implementation]", "已上门致歉，客户接受")
    page.fill("#step-form input[name=penalty]", "当事人通报批评")
    page.select_option("#step-form select[name=notify_method]", "onsite")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("text=实施情况已记录")
    page = login(desk(), base, agent.user.username)
    page.goto(f"{base}/tickets/{ticket.pk}/")
    page.select_option("#step-form select[name=method]", "onsite")
    page.click("#step-form button[type=submit]:has-text('客户已确认')")
    page.wait_for_selector("text=客户确认成功")
    assert step_of(page) == "summarize"

    # 6. The supervisor sums it up.
    page = login(desk(), base, supervisor.user.username)
    page.goto(f"{base}/tickets/{ticket.pk}/")
    page.select_option("#step-form select[name=classification]", label="服务态度")
    page.fill("#step-form textarea[name=root_cause]", "服务规范培训不到位")
    page.fill("#step-form textarea[name=improvement]", "每月服务礼仪培训并考核")
    page.click("#step-form button[type=submit]")
    page.wait_for_selector("text=投诉已总结归档")
    assert page.locator("ol.stepper li.done").count() == 6
    shot(page, "complaint-summarized")
    ticket.refresh_from_db()
    complaint = Complaint.objects.get(pk=ticket.pk)
    assert ticket.status == "resolved" and complaint.chosen.text == "主管上门致歉，当事人书面检讨"
    assert complaint.classification.name == "服务态度"

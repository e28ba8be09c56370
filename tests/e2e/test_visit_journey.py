"""The return-visit journey: a repair is completed and confirmed → its visit appears in the
agent's queue → the agent calls with the script, the customer is dissatisfied → the repair
reopens, and the chain shows on the ticket."""

from __future__ import annotations

import pytest

from kefu.org.models import Department, Role
from kefu.testing import make_customer, make_site, make_staff, make_ticket
from kefu.tickets.models import Ticket
from kefu.tickets.services import ticket_confirm, ticket_dispatch, ticket_transition
from kefu.visits.models import Visit

from .test_repair_journey import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_dissatisfied_visit_reopens_the_repair(browser, live_server, shot):
    site = make_site("翠湖花园", code="CH")
    eng = Department.objects.create(name="工程部", kind="engineering")
    tech = make_staff(Role.TECHNICIAN, sites=[site], department=eng, name="王师傅", username="tech")
    agent = make_staff(Role.AGENT, sites=[site], name="刘专员", username="agent")
    customer = make_customer(site, agent, name="张伟", phone="13912345678", room=("3", "1", "502"))
    ticket = make_ticket(site, agent, customer=customer, auto_dispatch=False, content="厨房水龙头漏水")
    ticket_dispatch(ticket=ticket, actor=agent, version=ticket.version, assignee=tech)
    for action in ("accept", "arrive"):
        ticket_transition(ticket=ticket, action=action, actor=tech, version=ticket.version)
    ticket_transition(ticket=ticket, action="complete", actor=tech, version=ticket.version, note="更换阀芯")
    ticket_confirm(ticket=ticket, actor=agent, version=ticket.version, confirmed_by="张伟", method="phone")
    visit = Visit.objects.get(ticket=ticket)
    base = live_server.url

    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = login(desk, base, agent.user.username)
    page.click("a[href='/visits/']")
    page.click("a[data-state='']")
    page.wait_for_selector(f"[data-visit='{visit.id}']")
    shot(page, "visit-queue")
    page.click(f"[data-visit='{visit.id}'] a.btn")
    page.wait_for_selector("#script")
    assert "请问您对这次服务满意吗" in page.inner_text("#script")
    page.check("#visit-form input[name=result][value=dissatisfied]")
    page.fill("#visit-form textarea[name=notes]", "客户说用了两天又开始滴水")
    page.fill("#visit-form input[name=reason]", "水龙头仍然漏水")
    shot(page, "visit-dissatisfied")
    page.click("#visit-form button[type=submit]:has-text('保存回访结果')")
    page.wait_for_selector("text=回访已记录")
    assert page.inner_text("#visit-result") == "不满意"

    page.click(f"a[href='/tickets/{ticket.pk}/']")
    page.wait_for_selector("#ticket-status")
    assert page.inner_text("#ticket-status") == "已受理"  # reopened, to be dispatched again
    timeline = page.inner_text("ul.timeline")
    assert "回访结果：不满意" in timeline and "重新打开" in timeline
    shot(page, "ticket-reopened")
    ticket.refresh_from_db()
    assert ticket.reopen_count == 1 and ticket.status == "received"
    assert Ticket.objects.count() == 1


def test_visit_report_draws_its_charts(browser, live_server, shot):
    site = make_site("翠湖花园", code="CH")
    manager = make_staff(Role.MANAGER, sites=[site], name="李经理", username="manager")
    agent = make_staff(Role.AGENT, sites=[site], name="刘专员", username="agent")
    customer = make_customer(site, agent, name="张伟", phone="13912345678", room=("3", "1", "502"))
    from django.utils import timezone

    now = timezone.now()
    for result in ("satisfied", "satisfied", "dissatisfied"):
        Visit.objects.create(site=site, customer=customer, assignee=agent, status="done", result=result,
                             due_at=now, done_at=now)  # fmt: skip
    desk = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN")
    page = login(desk, live_server.url, manager.user.username)
    page.click("a[href='/visits/report/']")
    page.wait_for_selector("#chart-results canvas")
    page.wait_for_selector("#chart-visitors canvas")
    assert page.inner_text("#k-done") == "3"
    shot(page, "visit-report")

"""``build_demo``: the whole demo company in one transaction, in a fixed order."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from kefu.appraisal.models import Appraisal, RewardPenalty, SheetTemplate
from kefu.appraisal.services import period_compute, period_create, sheet_submit, sheet_template_create
from kefu.customers.models import Customer, Unit
from kefu.org.models import Role, Site, Staff
from kefu.reports.models import MonthlyReport
from kefu.reports.services import monthly_report_build
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import Ticket
from kefu.tickets.search import reindex_all
from kefu.tickets.services.cards import sla_sweep
from kefu.visits.services import visit_create_for_ticket, visits_overdue_sweep

from . import builders, data
from .aftercare import build_aftercare
from .plans import Planner
from .reference import Reference, seed_reference_data
from .tickets import Writer


@dataclass
class Options:
    customers: int = 500
    tickets: int = 3000
    days: int = 90
    seed: int = data.SEED


@dataclass
class Outcome:
    built: bool
    reference_created: int = 0
    timings: list[tuple[str, float]] = field(default_factory=list)


def demo_exists() -> bool:
    return bool(builders.demo_sites())


def build_demo(
    options: Options, *, reset: bool = False, anchor: datetime | None = None, say: Callable[[str], None] = print
) -> Outcome:
    """Seed the reference data, then build the demo company unless it is already there
    (``reset`` removes it first). All or nothing: a failure leaves the database as it was."""
    anchor = (anchor or timezone.now()).replace(microsecond=0)
    timings: list[tuple[str, float]] = []
    clock = time.monotonic()

    def lap(label: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings.append((label, now - clock))
        say(f"  {label}：{now - clock:.1f} 秒")
        clock = now

    with transaction.atomic():
        ref = seed_reference_data()
        if demo_exists() and not reset:
            return Outcome(False, ref.created)
        if reset:
            builders.wipe()
            lap("清除旧演示数据")
        skip = builders.check_free()
        _build(options, ref, anchor, lap, skip)
    return Outcome(True, ref.created, timings)


def _build(options: Options, ref: Reference, anchor: datetime, lap: Callable[[str], None], skip: set[str]) -> None:
    rng = random.Random(options.seed)
    phones = builders.PhoneBook(rng)
    sites, staff = builders.build_org(rng, ref, phones, skip=skip)
    units = builders.build_units(sites)
    lap(f"项目、员工与房屋（{len(staff)} 名员工，{sum(len(u) for u in units.values())} 套房屋）")
    clients = builders.build_customers(
        rng, count=options.customers, sites=sites, units=units, staff=staff, phones=phones, anchor=anchor
    )
    lap(f"客户档案（{sum(len(c) for c in clients.values())} 位）")
    planner = Planner(
        rng, ref=ref, sites=sites, staff=staff, clients=clients, phones=phones, anchor=anchor, days=options.days
    )
    plans = planner.plans(options.tickets)
    Writer(plans, sites, staff).run()
    lap(f"工单及处理记录（{len(plans)} 张）")
    # The warning cards the history earned, each dated when it fell due; nobody is notified
    # of the past.
    swept = sla_sweep(now=anchor, quiet=True, limit=10**9)
    lap(f"警告卡（{swept.cards} 张）")
    after = build_aftercare(
        random.Random(options.seed + 1), anchor=anchor, sites=sites, staff=staff, clients=clients, lap=lap
    )
    planned = plan_open_visits(anchor) + after.visits_open
    late = visits_overdue_sweep(now=anchor, quiet=True, limit=10**9)
    lap(f"待回访任务（{planned} 个，其中超期 {late} 个）")
    built = monthly_reports(anchor, sites.values())
    lap(f"客服月报（{built} 份）")
    appraised = appraisal_period(anchor, sites.values(), staff)
    lap(f"绩效考核（上月，{appraised} 人）")
    indexed = reindex_all()
    lap(f"工单检索索引（{indexed} 张）")


def monthly_reports(anchor: datetime, sites: Iterable[Site]) -> int:
    """Last month's report of each site, built as the worker builds it on the 1st."""
    month = (timezone.localtime(anchor).date().replace(day=1) - timedelta(days=1)).replace(day=1)
    built = 0
    for site in sites:
        report = MonthlyReport.objects.create(site=site, month=month)
        built += monthly_report_build(report.pk).status == MonthlyReport.Status.READY
    return built


def appraisal_period(anchor: datetime, sites: Iterable[Site], staff: dict[str, Staff]) -> int:
    """Last month's appraisal of everyone, computed from the demo's data, with a reward and a
    penalty in the ledger and the supervisor's sheet for one agent."""
    end = timezone.localtime(anchor).date().replace(day=1) - timedelta(days=1)
    start, sites = end.replace(day=1), list(sites)
    director, supervisor = staff["director"], staff["supervisor"]
    estate = sites[0]
    RewardPenalty.objects.create(
        staff=staff["tech"], site=estate, day=start + timedelta(days=9), kind="reward", points=5, amount=200,
        reason="暴雨夜间抢修地下车库排水", created_by=supervisor,
    )  # fmt: skip
    RewardPenalty.objects.create(
        staff=staff["agent2"], site=estate, day=start + timedelta(days=15), kind="penalty", points=2,
        reason="未按规定时间回访", created_by=supervisor,
    )  # fmt: skip
    period = period_create(name=f"{start:%Y年%m月}考核", start=start, end=end, sites=sites, actor=director)
    count = period_compute(period=period, actor=director)
    template = SheetTemplate.objects.filter(role="").first() or sheet_template_create(
        name="客服专员月度评分表",
        role="",
        items=[("服务态度", "接听电话礼貌、规范", 10), ("服务态度", "首问负责、不推诿", 10),
               ("业务能力", "熟悉收费标准和报修流程", 10), ("工作纪律", "按时到岗、按规定回访", 10)],
        actor=director,
    )  # fmt: skip
    agent = Appraisal.objects.get(period=period, staff=staff["agent"])
    scores = {str(item.id): str(item.max_score - 1) for item in template.items.all()}
    sheet_submit(appraisal=agent, template=template, actor=supervisor, scores=scores)
    return count


def plan_open_visits(anchor: datetime) -> int:
    """The return visits still to be made: those of tickets the handler finished and that are
    not closed yet, planned as the visits app does at completion. Those past their deadline
    are overdue, and the sweep that follows gives them their cards."""
    recent = Ticket.objects.filter(
        completed_at__lte=anchor,
        status__in=[Status.PENDING_CONFIRM, Status.RESOLVED, Status.SUMMARIZING],
    ).select_related("customer", "first_responder")
    planned = 0
    for ticket in recent.order_by("completed_at"):
        if ticket.completed_at is not None and visit_create_for_ticket(ticket=ticket, at=ticket.completed_at):
            planned += 1
    return planned


def summary() -> list[str]:
    """A few lines about what the demo holds now."""
    sites = builders.demo_sites()
    tickets = Ticket.objects.filter(site__in=sites)
    statuses = Counter(tickets.values_list("status", flat=True))
    labels = dict(Ticket._meta.get_field("status").choices or [])
    by_status = "，".join(f"{labels.get(s, s)} {n}" for s, n in statuses.most_common())
    return [
        f"项目 {len(sites)} 个：{'、'.join(s.name for s in sites)}",
        f"员工 {len(builders.demo_staff())} 名，房屋 {Unit.objects.filter(site__in=sites).count()} 套，"
        f"客户 {Customer.objects.filter(site__in=sites).count()} 位",
        f"工单 {tickets.count()} 张（{by_status}），其中超时未办结 {tickets.overdue().count()} 张",
    ]


def account_rows() -> list[tuple[str, str, str, str, str]]:
    """One demo account per role: (岗位, 用户名, 密码, 姓名, 项目). An ``admin`` that was there
    before the demo keeps its own password."""
    staff = {s.user.username: s for s in builders.demo_staff()}
    rows = []
    for username in data.ROLE_ACCOUNTS:
        member: Staff | None = staff.get(username)
        password = data.PASSWORD
        if member is None:
            member = Staff.objects.filter(user__username=username, role=Role.ADMIN).first()
            password = "（原有密码）"
        if member is None:
            continue
        if member.role in (Role.DIRECTOR, Role.ADMIN):
            scope = "全部项目"
        else:
            scope = "、".join(Site.objects.filter(staff=member).values_list("name", flat=True))
        role = str(Role(member.role).label)
        if member.department and member.role == Role.DEPT_STAFF:
            role = f"{role}（{member.department.name}）"
        rows.append((role, username, password, member.name, scope))
    return rows

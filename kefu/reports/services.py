"""The monthly report (客服月报): asked for by a manager or by the calendar, built by the
worker from the report queries, kept as it was, with a summary the manager writes."""

from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.org.models import Role, Site, Staff
from kefu.org.queries import site_ids_for
from kefu.tickets.lifecycle import Kind, Status

from . import queries
from .filters import ReportFilters
from .models import MonthlyReport

logger = logging.getLogger(__name__)

WRITERS = frozenset({Role.MANAGER, Role.DIRECTOR})
MAX_SUMMARY = 5000


def month_end(month: date) -> date:
    return (month.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def monthly_figures(site: Site, month: date, *, now: Any = None) -> dict[str, Any]:
    """Everything the report shows, as plain JSON, computed from the report queries."""
    f = ReportFilters(start=month, end=month_end(month), site_ids=frozenset({site.id}))
    volume = queries.volume(f, "kind")
    channels = queries.volume(f, "channel")
    sla = queries.sla_compliance(f, "department", now=now)
    steps = queries.complaint_steps(f)
    trend = queries.satisfaction_trend(f)["rows"]
    cards = queries.cards_by_person(f)
    notable = (
        f.tickets()
        .filter(kind=Kind.COMPLAINT)
        .exclude(status=Status.CANCELLED)
        .filter(Q(is_major=True) | Q(complaint__refusals__gt=0) | Q(reopen_count__gt=0) | Q(completed_at__isnull=True))
        .select_related("complaint__responsible_department")
        .order_by("-is_major", "created_at")[:10]
    )

    def compliance(row: queries.Compliance) -> dict[str, Any]:
        return {"label": row.label, "tickets": row.tickets, "respond_rate": row.respond_rate,
                "arrive_rate": row.arrive_rate, "resolve_rate": row.resolve_rate}  # fmt: skip

    return {
        "site": site.name,
        "start": f.start.isoformat(),
        "end": f.end.isoformat(),
        "kpis": queries.dashboard(f, now=now),
        "volume": {"total": volume.total, "rows": volume.rows, "by_day": volume.series, "days": volume.buckets},
        "channels": channels.rows,
        "top_categories": [asdict(r) for r in queries.pareto(f, "category")[:10]],
        "sla": {"rows": [compliance(r) for r in sla["rows"]], "overall": compliance(sla["overall"])},
        "satisfaction": trend[0] if trend else {},
        "cards": {
            "totals": cards["totals"],
            "top": [{k: p[k] for k in ("name", "blue", "yellow", "red", "total")} for p in cards["rows"][:10]],
        },
        "complaints": {
            "steps": steps,
            "notable": [
                {
                    "number": t.number,
                    "content": t.content[:120],
                    "status": str(t.get_status_display()),
                    "major": t.is_major,
                    "department": t.complaint.responsible_department.name
                    if hasattr(t, "complaint") and t.complaint.responsible_department
                    else "",
                }
                for t in notable
            ],
        },
    }


def draft_summary(figures: dict[str, Any]) -> str:
    """A first draft of the written summary from the figures; the manager rewrites it."""
    k = {row["key"]: row for row in figures["kpis"]}

    def value(key: str, unit: str = "") -> str:
        v = k[key]["value"]
        return "—" if v is None else f"{v}{unit}"

    top = "、".join(r["label"] for r in figures["top_categories"][:3]) or _("无")
    complaints = figures["complaints"]["steps"][0]["n"] if figures["complaints"]["steps"] else 0
    major = sum(1 for c in figures["complaints"]["notable"] if c["major"])
    previous = k["received"]["previous"]
    return _(
        "本月共受理工单 {received} 张（上月 {previous} 张），办结 {handled} 张；"
        "响应按时率 {respond}，办结按时率 {resolve}；一次解决率 {fcr}；回访满意率 {visit}；"
        "发出警告卡 {cards} 张。受理投诉 {complaints} 件，其中重大投诉 {major} 件。问题主要集中在：{top}。"
    ).format(
        received=value("received"), previous="—" if previous is None else previous,
        handled=value("handled"), respond=value("respond_rate", "%"), resolve=value("resolve_rate", "%"),
        fcr=value("first_contact_rate", "%"), visit=value("visit_satisfied_rate", "%"), cards=value("cards"),
        complaints=complaints, major=major, top=top,
    )  # fmt: skip


def _check_month(month: date | None) -> date:
    if month is None:
        raise ValidationFailed(_("请选择月份"), field="month")
    month = month.replace(day=1)
    if month > timezone.localdate().replace(day=1):
        raise ValidationFailed(_("不能生成未来月份的月报"), field="month")
    if month.year < 2000:
        raise ValidationFailed(_("月份不正确"), field="month")
    return month


def monthly_report_request(*, site: Site, month: date | None, actor: Staff | None) -> MonthlyReport:
    """Ask for the month's report (again): it is built by the worker once this commits.
    Managers and directors of the site; ``actor`` None is the calendar's own request."""
    if actor is not None:
        if actor.role not in WRITERS:
            raise PermissionDenied(_("只有客服经理和总监可以生成月报"))
        if site.id not in site_ids_for(actor):
            raise PermissionDenied(_("无权生成该项目的月报"))
    month = _check_month(month)
    with transaction.atomic():
        report, _created = MonthlyReport.objects.select_for_update().get_or_create(site=site, month=month)
        MonthlyReport.objects.filter(pk=report.pk).update(
            status=MonthlyReport.Status.PENDING, requested_by=actor, requested_at=timezone.now(), error=""
        )
        report.refresh_from_db()
        transaction.on_commit(lambda: _enqueue(report.pk), robust=True)
    return report


def _enqueue(pk: int) -> None:
    from .tasks import build_monthly_report

    build_monthly_report(pk)


def monthly_report_build(pk: int) -> MonthlyReport:
    """Compute and keep the figures; a summary nobody has edited yet is redrafted."""
    report = MonthlyReport.objects.select_related("site").get(pk=pk)
    try:
        figures = monthly_figures(report.site, report.month)
    except Exception as exc:  # a report must say it failed rather than stay pending
        logger.exception("monthly report %s failed", pk)
        MonthlyReport.objects.filter(pk=pk).update(status=MonthlyReport.Status.FAILED, error=str(exc)[:500])
        report.refresh_from_db()
        return report
    fields: dict[str, Any] = {"figures": figures, "status": MonthlyReport.Status.READY, "generated_at": timezone.now()}
    if report.summary_at is None:  # nobody has rewritten the draft yet
        fields["summary"] = draft_summary(figures)
    MonthlyReport.objects.filter(pk=pk).update(**fields)
    report.refresh_from_db()
    return report


def monthly_report_summary_update(*, report: MonthlyReport, actor: Staff, version: int, summary: str) -> MonthlyReport:
    if actor.role not in WRITERS or report.site_id not in site_ids_for(actor):
        raise PermissionDenied(_("只有客服经理和总监可以修改月报小结"))
    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed(_("请填写工作小结"), field="summary")
    if len(summary) > MAX_SUMMARY:
        raise ValidationFailed(_("工作小结不能超过 {n} 字").format(n=MAX_SUMMARY), field="summary")
    updated = MonthlyReport.objects.filter(pk=report.pk, version=version).update(
        summary=summary, summary_by=actor, summary_at=timezone.now(), version=version + 1
    )
    if not updated:
        raise Conflict(_("月报已被他人修改，请刷新后重试"))
    report.refresh_from_db()
    return report


def monthly_reports_for_last_month(today: date | None = None) -> int:
    """On the 1st: ask for last month's report of every active site that has none yet."""
    today = today or timezone.localdate()
    month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    asked = 0
    for site in Site.objects.filter(is_active=True).exclude(monthly_reports__month=month):
        monthly_report_request(site=site, month=month, actor=None)
        asked += 1
    return asked

"""Return-visit pages: the queue and the workspace (script, summary, the call's outcome)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError, PermissionDenied, ValidationFailed
from kefu.core.excel import download, workbook
from kefu.core.web import paginate, parse_date
from kefu.customers.models import Tag
from kefu.org.models import Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES, can
from kefu.org.queries import site_ids_for, sites_for
from kefu.org.web import current_site_ids, staff_view
from kefu.tickets.views.complaints import parse_local

from . import services
from .models import Visit, VisitCampaign, VisitScript
from .queries import campaigns_for, member_coverage, queue, script_for, visit_get_for_user, visit_report, visits_for

STATES = {
    "ready": gettext_lazy("可以拨打"),
    "waiting": gettext_lazy("预约/待重拨"),
    "overdue": gettext_lazy("已超期"),
    "": gettext_lazy("全部待回访"),
    "done": gettext_lazy("已结束"),
}
SCRIPT_PARTS = ("opening", "question", "satisfied", "ordinary", "dissatisfied", "closing_satisfied", "closing_other")


@staff_view
def visit_queue(request: HttpRequest, me: Staff) -> HttpResponse:
    state = request.GET.get("state", "ready")
    if state not in STATES:
        state = "ready"
    qs = visits_for(me).filter(site_id__in=current_site_ids(request, me))
    if request.GET.get("mine") == "1" or me.role not in SUPERVISING_ROLES:
        qs = qs.filter(assignee=me)
    page = paginate(request, queue(qs, state))
    return render(
        request,
        "visits/queue.html",
        {
            "page_title": _("回访任务"),
            "page": page,
            "rows": page.object_list,
            "state": state,
            "states": STATES,
            "now": timezone.now(),
            "supervising": me.role in SUPERVISING_ROLES,
        },
    )


def _context(me: Staff, visit: Visit) -> dict[str, Any]:
    script = script_for(visit)
    ticket = visit.ticket
    service, date_text = (visit.campaign.name if visit.campaign else ""), ""
    if ticket is not None:
        service = ticket.category.name if ticket.category else ticket.get_kind_display()
        date_text = timezone.localtime(ticket.completed_at or ticket.created_at).strftime("%m月%d日")
    fill = {
        "site": visit.site.name,
        "agent": me.name,
        "customer": visit.contact_name or (visit.customer.name if visit.customer else ""),
        "date": date_text,
        "service": service,
    }
    lines = {}
    if script is not None:
        for name in SCRIPT_PARTS:
            text = getattr(script, name)
            try:
                lines[name] = text.format(**fill)
            except (KeyError, IndexError, ValueError):
                lines[name] = text
    return {
        "page_title": _("回访 {who}").format(who=fill["customer"]),
        "v": visit,
        "t": ticket,
        "script": lines,
        "calls": list(visit.calls.select_related("by")),
        "results": Visit.Result.choices,
        "can_act": visit.is_open and (me.id == visit.assignee_id or me.role in SUPERVISING_ROLES),
        "see_phone": can(me.role, "customers.see_phone"),
        "now": timezone.now(),
    }


@staff_view
def visit_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    visit = visit_get_for_user(staff=me, pk=pk)
    return render(request, "visits/workspace.html", _context(me, visit))


@staff_view
@require_POST
def visit_action(request: HttpRequest, me: Staff, pk: int, action: str) -> HttpResponse:
    """One URL per action: record, unreachable, appoint."""
    visit = visit_get_for_user(staff=me, pk=pk)
    post = request.POST
    try:
        version = int(post.get("version", ""))
    except ValueError:
        version = -1
    try:
        if action == "record":
            services.visit_record(
                visit=visit,
                actor=me,
                version=version,
                result=post.get("result", ""),
                notes=post.get("notes", ""),
                reason=post.get("reason", ""),
            )
            text = _("回访已记录")
            if visit.followup_id:
                text = _("回访已记录，已生成投诉 {number}").format(
                    number=visit.followup.number if visit.followup else ""
                )
        elif action == "unreachable":
            services.visit_unreachable(visit=visit, actor=me, version=version, note=post.get("note", ""))
            text = _("已记录未接通") if visit.is_open else _("已达最多拨打次数，回访结束（无法联系）")
        elif action == "appoint":
            at = parse_local(post.get("at"), "at")
            services.visit_appoint(visit=visit, actor=me, version=version, at=at, note=post.get("note", ""))
            text = _("已预约回访时间")
        else:
            raise Http404(_("不支持的操作"))
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
        fresh = visit_get_for_user(staff=me, pk=pk)
        status = exc.status_code if exc.status_code in (403, 409, 422) else 400
        return render(request, "visits/workspace.html", _context(me, fresh), status=status)
    messages.success(request, text)
    return redirect("visits:detail", pk=visit.pk)


# --- periodic and campaign visits, member coverage ------------------------------------------


@staff_view
def campaigns(request: HttpRequest, me: Staff) -> HttpResponse:
    """回访计划: the plans so far, with progress, and a form to draw a new one."""
    if me.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以制定回访计划"))
    errors: dict[str, list[str]] = {}
    data = request.POST if request.method == "POST" else None
    if data is not None:
        site = Site.objects.filter(pk=_int(data.get("site")), id__in=site_ids_for(me)).first()
        try:
            if site is None:
                raise ValidationFailed(_("请选择项目"), field="site")
            campaign = services.campaign_create(
                site=site,
                name=data.get("name", ""),
                kind=data.get("kind", ""),
                start=parse_date(data.get("start")),
                end=parse_date(data.get("end")),
                tags=data.getlist("tags"),
                building=data.get("building", ""),
                older_than_days=_int(data.get("older_than_days")) or None,
                script=VisitScript.objects.filter(pk=_int(data.get("script")), is_active=True).first(),
                actor=me,
            )
        except DomainError as exc:
            errors = exc.fields or {"": [exc.message]}
            messages.error(request, _("操作失败：{message}").format(message=exc.message))
        else:
            messages.success(request, _("已生成 {n} 个回访任务").format(n=campaign.total))
            return redirect("visits:campaigns")
    page = paginate(request, campaigns_for(current_site_ids(request, me)))
    return render(
        request,
        "visits/campaigns.html",
        {
            "page_title": _("回访计划"),
            "page": page,
            "rows": page.object_list,
            "sites": sites_for(me),
            "kinds": VisitCampaign.Kind.choices,
            "tags": Tag.objects.order_by("id"),
            "scripts": VisitScript.objects.filter(is_active=True),
            "form": data or {},
            "errors": errors,
        },
        status=422 if errors else 200,
    )


@staff_view
def coverage(request: HttpRequest, me: Staff) -> HttpResponse:
    """会员回访覆盖率: member customers visited in the period over all members (goal 100 %)."""
    if me.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以查看回访覆盖率"))
    today = timezone.localdate()
    start = parse_date(request.GET.get("start")) or today.replace(day=1)
    end = parse_date(request.GET.get("end")) or today
    if end < start:
        start, end = end, start
    site_ids = current_site_ids(request, me)
    tags = sorted({t for site_id in site_ids for t in services.member_tags(site_id)})
    figures = member_coverage(site_ids=site_ids, tags=tags, start=start, end=end)
    return render(
        request,
        "visits/coverage.html",
        {"page_title": _("会员回访覆盖率"), "start": start, "end": end, "tags": tags, **figures},
    )


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


@staff_view
def report(request: HttpRequest, me: Staff) -> HttpResponse:
    """回访总结报告 for a period: on screen with charts, printable on A4, and in Excel."""
    if me.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以查看回访总结报告"))
    today = timezone.localdate()
    start = parse_date(request.GET.get("start")) or today.replace(day=1)
    end = parse_date(request.GET.get("end")) or today
    if end < start:
        start, end = end, start
    figures = visit_report(site_ids=current_site_ids(request, me), start=start, end=end)
    if request.GET.get("export") == "xlsx":
        return _report_excel(figures, start, end)
    charts = {
        "results": [
            {"name": str(Visit.Result.SATISFIED.label), "value": figures["satisfied"]},
            {"name": str(Visit.Result.ORDINARY.label), "value": figures["ordinary"]},
            {"name": str(Visit.Result.DISSATISFIED.label), "value": figures["dissatisfied"]},
        ],
        "visitors": [v["name"] or "—" for v in figures["visitors"]],
        "done": [v["done"] for v in figures["visitors"]],
        "on_time": [v["on_time"] for v in figures["visitors"]],
        "labels": {"done": str(_("已回访")), "on_time": str(_("按时回访"))},
    }
    return render(
        request,
        "visits/report.html",
        {"page_title": _("回访总结报告"), "start": start, "end": end, "f": figures, "charts": charts},
    )


def _report_excel(figures: dict[str, Any], start: date, end: date) -> HttpResponse:
    headers = [_("项目"), _("数值")]
    rows: list[list[Any]] = [
        [_("期间"), f"{start} – {end}"],
        [_("应回访"), figures["total"]],
        [_("已回访"), figures["done"]],
        [_("按时回访"), figures["on_time"]],
        [_("按时率(%)"), figures["on_time_rate"]],
        [_("无法联系"), figures["unreachable"]],
        [_("已取消"), figures["cancelled"]],
        [_("未完成"), figures["open"]],
        [str(Visit.Result.SATISFIED.label), figures["satisfied"]],
        [str(Visit.Result.ORDINARY.label), figures["ordinary"]],
        [str(Visit.Result.DISSATISFIED.label), figures["dissatisfied"]],
        [_("满意率(%)"), figures["satisfied_rate"]],
        [_("返工率(%)"), figures["reopen_rate"]],
        [],
        [_("回访人"), _("应回访"), _("已回访"), _("按时"), _("按时率(%)"), _("不满意")],
    ]
    rows += [
        [v["name"] or "—", v["total"], v["done"], v["on_time"], v["on_time_rate"], v["dissatisfied"]]
        for v in figures["visitors"]
    ]
    rows += [[], [_("不满意原因"), _("工单号"), _("客户"), _("回访时间")]]
    rows += [
        [
            r["reason"] or r["notes"],
            r["ticket__number"] or "",
            r["contact_name"],
            timezone.localtime(r["done_at"]).strftime("%Y-%m-%d %H:%M"),
        ]
        for r in figures["reasons"]
    ]
    content = workbook(_("回访总结报告"), headers, rows, widths=[30, 16, 12, 18, 12, 10])
    return download(content, _("回访总结报告_{start}_{end}.xlsx").format(start=start, end=end))

"""Return-visit pages: the queue and the workspace (script, summary, the call's outcome)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError
from kefu.core.web import paginate
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES, can
from kefu.org.web import current_site_ids, staff_view
from kefu.tickets.views.complaints import parse_local

from . import services
from .models import Visit
from .queries import queue, script_for, visit_get_for_user, visits_for

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
    fill = {
        "site": visit.site.name,
        "agent": me.name,
        "customer": visit.contact_name or (visit.customer.name if visit.customer else ""),
        "date": timezone.localtime(ticket.completed_at or ticket.created_at).strftime("%m月%d日") if ticket else "",
        "service": (
            ticket.category.name if ticket and ticket.category else (ticket.get_kind_display() if ticket else "")
        ),
    }
    lines = {}
    if script is not None:
        for name in (
            "opening",
            "question",
            "satisfied",
            "ordinary",
            "dissatisfied",
            "closing_satisfied",
            "closing_other",
        ):
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

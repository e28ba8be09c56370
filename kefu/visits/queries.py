"""Reads of return visits: the one data-scope rule, the queue, and the script for a visit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from kefu.core.errors import NotFound
from kefu.core.figures import percent
from kefu.customers.models import Customer
from kefu.org.models import Role, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import site_ids_for

from .models import Visit, VisitCampaign, VisitScript


def visits_for(staff: Staff) -> QuerySet[Visit]:
    """Supervisors and above see every visit of their sites; agents and the front desk their
    own; nobody else any."""
    qs = Visit.objects.filter(site_id__in=site_ids_for(staff))
    if staff.role in SUPERVISING_ROLES:
        return qs
    if staff.role in (Role.AGENT, Role.FRONTDESK):
        return qs.filter(assignee=staff)
    return qs.none()


def visit_get_for_user(*, staff: Staff, pk: Any) -> Visit:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("回访不存在") from None
    visit = (
        visits_for(staff)
        .select_related(
            "site", "ticket__category", "ticket__assignee", "customer", "assignee", "followup", "campaign__script"
        )
        .filter(pk=pk)
        .first()
    )
    if visit is None:
        raise NotFound("回访不存在")
    return visit


def queue(qs: QuerySet[Visit], state: str = "") -> QuerySet[Visit]:
    """The visit queue, by due time. ``state``: "ready" (may be called now), "waiting"
    (appointment or retry later), "done", "overdue", or all open ones."""
    now = timezone.now()
    if state == "done":
        qs = qs.exclude(status__in=Visit.OPEN)
    else:
        qs = qs.filter(status__in=Visit.OPEN)
        if state == "ready":
            qs = qs.exclude(next_try_at__gt=now)
        elif state == "waiting":
            qs = qs.filter(next_try_at__gt=now)
        elif state == "overdue":
            qs = qs.filter(due_at__lt=now)
    order = ("-done_at", "-id") if state == "done" else ("due_at", "id")
    return qs.select_related("site", "ticket", "customer", "assignee", "campaign").order_by(*order)


def script_for(visit: Visit) -> VisitScript:
    """The campaign's script, else the active one for the ticket's kind, else the general one,
    else the manual's."""
    if visit.campaign is not None and visit.campaign.script is not None:
        return visit.campaign.script
    kind = visit.ticket.kind if visit.ticket else ""
    scripts = list(VisitScript.objects.filter(is_active=True).order_by("id"))
    return (
        next((s for s in scripts if kind in (s.kinds or [])), None)
        or next((s for s in scripts if not s.kinds), None)
        or VisitScript(**DEFAULT_SCRIPT)
    )


# The service manual's script (seed 002), used when no script is configured; the first
# migration also stores it as an editable row.
DEFAULT_SCRIPT = {
    "name": "售后回访通用话术",
    "kinds": [],
    "opening": "您好，我是{site}客服中心的{agent}，请问您是{customer}吗？打扰您了。",
    "question": "感谢您在{date}接受了我们的{service}服务，请问您对这次服务满意吗？",
    "satisfied": "您对我们的服务还有什么建议吗？",
    "ordinary": "能否告诉我您觉得哪方面还不够好？我们应该改进哪方面的工作？",
    "dissatisfied": "非常抱歉！能否告诉我您对哪方面不满意？我们会马上安排处理。",
    "closing_satisfied": "感谢您的答复，您如果需要什么帮助，可随时跟我们联系，祝您生活愉快，再见！",
    "closing_other": "非常谢谢您的反馈，这一点我们的确做得不够，我们很快就会改进，望您监督，祝您生活愉快，再见！",
}


def campaigns_for(site_ids: Iterable[int]) -> QuerySet[VisitCampaign]:
    """The visit plans of ``site_ids``, newest first, each with ``done``: its visits that are
    over (visited, or closed as unreachable), to set against ``total``."""
    return (
        VisitCampaign.objects.filter(site_id__in=list(site_ids))
        .select_related("site", "created_by", "script")
        .annotate(done=Count("visits", filter=Q(visits__status__in=[Visit.Status.DONE, Visit.Status.UNREACHABLE])))
        .order_by("-created_at", "-id")
    )


def member_coverage(*, site_ids: Iterable[int], tags: Iterable[str], start: date, end: date) -> dict[str, Any]:
    """Member customers visited in the period over all members (goal 100 %), overall and per
    account agent (客户专员); a member counts once however often visited. In SQL."""
    members = Customer.objects.filter(site_id__in=list(site_ids), is_active=True, tags__name__in=list(tags)).distinct()
    visited_ids = Visit.objects.filter(
        status=Visit.Status.DONE, done_at__date__gte=start, done_at__date__lte=end, customer__in=members
    ).values("customer_id")
    total = members.count()
    visited = members.filter(pk__in=visited_ids).count()
    by_owner = (
        Customer.objects.filter(pk__in=members.values("pk"))
        .values("owner", "owner__name")
        .annotate(total=Count("id"), visited=Count("id", filter=Q(pk__in=visited_ids)))
        .order_by("owner__name")
    )
    rows = [
        {
            "owner": row["owner__name"] or "",
            "owner_id": row["owner"],
            "total": row["total"],
            "visited": row["visited"],
            "rate": round(100 * row["visited"] / row["total"], 1) if row["total"] else 0.0,
        }
        for row in by_owner
    ]
    return {
        "total": total,
        "visited": visited,
        "rate": round(100 * visited / total, 1) if total else 0.0,
        "rows": rows,
    }


def visit_report(*, site_ids: Iterable[int], start: date, end: date) -> dict[str, Any]:
    """The visit summary (回访总结报告) of visits due in the period: counts by state, the share
    done on time (by the deadline, within 3 working days for service visits), the results,
    dissatisfaction reasons, how often a visit sent the work back, and the same per visitor.
    All in SQL."""
    qs = Visit.objects.filter(site_id__in=list(site_ids), due_at__date__gte=start, due_at__date__lte=end)
    done = Q(status=Visit.Status.DONE)
    on_time = done & Q(done_at__lte=F("due_at"))
    sent_back = done & Q(result=Visit.Result.DISSATISFIED, kind=Visit.Kind.AFTER_SERVICE)
    figures = qs.aggregate(
        total=Count("id"),
        done=Count("id", filter=done),
        on_time=Count("id", filter=on_time),
        unreachable=Count("id", filter=Q(status=Visit.Status.UNREACHABLE)),
        cancelled=Count("id", filter=Q(status=Visit.Status.CANCELLED)),
        open=Count("id", filter=Q(status__in=Visit.OPEN)),
        satisfied=Count("id", filter=done & Q(result=Visit.Result.SATISFIED)),
        ordinary=Count("id", filter=done & Q(result=Visit.Result.ORDINARY)),
        dissatisfied=Count("id", filter=done & Q(result=Visit.Result.DISSATISFIED)),
        after_service=Count("id", filter=done & Q(kind=Visit.Kind.AFTER_SERVICE)),
        sent_back=Count("id", filter=sent_back),
    )

    def pct(part: int, whole: int) -> float:
        return percent(part, whole) or 0.0  # the report shows 0.0 % for an empty period

    figures["on_time_rate"] = pct(figures["on_time"], figures["done"])
    figures["satisfied_rate"] = pct(figures["satisfied"] + figures["ordinary"], figures["done"])
    figures["reopen_rate"] = pct(figures["sent_back"], figures["after_service"])
    by_visitor = (
        qs.values("assignee__name")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=done),
            on_time=Count("id", filter=on_time),
            dissatisfied=Count("id", filter=done & Q(result=Visit.Result.DISSATISFIED)),
        )
        .order_by("-total", "assignee__name")
    )
    figures["visitors"] = [
        {**row, "name": row["assignee__name"] or "", "on_time_rate": pct(row["on_time"], row["done"])}
        for row in by_visitor
    ]
    by_category = (
        qs.filter(done, result=Visit.Result.DISSATISFIED, ticket__category__isnull=False)
        .values("ticket__category__name")
        .annotate(n=Count("id"))
        .order_by("-n", "ticket__category__name")
    )
    figures["categories"] = [{"name": row["ticket__category__name"], "n": row["n"]} for row in by_category]
    figures["reasons"] = list(
        qs.filter(done, result=Visit.Result.DISSATISFIED)
        .select_related("ticket", "customer")
        .order_by("-done_at")
        .values("reason", "notes", "done_at", "ticket__number", "contact_name")[:50]
    )
    return figures

"""The warnings ledger (警告卡台账): filters, Excel, revoke; and a red card for a ticket with
serious consequences."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError
from kefu.core.excel import download, workbook
from kefu.core.web import paginate
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import sites_for
from kefu.org.web import current_site_ids, staff_view

from ..models import WarningCard
from ..queries import card_get_for_user, cards_for, search_cards, ticket_get_for_user
from ..services.cards import REVOKE_ROLES, ticket_mark_serious, warning_revoke

EXPORT_LIMIT = 50_000
FILTERS = ("color", "rule", "staff", "site", "state", "date_from", "date_to", "ticket")


def _filtered(request: HttpRequest, me: Staff) -> Any:
    params = {name: request.GET.get(name, "") for name in FILTERS}
    if params["staff"] == "me":
        params["staff"] = str(me.id)
    qs = cards_for(me).filter(site_id__in=current_site_ids(request, me))
    return search_cards(qs, params), params


@staff_view
def warning_list(request: HttpRequest, me: Staff) -> HttpResponse:
    qs, params = _filtered(request, me)
    totals = qs.order_by().aggregate(
        blue=Count("id", filter=Q(color="blue", revoked_at__isnull=True)),
        yellow=Count("id", filter=Q(color="yellow", revoked_at__isnull=True)),
        red=Count("id", filter=Q(color="red", revoked_at__isnull=True)),
        revoked=Count("id", filter=Q(revoked_at__isnull=False)),
    )
    page = paginate(request, qs)
    people = Staff.objects.none()
    if me.role in SUPERVISING_ROLES:
        people = Staff.objects.filter(warning_cards__in=cards_for(me)).distinct().order_by("id")
    return render(
        request,
        "tickets/warnings.html",
        {
            "page_title": _("警告卡台账"),
            "page": page,
            "rows": page.object_list,
            "f": params,
            "totals": totals,
            "colors": WarningCard.Color.choices,
            "rules": WarningCard.Rule.choices,
            "people": people,
            "sites": sites_for(me),
            "can_revoke": me.role in REVOKE_ROLES,
            "see_all": me.role in SUPERVISING_ROLES,
        },
    )


@staff_view
def warning_export(request: HttpRequest, me: Staff) -> HttpResponse:
    qs, _params = _filtered(request, me)
    headers = [
        _("发出时间"),
        _("颜色"),
        _("规则"),
        _("责任人"),
        _("部门"),
        _("项目"),
        _("工单号"),
        _("期限"),
        _("说明"),
        _("发出人"),
        _("状态"),
        _("撤销原因"),
    ]

    def rows() -> Any:
        for c in qs[:EXPORT_LIMIT].iterator(chunk_size=2000):
            yield [
                _fmt(c.issued_at),
                c.get_color_display(),
                c.get_rule_display(),
                c.staff.name,
                c.staff.department.name if c.staff.department else "",
                c.site.name,
                c.ticket.number if c.ticket else "",
                _fmt(c.deadline),
                c.note,
                c.issued_by.name if c.issued_by else _("系统"),
                _("已撤销") if c.is_revoked else _("有效"),
                c.revoke_reason,
            ]

    content = workbook(_("警告卡"), headers, rows(), widths=[17, 8, 16, 10, 12, 14, 20, 17, 40, 10, 8, 30])
    return download(content, _("警告卡台账_{date}.xlsx").format(date=f"{timezone.localdate():%Y%m%d}"))


@staff_view
@require_POST
def warning_revoke_view(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    card = card_get_for_user(staff=me, pk=pk)
    try:
        warning_revoke(card=card, actor=me, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
    else:
        messages.success(request, _("警告卡已撤销"))
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("tickets:warnings")


@staff_view
@require_POST
def ticket_serious(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    ticket = ticket_get_for_user(staff=me, pk=pk)
    try:
        card = ticket_mark_serious(ticket=ticket, actor=me, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
    else:
        messages.success(request, _("已对 {name} 发出红牌").format(name=card.staff.name))
    return redirect("tickets:detail", pk=ticket.pk)


def _fmt(value: Any) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

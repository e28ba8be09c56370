"""The warnings ledger (警告卡台账): filters, Excel, revoke; and a red card for a ticket with
serious consequences."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError
from kefu.core.excel import stream
from kefu.core.web import paginate
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import sites_for
from kefu.org.web import current_site_ids, staff_view

from ..models import WarningCard
from ..queries import card_get_for_user, cards_for, search_cards, ticket_get_for_user
from ..services.cards import REVOKE_ROLES, ticket_mark_serious, warning_revoke

# At most this many cards an export (a note in the last row says so), as the ticket export.
EXPORT_LIMIT = 200_000
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
def warning_export(request: HttpRequest, me: Staff) -> HttpResponseBase:
    """The filtered ledger as an .xlsx written while the rows are read (plain values, no
    query per row)."""
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
    colors = {value: str(label) for value, label in WarningCard.Color.choices}
    rules = {value: str(label) for value, label in WarningCard.Rule.choices}
    system, revoked, active = _("系统"), _("已撤销"), _("有效")
    found = qs.values_list(
        "issued_at", "color", "rule", "staff__name", "staff__department__name", "site__name", "ticket__number",
        "deadline", "note", "issued_by__name", "revoked_at", "revoke_reason",
    )[: EXPORT_LIMIT + 1]  # fmt: skip

    zone = timezone.get_current_timezone()  # once, not per cell as timezone.localtime()

    def when(value: Any) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    def rows() -> Any:
        for count, row in enumerate(found.iterator(chunk_size=2000), 1):
            if count > EXPORT_LIMIT:
                yield [_("仅导出前 {limit} 条，请缩小筛选范围后分批导出").format(limit=f"{EXPORT_LIMIT:,}")]
                return
            issued_at, color, rule, staff, department, site, number, deadline, note, by, revoked_at, reason = row
            yield [
                when(issued_at),
                colors.get(color, color),
                rules.get(rule, rule),
                staff,
                department or "",
                site,
                number or "",
                when(deadline),
                note,
                by or system,
                revoked if revoked_at is not None else active,
                reason,
            ]

    return stream(
        _("警告卡"),
        headers,
        rows(),
        _("警告卡台账_{date}.xlsx").format(date=f"{timezone.localdate():%Y%m%d}"),
        widths=[17, 8, 16, 10, 12, 14, 20, 17, 40, 10, 8, 30],
    )


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

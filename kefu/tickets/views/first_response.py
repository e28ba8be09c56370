"""首问责任: my first-response tickets, hand-over offers waiting for me, and the hand-over
itself (offer, accept, decline)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError
from kefu.core.web import paginate
from kefu.org.models import Staff
from kefu.org.web import staff_view

from ..queries import first_response_of, handover_get_for_user, handovers_waiting, ticket_get_for_user
from ..services.first_response import first_responder_hand_over, handover_accept, handover_decline


@staff_view
def first_response(request: HttpRequest, me: Staff) -> HttpResponse:
    from .tickets import scoped

    page = paginate(request, first_response_of(scoped(request, me), me))
    return render(
        request,
        "tickets/first_response.html",
        {
            "page_title": _("我的首问工单"),
            "page": page,
            "rows": page.object_list,
            "waiting": list(handovers_waiting(me)),
            "now": timezone.now(),
        },
    )


@staff_view
@require_POST
def hand_over(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    ticket = ticket_get_for_user(staff=me, pk=pk)
    to = Staff.objects.filter(pk=_int(request.POST.get("to"))).first()
    try:
        handover = first_responder_hand_over(ticket=ticket, actor=me, to=to, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
    else:
        messages.success(request, _("已提交移交，等待 {name} 确认").format(name=handover.to_staff.name))
    return redirect("tickets:detail", pk=ticket.pk)


@staff_view
@require_POST
def handover_answer(request: HttpRequest, me: Staff, pk: int, answer: str) -> HttpResponse:
    if answer not in ("accept", "decline"):
        raise Http404(_("不支持的操作"))
    handover = handover_get_for_user(staff=me, pk=pk)
    try:
        if answer == "accept":
            handover_accept(handover=handover, actor=me, note=request.POST.get("note", ""))
            messages.success(request, _("已接收首问责任"))
        else:
            handover_decline(handover=handover, actor=me, note=request.POST.get("note", ""))
            messages.success(request, _("已拒绝移交"))
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
    back = request.POST.get("next", "")
    if back.startswith("/") and not back.startswith("//"):
        return redirect(back)
    return redirect("tickets:first_response")


def _int(value: object) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0

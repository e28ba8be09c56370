"""REST endpoints of first-responder duty (首问责任): my open first-response tickets, the
hand-overs offered to me, and offering, accepting or declining a hand-over."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router, Schema

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, Str200, page, ref
from kefu.core.errors import ValidationFailed
from kefu.core.lookup import by_pk
from kefu.org.models import Staff
from kefu.org.queries import staff_in_scope

from .api import _ERRORS, _all_category_paths, _me, _row
from .models import Handover
from .queries import first_response_of, handover_get_for_user, handovers_waiting, ticket_get_for_user, tickets_for
from .schemas import TicketPage
from .services.first_response import first_responder_hand_over, handover_accept, handover_decline

router = Router(tags=["首问责任"])


class HandoverIn(Schema):
    to_id: Id
    reason: Str200


class AnswerIn(Schema):
    note: Str200 = ""


class HandoverOut(Schema):
    id: int
    ticket: dict[str, Any]
    from_staff: Ref
    to_staff: Ref
    by: Ref
    reason: str
    state: str
    state_label: str
    at: datetime
    answered_at: datetime | None
    answer_note: str


def _handover(h: Handover) -> dict[str, Any]:
    return {
        "id": h.id,
        "ticket": {"id": h.ticket_id, "number": h.ticket.number},
        "from_staff": ref(h.from_staff),
        "to_staff": ref(h.to_staff),
        "by": ref(h.by),
        "reason": h.reason,
        "state": h.state,
        "state_label": h.get_state_display(),
        "at": h.at,
        "answered_at": h.answered_at,
        "answer_note": h.answer_note,
    }


@router.get("/first-response", response={200: TicketPage, 401: ErrorOut, 422: ErrorOut}, summary="我的首问工单")
def first_response_list(request: HttpRequest, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    """我受理、尚未关闭的工单，最久没有进展的在前。"""
    staff = _me(request)
    count, rows = page(first_response_of(tickets_for(staff), staff), limit, offset)
    paths = _all_category_paths() if any(t.category_id for t in rows) else {}
    now = timezone.now()
    return {"count": count, "limit": limit, "offset": offset, "items": [_row(staff, t, paths, now) for t in rows]}


@router.get("/handovers/waiting", response={200: list[HandoverOut], 401: ErrorOut}, summary="待我确认的移交")
def handovers_waiting_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_handover(h) for h in handovers_waiting(_me(request))]


@router.post("/tickets/{ticket_id}/hand-over", response={201: HandoverOut, **_ERRORS}, summary="移交首问责任")
def hand_over(request: HttpRequest, ticket_id: Id, payload: HandoverIn) -> tuple[int, dict[str, Any]]:
    """首问责任人（或主管及以上）把首问责任移交给同项目的受理人员；接收人确认后生效。"""
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    to: Staff | None = by_pk(staff_in_scope(staff), payload.to_id)
    if to is None:
        raise ValidationFailed("接收人不存在或不在您负责的项目", field="to_id")
    try:
        handover = first_responder_hand_over(ticket=ticket, actor=staff, to=to, reason=payload.reason)
    except ValidationFailed as exc:
        exc.fields = {("to_id" if k == "to" else k): v for k, v in exc.fields.items()}
        raise
    return 201, _handover(handover)


@router.post("/handovers/{handover_id}/accept", response={200: HandoverOut, **_ERRORS}, summary="确认接收首问责任")
def handover_accept_view(request: HttpRequest, handover_id: Id, payload: AnswerIn) -> dict[str, Any]:
    staff = _me(request)
    handover = handover_get_for_user(staff=staff, pk=handover_id)
    handover_accept(handover=handover, actor=staff, note=payload.note)
    return _handover(handover_get_for_user(staff=staff, pk=handover_id))


@router.post("/handovers/{handover_id}/decline", response={200: HandoverOut, **_ERRORS}, summary="拒绝接收首问责任")
def handover_decline_view(request: HttpRequest, handover_id: Id, payload: AnswerIn) -> dict[str, Any]:
    staff = _me(request)
    handover = handover_get_for_user(staff=staff, pk=handover_id)
    handover_decline(handover=handover, actor=staff, note=payload.note)
    return _handover(handover_get_for_user(staff=staff, pk=handover_id))

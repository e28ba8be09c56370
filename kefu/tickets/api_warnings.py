"""REST endpoints of warning cards: the ledger with its filters, revoke (managers), and a
red card for a ticket with serious consequences (supervisors and above)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, Str200, Str300, page, ref

from .api import _ERRORS, _me
from .models import WarningCard
from .queries import card_get_for_user, cards_for, search_cards, ticket_get_for_user
from .services.cards import ticket_mark_serious, warning_revoke

router = Router(tags=["警告卡"])


class CardFilters(Schema):
    color: Literal["blue", "yellow", "red"] | None = None
    rule: WarningCard.Rule | None = None
    staff: Id | None = Field(None, description="责任人")
    site: Id | None = None
    ticket: Id | None = None
    state: Literal["active", "revoked"] | None = Field(None, description="active 有效；revoked 已撤销")
    date_from: date | None = Field(None, description="发出日期起")
    date_to: date | None = Field(None, description="发出日期止")
    limit: Limit = 20
    offset: Offset = 0


class CardOut(Schema):
    id: int
    color: str
    color_label: str
    rule: str
    rule_label: str
    staff: Ref
    site: Ref
    ticket: dict[str, Any] | None
    deadline: datetime | None
    issued_at: datetime
    issued_by: Ref | None
    note: str
    revoked: bool
    revoked_at: datetime | None
    revoked_by: Ref | None
    revoke_reason: str


class CardPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CardOut]


class RevokeIn(Schema):
    reason: Str200


class SeriousIn(Schema):
    reason: Str300


def _card(c: WarningCard) -> dict[str, Any]:
    return {
        "id": c.id,
        "color": c.color,
        "color_label": c.get_color_display(),
        "rule": c.rule,
        "rule_label": c.get_rule_display(),
        "staff": ref(c.staff),
        "site": ref(c.site),
        "ticket": None if c.ticket is None else {"id": c.ticket.id, "number": c.ticket.number},
        "deadline": c.deadline,
        "issued_at": c.issued_at,
        "issued_by": ref(c.issued_by),
        "note": c.note,
        "revoked": c.is_revoked,
        "revoked_at": c.revoked_at,
        "revoked_by": ref(c.revoked_by),
        "revoke_reason": c.revoke_reason,
    }


@router.get("/warnings", response={200: CardPage, 401: ErrorOut, 422: ErrorOut}, summary="警告卡台账")
def warning_list(request: HttpRequest, filters: Query[CardFilters]) -> dict[str, Any]:
    """主管及以上看所负责项目的全部警告卡；其他人只看记在自己名下的。"""
    staff = _me(request)
    params = filters.model_dump(exclude={"limit", "offset"})
    count, rows = page(search_cards(cards_for(staff), params), filters.limit, filters.offset)
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": [_card(c) for c in rows]}


@router.post("/warnings/{card_id}/revoke", response={200: CardOut, **_ERRORS}, summary="撤销警告卡")
def warning_revoke_view(request: HttpRequest, card_id: Id, payload: RevokeIn) -> dict[str, Any]:
    """经理、总监：填写原因撤销一张警告卡（保留记录，不再计入考核）。"""
    staff = _me(request)
    card = card_get_for_user(staff=staff, pk=card_id)
    warning_revoke(card=card, actor=staff, reason=payload.reason)
    return _card(card_get_for_user(staff=staff, pk=card_id))


@router.post("/tickets/{ticket_id}/serious", response={201: CardOut, **_ERRORS}, summary="严重后果发红牌")
def ticket_serious_view(request: HttpRequest, ticket_id: Id, payload: SeriousIn) -> tuple[int, dict[str, Any]]:
    """主管及以上：工单造成严重后果，对当前责任人发红牌（每张工单一次）。"""
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    card = ticket_mark_serious(ticket=ticket, actor=staff, reason=payload.reason)
    return 201, _card(card)

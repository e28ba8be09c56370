"""REST endpoints of appraisal: periods, results (each caller sees what the pages show them),
one result with its figures, and the rewards and penalties ledger."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Limit, Offset, Str300, page, ref
from kefu.core.errors import NotFound
from kefu.org.models import Site, Staff
from kefu.org.queries import people_in_view, site_ids_for

from . import services
from .models import Appraisal
from .queries import ledger, periods_for, results_in_view, this_month_unless

router = Router(tags=["绩效考核"])
_ERRORS: dict[int | str, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _me(request: HttpRequest) -> Staff:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class PeriodOut(Schema):
    id: int
    name: str
    start: date
    end: date
    status: str
    computed_at: Any


class PeriodPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PeriodOut]


class ResultOut(Schema):
    id: int
    staff: dict[str, Any] | None
    role: str
    kpi_score: Decimal | None
    sheet_score: Decimal | None
    adjustments: Decimal
    total: Decimal | None
    rank: int | None
    signed_by: dict[str, Any] | None
    kpis: dict[str, Any]


def _period(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "start": p.start,
        "end": p.end,
        "status": p.status,
        "computed_at": p.computed_at,
    }


def _result(a: Appraisal) -> dict[str, Any]:
    return {"id": a.id, "staff": ref(a.staff), "role": a.role, "kpi_score": a.kpi_score, "sheet_score": a.sheet_score,
            "adjustments": a.adjustments, "total": a.total, "rank": a.rank, "signed_by": ref(a.signed_by),
            "kpis": a.kpis}  # fmt: skip


@router.get("/appraisal/periods", response={200: PeriodPage, **_ERRORS}, summary="考核期")
def period_list(request: HttpRequest, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    count, rows = page(periods_for(_me(request)).order_by("-start", "-id"), limit, offset)
    return {"count": count, "limit": limit, "offset": offset, "items": [_period(p) for p in rows]}


@router.get("/appraisal/periods/{period_id}/results", response={200: list[ResultOut], **_ERRORS}, summary="考核结果")
def period_results(request: HttpRequest, period_id: Id) -> list[dict[str, Any]]:
    """The results the caller may read: managers all at their sites, a supervisor the team, everyone their own."""
    me = _me(request)
    period = periods_for(me).filter(pk=period_id).first()
    if period is None:
        raise NotFound(_("考核期不存在"))
    rows = (
        Appraisal.objects.filter(period=period)
        .filter(results_in_view(me))
        .select_related("staff", "signed_by")
        .distinct()
        .order_by("role", "rank", "staff_id")
    )
    return [_result(a) for a in rows]


class LedgerQuery(Schema):
    start: date | None = Field(None, description="开始日期（默认本月第一天）")
    end: date | None = Field(None, description="结束日期（默认今天）")


class LedgerRow(Schema):
    day: date
    staff: dict[str, Any] | None
    kind: str
    points: Decimal
    amount: Decimal | None
    reason: str
    source: str


class LedgerIn(Schema):
    staff_id: Id
    site_id: Id
    day: date
    kind: Literal["reward", "penalty"]
    points: Decimal = Field(gt=0, le=100, description="分值")
    amount: Decimal | None = Field(None, ge=0, le=1_000_000, description="金额（元）")
    reason: Str300


@router.get("/appraisal/ledger", response={200: list[LedgerRow], **_ERRORS}, summary="奖惩台账")
def ledger_list(request: HttpRequest, q: Query[LedgerQuery]) -> list[dict[str, Any]]:
    me = _me(request)
    start, end = this_month_unless(q.start, q.end)
    rows = ledger(site_ids=site_ids_for(me), start=start, end=end, people=people_in_view(me))
    return [{**r, "staff": ref(r["staff"]), "points": Decimal(str(r["points"]))} for r in rows]


@router.post("/appraisal/ledger", response={201: LedgerRow, **_ERRORS}, summary="登记奖惩")
def ledger_create(request: HttpRequest, payload: LedgerIn) -> tuple[int, dict[str, Any]]:
    me = _me(request)
    entry = services.reward_record(
        staff=Staff.objects.filter(pk=payload.staff_id).first(),
        site=Site.objects.filter(pk=payload.site_id).first(),
        day=payload.day,
        kind=payload.kind,
        points=str(payload.points),
        amount="" if payload.amount is None else str(payload.amount),
        reason=payload.reason,
        actor=me,
    )
    return 201, {"day": entry.day, "staff": ref(entry.staff), "kind": entry.kind, "points": entry.points,
                 "amount": entry.amount, "reason": entry.reason, "source": "登记"}  # fmt: skip

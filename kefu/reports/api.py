"""REST endpoints of the reports: the dashboard of the caller's scope, the report figures
with the same filters as the pages, and the monthly reports. Read-only; the figures come
from the same queries as the pages."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Limit, Offset, page, ref
from kefu.core.errors import NotFound
from kefu.org.models import Staff
from kefu.org.queries import site_ids_for

from . import queries
from .filters import ReportFilters, parse_filters
from .models import MonthlyReport

router = Router(tags=["统计报表"])
VolumeBy = Literal["kind", "channel", "category"]
ParetoBy = Literal["category", "building", "department", "assignee", "responsible_department", "responsible_person"]
SlaBy = Literal["department", "person"]
WorkloadBy = Literal["person", "department"]
_ERRORS: dict[int | str, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ReportQuery(Schema):
    start: date | None = Field(None, description="期间开始（默认本月第一天）")
    end: date | None = Field(None, description="期间结束（默认今天）")
    site: Id | None = Field(None, description="只看该项目（须在您的范围内）")
    department: Id | None = Field(None, description="处理部门")
    kind: str | None = Field(None, description="工单类型")


class Figures(Schema):
    start: date
    end: date
    problems: list[str] = Field(description="没有采用的条件及原因（已改用默认值）")
    data: dict[str, Any]


def _me(request: HttpRequest) -> Staff:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _filters(staff: Staff, q: ReportQuery) -> tuple[ReportFilters, list[str]]:
    params = {k: (v.isoformat() if isinstance(v, date) else v) for k, v in q.dict().items() if v is not None}
    return parse_filters(params, allowed_sites=site_ids_for(staff))


def _out(f: ReportFilters, problems: list[str], data: dict[str, Any]) -> dict[str, Any]:
    return {"start": f.start, "end": f.end, "problems": problems, "data": data}


@router.get("/reports/dashboard", response={200: Figures, **_ERRORS}, summary="数据看板")
def dashboard(request: HttpRequest, q: Query[ReportQuery]) -> dict[str, Any]:
    """The key figures of the period against the period before, for the caller's scope
    (sites for managers and directors, the team for a supervisor, one's own work otherwise)."""
    me = _me(request)
    f, problems = _filters(me, q)
    f, scope = queries.dashboard_scope(me, f)
    return _out(f, problems, {"scope": scope, "figures": queries.dashboard(f)})


@router.get("/reports/volume", response={200: Figures, **_ERRORS}, summary="工单量统计")
def volume(
    request: HttpRequest, q: Query[ReportQuery], by: Literal["kind", "channel", "category"] = "kind"
) -> dict[str, Any]:
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    v = queries.volume(f, by)
    return _out(f, problems, {"total": v.total, "monthly": v.monthly, "buckets": v.buckets, "series": v.series,
                              "rows": v.rows})  # fmt: skip


@router.get("/reports/pareto", response={200: Figures, **_ERRORS}, summary="排列图")
def pareto(
    request: HttpRequest,
    q: Query[ReportQuery],
    by: Literal[
        "category", "building", "department", "assignee", "responsible_department", "responsible_person"
    ] = "category",
) -> dict[str, Any]:
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    return _out(f, problems, {"rows": [asdict(r) for r in queries.pareto(f, by)]})


def _compliance(row: queries.Compliance) -> dict[str, Any]:
    return {"label": row.label, "tickets": row.tickets, "respond_on": row.respond_on, "respond_late": row.respond_late,
            "respond_rate": row.respond_rate, "arrive_on": row.arrive_on, "arrive_late": row.arrive_late,
            "arrive_rate": row.arrive_rate, "resolve_on": row.resolve_on, "resolve_late": row.resolve_late,
            "resolve_rate": row.resolve_rate}  # fmt: skip


@router.get("/reports/sla", response={200: Figures, **_ERRORS}, summary="时限达成率")
def sla(
    request: HttpRequest, q: Query[ReportQuery], by: Literal["department", "person"] = "department"
) -> dict[str, Any]:
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    figures = queries.sla_compliance(f, by)
    return _out(f, problems, {"rows": [_compliance(r) for r in figures["rows"]],
                              "overall": _compliance(figures["overall"])})  # fmt: skip


@router.get("/reports/workload", response={200: Figures, **_ERRORS}, summary="工作量统计")
def workload(
    request: HttpRequest, q: Query[ReportQuery], by: Literal["person", "department"] = "person"
) -> dict[str, Any]:
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    rows = [{**asdict(w), "average_hours": w.average_hours} for w in queries.workload(f, by)]
    return _out(f, problems, {"rows": rows})


class MonthlyOut(Schema):
    id: int
    site: dict[str, Any]
    month: date
    status: str
    generated_at: Any
    summary: str
    figures: dict[str, Any]


class MonthlyPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[MonthlyOut]


def _monthly(r: MonthlyReport) -> dict[str, Any]:
    return {"id": r.id, "site": ref(r.site), "month": r.month, "status": r.status, "generated_at": r.generated_at,
            "summary": r.summary, "figures": r.figures}  # fmt: skip


@router.get("/reports/monthly", response={200: MonthlyPage, **_ERRORS}, summary="客服月报列表")
def monthly_list(request: HttpRequest, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    me = _me(request)
    queries.require_reader(me)
    qs = MonthlyReport.objects.filter(site_id__in=site_ids_for(me)).select_related("site")
    count, rows = page(qs, limit, offset)
    return {"count": count, "limit": limit, "offset": offset, "items": [_monthly(r) for r in rows]}


@router.get("/reports/monthly/{report_id}", response={200: MonthlyOut, **_ERRORS}, summary="客服月报")
def monthly_detail(request: HttpRequest, report_id: Id) -> dict[str, Any]:
    me = _me(request)
    queries.require_reader(me)
    found = MonthlyReport.objects.filter(pk=report_id, site_id__in=site_ids_for(me)).select_related("site").first()
    if found is None:
        raise NotFound(_("月报不存在"))
    return _monthly(found)

"""REST endpoints of the reports: the dashboard of the caller's scope, the report figures
with the same filters as the pages, and the monthly reports. Read-only; the figures come
from the same queries as the pages."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, page, ref
from kefu.core.errors import NotFound
from kefu.org.models import Staff
from kefu.org.queries import site_ids_for
from kefu.tickets.models import Ticket
from kefu.visits.models import Visit

from . import queries
from .filters import ReportFilters, parse_filters
from .models import MonthlyReport

router = Router(tags=["统计报表"])
VolumeBy = Literal["kind", "channel", "category"]
ParetoBy = Literal["category", "building", "department", "assignee", "responsible_department", "responsible_person"]
SlaBy = Literal["department", "person"]
WorkloadBy = Literal["person", "department"]
# The keys of queries.RESOLUTION_GROUPS (a test keeps them equal).
ResolutionBy = Literal["kind", "department", "first_responder"]
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


def _resolution(row: queries.Resolution) -> dict[str, Any]:
    return {"label": row.label, "received": row.received, "first_contact": row.first_contact,
            "first_contact_rate": row.first_contact_rate, "completed": row.completed, "reopened": row.reopened,
            "reopen_rate": row.reopen_rate}  # fmt: skip


@router.get("/reports/resolution", response={200: Figures, **_ERRORS}, summary="一次解决率与重开率")
def resolution(request: HttpRequest, q: Query[ReportQuery], by: ResolutionBy = "kind") -> dict[str, Any]:
    """一次解决率 = tickets resolved at the first contact / tickets received; 重开率 = completed
    tickets reopened at least once / completed tickets (cancelled ones left out)."""
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    figures = queries.resolution(f, by)
    return _out(f, problems, {"rows": [_resolution(r) for r in figures["rows"]],
                              "overall": _resolution(figures["overall"])})  # fmt: skip


class UnitOut(Schema):
    id: int
    label: str


class ComplaintRow(Schema):
    id: int
    number: str
    site: Ref
    created_at: datetime
    customer: Ref | None
    contact_name: str
    unit: UnitOut | None
    content: str
    is_major: bool
    category: Ref | None = Field(description="工单分类")
    classification: Ref | None = Field(description="投诉分类（总结时认定）")
    department: Ref | None = Field(description="处理部门")
    valid: bool | None = Field(description="投诉是否成立；未判定为 null")
    judged_at: datetime | None
    responsible_department: Ref | None
    responsible_person: Ref | None
    investigated_at: datetime | None
    approved_at: datetime | None
    implemented_at: datetime | None
    implementation: str = Field(description="处理结果（实施情况）")
    confirmed_by: str
    confirm_method: str
    confirmed_at: datetime | None
    summarized_at: datetime | None
    visit_result: str = Field(description="最近一次完成的回访结果；没有为空")
    visit_result_label: str
    status: str
    status_label: str


class ComplaintStep(Schema):
    key: str
    label: str
    n: int


class ComplaintLedger(Schema):
    count: int
    limit: int
    offset: int
    items: list[ComplaintRow]
    steps: list[ComplaintStep] = Field(description="各步骤已完成的件数（不含已撤销）")


class ComplaintFigures(Schema):
    start: date
    end: date
    problems: list[str] = Field(description="没有采用的条件及原因（已改用默认值）")
    data: ComplaintLedger


def _ledger_row(t: Ticket) -> dict[str, Any]:
    c = getattr(t, "complaint", None)  # None when the complaint row is missing
    visit: str = t.visit_result or ""  # type: ignore[attr-defined]  # annotated by queries.complaints
    return {
        "id": t.id, "number": t.number, "site": ref(t.site), "created_at": t.created_at, "customer": ref(t.customer),
        "contact_name": t.contact_name, "unit": None if t.unit is None else {"id": t.unit.id, "label": t.unit.label},
        "content": t.content, "is_major": t.is_major, "category": ref(t.category),
        "classification": ref(c.classification if c else None), "department": ref(t.department),
        "valid": c.valid if c else None, "judged_at": c.judged_at if c else None,
        "responsible_department": ref(c.responsible_department if c else None),
        "responsible_person": ref(c.responsible_person if c else None),
        "investigated_at": c.investigated_at if c else None, "approved_at": c.approved_at if c else None,
        "implemented_at": c.implemented_at if c else None, "implementation": c.implementation if c else "",
        "confirmed_by": t.confirmed_by, "confirm_method": t.confirm_method, "confirmed_at": t.confirmed_at,
        "summarized_at": c.summarized_at if c else None, "visit_result": visit,
        "visit_result_label": str(dict(Visit.Result.choices).get(visit, "")),
        "status": t.status, "status_label": t.get_status_display(),
    }  # fmt: skip


@router.get("/reports/complaints", response={200: ComplaintFigures, **_ERRORS}, summary="投诉案件登记追踪表")
def complaints(request: HttpRequest, q: Query[ReportQuery], limit: Limit = 50, offset: Offset = 0) -> dict[str, Any]:
    """Every complaint received in the period, by receipt time: its steps, the responsible
    department and person, the result, the customer's confirmation and the last visit's result."""
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    count, rows = page(queries.complaints(f), limit, offset)
    items = [_ledger_row(t) for t in rows]
    return _out(f, problems, {"count": count, "limit": limit, "offset": offset, "items": items,
                              "steps": queries.complaint_steps(f)})  # fmt: skip


@router.get("/reports/satisfaction", response={200: Figures, **_ERRORS}, summary="满意度趋势")
def satisfaction(request: HttpRequest, q: Query[ReportQuery]) -> dict[str, Any]:
    """Per month of the period: the customers' ratings, the return visits' and the surveys'
    satisfaction."""
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    return _out(f, problems, queries.satisfaction_trend(f))


@router.get("/reports/cards", response={200: Figures, **_ERRORS}, summary="警告卡统计")
def cards(request: HttpRequest, q: Query[ReportQuery]) -> dict[str, Any]:
    """Cards issued in the period (revoked ones left out), per person and rule, by colour."""
    me = _me(request)
    queries.require_reader(me)
    f, problems = _filters(me, q)
    figures = queries.cards_by_person(f)
    rules = [{"key": key, "label": label} for key, label in figures["rules"]]
    return _out(f, problems, {**figures, "rules": rules})


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

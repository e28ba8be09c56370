"""REST endpoints of return visits: the queue, one visit with its calls, and one endpoint per
outcome of a call, each calling the same service as the workspace."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, Str300, Str500, Str2000, Version, page, ref
from kefu.core.errors import ValidationFailed
from kefu.customers.api import phone_for
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import staff_in_scope

from .models import Visit
from .queries import queue, visit_get_for_user, visits_for
from .services import visit_appoint, visit_reassign, visit_record, visit_unreachable

router = Router(tags=["回访"])
_ERRORS: dict[int | str, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class VisitFilters(Schema):
    state: Literal["ready", "waiting", "overdue", "open", "done"] = Field(
        "open", description="ready 可以拨打；waiting 预约/待重拨；overdue 已超期；open 全部待回访；done 已结束"
    )
    mine: bool = Field(False, description="只看分给我的（非主管只能看自己的）")
    limit: Limit = 20
    offset: Offset = 0


class CallOut(Schema):
    at: datetime
    by: Ref
    outcome: str
    outcome_label: str
    note: str


class VisitOut(Schema):
    id: int
    site: Ref
    ticket: dict[str, Any] | None
    customer: Ref | None
    contact_name: str
    contact_phone: str
    status: str
    status_label: str
    assignee: Ref | None
    due_at: datetime
    next_try_at: datetime | None
    attempts: int
    result: str
    notes: str
    reason: str
    done_at: datetime | None
    followup: dict[str, Any] | None
    version: int


class VisitDetailOut(VisitOut):
    calls: list[CallOut]


class VisitPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[VisitOut]


class RecordIn(Schema):
    version: Version
    result: Literal["satisfied", "ordinary", "dissatisfied"] = Field(description="满意 / 一般 / 不满意")
    notes: Str2000 = ""
    reason: Str300 = Field("", description="不满意原因（不满意时必填）")


class UnreachableIn(Schema):
    version: Version
    note: Str500 = ""


class AppointIn(Schema):
    version: Version
    at: datetime = Field(description="客户另约的时间")
    note: Str500 = ""


class ReassignIn(Schema):
    version: Version
    assignee_id: Id


def _me(request: HttpRequest) -> Staff:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def _visit(staff: Staff, v: Visit) -> dict[str, Any]:
    return {
        "id": v.id,
        "site": ref(v.site),
        "ticket": None if v.ticket is None else {"id": v.ticket.id, "number": v.ticket.number, "kind": v.ticket.kind},
        "customer": ref(v.customer),
        "contact_name": v.contact_name,
        "contact_phone": phone_for(staff, v.contact_phone),
        "status": v.status,
        "status_label": v.get_status_display(),
        "assignee": ref(v.assignee),
        "due_at": v.due_at,
        "next_try_at": v.next_try_at,
        "attempts": v.attempts,
        "result": v.result,
        "notes": v.notes,
        "reason": v.reason,
        "done_at": v.done_at,
        "followup": None if v.followup is None else {"id": v.followup.id, "number": v.followup.number},
        "version": v.version,
    }


def _detail(staff: Staff, pk: int) -> dict[str, Any]:
    v = visit_get_for_user(staff=staff, pk=pk)
    calls = [
        {"at": c.at, "by": ref(c.by), "outcome": c.outcome, "outcome_label": c.get_outcome_display(), "note": c.note}
        for c in v.calls.select_related("by")
    ]
    return {**_visit(staff, v), "calls": calls}


@router.get("/visits", response={200: VisitPage, 401: ErrorOut, 422: ErrorOut}, summary="回访任务")
def visit_list(request: HttpRequest, filters: Query[VisitFilters]) -> dict[str, Any]:
    """按回访期限排序。主管及以上看所负责项目的全部回访，其他人只看分给自己的。"""
    staff = _me(request)
    qs = visits_for(staff)
    if filters.mine or staff.role not in SUPERVISING_ROLES:
        qs = qs.filter(assignee=staff)
    count, rows = page(
        queue(qs, "" if filters.state == "open" else filters.state).select_related("followup"),
        filters.limit,
        filters.offset,
    )
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_visit(staff, v) for v in rows],
    }


@router.get("/visits/{visit_id}", response={200: VisitDetailOut, 401: ErrorOut, 404: ErrorOut}, summary="回访详情")
def visit_detail(request: HttpRequest, visit_id: Id) -> dict[str, Any]:
    return _detail(_me(request), visit_id)


@router.post("/visits/{visit_id}/record", response={200: VisitDetailOut, **_ERRORS}, summary="记录回访结果")
def visit_record_view(request: HttpRequest, visit_id: Id, payload: RecordIn) -> dict[str, Any]:
    """客户已接通：满意/一般时确认并标记已回访；不满意时报修/投诉退回重新处理，其他工单生成关联投诉。"""
    staff = _me(request)
    visit = visit_get_for_user(staff=staff, pk=visit_id)
    visit_record(
        visit=visit,
        actor=staff,
        version=payload.version,
        result=payload.result,
        notes=payload.notes,
        reason=payload.reason,
    )
    return _detail(staff, visit_id)


@router.post("/visits/{visit_id}/unreachable", response={200: VisitDetailOut, **_ERRORS}, summary="未接通")
def visit_unreachable_view(request: HttpRequest, visit_id: Id, payload: UnreachableIn) -> dict[str, Any]:
    """至少 2 小时后、避开休息时间再拨；达到最多次数后结束为“无法联系”。"""
    staff = _me(request)
    visit = visit_get_for_user(staff=staff, pk=visit_id)
    visit_unreachable(visit=visit, actor=staff, version=payload.version, note=payload.note)
    return _detail(staff, visit_id)


@router.post("/visits/{visit_id}/appoint", response={200: VisitDetailOut, **_ERRORS}, summary="客户另约时间")
def visit_appoint_view(request: HttpRequest, visit_id: Id, payload: AppointIn) -> dict[str, Any]:
    staff = _me(request)
    visit = visit_get_for_user(staff=staff, pk=visit_id)
    visit_appoint(visit=visit, actor=staff, version=payload.version, at=payload.at, note=payload.note)
    return _detail(staff, visit_id)


@router.post("/visits/{visit_id}/reassign", response={200: VisitDetailOut, **_ERRORS}, summary="改派回访")
def visit_reassign_view(request: HttpRequest, visit_id: Id, payload: ReassignIn) -> dict[str, Any]:
    """主管及以上把回访交给该项目的其他员工。"""
    staff = _me(request)
    visit = visit_get_for_user(staff=staff, pk=visit_id)
    to = staff_in_scope(staff).filter(pk=payload.assignee_id).first()
    if to is None:
        raise ValidationFailed("回访人不存在或不在您负责的项目", field="assignee_id")
    try:
        visit_reassign(visit=visit, actor=staff, version=payload.version, to=to)
    except ValidationFailed as exc:
        exc.fields = {("assignee_id" if k == "assignee" else k): v for k, v in exc.fields.items()}
        raise
    return _detail(staff, visit_id)

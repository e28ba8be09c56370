"""REST endpoints of return visits: the queue, one visit with its calls, and one endpoint per
outcome of a call, each calling the same service as the workspace; the visit plans, member
coverage and the visit summary report, with the same services and queries as their pages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, Str20, Str100, Str300, Str500, Str2000, Version, page, ref
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.lookup import by_pk
from kefu.customers.api import phone_for
from kefu.org.models import Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import site_ids_for, staff_in_scope

from .models import Visit, VisitCampaign, VisitScript
from .queries import campaigns_for, member_coverage, queue, visit_get_for_user, visit_report, visits_for
from .services import campaign_create, member_tags, visit_appoint, visit_reassign, visit_record, visit_unreachable

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


class CampaignFilters(Schema):
    site: Id | None = Field(None, description="只看该项目")
    limit: Limit = 20
    offset: Offset = 0


class CampaignOut(Schema):
    id: int
    site: Ref
    name: str
    kind: str = Field(description="periodic 定期回访；campaign 专项回访")
    kind_label: str
    start: date
    end: date = Field(description="每户的回访期限")
    tags: list[str] = Field(description="客户标签")
    building: str = Field(description="楼栋")
    older_than_days: int | None = Field(description="距上次回访超过的天数")
    script: Ref | None = Field(description="话术；为空按默认话术")
    total: int = Field(description="回访户数")
    done: int = Field(description="已结束的回访（已回访或无法联系）")
    created_by: Ref
    created_at: datetime


class CampaignPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CampaignOut]


class CampaignIn(Schema):
    site_id: Id
    name: Str100 = Field(description="计划名称")
    kind: Literal["periodic", "campaign"] = Field(description="periodic 定期回访；campaign 专项回访")
    start: date = Field(description="开始日期")
    end: date = Field(description="结束日期，即每户的回访期限：不早于今天，计划不超过一年")
    tags: list[Str20] = Field([], max_length=20, description="客户标签名称：带其中任一标签的客户；为空不限")
    building: Str20 = Field("", description="楼栋；为空不限")
    older_than_days: int | None = Field(None, description="只选距上次回访超过该天数（1–3650）的客户；为空不限")
    script_id: Id | None = Field(None, description="话术；为空按默认话术")


class PeriodFilters(Schema):
    start: date | None = Field(None, description="开始日期，默认本月 1 日")
    end: date | None = Field(None, description="结束日期，默认今天；早于开始日期时两者互换")
    site: Id | None = Field(None, description="只看该项目；默认您负责的全部项目")


class CoverageRowOut(Schema):
    owner: Ref | None = Field(description="客户专员；为空表示未分配")
    total: int = Field(description="会员数")
    visited: int = Field(description="期间内已回访的会员数")
    rate: float = Field(description="覆盖率 %")


class CoverageOut(Schema):
    start: date
    end: date
    tags: list[str] = Field(description="计为会员的客户标签")
    total: int = Field(description="会员数")
    visited: int = Field(description="期间内已回访的会员数（每位只计一次）")
    rate: float = Field(description="覆盖率 %，目标 100%")
    rows: list[CoverageRowOut] = Field(description="按客户专员")


class VisitorFiguresOut(Schema):
    name: str = Field(description="回访人；为空表示未分配")
    total: int = Field(description="应回访")
    done: int = Field(description="已回访")
    on_time: int = Field(description="按时回访")
    on_time_rate: float = Field(description="按时率 %")
    dissatisfied: int = Field(description="不满意")


class CategoryCountOut(Schema):
    name: str = Field(description="工单分类")
    n: int = Field(description="不满意的回访数")


class ReasonOut(Schema):
    reason: str = Field(description="不满意原因")
    notes: str = Field(description="回访记录")
    done_at: datetime | None
    ticket_number: str | None
    contact_name: str


class ReportOut(Schema):
    start: date
    end: date
    total: int = Field(description="期间内到期的回访（应回访）")
    done: int = Field(description="已回访")
    on_time: int = Field(description="按时回访")
    unreachable: int = Field(description="无法联系")
    cancelled: int = Field(description="已取消")
    open: int = Field(description="未完成")
    satisfied: int = Field(description="满意")
    ordinary: int = Field(description="一般")
    dissatisfied: int = Field(description="不满意")
    after_service: int = Field(description="已完成的服务回访")
    sent_back: int = Field(description="服务回访不满意、退回重新处理的")
    on_time_rate: float = Field(description="按时率 %：按时回访 / 已回访")
    satisfied_rate: float = Field(description="满意率 %：（满意 + 一般）/ 已回访")
    reopen_rate: float = Field(description="返工率 %：退回重新处理 / 已完成的服务回访")
    visitors: list[VisitorFiguresOut] = Field(description="按回访人")
    categories: list[CategoryCountOut] = Field(description="不满意回访按工单分类")
    reasons: list[ReasonOut] = Field(description="最近 50 条不满意原因")


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


def _supervising(staff: Staff, message: str) -> None:
    if staff.role not in SUPERVISING_ROLES:
        raise PermissionDenied(message)


def _site_ids(staff: Staff, site: int | None) -> set[int]:
    """The caller's sites, or the one asked for if it is among them (the pages' site switch)."""
    allowed = site_ids_for(staff)
    if site is None:
        return allowed
    if site not in allowed:
        raise ValidationFailed(_("项目不存在"), field="site")
    return {site}


def _period(start: date | None, end: date | None) -> tuple[date, date]:
    """The pages' period: this month so far by default, the two dates swapped if reversed."""
    today = timezone.localdate()
    start, end = start or today.replace(day=1), end or today
    return (end, start) if end < start else (start, end)


def _campaign(c: VisitCampaign) -> dict[str, Any]:
    return {
        "id": c.id,
        "site": ref(c.site),
        "name": c.name,
        "kind": c.kind,
        "kind_label": c.get_kind_display(),
        "start": c.start,
        "end": c.end,
        "tags": list(c.tags or []),
        "building": c.building,
        "older_than_days": c.older_than_days,
        "script": ref(c.script),
        "total": c.total,
        "done": c.done,  # type: ignore[attr-defined]
        "created_by": ref(c.created_by),
        "created_at": c.created_at,
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


# The fixed paths below come before /visits/{visit_id}: URL patterns are tried in order, and
# "campaigns" would otherwise be read as a visit id.


@router.get("/visits/campaigns", response={200: CampaignPage, **_ERRORS}, summary="回访计划")
def campaign_list(request: HttpRequest, filters: Query[CampaignFilters]) -> dict[str, Any]:
    """您负责的项目的定期回访和专项回访计划，最新的在前，含回访户数和已结束的回访数（主管及以上）。"""
    staff = _me(request)
    _supervising(staff, _("只有主管及以上可以制定回访计划"))
    count, rows = page(campaigns_for(_site_ids(staff, filters.site)), filters.limit, filters.offset)
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_campaign(c) for c in rows],
    }


@router.post("/visits/campaigns", response={201: CampaignOut, **_ERRORS}, summary="制定回访计划")
def campaign_add(request: HttpRequest, payload: CampaignIn) -> tuple[int, dict[str, Any]]:
    """从客户档案中选出该项目符合条件的在册客户（任一标签、楼栋、距上次回访天数），每户生成一个回访任务，
    期限为结束日期（避开休息时间），交给客户的客户专员，否则交给回访组中任务最少的人（主管及以上）。"""
    staff = _me(request)
    _supervising(staff, _("只有主管及以上可以制定回访计划"))
    site = Site.objects.filter(pk=payload.site_id, is_active=True, id__in=site_ids_for(staff)).first()
    errors: dict[str, list[str]] = {}
    if site is None:
        errors["site_id"] = [_("项目不存在")]
    script = None
    if payload.script_id is not None:
        script = VisitScript.objects.filter(pk=payload.script_id, is_active=True).first()
        if script is None:
            errors["script_id"] = [_("话术不存在或已停用")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert site is not None
    campaign = campaign_create(
        site=site,
        name=payload.name,
        kind=payload.kind,
        start=payload.start,
        end=payload.end,
        tags=payload.tags,
        building=payload.building,
        older_than_days=payload.older_than_days,
        script=script,
        actor=staff,
    )
    return 201, _campaign(campaigns_for([site.id]).get(pk=campaign.pk))


@router.get("/visits/coverage", response={200: CoverageOut, **_ERRORS}, summary="会员回访覆盖率")
def coverage(request: HttpRequest, filters: Query[PeriodFilters]) -> dict[str, Any]:
    """期间内回访过的会员（带项目回访规则中会员标签的在册客户）占全部会员的比例，总体及按客户专员（主管及以上）。"""
    staff = _me(request)
    _supervising(staff, _("只有主管及以上可以查看回访覆盖率"))
    site_ids = _site_ids(staff, filters.site)
    start, end = _period(filters.start, filters.end)
    tags = sorted({t for site_id in site_ids for t in member_tags(site_id)})
    figures = member_coverage(site_ids=site_ids, tags=tags, start=start, end=end)
    rows = [
        {
            "owner": None if row["owner_id"] is None else {"id": row["owner_id"], "name": row["owner"]},
            "total": row["total"],
            "visited": row["visited"],
            "rate": row["rate"],
        }
        for row in figures["rows"]
    ]
    return {"start": start, "end": end, "tags": tags, **figures, "rows": rows}


@router.get("/visits/report", response={200: ReportOut, **_ERRORS}, summary="回访总结报告")
def report(request: HttpRequest, filters: Query[PeriodFilters]) -> dict[str, Any]:
    """期间内到期的回访：各状态数量、按时率、回访结果、满意率、返工率、不满意原因，及按回访人统计（主管及以上）。"""
    staff = _me(request)
    _supervising(staff, _("只有主管及以上可以查看回访总结报告"))
    site_ids = _site_ids(staff, filters.site)
    start, end = _period(filters.start, filters.end)
    figures = visit_report(site_ids=site_ids, start=start, end=end)
    reasons = [
        {
            "reason": r["reason"],
            "notes": r["notes"],
            "done_at": r["done_at"],
            "ticket_number": r["ticket__number"],
            "contact_name": r["contact_name"],
        }
        for r in figures["reasons"]
    ]
    return {"start": start, "end": end, **figures, "reasons": reasons}


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
    to = by_pk(staff_in_scope(staff), payload.assignee_id)
    if to is None:
        raise ValidationFailed("回访人不存在或不在您负责的项目", field="assignee_id")
    try:
        visit_reassign(visit=visit, actor=staff, version=payload.version, to=to)
    except ValidationFailed as exc:
        exc.fields = {("assignee_id" if k == "assignee" else k): v for k, v in exc.fields.items()}
        raise
    return _detail(staff, visit_id)

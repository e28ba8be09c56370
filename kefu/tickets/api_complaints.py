"""REST endpoints of the complaint's six steps, one per step, each calling the same service
as the complaint workspace; and the 待我批示 queue. The customer's answer uses the ticket
endpoints ``/confirm`` and ``/reject``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router

from kefu.core.api import ErrorOut, Id, Limit, Offset, page, renamed
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.lookup import by_pk
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import department_by_id, staff_in_scope

from .api import _ERRORS, _all_category_paths, _detail, _me, _row, _targets
from .models import Category
from .queries import approvals_for, ticket_get_for_user, tickets_for
from .schemas import (
    ApproveIn,
    InvestigateIn,
    JudgeIn,
    MajorIn,
    ProposeIn,
    ReasonIn,
    SummarizeIn,
    TicketOut,
    TicketPage,
)
from .schemas import ImplementIn as ImplementInput
from .services import (
    complaint_approve,
    complaint_implement,
    complaint_investigate,
    complaint_judge,
    complaint_mark_major,
    complaint_propose,
    complaint_send_back,
    complaint_summarize,
)

router = Router(tags=["投诉"])


def _ticket(request: HttpRequest, ticket_id: int) -> tuple[Staff, Any]:
    staff = _me(request)
    return staff, ticket_get_for_user(staff=staff, pk=ticket_id)


@router.post("/complaints/{ticket_id}/judge", response={200: TicketOut, **_ERRORS}, summary="投诉判定")
def complaint_judge_view(request: HttpRequest, ticket_id: Id, payload: JudgeIn) -> dict[str, Any]:
    """第二步。成立：记录判定说明，可交由责任部门调查；不成立：`reason` 作为答复客户，投诉关闭。"""
    staff, ticket = _ticket(request, ticket_id)
    department, assignee = _targets(staff, payload.department_id, payload.assignee_id)
    try:
        complaint_judge(
            ticket=ticket,
            actor=staff,
            version=payload.version,
            valid=payload.valid,
            reason=payload.reason,
            department=department,
            assignee=assignee,
        )
    except ValidationFailed as exc:
        raise renamed(exc, {"department": "department_id", "assignee": "assignee_id"}) from None
    return _detail(staff, ticket)


@router.post("/complaints/{ticket_id}/investigate", response={200: TicketOut, **_ERRORS}, summary="提交调查结果")
def complaint_investigate_view(request: HttpRequest, ticket_id: Id, payload: InvestigateIn) -> dict[str, Any]:
    """第三步：投诉原因、责任部门和责任人。"""
    staff, ticket = _ticket(request, ticket_id)
    errors: dict[str, list[str]] = {}
    department = department_by_id(payload.responsible_department_id)
    if department is None:
        errors["responsible_department_id"] = ["部门不存在"]
    person = None
    if payload.responsible_person_id is not None:
        person = by_pk(staff_in_scope(staff), payload.responsible_person_id)
        if person is None:
            errors["responsible_person_id"] = ["责任人不存在或不在您负责的项目"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    try:
        complaint_investigate(
            ticket=ticket,
            actor=staff,
            version=payload.version,
            cause=payload.cause,
            responsible_department=department,
            responsible_person=person,
        )
    except ValidationFailed as exc:
        raise renamed(
            exc, {"responsible_department": "responsible_department_id", "responsible_person": "responsible_person_id"}
        ) from None
    return _detail(staff, ticket)


@router.post("/complaints/{ticket_id}/propose", response={200: TicketOut, **_ERRORS}, summary="提交处理方案")
def complaint_propose_view(request: HttpRequest, ticket_id: Id, payload: ProposeIn) -> dict[str, Any]:
    """第四步：一个或多个处理方案，提交后等待主管批示。"""
    staff, ticket = _ticket(request, ticket_id)
    complaint_propose(ticket=ticket, actor=staff, version=payload.version, proposals=payload.proposals)
    return _detail(staff, ticket)


@router.post("/complaints/{ticket_id}/approve", response={200: TicketOut, **_ERRORS}, summary="选定方案并批示")
def complaint_approve_view(request: HttpRequest, ticket_id: Id, payload: ApproveIn) -> dict[str, Any]:
    """第四步（主管及以上）：选定本轮的一个方案并作出批示。"""
    staff, ticket = _ticket(request, ticket_id)
    try:
        complaint_approve(
            ticket=ticket,
            actor=staff,
            version=payload.version,
            proposal_id=payload.proposal_id,
            instruction=payload.instruction,
        )
    except ValidationFailed as exc:
        raise renamed(exc, {"proposal": "proposal_id"}) from None
    return _detail(staff, ticket)


@router.post("/complaints/{ticket_id}/send-back", response={200: TicketOut, **_ERRORS}, summary="退回方案")
def complaint_send_back_view(request: HttpRequest, ticket_id: Id, payload: ReasonIn) -> dict[str, Any]:
    """第四步（主管及以上）：本轮方案全部退回，重新拟定。"""
    staff, ticket = _ticket(request, ticket_id)
    complaint_send_back(ticket=ticket, actor=staff, version=payload.version, reason=payload.reason)
    return _detail(staff, ticket)


@router.post("/complaints/{ticket_id}/implement", response={200: TicketOut, **_ERRORS}, summary="方案实施完成")
def complaint_implement_view(request: HttpRequest, ticket_id: Id, payload: ImplementInput) -> dict[str, Any]:
    """第五步：实施情况、对责任人的处理、通知客户的方式和时间；随后由客户确认或不认可。"""
    staff, ticket = _ticket(request, ticket_id)
    complaint_implement(
        ticket=ticket,
        actor=staff,
        version=payload.version,
        implementation=payload.implementation,
        notify_method=payload.notify_method,
        penalty=payload.penalty,
        penalty_amount=payload.penalty_amount,
        notified_at=payload.notified_at,
    )
    return _detail(staff, ticket)


@router.post("/complaints/{ticket_id}/summarize", response={200: TicketOut, **_ERRORS}, summary="投诉总结")
def complaint_summarize_view(request: HttpRequest, ticket_id: Id, payload: SummarizeIn) -> dict[str, Any]:
    """第六步（主管及以上）：投诉分类、根本原因、改进措施。"""
    staff, ticket = _ticket(request, ticket_id)
    classification = by_pk(Category.objects, payload.classification_id)
    if classification is None:
        raise ValidationFailed("投诉分类不存在", field="classification_id")
    try:
        complaint_summarize(
            ticket=ticket,
            actor=staff,
            version=payload.version,
            classification=classification,
            root_cause=payload.root_cause,
            improvement=payload.improvement,
        )
    except ValidationFailed as exc:
        raise renamed(exc, {"classification": "classification_id"}) from None
    return _detail(staff, ticket)


@router.post("/complaints/{ticket_id}/major", response={200: TicketOut, **_ERRORS}, summary="标记为重大投诉")
def complaint_major_view(request: HttpRequest, ticket_id: Id, payload: MajorIn) -> dict[str, Any]:
    """主管及以上：标记为重大投诉，立即通知项目经理和客服总监。"""
    staff, ticket = _ticket(request, ticket_id)
    complaint_mark_major(ticket=ticket, actor=staff, version=payload.version, reason=payload.reason)
    return _detail(staff, ticket)


@router.get(
    "/complaints/approvals", response={200: TicketPage, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}, summary="待我批示"
)
def complaint_approvals(request: HttpRequest, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    """处理方案等待批示的投诉，等待最久的在前（主管及以上）。"""
    staff = _me(request)
    if staff.role not in SUPERVISING_ROLES:
        raise PermissionDenied("只有主管及以上可以批示投诉处理方案")
    count, rows = page(approvals_for(tickets_for(staff)), limit, offset)
    paths = _all_category_paths() if any(t.category_id for t in rows) else {}
    now = timezone.now()
    return {"count": count, "limit": limit, "offset": offset, "items": [_row(staff, t, paths, now) for t in rows]}

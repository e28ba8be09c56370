"""REST endpoints of tickets: list and search, intake, detail with timeline, and one
endpoint per command (``POST /tickets/{id}/dispatch`` …), each calling the same service as
the UI. Every command takes the ``version`` the client read and answers 409 when someone
changed the ticket since.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router

from kefu.core.api import (
    ErrorOut,
    Id,
    page,
    ref,
    renamed,
)
from kefu.core.choices import display
from kefu.core.errors import Conflict, DomainError, ValidationFailed
from kefu.core.lookup import by_pk
from kefu.core.prefetch import kept
from kefu.core.prepared import prepared_statements
from kefu.customers.api import phone_for, recent_ticket_providers
from kefu.customers.models import Customer
from kefu.customers.queries import customer_with_units, unit_for
from kefu.org.models import Department, Staff
from kefu.org.queries import department_by_id, site_by_id, staff_in_scope

from .lifecycle import ACTIONS, COMPLAINT_STEP_OF, Kind, Status
from .models import Category, Complaint, Ticket
from .queries import (
    allowed_actions,
    categories_for,
    category_by_id,
    search_tickets,
    ticket_get_for_user,
    tickets_for,
    with_list_columns,
)
from .schemas import (
    CategoryOut,
    CommentIn,
    CompleteIn,
    ConfirmIn,
    DispatchIn,
    EventOut,
    NoteIn,
    ReasonIn,
    TicketFilters,
    TicketIn,
    TicketOut,
    TicketPage,
    TransferIn,
)
from .services import (
    CONFLICT_MESSAGE,
    complaint_refuse,
    ticket_accept,
    ticket_add_note,
    ticket_arrive,
    ticket_complete,
    ticket_confirm,
    ticket_create,
    ticket_dispatch,
    ticket_transfer,
    ticket_transition,
)

router = Router(tags=["工单"])

_ERRORS: dict[int | str, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _me(request: HttpRequest) -> Staff:
    return request.auth  # type: ignore[attr-defined,no-any-return]


def category_paths(nodes: Iterable[tuple[int, str, int | None]]) -> dict[int, str]:
    """``{id: "维修 / 水电 / 漏水"}`` for (id, name, parent_id) rows, without a query per level
    (``Category.path`` walks the parents one query at a time). Cycles are cut."""
    by_id = {pk: (name, parent) for pk, name, parent in nodes}
    paths: dict[int, str] = {}
    for pk in by_id:
        names: list[str] = []
        seen: set[int] = set()
        node: int | None = pk
        while node is not None and node in by_id and node not in seen:
            seen.add(node)
            name, parent = by_id[node]
            names.append(name)
            node = parent
        paths[pk] = " / ".join(reversed(names))
    return paths


def _all_category_paths() -> dict[int, str]:
    return category_paths(Category.objects.values_list("id", "name", "parent_id"))


# --- schemas ------------------------------------------------------------------------------


def _row(staff: Staff, t: Ticket, paths: dict[int, str], now: datetime) -> dict[str, Any]:
    return {
        "id": t.id,
        "number": t.number,
        "kind": t.kind,
        "kind_label": display(t, "kind"),
        "status": t.status,
        "status_label": display(t, "status"),
        "channel": t.channel,
        "channel_label": display(t, "channel"),
        "urgency": t.urgency,
        "urgency_label": display(t, "urgency"),
        "site": ref(t.site),
        "category": None if t.category_id is None else {"id": t.category_id, "path": paths.get(t.category_id, "")},
        "customer": ref(t.customer),
        "contact": {"name": t.contact_name, "phone": phone_for(staff, t.contact_phone)},
        "department": ref(t.department),
        "assignee": ref(t.assignee),
        "first_responder": ref(t.first_responder),
        "created_at": t.created_at,
        "respond_due": t.respond_due,
        "resolve_due": t.resolve_due,
        "overdue": t.is_overdue(now),
        "version": t.version,
    }


def _detail(staff: Staff, t: Ticket) -> dict[str, Any]:
    paths = {t.category.id: t.category.path} if t.category is not None else {}
    # A service that has just written the timeline keeps it on the ticket (core.prefetch).
    events = t.events.all() if kept(t, "events") else t.events.select_related("actor").order_by("at", "id")
    assignments = (
        t.assignments.all()
        if kept(t, "assignments")
        else t.assignments.select_related(
            "from_department", "from_assignee", "to_department", "to_assignee", "by"
        ).order_by("at", "id")
    )
    return {
        **_row(staff, t, paths, timezone.now()),
        "content": t.content,
        "unit": None if t.unit is None else {"id": t.unit.id, "label": t.unit.label},
        "updated_at": t.updated_at,
        "responded_at": t.responded_at,
        "dispatched_at": t.dispatched_at,
        "accepted_at": t.accepted_at,
        "arrived_at": t.arrived_at,
        "completed_at": t.completed_at,
        "confirmed_at": t.confirmed_at,
        "closed_at": t.closed_at,
        "suspended_from": t.suspended_from,
        "first_contact_resolved": t.first_contact_resolved,
        "reopen_count": t.reopen_count,
        "cancel_reason": t.cancel_reason,
        "work_notes": t.work_notes,
        "materials": t.materials,
        "work_hours": t.work_hours,
        "is_paid": t.is_paid,
        "fee": t.fee,
        "confirmed_by": t.confirmed_by,
        "confirm_method": t.confirm_method,
        "events": [_event(e) for e in events],
        "assignments": [
            {
                "id": a.id,
                "mode": a.mode,
                "mode_label": display(a, "mode"),
                "from_department": ref(a.from_department),
                "from_assignee": ref(a.from_assignee),
                "to_department": ref(a.to_department),
                "to_assignee": ref(a.to_assignee),
                "by": ref(a.by),
                "reason": a.reason,
                "at": a.at,
            }
            for a in assignments
        ],
        "allowed_actions": [{"code": code, "label": str(ACTIONS[code].label)} for code in allowed_actions(staff, t)],
        "is_major": t.is_major,
        "major_reason": t.major_reason,
        "complaint": _complaint(t) if t.kind == Kind.COMPLAINT else None,
    }


def _complaint(t: Ticket) -> dict[str, Any] | None:
    c: Complaint | None
    if kept(t, "events") and Ticket.complaint.is_cached(t):  # type: ignore[attr-defined]
        c = t.complaint  # just taken: the row intake wrote, nothing on it to join
    else:
        c = (
            Complaint.objects.select_related(
                "judged_by", "responsible_department", "responsible_person", "approved_by", "classification__parent"
            )
            .filter(pk=t.pk)
            .first()
        )
    if c is None:
        return None
    status = t.suspended_from if t.status == Status.SUSPENDED else t.status
    proposals = c.proposals.all() if kept(c, "proposals") else c.proposals.select_related("proposed_by", "decided_by")
    return {
        "step": COMPLAINT_STEP_OF.get(status, 1),
        "valid": c.valid,
        "judgment": c.judgment,
        "judged_by": ref(c.judged_by),
        "judged_at": c.judged_at,
        "cause": c.cause,
        "responsible_department": ref(c.responsible_department),
        "responsible_person": ref(c.responsible_person),
        "investigated_at": c.investigated_at,
        "round": c.round,
        "proposals": [
            {
                "id": p.id,
                "round": p.round,
                "text": p.text,
                "state": p.state,
                "state_label": display(p, "state"),
                "proposed_by": ref(p.proposed_by),
                "proposed_at": p.proposed_at,
                "decided_by": ref(p.decided_by),
                "decided_at": p.decided_at,
                "decision_note": p.decision_note,
            }
            for p in proposals
        ],
        "chosen_id": c.chosen_id,
        "instruction": c.instruction,
        "approved_by": ref(c.approved_by),
        "approved_at": c.approved_at,
        "implementation": c.implementation,
        "penalty": c.penalty,
        "penalty_amount": c.penalty_amount,
        "notify_method": c.notify_method,
        "customer_notified_at": c.customer_notified_at,
        "implemented_at": c.implemented_at,
        "refusals": c.refusals,
        "classification": None
        if c.classification is None
        else {"id": c.classification.id, "path": c.classification.path},
        "root_cause": c.root_cause,
        "improvement": c.improvement,
        "summarized_at": c.summarized_at,
    }


def _event(e: Any) -> dict[str, Any]:
    return {
        "id": e.id,
        "type": e.type,
        "actor": ref(e.actor),
        "at": e.at,
        "visibility": e.visibility,
        "visibility_label": display(e, "visibility"),
        "from_status": e.from_status,
        "to_status": e.to_status,
        "note": e.note,
        "data": e.data or {},
    }


def _recent_tickets(staff: Staff, customer: Customer) -> list[dict[str, Any]]:
    rows = tickets_for(staff).filter(customer=customer).order_by("-created_at", "-id")[:10]
    return [
        {
            "id": t.id,
            "number": t.number,
            "kind": t.kind,
            "kind_label": display(t, "kind"),
            "status": t.status,
            "status_label": display(t, "status"),
            "created_at": t.created_at,
        }
        for t in rows
    ]


recent_ticket_providers.append(_recent_tickets)


# --- reads --------------------------------------------------------------------------------


@router.get("/tickets", response={200: TicketPage, 401: ErrorOut, 422: ErrorOut}, summary="工单列表")
def ticket_list(request: HttpRequest, filters: Query[TicketFilters]) -> dict[str, Any]:
    staff = _me(request)
    params = filters.model_dump(exclude={"ordering", "limit", "offset"})
    qs = with_list_columns(search_tickets(tickets_for(staff), params))
    searching = bool(filters.q.strip())
    ordering = filters.ordering or ("relevance" if searching else "-created_at")
    if ordering == "resolve_due":
        qs = qs.order_by(F("resolve_due").asc(nulls_last=True), "id")
    elif ordering == "relevance" and searching:
        pass  # search_tickets ordered it, best first
    else:
        qs = qs.order_by("-created_at", "-id")
    count, rows = page(qs, filters.limit, filters.offset)
    paths = _all_category_paths() if any(t.category_id for t in rows) else {}
    now = timezone.now()
    return {
        "count": count,
        "limit": filters.limit,
        "offset": filters.offset,
        "items": [_row(staff, t, paths, now) for t in rows],
    }


@router.get(
    "/tickets/{ticket_id}", response={200: TicketOut, 401: ErrorOut, 404: ErrorOut, 422: ErrorOut}, summary="工单详情"
)
def ticket_detail(request: HttpRequest, ticket_id: Id) -> dict[str, Any]:
    """工单详情：时间线、派单记录，以及当前用户可执行的操作。"""
    staff = _me(request)
    return _detail(staff, ticket_get_for_user(staff=staff, pk=ticket_id))


@router.get("/categories", response={200: list[CategoryOut], 401: ErrorOut, 422: ErrorOut}, summary="报事分类")
def category_list(request: HttpRequest, kind: Kind | None = None) -> list[dict[str, Any]]:
    """启用的分类，按树的先序排列（父在前、子在后），带完整路径与层级；`kind` 只列适用于该类型的。"""
    nodes = categories_for(kind)
    paths = _all_category_paths()
    present = {c.id for c in nodes}
    children: dict[int | None, list[Category]] = {}
    for c in nodes:
        children.setdefault(c.parent_id if c.parent_id in present else None, []).append(c)
    result: list[dict[str, Any]] = []

    def walk(parent: int | None) -> None:
        for c in children.get(parent, []):
            result.append(
                {
                    "id": c.id,
                    "name": c.name,
                    "parent_id": c.parent_id,
                    "path": paths.get(c.id, c.name),
                    "depth": paths.get(c.id, c.name).count(" / "),
                    "kinds": list(c.kinds or []),
                    "department_id": c.department_id,
                    "skill_id": c.skill_id,
                }
            )
            walk(c.id)

    walk(None)
    return result


# --- intake -------------------------------------------------------------------------------


@router.post("/tickets", response={201: TicketOut, **_ERRORS}, summary="受理工单")
def ticket_add(request: HttpRequest, payload: TicketIn) -> tuple[int, dict[str, Any]]:
    """受理人即首问责任人。分类有派单规则时自动派单；咨询填写 `answer` 则当场办结。"""
    # The lookups and the service's writes, as prepared statements (decision 0015).
    with prepared_statements():
        staff = _me(request)
        errors: dict[str, list[str]] = {}
        site = site_by_id(payload.site_id)
        if site is None:
            errors["site_id"] = ["项目不存在"]
        category = None
        if payload.category_id is not None:
            category = category_by_id(payload.category_id)
            if category is None:
                errors["category_id"] = ["分类不存在"]
        customer = None
        if payload.customer_id is not None:
            customer = customer_with_units(staff, payload.customer_id)
            if customer is None:
                errors["customer_id"] = ["客户不存在"]
        unit = None
        if payload.unit_id is not None:
            unit = unit_for(staff, payload.unit_id, customer=customer)
            if unit is None:
                errors["unit_id"] = ["房屋不存在"]
        if errors or site is None:
            raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
        try:
            ticket = ticket_create(
                site=site,
                kind=payload.kind,
                channel=payload.channel,
                content=payload.content,
                actor=staff,
                urgency=payload.urgency,
                category=category,
                customer=customer,
                unit=unit,
                contact_name=payload.contact_name,
                contact_phone=payload.contact_phone,
                answer=payload.answer,
                auto_dispatch=payload.auto_dispatch,
                major=payload.major,
            )
        except DomainError as exc:
            names = {"site": "site_id", "category": "category_id", "customer": "customer_id", "unit": "unit_id"}
            raise renamed(exc, names) from None
        # The ticket as the service left it, with the rows it was made from: what a read through
        # ticket_get_for_user would give (its taker always sees it: intake is in their scope),
        # without the seven-table join.
        return 201, _detail(staff, ticket)


# --- commands -----------------------------------------------------------------------------


def _targets(
    staff: Staff, department_id: int | None, assignee_id: int | None
) -> tuple[Department | None, Staff | None]:
    errors: dict[str, list[str]] = {}
    department = assignee = None
    if department_id is not None:
        department = department_by_id(department_id)
        if department is None:
            errors["department_id"] = ["部门不存在"]
    if assignee_id is not None:
        assignee = by_pk(staff_in_scope(staff), assignee_id)
        if assignee is None:
            errors["assignee_id"] = ["处理人不存在或不在您负责的项目"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    return department, assignee


_TARGET_FIELDS = {"department": "department_id", "assignee": "assignee_id"}


@router.post("/tickets/{ticket_id}/dispatch", response={200: TicketOut, **_ERRORS}, summary="派单")
def ticket_dispatch_view(request: HttpRequest, ticket_id: Id, payload: DispatchIn) -> dict[str, Any]:
    """指定部门和/或处理人；两者都不填时按分类的派单规则自动派单。"""
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    department, assignee = _targets(staff, payload.department_id, payload.assignee_id)
    try:
        ticket_dispatch(
            ticket=ticket,
            actor=staff,
            version=payload.version,
            department=department,
            assignee=assignee,
            reason=payload.reason.strip(),
        )
    except DomainError as exc:
        raise renamed(exc, _TARGET_FIELDS) from None
    return _detail(staff, ticket)


@router.post("/tickets/{ticket_id}/transfer", response={200: TicketOut, **_ERRORS}, summary="转派")
def ticket_transfer_view(request: HttpRequest, ticket_id: Id, payload: TransferIn) -> dict[str, Any]:
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    department, assignee = _targets(staff, payload.department_id, payload.assignee_id)
    try:
        ticket_transfer(
            ticket=ticket,
            actor=staff,
            version=payload.version,
            reason=payload.reason,
            department=department,
            assignee=assignee,
        )
    except DomainError as exc:
        raise renamed(exc, _TARGET_FIELDS) from None
    return _detail(staff, ticket)


@router.post("/tickets/{ticket_id}/accept", response={200: TicketOut, **_ERRORS}, summary="接单")
def ticket_accept_view(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> dict[str, Any]:
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    ticket_accept(ticket=ticket, actor=staff, version=payload.version, note=payload.note)
    return _detail(staff, ticket)


@router.post("/tickets/{ticket_id}/arrive", response={200: TicketOut, **_ERRORS}, summary="到场")
def ticket_arrive_view(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> dict[str, Any]:
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    ticket_arrive(ticket=ticket, actor=staff, version=payload.version, note=payload.note)
    return _detail(staff, ticket)


def _transition(request: HttpRequest, ticket_id: int, action: str, version: int, note: str) -> dict[str, Any]:
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    try:
        ticket_transition(ticket=ticket, action=action, actor=staff, version=version, note=note)
    except DomainError as exc:
        # The services call it ``note``; reason-taking endpoints call it ``reason``.
        raise renamed(exc, {"note": "reason"} if ACTIONS[action].needs_reason else {}) from None
    return _detail(staff, ticket)


@router.post("/tickets/{ticket_id}/start", response={200: TicketOut, **_ERRORS}, summary="开始处理")
def ticket_start_view(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> dict[str, Any]:
    return _transition(request, ticket_id, "start", payload.version, payload.note)


@router.post("/tickets/{ticket_id}/suspend", response={200: TicketOut, **_ERRORS}, summary="挂起")
def ticket_suspend_view(request: HttpRequest, ticket_id: Id, payload: ReasonIn) -> dict[str, Any]:
    return _transition(request, ticket_id, "suspend", payload.version, payload.reason)


@router.post("/tickets/{ticket_id}/resume", response={200: TicketOut, **_ERRORS}, summary="恢复")
def ticket_resume_view(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> dict[str, Any]:
    return _transition(request, ticket_id, "resume", payload.version, payload.note)


@router.post("/tickets/{ticket_id}/complete", response={200: TicketOut, **_ERRORS}, summary="完成")
def ticket_complete_view(request: HttpRequest, ticket_id: Id, payload: CompleteIn) -> dict[str, Any]:
    """报修填写维修记录、材料、工时，有偿服务填写费用；其他类型填写处理结果（note）。照片请在网页端上传。"""
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    ticket_complete(
        ticket=ticket,
        actor=staff,
        version=payload.version,
        note=payload.note,
        work_notes=payload.work_notes,
        materials=payload.materials,
        work_hours=payload.work_hours,
        is_paid=payload.is_paid,
        fee=payload.fee,
    )
    return _detail(staff, ticket)


@router.post("/tickets/{ticket_id}/confirm", response={200: TicketOut, **_ERRORS}, summary="客户确认")
def ticket_confirm_view(request: HttpRequest, ticket_id: Id, payload: ConfirmIn) -> dict[str, Any]:
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    ticket_confirm(
        ticket=ticket,
        actor=staff,
        version=payload.version,
        confirmed_by=payload.confirmed_by,
        method=payload.method,
        note=payload.note,
        at=payload.at,
    )
    return _detail(staff, ticket)


@router.post("/tickets/{ticket_id}/reject", response={200: TicketOut, **_ERRORS}, summary="客户不认可")
def ticket_reject_view(request: HttpRequest, ticket_id: Id, payload: ReasonIn) -> dict[str, Any]:
    """客户不认可。投诉：选定方案记为客户不认可，退回重新拟定方案。"""
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    if ticket.kind == Kind.COMPLAINT:
        complaint_refuse(ticket=ticket, actor=staff, version=payload.version, reason=payload.reason)
        return _detail(staff, ticket)
    return _transition(request, ticket_id, "reject", payload.version, payload.reason)


@router.post("/tickets/{ticket_id}/close", response={200: TicketOut, **_ERRORS}, summary="关闭")
def ticket_close_view(request: HttpRequest, ticket_id: Id, payload: NoteIn) -> dict[str, Any]:
    return _transition(request, ticket_id, "close", payload.version, payload.note)


@router.post("/tickets/{ticket_id}/cancel", response={200: TicketOut, **_ERRORS}, summary="撤销")
def ticket_cancel_view(request: HttpRequest, ticket_id: Id, payload: ReasonIn) -> dict[str, Any]:
    return _transition(request, ticket_id, "cancel", payload.version, payload.reason)


@router.post("/tickets/{ticket_id}/reopen", response={200: TicketOut, **_ERRORS}, summary="重新打开")
def ticket_reopen_view(request: HttpRequest, ticket_id: Id, payload: ReasonIn) -> dict[str, Any]:
    return _transition(request, ticket_id, "reopen", payload.version, payload.reason)


@router.post("/tickets/{ticket_id}/notes", response={201: EventOut, **_ERRORS}, summary="内部备注或答复客户")
def ticket_note_view(request: HttpRequest, ticket_id: Id, payload: CommentIn) -> tuple[int, dict[str, Any]]:
    staff = _me(request)
    ticket = ticket_get_for_user(staff=staff, pk=ticket_id)
    if payload.version is not None and payload.version != ticket.version:
        raise Conflict(CONFLICT_MESSAGE)
    event = ticket_add_note(ticket=ticket, actor=staff, text=payload.text, public=payload.public)
    return 201, _event(event)

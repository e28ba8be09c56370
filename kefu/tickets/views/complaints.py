"""The complaint workspace: the six steps' forms on the ticket page, and the 待我批示 queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.web import paginate
from kefu.org.models import Department, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import department_by_id
from kefu.org.web import staff_view

from .. import services
from ..lifecycle import COMPLAINT_STEP_OF, COMPLAINT_STEPS, Kind, Status
from ..models import Category, Complaint, Ticket
from ..queries import approvals_for, categories_for

# Actions whose form lives in the complaint workspace rather than in the action bar.
STEP_ACTIONS = frozenset(
    {
        "judge",
        "dismiss",
        "investigate",
        "propose",
        "approve",
        "send_back",
        "implement",
        "summarize",
        "confirm",
        "reject",
    }
)


def complaint_context(me: Staff, ticket: Ticket, actions: list[str]) -> dict[str, Any]:
    """What the complaint card of the ticket page shows: the stepper, what each step
    recorded, and the form of the step the user may take now."""
    complaint = (
        Complaint.objects.select_related(
            "judged_by",
            "responsible_department",
            "responsible_person",
            "investigated_by",
            "chosen",
            "approved_by",
            "implemented_by",
            "classification__parent",
            "summarized_by",
        )
        .filter(pk=ticket.pk)
        .first()
    )
    status = ticket.suspended_from if ticket.status == Status.SUSPENDED else ticket.status
    current = COMPLAINT_STEP_OF.get(status, 1)
    dismissed = complaint is not None and complaint.valid is False
    steps = []
    for index, (code, label) in enumerate(COMPLAINT_STEPS, 1):
        state = "done" if index < current else ("current" if index == current else "todo")
        if dismissed and index > 2:
            state = "skipped"
        steps.append({"n": index, "code": code, "label": label, "state": state})
    proposals = list(complaint.proposals.select_related("proposed_by", "decided_by")) if complaint else []
    return {
        "c": complaint,
        "steps": steps,
        "dismissed": dismissed,
        "proposals": proposals,
        "current_proposals": [
            p for p in proposals if complaint and p.round == complaint.round and p.state == "proposed"
        ],
        "step_actions": [a for a in actions if a in STEP_ACTIONS],
        "notify_methods": services.NOTIFY_METHODS,
        "classifications": categories_for(Kind.COMPLAINT),
        "can_mark_major": me.role in SUPERVISING_ROLES
        and not ticket.is_major
        and ticket.status not in (Status.CLOSED, Status.CANCELLED),
    }


def complaint_step(me: Staff, ticket: Ticket, action: str, version: int, post: QueryDict, files: Any) -> str:
    """Carry out one step from its form; returns the success message."""
    if action == "judge":
        valid = post.get("valid")
        if valid not in ("1", "0"):
            raise ValidationFailed(_("请选择投诉是否成立"), field="valid")
        services.complaint_judge(
            ticket=ticket,
            actor=me,
            version=version,
            valid=valid == "1",
            reason=post.get("reason", ""),
            department=_department(post.get("department")),
            assignee=_staff(post.get("assignee")),
        )
        return _("已判定：投诉成立，进入调查") if valid == "1" else _("已判定：投诉不成立，已答复客户并关闭")
    if action == "investigate":
        services.complaint_investigate(
            ticket=ticket,
            actor=me,
            version=version,
            cause=post.get("cause", ""),
            responsible_department=_department(post.get("responsible_department")),
            responsible_person=_staff(post.get("responsible_person")),
            photos=files.getlist("photos"),
        )
        return _("调查结果已提交")
    if action == "propose":
        services.complaint_propose(ticket=ticket, actor=me, version=version, proposals=post.getlist("proposal"))
        return _("处理方案已提交，等待批示")
    if action == "approve":
        services.complaint_approve(
            ticket=ticket,
            actor=me,
            version=version,
            proposal_id=post.get("proposal"),
            instruction=post.get("instruction", ""),
        )
        return _("已批示，进入方案实施")
    if action == "send_back":
        services.complaint_send_back(ticket=ticket, actor=me, version=version, reason=post.get("instruction", ""))
        return _("方案已退回")
    if action == "implement":
        services.complaint_implement(
            ticket=ticket,
            actor=me,
            version=version,
            implementation=post.get("implementation", ""),
            notify_method=post.get("notify_method", ""),
            penalty=post.get("penalty", ""),
            penalty_amount=post.get("penalty_amount"),
            notified_at=parse_local(post.get("notified_at"), "notified_at"),
        )
        return _("实施情况已记录，等待客户确认")
    if action == "reject":
        services.complaint_refuse(ticket=ticket, actor=me, version=version, reason=post.get("note", ""))
        return _("已记录客户不认可，退回重新拟定方案")
    if action == "summarize":
        classification = Category.objects.filter(pk=_int(post.get("classification"))).first()
        services.complaint_summarize(
            ticket=ticket,
            actor=me,
            version=version,
            classification=classification,
            root_cause=post.get("root_cause", ""),
            improvement=post.get("improvement", ""),
        )
        return _("投诉已总结归档")
    if action == "mark_major":
        services.complaint_mark_major(ticket=ticket, actor=me, version=version, reason=post.get("reason", ""))
        return _("已标记为重大投诉，并已通知经理和总监")
    raise ValidationFailed(_("不支持的操作"))


COMPLAINT_VIEW_ACTIONS = frozenset(
    {"judge", "investigate", "propose", "approve", "send_back", "implement", "summarize", "mark_major"}
)


@staff_view
def approvals(request: HttpRequest, me: Staff) -> HttpResponse:
    """待我批示: complaints whose proposals wait for a supervisor's instruction."""
    if me.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以批示投诉处理方案"))
    from .tickets import scoped

    qs = approvals_for(scoped(request, me))
    page = paginate(request, qs)
    return render(
        request,
        "tickets/approvals.html",
        {"page_title": _("待我批示"), "page": page, "rows": page.object_list, "now": timezone.now()},
    )


def parse_local(value: Any, field: str) -> datetime | None:
    """A ``datetime-local`` input (2026-11-23T14:30) in the server's time zone; empty → None."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(_("时间格式不正确"), field=field) from None
    if moment.tzinfo is None:
        moment = timezone.make_aware(moment)
    return moment


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _department(value: Any) -> Department | None:
    return department_by_id(_int(value)) if value else None


def _staff(value: Any) -> Staff | None:
    return Staff.objects.filter(pk=_int(value)).first() if value else None

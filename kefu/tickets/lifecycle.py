"""The ticket life cycle as data: statuses, actions, and a transition table per kind.

The transition service (``services.ticket_transition``) is the only code that moves a
ticket from one status to another; it looks the move up here and refuses anything absent.
Later issues replace the complaint table with the six-step flow without touching the
service.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.org.models import Role

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Kind(models.TextChoices):
    INQUIRY = "inquiry", _("咨询")
    COMPLAINT = "complaint", _("投诉")
    REPAIR = "repair", _("报修")
    SUGGESTION = "suggestion", _("建议")
    HELP = "help", _("求助")
    PRAISE = "praise", _("表扬")


NUMBER_PREFIX: dict[str, str] = {
    Kind.INQUIRY: "ZX",
    Kind.COMPLAINT: "TS",
    Kind.REPAIR: "BX",
    Kind.SUGGESTION: "JY",
    Kind.HELP: "QZ",
    Kind.PRAISE: "BY",
}


class Status(models.TextChoices):
    NEW = "new", _("待受理")
    RECEIVED = "received", _("已受理")
    DISPATCHED = "dispatched", _("已派单")
    ACCEPTED = "accepted", _("已接单")
    IN_PROGRESS = "in_progress", _("处理中")
    # The complaint's own steps (six steps, seed 002).
    INVESTIGATING = "investigating", _("调查中")
    PROPOSING = "proposing", _("方案拟定")
    AWAITING_APPROVAL = "awaiting_approval", _("待批示")
    IMPLEMENTING = "implementing", _("方案实施")
    SUMMARIZING = "summarizing", _("待总结")
    SUSPENDED = "suspended", _("挂起")
    PENDING_CONFIRM = "pending_confirm", _("待确认")
    RESOLVED = "resolved", _("已办结")
    VISITED = "visited", _("已回访")
    CLOSED = "closed", _("已关闭")
    CANCELLED = "cancelled", _("已撤销")


# One colour per state, the same on every page (UI.md).
STATUS_COLORS: dict[str, str] = {
    Status.NEW: "warning",
    Status.RECEIVED: "info",
    Status.DISPATCHED: "primary",
    Status.ACCEPTED: "primary",
    Status.IN_PROGRESS: "primary",
    Status.INVESTIGATING: "primary",
    Status.PROPOSING: "primary",
    Status.AWAITING_APPROVAL: "warning",
    Status.IMPLEMENTING: "primary",
    Status.SUMMARIZING: "info",
    Status.SUSPENDED: "default",
    Status.PENDING_CONFIRM: "warning",
    Status.RESOLVED: "success",
    Status.VISITED: "success",
    Status.CLOSED: "default",
    Status.CANCELLED: "default",
}
ENDED: tuple[str, ...] = (Status.CLOSED, Status.CANCELLED)
# Statuses in which the handler's part is done: the resolution clock no longer runs.
DONE_FOR_SLA: tuple[str, ...] = (
    Status.PENDING_CONFIRM,
    Status.SUMMARIZING,
    Status.RESOLVED,
    Status.VISITED,
    Status.CLOSED,
    Status.CANCELLED,
)

# …and the statuses in which it still runs (or waits, suspended).
IN_HAND: tuple[str, ...] = tuple(s for s in Status.values if s not in DONE_FOR_SLA)


@dataclass(frozen=True)
class Action:
    """A command on a ticket. ``roles`` may always take it (within their data scope);
    ``handler`` means the ticket's assignee, or staff of its department when it has no
    assignee, may take it too."""

    code: str
    label: StrOrPromise
    roles: frozenset[str]
    handler: bool = False
    needs_reason: bool = False
    danger: bool = False


_OFFICE = frozenset({Role.AGENT, Role.FRONTDESK, Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR})
_DESK = frozenset({Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR})
_SUPERVISORS = frozenset({Role.SUPERVISOR, Role.MANAGER, Role.DIRECTOR})

ACTIONS: dict[str, Action] = {
    a.code: a
    for a in [
        Action("receive", _("受理"), _OFFICE),
        Action("dispatch", _("派单"), _DESK),
        Action("transfer", _("转派"), _SUPERVISORS, needs_reason=True),
        Action("accept", _("接单"), _SUPERVISORS, handler=True),
        Action("arrive", _("到场"), _SUPERVISORS, handler=True),
        Action("start", _("开始处理"), _SUPERVISORS, handler=True),
        Action("suspend", _("挂起"), _DESK, handler=True, needs_reason=True),
        Action("resume", _("恢复"), _DESK, handler=True),
        Action("complete", _("完成"), _DESK, handler=True),
        Action("confirm", _("客户确认"), _OFFICE),
        Action("reject", _("客户不认可"), _OFFICE, needs_reason=True),
        Action("close", _("关闭"), _DESK),
        Action("cancel", _("撤销"), _DESK, needs_reason=True, danger=True),
        Action("reopen", _("重新打开"), _DESK, needs_reason=True),
        Action("visit", _("回访"), _OFFICE),
        # The complaint's six steps (services/complaints.py).
        Action("judge", _("判定成立"), _DESK),
        Action("dismiss", _("判定不成立"), _DESK, needs_reason=True),
        Action("investigate", _("提交调查结果"), _SUPERVISORS, handler=True),
        Action("propose", _("提交处理方案"), _SUPERVISORS, handler=True),
        Action("approve", _("批示"), _SUPERVISORS),
        Action("send_back", _("退回方案"), _SUPERVISORS, needs_reason=True),
        Action("implement", _("实施完成"), _SUPERVISORS, handler=True),
        Action("summarize", _("总结归档"), _SUPERVISORS),
    ]
}

# Status reached by ``resume`` is the one the ticket was suspended from.
RESUME = "<previous>"

_S = Status
_COMMON: dict[tuple[str, str], str] = {
    (_S.NEW, "receive"): _S.RECEIVED,
    (_S.NEW, "dispatch"): _S.DISPATCHED,
    (_S.RECEIVED, "dispatch"): _S.DISPATCHED,
    (_S.DISPATCHED, "transfer"): _S.DISPATCHED,
    (_S.ACCEPTED, "transfer"): _S.DISPATCHED,
    (_S.IN_PROGRESS, "transfer"): _S.DISPATCHED,
    (_S.DISPATCHED, "accept"): _S.ACCEPTED,
    (_S.RECEIVED, "suspend"): _S.SUSPENDED,
    (_S.DISPATCHED, "suspend"): _S.SUSPENDED,
    (_S.ACCEPTED, "suspend"): _S.SUSPENDED,
    (_S.IN_PROGRESS, "suspend"): _S.SUSPENDED,
    (_S.SUSPENDED, "resume"): RESUME,
    (_S.IN_PROGRESS, "complete"): _S.PENDING_CONFIRM,
    (_S.PENDING_CONFIRM, "confirm"): _S.RESOLVED,
    (_S.PENDING_CONFIRM, "reject"): _S.IN_PROGRESS,
    (_S.RESOLVED, "close"): _S.CLOSED,
    (_S.VISITED, "close"): _S.CLOSED,
    (_S.RESOLVED, "visit"): _S.VISITED,
    (_S.NEW, "cancel"): _S.CANCELLED,
    (_S.RECEIVED, "cancel"): _S.CANCELLED,
    (_S.DISPATCHED, "cancel"): _S.CANCELLED,
    (_S.ACCEPTED, "cancel"): _S.CANCELLED,
    (_S.SUSPENDED, "cancel"): _S.CANCELLED,
    (_S.RESOLVED, "reopen"): _S.RECEIVED,
    (_S.VISITED, "reopen"): _S.RECEIVED,
    (_S.CLOSED, "reopen"): _S.RECEIVED,
}

# Repairs: dispatch → accept → arrive → complete (work report) → customer confirms → close.
_REPAIR: dict[tuple[str, str], str] = {**_COMMON, (_S.ACCEPTED, "arrive"): _S.IN_PROGRESS}

# Desk kinds may also be answered by the agent who holds them, without dispatch.
_DESK_KINDS: dict[tuple[str, str], str] = {
    **_COMMON,
    (_S.ACCEPTED, "start"): _S.IN_PROGRESS,
    (_S.RECEIVED, "complete"): _S.PENDING_CONFIRM,
    (_S.ACCEPTED, "complete"): _S.PENDING_CONFIRM,
}

# Praise is registered, passed on and closed; nothing to confirm.
_PRAISE: dict[tuple[str, str], str] = {
    (_S.NEW, "receive"): _S.RECEIVED,
    (_S.RECEIVED, "dispatch"): _S.DISPATCHED,
    (_S.RECEIVED, "close"): _S.CLOSED,
    (_S.DISPATCHED, "close"): _S.CLOSED,
    (_S.RECEIVED, "cancel"): _S.CANCELLED,
}

# Complaints, six steps (seed 002): 受理登记 → 判定 → 调查 → 方案 (批示) → 实施 (customer
# confirms or refuses) → 总结. A complaint judged not valid is answered and closed. The
# investigation may be handed to the responsible department; the customer refusing the
# solution sends it back to 方案, and so does reopening after the visit.
_WORKING_COMPLAINT = (_S.INVESTIGATING, _S.PROPOSING, _S.IMPLEMENTING)
_COMPLAINT: dict[tuple[str, str], str] = {
    (_S.NEW, "receive"): _S.RECEIVED,
    (_S.RECEIVED, "judge"): _S.INVESTIGATING,
    (_S.RECEIVED, "dismiss"): _S.CLOSED,
    **{(s, "dispatch"): s for s in _WORKING_COMPLAINT},
    **{(s, "transfer"): s for s in _WORKING_COMPLAINT},
    (_S.INVESTIGATING, "investigate"): _S.PROPOSING,
    (_S.PROPOSING, "propose"): _S.AWAITING_APPROVAL,
    (_S.AWAITING_APPROVAL, "approve"): _S.IMPLEMENTING,
    (_S.AWAITING_APPROVAL, "send_back"): _S.PROPOSING,
    (_S.IMPLEMENTING, "implement"): _S.PENDING_CONFIRM,
    (_S.PENDING_CONFIRM, "confirm"): _S.SUMMARIZING,
    (_S.PENDING_CONFIRM, "reject"): _S.PROPOSING,
    (_S.SUMMARIZING, "summarize"): _S.RESOLVED,
    **{(s, "suspend"): _S.SUSPENDED for s in (_S.RECEIVED, *_WORKING_COMPLAINT)},
    (_S.SUSPENDED, "resume"): RESUME,
    (_S.RESOLVED, "close"): _S.CLOSED,
    (_S.VISITED, "close"): _S.CLOSED,
    (_S.RESOLVED, "visit"): _S.VISITED,
    **{(s, "cancel"): _S.CANCELLED for s in (_S.NEW, _S.RECEIVED, _S.INVESTIGATING, _S.SUSPENDED)},
    (_S.RESOLVED, "reopen"): _S.PROPOSING,
    (_S.VISITED, "reopen"): _S.PROPOSING,
    (_S.CLOSED, "reopen"): _S.PROPOSING,
}

# Where each status sits among the six steps (1-based); the stepper of the complaint
# workspace reads it.
COMPLAINT_STEPS: tuple[tuple[str, StrOrPromise], ...] = (
    ("register", _("受理登记")),
    ("judge", _("判定")),
    ("investigate", _("调查")),
    ("propose", _("方案")),
    ("implement", _("实施")),
    ("summarize", _("总结")),
)
COMPLAINT_STEP_OF: dict[str, int] = {
    _S.NEW: 1,
    _S.RECEIVED: 2,
    _S.INVESTIGATING: 3,
    _S.PROPOSING: 4,
    _S.AWAITING_APPROVAL: 4,
    _S.IMPLEMENTING: 5,
    _S.PENDING_CONFIRM: 5,
    _S.SUMMARIZING: 6,
    _S.RESOLVED: 7,
    _S.VISITED: 7,
    _S.CLOSED: 7,
    _S.CANCELLED: 7,
}

TRANSITIONS: dict[str, dict[tuple[str, str], str]] = {
    Kind.INQUIRY.value: _DESK_KINDS,
    Kind.COMPLAINT.value: _COMPLAINT,
    Kind.REPAIR.value: _REPAIR,
    Kind.SUGGESTION.value: _DESK_KINDS,
    Kind.HELP.value: {**_DESK_KINDS},
    Kind.PRAISE.value: _PRAISE,
}


def next_status(kind: str, status: str, action: str, *, suspended_from: str = "") -> str | None:
    """The status ``action`` leads to from ``status`` for ``kind``, or None if not allowed."""
    target = TRANSITIONS.get(kind, {}).get((status, action))
    if target == RESUME:
        return suspended_from or Status.RECEIVED
    return target


def actions_from(kind: str, status: str) -> list[str]:
    """Codes of the actions the table allows from ``status``, in the order of ``ACTIONS``."""
    table = TRANSITIONS.get(kind, {})
    return [code for code in ACTIONS if (status, code) in table]

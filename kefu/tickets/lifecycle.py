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
    Status.RESOLVED,
    Status.VISITED,
    Status.CLOSED,
    Status.CANCELLED,
)


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

TRANSITIONS: dict[str, dict[tuple[str, str], str]] = {
    Kind.INQUIRY.value: _DESK_KINDS,
    Kind.COMPLAINT.value: {**_COMMON, (_S.ACCEPTED, "start"): _S.IN_PROGRESS},
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

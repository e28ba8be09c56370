"""The other moves of the life cycle, notes and replies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.uploads import check_photos
from kefu.org.models import Staff

from ..hooks import AFTER_TRANSITION
from ..lifecycle import ACTIONS, Kind, Status, next_status
from ..models import Ticket, TicketEvent
from ..queries import is_handler
from ..sla import resumed_due_times
from ._common import MAX_CONTENT, _apply, _attach, _check_action, _check_fresh, _decimal, _event, _refusal, _touch


def ticket_transition(
    *,
    ticket: Ticket,
    action: str,
    actor: Staff,
    version: int,
    note: str = "",
    public: bool = False,
    changes: dict[str, Any] | None = None,
    data: dict[str, Any] | None = None,
) -> Ticket:
    """Move ``ticket`` by ``action`` if the kind's table and the actor's role allow it.

    A refused move raises with a Chinese message and changes nothing. ``changes`` are
    extra fields written in the same conditional UPDATE.
    """
    if action in ("dispatch", "transfer"):
        raise ValidationFailed(_("派单与转派请使用派单功能"))
    _check_fresh(ticket, version)
    _check_action(ticket, actor, action)
    spec = ACTIONS[action]
    note = (note or "").strip()
    if spec.needs_reason and not note:
        raise ValidationFailed(_("请填写{action}原因").format(action=spec.label), field="note")
    if len(note) > MAX_CONTENT:
        raise ValidationFailed(_("说明不能超过 {n} 字").format(n=MAX_CONTENT), field="note")
    now = timezone.now()
    target, fields = transition_changes(ticket=ticket, action=action, actor=actor, now=now, note=note)
    fields.update(changes or {})
    from_status = ticket.status
    with transaction.atomic():
        _apply(ticket, version, **fields)
        _event(
            ticket,
            actor,
            action,
            from_status=from_status,
            to_status=target,
            note=note,
            public=public,
            data=data or {},
            at=now,
        )
        for hook in AFTER_TRANSITION:
            hook(ticket=ticket, action=action, actor=actor, at=now)
    return ticket


def transition_changes(
    *, ticket: Ticket, action: str, actor: Staff, now: datetime, note: str = ""
) -> tuple[str, dict[str, Any]]:
    """The status ``action`` leads to and the fields it stamps, for an already checked move.

    Kept apart from the write so that the demo builder, which back-dates history, applies
    exactly the same rules as live work.
    """
    target = next_status(ticket.kind, ticket.status, action, suspended_from=ticket.suspended_from)
    if target is None:
        raise ValidationFailed(_refusal(ticket, action))
    fields: dict[str, Any] = {"status": target}
    stamp = {
        "accept": "accepted_at",
        "arrive": "arrived_at",
        "complete": "completed_at",
        "implement": "completed_at",
        "confirm": "confirmed_at",
    }
    if action in stamp:
        fields[stamp[action]] = now
    # Taking the work up, or closing it outright (a praise passed on), answers the customer.
    if action in ("accept", "start", "complete", "judge", "dismiss", "close") and ticket.responded_at is None:
        fields["responded_at"] = now
    if action == "accept" and ticket.assignee_id is None:
        # Work sent to a department is owned by whoever of it accepts.
        fields["assignee"] = actor
    if ticket.progress_due is not None and (action == "accept" or actor.id == ticket.assignee_id):
        # Any step the person handed the work takes is a progress report (no blue card).
        fields["progress_due"] = None
    if action == "suspend":
        fields.update(suspended_from=ticket.status, suspended_at=now)
    elif action == "resume":
        fields.update(suspended_from="", suspended_at=None)
        if ticket.suspended_at is not None:
            fields.update(resumed_due_times(ticket, paused_from=ticket.suspended_at, now=now))
    elif action == "close":
        fields["closed_at"] = now
    elif action == "dismiss":
        # A complaint judged not valid is answered and closed: that answer resolves it.
        fields.update(completed_at=now, closed_at=now)
    elif action == "cancel":
        fields["cancel_reason"] = note[:200]
        fields["closed_at"] = now
    elif action == "reopen":
        fields.update(
            reopen_count=ticket.reopen_count + 1,
            closed_at=None,
            completed_at=None,
            confirmed_at=None,
            first_contact_resolved=False,
        )
    elif action == "reject":
        fields.update(completed_at=None)
    return target, fields


def ticket_accept(*, ticket: Ticket, actor: Staff, version: int, note: str = "") -> Ticket:
    return ticket_transition(ticket=ticket, action="accept", actor=actor, version=version, note=note)


def ticket_arrive(*, ticket: Ticket, actor: Staff, version: int, note: str = "") -> Ticket:
    return ticket_transition(ticket=ticket, action="arrive", actor=actor, version=version, note=note)


def ticket_complete(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    note: str = "",
    work_notes: str = "",
    materials: str = "",
    work_hours: Any = None,
    is_paid: bool = False,
    fee: Any = None,
    photos: Sequence[UploadedFile] = (),
) -> Ticket:
    """Report the work done. Repairs need the field report: notes, and a fee when paid."""
    _check_fresh(ticket, version)
    errors: dict[str, list[str]] = {}
    work_notes = (work_notes or "").strip()
    hours = _decimal(work_hours, "work_hours", _("工时"), errors, maximum=Decimal("999"))
    money = _decimal(fee, "fee", _("费用"), errors, maximum=Decimal("99999999"))
    if ticket.kind == Kind.REPAIR and not work_notes:
        errors.setdefault("work_notes", []).append(_("请填写维修记录"))
    if len(work_notes) > MAX_CONTENT:
        errors.setdefault("work_notes", []).append(_("维修记录不能超过 {n} 字").format(n=MAX_CONTENT))
    if len(materials or "") > 300:
        errors.setdefault("materials", []).append(_("使用材料不能超过 300 字"))
    if is_paid and money is None:
        errors.setdefault("fee", []).append(_("有偿服务请填写费用"))
    if not is_paid and money:
        errors.setdefault("fee", []).append(_("无偿服务不应填写费用"))
    if ticket.kind != Kind.REPAIR and not (note or "").strip() and not work_notes:
        errors.setdefault("note", []).append(_("请填写处理结果"))
    if errors:
        _check_action(ticket, actor, "complete")
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    extensions = check_photos(list(photos))
    with transaction.atomic():
        ticket_transition(
            ticket=ticket,
            action="complete",
            actor=actor,
            version=version,
            note=note or work_notes,
            public=True,
            changes={
                "work_notes": work_notes,
                "materials": (materials or "").strip(),
                "work_hours": hours,
                "is_paid": bool(is_paid),
                "fee": money,
            },
            data={"is_paid": bool(is_paid), "fee": str(money) if money is not None else None},
        )
        event = ticket.events.order_by("-id").first()
        _attach(ticket, event, photos, extensions, actor)
    return ticket


CONFIRM_METHODS = {
    "phone": gettext_lazy("电话确认"),
    "onsite": gettext_lazy("现场签字"),
    "link": gettext_lazy("链接确认"),
}


def ticket_confirm(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    confirmed_by: str,
    method: str,
    note: str = "",
    at: datetime | None = None,
) -> Ticket:
    """Record the customer's confirmation (业主确认): who, how, and when — now unless the
    customer signed earlier (an on-site signature entered afterwards)."""
    _check_fresh(ticket, version)
    confirmed_by = (confirmed_by or "").strip()
    now = timezone.now()
    when = at or now
    error: tuple[str, str] | None = None
    if method not in CONFIRM_METHODS:
        error = ("method", _("请选择确认方式"))
    elif not confirmed_by:
        error = ("confirmed_by", _("请填写确认人"))
    elif len(confirmed_by) > 50:
        error = ("confirmed_by", _("确认人不能超过 50 字"))
    elif when > now + timedelta(minutes=5):
        error = ("at", _("确认时间不能晚于现在"))
    elif ticket.completed_at is not None and when < ticket.completed_at:
        error = ("at", _("确认时间不能早于完成时间"))
    if error is not None:
        _check_action(ticket, actor, "confirm")
        raise ValidationFailed(error[1], field=error[0])
    data: dict[str, Any] = {"confirmed_by": confirmed_by, "method": method}
    if at is not None:
        data["at"] = when.isoformat()
    return ticket_transition(
        ticket=ticket,
        action="confirm",
        actor=actor,
        version=version,
        note=note,
        changes={"confirmed_by": confirmed_by, "confirm_method": method, "confirmed_at": when},
        data=data,
    )


_REPLY_ROLES = ACTIONS["confirm"].roles  # the desk: agents, front desk, supervisors and up


def ticket_add_note(*, ticket: Ticket, actor: Staff, text: str, public: bool = False) -> TicketEvent:
    """An internal note (内部备注) or a reply to the customer (答复客户) on the timeline.

    Anyone who sees the ticket may add an internal note; only the desk roles and the
    ticket's handler may speak to the customer."""
    if public and not (actor.role in _REPLY_ROLES or is_handler(actor, ticket)):
        raise PermissionDenied(_("您没有答复客户的权限"))
    text = (text or "").strip()
    if not text:
        raise ValidationFailed(_("内容不能为空"), field="text")
    if len(text) > MAX_CONTENT:
        raise ValidationFailed(_("内容不能超过 {n} 字").format(n=MAX_CONTENT), field="text")
    if ticket.status in (Status.CLOSED, Status.CANCELLED) and public:
        raise ValidationFailed(_("工单已结束，不能再答复客户"))
    with transaction.atomic():
        changes: dict[str, Any] = {}
        if public and ticket.responded_at is None:
            changes["responded_at"] = timezone.now()  # a reply is a response
        if ticket.progress_due is not None and actor.id == ticket.assignee_id:
            changes["progress_due"] = None  # a note from the handler is a progress report
        if changes:
            _touch(ticket, **changes)
        return _event(ticket, actor, "reply" if public else "note", note=text, public=public)

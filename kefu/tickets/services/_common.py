"""Shared pieces of the ticket services: the version check, the refusal, the write, the event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.core.prefetch import forget
from kefu.org.models import Staff

from .. import search
from ..lifecycle import ACTIONS, next_status
from ..loads import holder, loads_move
from ..models import Attachment, Ticket, TicketClock, TicketEvent
from ..queries import is_handler
from ..sla import Rules, clock_of, rules_for, sla_fields

CONFLICT_MESSAGE = gettext_lazy("操作失败：该工单已被他人处理，请刷新后重试")


MAX_CONTENT = 5000


def _check_fresh(ticket: Ticket, version: int) -> None:
    """A form or API call carries the version it was built from; an older one means
    somebody acted in between, whatever the state is now."""
    if version != ticket.version:
        raise Conflict(CONFLICT_MESSAGE)


def _check_action(ticket: Ticket, actor: Staff, action: str) -> None:
    spec = ACTIONS.get(action)
    if spec is None:
        raise ValidationFailed(_("不支持的操作"))
    if next_status(ticket.kind, ticket.status, action, suspended_from=ticket.suspended_from) is None:
        raise ValidationFailed(_refusal(ticket, action))
    if not (actor.role in spec.roles or (spec.handler and is_handler(actor, ticket))):
        raise PermissionDenied(_("您没有权限对该工单执行“{action}”").format(action=spec.label))


def _refusal(ticket: Ticket, action: str) -> str:
    label = ACTIONS[action].label if action in ACTIONS else action
    return _("工单当前状态为“{status}”，不能执行“{action}”").format(status=ticket.get_status_display(), action=label)


def _apply(ticket: Ticket, version: int, *, rules: Rules | None = None, **fields: Any) -> None:
    """Write ``fields`` only if nobody changed the ticket since ``version`` was read.

    The version check is part of the UPDATE itself, so two people acting at once cannot
    both pass it: the second UPDATE matches no row and gets a conflict, and the whole
    service transaction rolls back. ``rules``: the site's warning rules when the caller has
    read them already.
    """
    if version != ticket.version:
        raise Conflict(CONFLICT_MESSAGE)
    fields["updated_at"] = timezone.now()
    # Every change may move a deadline or meet one: the warning engine's columns follow.
    sla, next_check_at = sla_fields(ticket, fields, rules or rules_for(ticket.site_id))
    fields.update(sla)
    updated = Ticket.objects.filter(pk=ticket.pk, version=version).update(**fields, version=F("version") + 1)
    if updated != 1:
        raise Conflict(CONFLICT_MESSAGE)
    _written(ticket, fields, next_check_at)
    ticket.version = version + 1
    if search.SEARCHED_FIELDS.intersection(fields):
        search.index_tickets(ids=[ticket.pk])


def _touch(ticket: Ticket, **fields: Any) -> None:
    """Write columns that never conflict with anyone's action (a reply's response time, a
    progress report) without a version bump, so a note never makes an open form stale."""
    sla, next_check_at = sla_fields(ticket, fields, rules_for(ticket.site_id))
    fields.update(sla)
    Ticket.objects.filter(pk=ticket.pk).update(**fields)
    _written(ticket, fields, next_check_at)


def _written(ticket: Ticket, fields: dict[str, Any], next_check_at: datetime | None) -> None:
    """What follows a write of ``fields`` to the ticket's row: the instance takes them, the
    warning clock moves to its next check, and the ticket moves between its handlers' loads
    if its handler or status changed (decisions 0016, 0017)."""
    _set_clock(ticket, next_check_at)
    before = holder(ticket.assignee_id, ticket.status)
    for name, value in fields.items():
        setattr(ticket, name, value)
    loads_move(before, holder(ticket.assignee_id, ticket.status))


def _set_clock(ticket: Ticket, next_check_at: datetime | None) -> None:
    """Move the ticket's warning clock to its next check (a ticket without one gets one)."""
    clock = clock_of(ticket)
    clock.next_check_at = next_check_at
    if clock._state.adding:
        clock.save(force_insert=True)
    else:
        TicketClock.objects.filter(pk=ticket.pk).update(next_check_at=next_check_at)


def _timeline_entry(
    ticket: Ticket,
    actor: Staff | None,
    type: str,
    *,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    public: bool = False,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    """A timeline entry, not saved yet: ``_event`` writes one, intake several at once."""
    return TicketEvent(
        ticket=ticket,
        actor=actor,
        type=type,
        from_status=from_status,
        to_status=to_status,
        note=note,
        visibility=TicketEvent.Visibility.PUBLIC if public else TicketEvent.Visibility.INTERNAL,
        data=data or {},
        at=at or timezone.now(),
    )


def _event(
    ticket: Ticket,
    actor: Staff | None,
    type: str,
    *,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    public: bool = False,
    data: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> TicketEvent:
    """Write one timeline entry, and add its note's words to the ticket's search document."""
    forget(ticket, "events")
    event = _timeline_entry(
        ticket, actor, type, from_status=from_status, to_status=to_status, note=note, public=public, data=data, at=at
    )
    event.save(force_insert=True)
    if note and type not in search.SKIPPED_EVENTS:
        # A note is found by its words from now on, in the same transaction.
        search.index_note(ticket_id=ticket.pk, text=note)
    return event


def _attach(
    ticket: Ticket, event: TicketEvent | None, photos: Sequence[UploadedFile], extensions: list[str], actor: Staff
) -> None:
    for upload, extension in zip(photos, extensions, strict=True):
        attachment = Attachment(
            ticket=ticket,
            event=event,
            extension=extension,
            original_name=(upload.name or "photo")[:200],
            size=upload.size or 0,
            uploaded_by=actor,
        )
        attachment.file.save(f"photo.{extension}", upload, save=False)
        attachment.save()


def _decimal(value: Any, field: str, label: str, errors: dict[str, list[str]], *, maximum: Decimal) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.setdefault(field, []).append(_("{label}必须是数字").format(label=label))
        return None
    if not number.is_finite() or number < 0 or number > maximum:
        errors.setdefault(field, []).append(_("{label}必须在 0 到 {maximum} 之间").format(label=label, maximum=maximum))
        return None
    return number.quantize(Decimal("0.01"))


def _required_reason(reason: str, message: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(message, field="reason")
    if len(reason) > 200:
        raise ValidationFailed(_("原因不能超过 200 字"), field="reason")
    return reason

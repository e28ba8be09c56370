"""Every write to a ticket. Each function is atomic, checks its rules, bumps the ticket's
version (optimistic locking) and writes its own timeline event."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.core.numbering import next_value
from kefu.core.phones import is_valid, normalize
from kefu.core.uploads import check_photos
from kefu.customers.models import Customer, Unit
from kefu.customers.queries import parse_room
from kefu.customers.services import CustomerData, UnitLink, customer_create
from kefu.org.models import Department, Site, Staff
from kefu.org.permissions import FIELD_ROLES, can
from kefu.org.queries import site_ids_for

from .lifecycle import ACTIONS, DONE_FOR_SLA, NUMBER_PREFIX, Kind, Status, next_status
from .models import Assignment, Attachment, Category, Channel, Ticket, TicketEvent, Urgency
from .queries import is_handler
from .sla import due_times

CONFLICT_MESSAGE = gettext_lazy("操作失败：该工单已被他人处理，请刷新后重试")
MAX_CONTENT = 5000


# --- intake -------------------------------------------------------------------------------


def ticket_create(
    *,
    site: Site,
    kind: str,
    channel: str,
    content: str,
    actor: Staff,
    urgency: str = Urgency.LOW,
    category: Category | None = None,
    customer: Customer | None = None,
    unit: Unit | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    photos: Sequence[UploadedFile] = (),
    answer: str = "",
    auto_dispatch: bool = True,
) -> Ticket:
    """Take a ticket at intake. ``actor`` becomes its first responder (首问责任人).

    An inquiry with an ``answer`` is closed at once and counted as resolved at first
    contact; otherwise a category with a dispatch rule sends the ticket on automatically.
    """
    if not can(actor.role, "tickets.intake"):
        raise PermissionDenied(_("您没有受理工单的权限"))
    errors: dict[str, list[str]] = {}
    if site.id not in site_ids_for(actor):
        errors.setdefault("site", []).append(_("无权在该项目受理工单"))
    if kind not in Kind.values:
        errors.setdefault("kind", []).append(_("请选择正确的工单类型"))
    if channel not in Channel.values:
        errors.setdefault("channel", []).append(_("请选择正确的来源渠道"))
    if urgency not in Urgency.values:
        errors.setdefault("urgency", []).append(_("请选择正确的紧急程度"))
    content = (content or "").strip()
    if not content:
        errors.setdefault("content", []).append(_("内容不能为空"))
    elif len(content) > MAX_CONTENT:
        errors.setdefault("content", []).append(_("内容不能超过 {n} 字").format(n=MAX_CONTENT))
    if category is not None and (not category.is_active or not category.applies_to(kind)):
        errors.setdefault("category", []).append(_("该分类不适用于所选工单类型"))
    if customer is not None and customer.site_id != site.id:
        errors.setdefault("customer", []).append(_("客户不属于该项目"))
    if unit is not None and unit.site_id != site.id:
        errors.setdefault("unit", []).append(_("房屋不属于该项目"))
    contact_phone = normalize(contact_phone)
    if contact_phone and not is_valid(contact_phone):
        errors.setdefault("contact_phone", []).append(_("联系电话格式不正确"))
    answer = (answer or "").strip()
    if answer and kind != Kind.INQUIRY:
        errors.setdefault("answer", []).append(_("只有咨询可以在受理时直接答复办结"))
    if kind in (Kind.REPAIR, Kind.COMPLAINT) and customer is None and not contact_phone and channel != Channel.PATROL:
        errors.setdefault("customer", []).append(_("请选择客户或填写联系电话"))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    extensions = check_photos(list(photos))

    now = timezone.now()
    respond_due, resolve_due = due_times(kind=kind, urgency=urgency, start=now)
    if customer is not None and not contact_name:
        contact_name = customer.name
    with transaction.atomic():
        number = _next_number(site, kind, now)
        ticket = Ticket.objects.create(
            site=site,
            number=number,
            kind=kind,
            channel=channel,
            category=category,
            urgency=urgency,
            status=Status.RECEIVED,
            customer=customer,
            unit=unit,
            contact_name=contact_name[:50],
            contact_phone=contact_phone,
            content=content,
            first_responder=actor,
            created_at=now,
            updated_at=now,
            respond_due=respond_due,
            resolve_due=resolve_due,
        )
        event = _event(ticket, actor, "created", to_status=Status.RECEIVED, data={"channel": channel}, at=now)
        _attach(ticket, event, photos, extensions, actor)
        if answer:
            _event(ticket, actor, "reply", note=answer, public=True, at=now)
            _apply(
                ticket,
                ticket.version,
                status=Status.CLOSED,
                responded_at=now,
                completed_at=now,
                closed_at=now,
                first_contact_resolved=True,
            )
            _event(
                ticket,
                actor,
                "closed",
                from_status=Status.RECEIVED,
                to_status=Status.CLOSED,
                data={"fcr": True},
                at=now,
            )
        elif auto_dispatch and kind != Kind.PRAISE and category is not None:
            department, assignee = pick_handler(site=site, category=category)
            if department is not None:
                _dispatch(ticket, actor, department, assignee, mode=Assignment.Mode.AUTO, reason="按分类规则自动派单")
    return ticket


_CUSTOMER_TO_INTAKE_FIELD = {"name": "contact_name", "phones": "contact_phone", "units": "room"}


def ticket_create_with_new_customer(
    *, site: Site, actor: Staff, contact_name: str, contact_phone: str, room: str = "", **ticket: Any
) -> Ticket:
    """Intake for a caller with no record yet: create the customer record on the spot from
    the contact details (and room, e.g. 1-2-301), then take the ticket for them. One
    transaction: either both exist afterwards or neither does."""
    errors: dict[str, list[str]] = {}
    links: list[UnitLink] = []
    if room.strip():
        parts = parse_room(room)
        if parts is None:
            errors["room"] = [_("房号格式不正确，请按 楼栋-单元-房号 填写，如 1-2-301")]
        else:
            links.append(UnitLink(*parts))
    if not (contact_name or "").strip():
        errors["contact_name"] = [_("新建客户档案请填写联系人姓名")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    with transaction.atomic():
        try:
            customer = customer_create(
                site=site,
                data=CustomerData(name=contact_name, phones=[contact_phone], units=links, source="phone"),
                actor=actor,
            )
        except ValidationFailed as exc:
            fields = {_CUSTOMER_TO_INTAKE_FIELD.get(k, k): v for k, v in exc.fields.items()}
            raise ValidationFailed(exc.message, fields=fields) from None
        unit = customer.unit_links.select_related("unit").first()
        return ticket_create(
            site=site,
            actor=actor,
            customer=customer,
            unit=unit.unit if unit else None,
            contact_name=contact_name,
            contact_phone=contact_phone,
            **ticket,
        )


def _next_number(site: Site, kind: str, now: datetime) -> str:
    day = timezone.localtime(now).strftime("%Y%m%d")
    prefix = NUMBER_PREFIX[kind]
    return f"{prefix}-{day}-{next_value(f'ticket:{site.id}:{prefix}:{day}'):04d}"


# --- dispatch -----------------------------------------------------------------------------


def pick_handler(*, site: Site, category: Category) -> tuple[Department | None, Staff | None]:
    """The dispatch rule: the category's department (or its nearest ancestor's), then the
    least-loaded active field staff member of that department at the site who has the
    category's skill. No one with the skill → the department alone."""
    node: Category | None = category
    department, skill = None, None
    while node is not None and (department is None or skill is None):
        department = department or node.department
        skill = skill or node.skill
        node = node.parent
    if department is None:
        return None, None
    candidates = Staff.objects.filter(
        is_active=True, user__is_active=True, department=department, sites=site, role__in=FIELD_ROLES
    )
    if skill is not None:
        candidates = candidates.filter(skills=skill)
    # Load counts only work in hand, named positively so the (assignee, status) index
    # serves it however long each person's history grows.
    in_hand = [s for s in Status.values if s not in DONE_FOR_SLA]
    assignee = (
        candidates.annotate(load=Count("assigned_tickets", filter=Q(assigned_tickets__status__in=in_hand)))
        .order_by("load", "id")
        .first()
    )
    return department, assignee


def ticket_dispatch(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    department: Department | None = None,
    assignee: Staff | None = None,
    reason: str = "",
) -> Ticket:
    """Dispatch by hand, or by the rule when neither department nor assignee is given."""
    _check_fresh(ticket, version)
    _check_action(ticket, actor, "dispatch")
    reason = (reason or "").strip()
    if len(reason) > 200:
        raise ValidationFailed(_("说明不能超过 200 字"), field="reason")
    with transaction.atomic():
        mode = Assignment.Mode.MANUAL
        if department is None and assignee is None:
            if ticket.category is None:
                raise ValidationFailed(_("该工单没有分类，无法自动派单，请选择处理部门或处理人"), field="department")
            department, assignee = pick_handler(site=ticket.site, category=ticket.category)
            if department is None:
                raise ValidationFailed(_("该分类没有派单规则，请选择处理部门或处理人"), field="department")
            mode = Assignment.Mode.AUTO
        department, assignee = _check_target(ticket, department, assignee)
        _dispatch(ticket, actor, department, assignee, mode=mode, reason=reason, version=version)
    return ticket


def ticket_transfer(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    reason: str,
    department: Department | None = None,
    assignee: Staff | None = None,
) -> Ticket:
    """A supervisor hands the ticket to another department or person (转派)."""
    _check_fresh(ticket, version)
    _check_action(ticket, actor, "transfer")
    reason = _required_reason(reason, _("请填写转派原因"))
    if department is None and assignee is None:
        raise ValidationFailed(_("请选择转派的部门或处理人"), field="assignee")
    department, assignee = _check_target(ticket, department, assignee)
    if assignee is not None and assignee.id == ticket.assignee_id:
        raise ValidationFailed(_("转派对象与当前处理人相同"), field="assignee")
    with transaction.atomic():
        _dispatch(ticket, actor, department, assignee, mode=Assignment.Mode.TRANSFER, reason=reason, version=version)
    return ticket


def _check_target(
    ticket: Ticket, department: Department | None, assignee: Staff | None
) -> tuple[Department | None, Staff | None]:
    if assignee is not None:
        if not assignee.is_active or not assignee.sites.filter(id=ticket.site_id).exists():
            raise ValidationFailed(_("处理人不在该项目或已停用"), field="assignee")
        if department is None:
            department = assignee.department
        elif assignee.department_id != department.id:
            raise ValidationFailed(_("处理人不属于所选部门"), field="assignee")
    if department is not None and not department.is_active:
        raise ValidationFailed(_("所选部门已停用"), field="department")
    return department, assignee


def _dispatch(
    ticket: Ticket,
    actor: Staff,
    department: Department | None,
    assignee: Staff | None,
    *,
    mode: str,
    reason: str,
    version: int | None = None,
) -> None:
    now = timezone.now()
    action = "transfer" if mode == Assignment.Mode.TRANSFER else "dispatch"
    target = next_status(ticket.kind, ticket.status, action)
    if target is None:
        raise ValidationFailed(_refusal(ticket, action))
    Assignment.objects.create(
        ticket=ticket,
        mode=mode,
        from_department=ticket.department,
        from_assignee=ticket.assignee,
        to_department=department,
        to_assignee=assignee,
        by=actor,
        reason=reason,
        at=now,
    )
    from_status = ticket.status
    _apply(
        ticket,
        ticket.version if version is None else version,
        status=target,
        department=department,
        assignee=assignee,
        dispatched_at=now,
        accepted_at=None,
        arrived_at=None,
        responded_at=ticket.responded_at or now,
    )
    _event(
        ticket,
        actor,
        action,
        from_status=from_status,
        to_status=target,
        note=reason,
        data={
            "mode": mode,
            "department": department.name if department else "",
            "assignee": assignee.name if assignee else "",
        },
        at=now,
    )


# --- the other transitions ----------------------------------------------------------------


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
    stamp = {"accept": "accepted_at", "arrive": "arrived_at", "complete": "completed_at", "confirm": "confirmed_at"}
    if action in stamp:
        fields[stamp[action]] = now
    if action in ("accept", "start", "complete") and ticket.responded_at is None:
        fields["responded_at"] = now
    if action == "accept" and ticket.assignee_id is None:
        # Work sent to a department is owned by whoever of it accepts.
        fields["assignee"] = actor
    if action == "suspend":
        fields["suspended_from"] = ticket.status
    elif action == "resume":
        fields["suspended_from"] = ""
    elif action == "close":
        fields["closed_at"] = now
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
    *, ticket: Ticket, actor: Staff, version: int, confirmed_by: str, method: str, note: str = ""
) -> Ticket:
    """Record the customer's confirmation (业主确认): who, how, when."""
    _check_fresh(ticket, version)
    confirmed_by = (confirmed_by or "").strip()
    if method not in CONFIRM_METHODS:
        _check_action(ticket, actor, "confirm")
        raise ValidationFailed(_("请选择确认方式"), field="method")
    if not confirmed_by:
        _check_action(ticket, actor, "confirm")
        raise ValidationFailed(_("请填写确认人"), field="confirmed_by")
    return ticket_transition(
        ticket=ticket,
        action="confirm",
        actor=actor,
        version=version,
        note=note,
        changes={"confirmed_by": confirmed_by[:50], "confirm_method": method},
        data={"confirmed_by": confirmed_by[:50], "method": method},
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
        if public and ticket.responded_at is None:
            # A reply is a response; no version bump, as a note never conflicts with an action.
            ticket.responded_at = timezone.now()
            Ticket.objects.filter(pk=ticket.pk, responded_at__isnull=True).update(responded_at=ticket.responded_at)
        return _event(ticket, actor, "reply" if public else "note", note=text, public=public)


# --- helpers ------------------------------------------------------------------------------


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


def _apply(ticket: Ticket, version: int, **fields: Any) -> None:
    """Write ``fields`` only if nobody changed the ticket since ``version`` was read.

    The version check is part of the UPDATE itself, so two people acting at once cannot
    both pass it: the second UPDATE matches no row and gets a conflict, and the whole
    service transaction rolls back.
    """
    if version != ticket.version:
        raise Conflict(CONFLICT_MESSAGE)
    now = timezone.now()
    updated = Ticket.objects.filter(pk=ticket.pk, version=version).update(
        **fields, version=F("version") + 1, updated_at=now
    )
    if updated != 1:
        raise Conflict(CONFLICT_MESSAGE)
    for name, value in fields.items():
        setattr(ticket, name, value)
    ticket.version = version + 1
    ticket.updated_at = now


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
    return TicketEvent.objects.create(
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

"""Intake: take a ticket, number it, and send it on by the dispatch rule."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.numbering import next_value
from kefu.core.phones import is_valid, normalize
from kefu.core.prefetch import keep
from kefu.core.prepared import prepared_statements
from kefu.core.uploads import check_photos
from kefu.customers.models import Customer, Unit
from kefu.customers.queries import parse_room
from kefu.customers.services import CustomerData, UnitLink, customer_create
from kefu.org.models import Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import site_ids_for

from .. import search
from ..lifecycle import NUMBER_PREFIX, Kind, Status
from ..loads import holder, loads_move
from ..models import Assignment, Category, Channel, Complaint, Ticket, TicketEvent, Urgency
from ..sla import clock_of, due_times, rules_for, sla_fields
from ._common import MAX_CONTENT, _attach, _timeline_entry
from .complaints import announce_major, complaint_major_reasons
from .dispatch import hand_over_changes, pick_handler


@prepared_statements()
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
    major: bool = False,
    origin: Ticket | None = None,
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
    due = due_times(site_id=site.id, kind=kind, urgency=urgency, start=now)
    if customer is not None and not contact_name:
        contact_name = customer.name
    reasons: list[str] = []
    if kind == Kind.COMPLAINT:
        reasons = complaint_major_reasons(
            site_id=site.id, customer=customer, urgency=urgency, category=category, flagged=major, now=now
        )
    rules = rules_for(site.id)
    # The rule's pick is a read: made before the write transaction, which on SQLite holds
    # the database's one write lock from its first statement to the commit.
    department, assignee = None, None
    if auto_dispatch and kind not in (Kind.PRAISE, Kind.COMPLAINT) and not answer and category is not None:
        department, assignee = pick_handler(site=site, category=category)
    ticket = Ticket(
        site=site,
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
        respond_due=due.respond,
        arrive_due=due.arrive,
        resolve_due=due.resolve,
        is_major=bool(reasons),
        major_reason="；".join(reasons)[:200],
        origin=origin,
    )
    # What happens at intake (the answer that closes an inquiry, the rule's dispatch) is
    # settled before the row is written: one INSERT of the ticket as it ends up, not an
    # INSERT and an UPDATE of every index it is in.
    changes: dict[str, Any] = {}
    hand_over = None
    if answer:
        changes = {
            "status": Status.CLOSED,
            "responded_at": now,
            "completed_at": now,
            "closed_at": now,
            "first_contact_resolved": True,
        }
    elif department is not None:
        hand_over = hand_over_changes(
            ticket=ticket,
            actor=actor,
            department=department,
            assignee=assignee,
            mode=Assignment.Mode.AUTO,
            reason="按分类规则自动派单",
            now=now,
            rules=rules,
        )
        changes = hand_over.fields
    for name, value in changes.items():
        setattr(ticket, name, value)
    sla, next_check_at = sla_fields(ticket, changes, rules)
    for name, value in sla.items():
        setattr(ticket, name, value)
    clock = clock_of(ticket)
    clock.next_check_at = next_check_at
    # The intake's timeline, written in one INSERT after the ticket's.
    events = [_timeline_entry(ticket, actor, "created", to_status=Status.RECEIVED, data={"channel": channel}, at=now)]
    if kind == Kind.COMPLAINT and reasons:
        events.append(
            _timeline_entry(ticket, actor, "major", note=ticket.major_reason, data={"reasons": reasons}, at=now)
        )
    elif answer:
        events.append(_timeline_entry(ticket, actor, "reply", note=answer, public=True, at=now))
        events.append(
            _timeline_entry(
                ticket,
                actor,
                "closed",
                from_status=Status.RECEIVED,
                to_status=Status.CLOSED,
                data={"fcr": True},
                at=now,
            )
        )
    elif hand_over is not None:
        events.append(
            _timeline_entry(
                ticket,
                actor,
                hand_over.action,
                from_status=hand_over.from_status,
                to_status=hand_over.target,
                note=hand_over.assignment.reason,
                data=hand_over.event_data,
                at=now,
            )
        )
    # Searchable at once, the answer's words with it (the rule's dispatch and the major mark
    # are not words of the ticket, search.SKIPPED_EVENTS); later notes are appended. Cut
    # into words before the write transaction: on SQLite it holds the one write lock.
    document = search.new_document(ticket, notes=[answer] if answer else ())
    complaint = None
    with transaction.atomic():
        ticket.number = _next_number(site, kind, now)
        ticket.save(force_insert=True)
        clock.save(force_insert=True)
        loads_move(None, holder(ticket.assignee_id, ticket.status))
        TicketEvent.objects.bulk_create(events)
        _attach(ticket, events[0], photos, extensions, actor)
        if kind == Kind.COMPLAINT:
            # Complaints are judged before anything is dispatched (six steps, seed 002).
            complaint = Complaint.objects.create(ticket=ticket)
            if reasons:
                announce_major(ticket, actor)
        elif hand_over is not None:
            hand_over.assignment.save()
        search.index_new_ticket(ticket, document)
    keep(ticket, "events", events)
    keep(ticket, "assignments", [hand_over.assignment] if hand_over is not None else [])
    if complaint is not None:
        keep(complaint, "proposals", [])
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
        # Kept on the record: the search document takes the rooms from them.
        unit_links = list(customer.unit_links.select_related("unit").order_by("id"))
        keep(customer, "unit_links", unit_links)
        return ticket_create(
            site=site,
            actor=actor,
            customer=customer,
            unit=unit_links[0].unit if unit_links else None,
            contact_name=contact_name,
            contact_phone=contact_phone,
            **ticket,
        )


def _next_number(site: Site, kind: str, now: datetime) -> str:
    day = timezone.localtime(now).strftime("%Y%m%d")
    prefix = NUMBER_PREFIX[kind]
    return f"{prefix}-{day}-{next_value(f'ticket:{site.id}:{prefix}:{day}'):04d}"

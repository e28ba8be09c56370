"""Return visits: made when a ticket is completed, assigned with balanced load, due within the
policy's working days and never inside the customer's quiet hours; recorded call by call; a
dissatisfied customer reopens the work or opens a complaint, linked both ways."""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.core.quiet import ContactWindows
from kefu.customers.models import Customer, CustomerPhone
from kefu.org.models import Role, Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import calendar_for_site, site_ids_for
from kefu.tickets.lifecycle import Kind
from kefu.tickets.lifecycle import Status as TicketStatus
from kefu.tickets.models import Channel, Ticket, WarningCard
from kefu.tickets.services import complaint_refuse, ticket_confirm, ticket_create, ticket_transition
from kefu.tickets.services._common import _event
from kefu.tickets.services.cards import warning_issue
from kefu.tickets.sla import policy_for

from .models import Visit, VisitAttempt, VisitCampaign, VisitRules, VisitScript

DEFAULT_DAYS = 3
CONFLICT_MESSAGE = gettext_lazy("操作失败：该回访已被他人处理，请刷新后重试")
# Ticket moves that make the handler's work done (a visit is due) or undo it (the visit goes).
COMPLETING = ("complete", "implement")
UNDOING = ("reject", "reopen", "cancel")


def rules_for(site_id: int) -> VisitRules:
    rows = {r.site_id: r for r in VisitRules.objects.filter(Q(site_id=site_id) | Q(site__isnull=True))}
    return rows.get(site_id) or rows.get(None) or VisitRules()


def windows_for(customer_hours: str, rules: VisitRules) -> ContactWindows:
    """The customer's preferred hours, else outside the rules' quiet hours; quiet hours that
    cannot be read (checked when saved) fall back to the default rather than stop a ticket."""
    try:
        return ContactWindows.for_customer(customer_hours, rules.quiet_hours)
    except ValidationFailed:
        return ContactWindows.for_customer(customer_hours)


def visit_due(*, ticket: Ticket, start: datetime, windows: ContactWindows) -> datetime:
    """Within the policy's days (default 3) of ``start``, counted in working days on the site's
    calendar, and pulled back out of quiet hours so the deadline is a time one may call."""
    policy = policy_for(site_id=ticket.site_id, kind=ticket.kind, urgency=ticket.urgency)
    minutes = policy.visit_minutes if policy is not None and policy.visit_minutes else DEFAULT_DAYS * 24 * 60
    days = max(1, math.ceil(minutes / (24 * 60)))
    due = calendar_for_site(ticket.site_id).add_workdays(start, days)
    return windows.last_allowed_by(due)


def pick_visitor(*, site_id: int, rules: VisitRules, fallback: Staff | None) -> Staff | None:
    """The member of the visit team (回访组) at the site with the fewest open visits; without a
    team, the site's agents; without agents, ``fallback``."""
    team = Staff.objects.filter(is_active=True, user__is_active=True, sites=site_id)
    members = team.filter(pk__in=rules.team.values("pk")) if rules.pk else team.none()
    if not members.exists():
        members = team.filter(role=Role.AGENT)
    chosen = (
        members.annotate(load=Count("visits", filter=Q(visits__status__in=Visit.OPEN))).order_by("load", "id").first()
    )
    return chosen or fallback


def visit_create_for_ticket(*, ticket: Ticket, at: datetime) -> Visit | None:
    """The return visit of a completed ticket, if its kind is visited at this site and there
    is someone to call; at most one open visit per ticket."""
    rules = rules_for(ticket.site_id)
    if ticket.kind not in (rules.kinds or []):
        return None
    customer = ticket.customer
    phone = ticket.contact_phone or (
        customer.phones.order_by("-is_primary", "id").values_list("number", flat=True).first() if customer else ""
    )
    if not phone:
        return None
    if Visit.objects.filter(ticket=ticket, status__in=Visit.OPEN).exists():
        return None
    windows = windows_for(customer.visit_hours if customer else "", rules)
    visit = Visit.objects.create(
        site_id=ticket.site_id,
        ticket=ticket,
        customer=customer,
        contact_name=ticket.contact_name or (customer.name if customer else ""),
        contact_phone=phone,
        assignee=pick_visitor(site_id=ticket.site_id, rules=rules, fallback=ticket.first_responder),
        created_at=at,
        due_at=visit_due(ticket=ticket, start=at, windows=windows),
        next_try_at=windows.next_allowed(at),
    )
    _event(
        ticket,
        None,
        "visit_planned",
        data={
            "visit": visit.pk,
            "assignee": visit.assignee.name if visit.assignee else "",
            "due": visit.due_at.isoformat(),
        },
        at=at,
    )
    return visit


def on_ticket_transition(*, ticket: Ticket, action: str, actor: Staff, at: datetime) -> None:
    """Hook of ``ticket_transition``: completion plans the visit; a customer refusal, a reopen
    or a cancel drops the open one (the next completion plans a new one)."""
    if action in COMPLETING:
        visit_create_for_ticket(ticket=ticket, at=at)
    elif action in UNDOING:
        Visit.objects.filter(ticket=ticket, status__in=Visit.OPEN).update(
            status=Visit.Status.CANCELLED, version=F("version") + 1
        )


# --- the call ------------------------------------------------------------------------------


def visit_record(
    *,
    visit: Visit,
    actor: Staff,
    version: int,
    result: str,
    notes: str = "",
    reason: str = "",
) -> Visit:
    """The customer was reached and answered: satisfied, so-so or dissatisfied (回访记录).

    Satisfied or so-so: a ticket waiting for confirmation is confirmed by phone, a resolved
    one is marked visited. Dissatisfied: the repair (or complaint) is sent back or reopened;
    any other ticket gets a complaint of its own, linked to it."""
    _check(visit, actor, version)
    errors: dict[str, list[str]] = {}
    if result not in Visit.Result.values:
        errors["result"] = [_("请选择回访结果")]
    notes, reason = (notes or "").strip(), (reason or "").strip()
    if len(notes) > 2000:
        errors["notes"] = [_("回访记录不能超过 2000 字")]
    if result == Visit.Result.DISSATISFIED and not reason:
        errors["reason"] = [_("客户不满意时请填写不满意的原因")]
    if len(reason) > 300:
        errors["reason"] = [_("原因不能超过 300 字")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    now = timezone.now()
    with transaction.atomic():
        _apply(visit, version, status=Visit.Status.DONE, result=result, notes=notes, reason=reason,
               done_at=now, done_by=actor, next_try_at=None, attempts=visit.attempts + 1)  # fmt: skip
        VisitAttempt.objects.create(
            visit=visit, by=actor, at=now, outcome=VisitAttempt.Outcome.REACHED, note=notes[:500]
        )
        followup = None
        if visit.ticket_id is not None:
            followup = _follow_ticket(visit, actor, result, reason or notes)
        elif result == Visit.Result.DISSATISFIED and visit.customer is not None:
            followup = ticket_create(
                site=visit.site,
                kind=Kind.COMPLAINT,
                channel=Channel.PHONE,
                content=_("回访不满意（{name}）：{reason}").format(
                    name=visit.campaign.name if visit.campaign else _("回访"), reason=reason
                )[:5000],
                actor=actor,
                customer=visit.customer,
                contact_name=visit.contact_name,
                contact_phone=visit.contact_phone,
            )
        if followup is not None:
            Visit.objects.filter(pk=visit.pk).update(followup=followup)
            visit.followup = followup
    return visit


def _follow_ticket(visit: Visit, actor: Staff, result: str, said: str) -> Ticket | None:
    assert visit.ticket_id is not None
    ticket = Ticket.objects.select_related("site", "customer", "first_responder").get(pk=visit.ticket_id)
    label = Visit.Result(result).label
    _event(
        ticket,
        actor,
        "visit_done",
        note=said,
        data={"visit": visit.pk, "result": result, "label": str(label)},
    )
    if result != Visit.Result.DISSATISFIED:
        if ticket.status == TicketStatus.PENDING_CONFIRM and ticket.kind != Kind.COMPLAINT:
            ticket_confirm(
                ticket=ticket,
                actor=actor,
                version=ticket.version,
                confirmed_by=(visit.contact_name or _("客户"))[:50],
                method="phone",
                note=_("回访确认"),
            )
        if ticket.status == TicketStatus.RESOLVED:
            ticket_transition(ticket=ticket, action="visit", actor=actor, version=ticket.version, note=str(label))
        return None
    why = _("回访不满意：{reason}").format(reason=said)[:200]
    if ticket.kind in (Kind.REPAIR, Kind.COMPLAINT):
        if ticket.status == TicketStatus.PENDING_CONFIRM:
            if ticket.kind == Kind.COMPLAINT:
                complaint_refuse(ticket=ticket, actor=actor, version=ticket.version, reason=why)
            else:
                ticket_transition(ticket=ticket, action="reject", actor=actor, version=ticket.version, note=why)
        elif ticket.status in (TicketStatus.RESOLVED, TicketStatus.VISITED, TicketStatus.CLOSED):
            ticket_transition(ticket=ticket, action="reopen", actor=actor, version=ticket.version, note=why)
        return None
    complaint = ticket_create(
        site=ticket.site,
        kind=Kind.COMPLAINT,
        channel=Channel.PHONE,
        content=_("回访不满意（原工单 {number}）：{reason}").format(number=ticket.number, reason=said)[:5000],
        actor=actor,
        customer=ticket.customer,
        unit=ticket.unit,
        contact_name=visit.contact_name,
        contact_phone=visit.contact_phone,
        origin=ticket,
    )
    _event(ticket, actor, "followup", note=why, data={"ticket": complaint.pk, "number": complaint.number})
    return complaint


def visit_unreachable(*, visit: Visit, actor: Staff, version: int, note: str = "") -> Visit:
    """Nobody answered: try again at least ``retry_minutes`` (≥ 2 hours) later and outside
    quiet hours; after the last allowed attempt the visit closes as unreachable."""
    _check(visit, actor, version)
    note = (note or "").strip()[:500]
    rules = rules_for(visit.site_id)
    now = timezone.now()
    attempts = visit.attempts + 1
    with transaction.atomic():
        if attempts >= rules.max_attempts:
            _apply(
                visit,
                version,
                status=Visit.Status.UNREACHABLE,
                attempts=attempts,
                next_try_at=None,
                done_at=now,
                done_by=actor,
            )
        else:
            windows = windows_for(visit.customer.visit_hours if visit.customer else "", rules)
            later = windows.next_allowed(now + timedelta(minutes=max(rules.retry_minutes, 120)))
            _apply(visit, version, status=Visit.Status.RETRY, attempts=attempts, next_try_at=later)
        VisitAttempt.objects.create(visit=visit, by=actor, at=now, outcome=VisitAttempt.Outcome.UNREACHABLE, note=note)
        if visit.ticket_id is not None:
            ticket = Ticket.objects.get(pk=visit.ticket_id)
            closed = visit.status == Visit.Status.UNREACHABLE
            data = {"visit": visit.pk, "attempts": attempts, "closed": closed}
            _event(ticket, actor, "visit_unreachable", note=note, data=data)
    return visit


def visit_appoint(*, visit: Visit, actor: Staff, version: int, at: datetime | None, note: str = "") -> Visit:
    """The customer asks to be called at another time (另约时间). The customer's own choice
    stands even inside quiet hours; it must be in the future and within 30 days."""
    _check(visit, actor, version)
    now = timezone.now()
    if at is None:
        raise ValidationFailed(_("请选择预约时间"), field="at")
    if at <= now:
        raise ValidationFailed(_("预约时间须晚于现在"), field="at")
    if at > now + timedelta(days=30):
        raise ValidationFailed(_("预约时间不能超过 30 天"), field="at")
    note = (note or "").strip()[:500]
    with transaction.atomic():
        _apply(visit, version, status=Visit.Status.APPOINTED, next_try_at=at)
        VisitAttempt.objects.create(visit=visit, by=actor, at=now, outcome=VisitAttempt.Outcome.APPOINTMENT, note=note)
    return visit


def visit_reassign(*, visit: Visit, actor: Staff, version: int, to: Staff | None) -> Visit:
    """A supervisor gives the visit to someone else (a named person)."""
    if actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以改派回访"))
    if visit.version != version:
        raise Conflict(CONFLICT_MESSAGE)
    if not visit.is_open:
        raise ValidationFailed(_("回访已结束"))
    if to is None or not to.is_active or visit.site_id not in site_ids_for(to):
        raise ValidationFailed(_("回访人须为该项目在岗员工"), field="assignee")
    with transaction.atomic():
        _apply(visit, version, assignee=to)
    return visit


# --- overdue visits ------------------------------------------------------------------------


def overdue_note(visit: Visit) -> str:
    """What the yellow card of an overdue visit says."""
    return _("回访期限 {due} 已过").format(due=timezone.localtime(visit.due_at).strftime("%m-%d %H:%M"))


def visits_overdue_sweep(*, now: datetime | None = None, limit: int = 2000, quiet: bool = False) -> int:
    """Every open visit past its deadline gets one yellow card for its visitor (回访超时).
    Claimed by a conditional UPDATE of ``warned_at``, so two sweeps never warn twice.
    ``quiet`` (the demo's history) dates each card when the visit fell due and tells nobody."""
    now = now or timezone.now()
    due = list(
        Visit.objects.filter(warned_at__isnull=True, status__in=Visit.OPEN, due_at__lt=now)
        .order_by("due_at")
        .values_list("id", flat=True)[:limit]
    )
    cards = 0
    for pk in due:
        with transaction.atomic():
            claimed = Visit.objects.filter(pk=pk, warned_at__isnull=True, status__in=Visit.OPEN)
            if not claimed.update(warned_at=F("due_at") if quiet else now):
                continue
            visit = Visit.objects.select_related("ticket__site", "assignee").get(pk=pk)
            if visit.ticket is None or visit.assignee is None:
                continue
            note = overdue_note(visit)
            card: WarningCard | None
            if quiet:
                card, created = WarningCard.objects.get_or_create(
                    key=f"visit:{visit.pk}",
                    defaults={
                        "site_id": visit.site_id,
                        "ticket": visit.ticket,
                        "staff": visit.assignee,
                        "color": WarningCard.Color.YELLOW,
                        "rule": WarningCard.Rule.VISIT,
                        "deadline": visit.due_at,
                        "issued_at": visit.due_at,
                        "note": note,
                    },
                )
                card = card if created else None
            else:
                card = warning_issue(
                    ticket=visit.ticket,
                    staff=visit.assignee,
                    color=WarningCard.Color.YELLOW,
                    rule=WarningCard.Rule.VISIT,
                    key=f"visit:{visit.pk}",
                    deadline=visit.due_at,
                    note=note,
                )
            cards += 1 if card else 0
    return cards


# --- helpers -------------------------------------------------------------------------------


def _check(visit: Visit, actor: Staff, version: int) -> None:
    if visit.version != version:
        raise Conflict(CONFLICT_MESSAGE)
    if not visit.is_open:
        raise ValidationFailed(_("该回访已结束"))
    if actor.id != visit.assignee_id and actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有回访人或主管及以上可以记录回访"))


def _apply(visit: Visit, version: int, **fields: Any) -> None:
    """Write ``fields`` only if nobody changed the visit since ``version`` (optimistic lock)."""
    if not Visit.objects.filter(pk=visit.pk, version=version).update(**fields, version=F("version") + 1):
        raise Conflict(CONFLICT_MESSAGE)
    for name, value in fields.items():
        setattr(visit, name, value)
    visit.version = version + 1


# --- periodic and campaign visits --------------------------------------------------------------

CAMPAIGN_LIMIT = 5000


def campaign_create(
    *,
    site: Site,
    name: str,
    kind: str,
    start: date | None,
    end: date | None,
    actor: Staff,
    tags: Sequence[str] = (),
    building: str = "",
    older_than_days: int | None = None,
    script: VisitScript | None = None,
) -> VisitCampaign:
    """Draw visit tasks from the customer records (定期回访 / 专项回访): the site's active
    customers with any of ``tags``, in ``building``, not visited in the last
    ``older_than_days`` days. Each is due by the end date (outside quiet hours) and goes to
    the customer's own agent, else to the least-loaded member of the visit team."""
    if actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以制定回访计划"))
    if site.id not in site_ids_for(actor):
        raise PermissionDenied(_("无权在该项目制定回访计划"))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("请填写计划名称")]
    elif len(name) > 100:
        errors["name"] = [_("名称不能超过 100 字")]
    if kind not in VisitCampaign.Kind.values:
        errors["kind"] = [_("请选择回访类型")]
    today = timezone.localdate()
    if start is None or end is None:
        errors["end"] = [_("请填写开始和结束日期")]
    elif end < start:
        errors["end"] = [_("结束日期不能早于开始日期")]
    elif end < today:
        errors["end"] = [_("结束日期不能早于今天")]
    elif (end - start).days > 366:
        errors["end"] = [_("一个计划不能超过一年")]
    building = (building or "").strip()
    if len(building) > 20:
        errors["building"] = [_("楼栋不能超过 20 个字符")]
    if older_than_days is not None and not 1 <= older_than_days <= 3650:
        errors["older_than_days"] = [_("天数应在 1–3650 之间")]
    tags = [t.strip() for t in tags if t and t.strip()]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert start is not None and end is not None
    customers = Customer.objects.filter(site=site, is_active=True)
    if tags:
        customers = customers.filter(tags__name__in=tags)
    if building:
        customers = customers.filter(unit_links__unit__building=building)
    if older_than_days:
        since = timezone.now() - timedelta(days=older_than_days)
        customers = customers.exclude(visits__status=Visit.Status.DONE, visits__done_at__gte=since)
    chosen = list(customers.distinct().select_related("owner").order_by("id")[: CAMPAIGN_LIMIT + 1])
    if not chosen:
        raise ValidationFailed(_("没有符合条件的客户"), field="tags")
    if len(chosen) > CAMPAIGN_LIMIT:
        raise ValidationFailed(_("一个计划最多 {n} 户，请缩小范围").format(n=CAMPAIGN_LIMIT), field="tags")
    rules = rules_for(site.id)
    now = timezone.now()
    tz = timezone.get_current_timezone()
    last_day = datetime.combine(end, time(23, 59), tzinfo=tz)
    first_day = max(now, datetime.combine(start, time(0, 0), tzinfo=tz))
    phones = dict(
        CustomerPhone.objects.filter(customer__in=chosen, is_primary=True).values_list("customer_id", "number")
    )
    with transaction.atomic():
        campaign = VisitCampaign.objects.create(
            site=site,
            name=name,
            kind=kind,
            start=start,
            end=end,
            tags=tags,
            building=building,
            older_than_days=older_than_days,
            script=script,
            total=len(chosen),
            created_by=actor,
            created_at=now,
        )
        visits = []
        for customer in chosen:
            windows = windows_for(customer.visit_hours, rules)
            owner = customer.owner if customer.owner and customer.owner.is_active else None
            visits.append(
                Visit(
                    site=site,
                    kind=kind,
                    campaign=campaign,
                    customer=customer,
                    contact_name=customer.contact_person or customer.name,
                    contact_phone=phones.get(customer.id, ""),
                    assignee=owner or pick_visitor(site_id=site.id, rules=rules, fallback=actor),
                    created_at=now,
                    due_at=windows.last_allowed_by(last_day),
                    next_try_at=windows.next_allowed(first_day),
                )
            )
        Visit.objects.bulk_create(visits, batch_size=1000)
    return campaign


def member_tags(site_id: int) -> list[str]:
    return list(rules_for(site_id).member_tags or [])

"""Dispatch by rule or by hand, and transfer; every hand-over is kept."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core import refdata
from kefu.core.errors import ValidationFailed
from kefu.core.prefetch import forget
from kefu.org.models import Department, Site, Staff
from kefu.org.permissions import FIELD_ROLES
from kefu.org.queries import department_by_id

from ..lifecycle import next_status
from ..loads import loads_of
from ..models import Assignment, Category, Ticket
from ..sla import Rules, rules_for
from ._common import _apply, _check_action, _check_fresh, _event, _refusal, _required_reason


def pick_handler(*, site: Site, category: Category) -> tuple[Department | None, Staff | None]:
    """The dispatch rule: the category's department (or its nearest ancestor's), then the
    least-loaded active field staff member of that department at the site who has the
    category's skill. No one with the skill → the department alone."""
    # By ids: the rule needs no Skill row, and no parent once both are found.
    node: Category | None = category
    department_id, skill_id = None, None
    while node is not None:
        department_id = department_id or node.department_id
        skill_id = skill_id or node.skill_id
        if department_id is not None and skill_id is not None:
            break
        node = node.parent
    if department_id is None:
        return None, None
    department = department_by_id(department_id)
    if department is None:
        return None, None
    candidates = _candidates(site.id, department.id, skill_id)
    if not candidates:
        return department, None
    # The tickets each has in hand, as the services keep them (counting them here read
    # thousands of index entries a dispatch at a million tickets).
    loads = loads_of(staff.id for staff in candidates)
    return department, refdata.copy_of(min(candidates, key=lambda staff: (loads.get(staff.id, 0), staff.id)))


def _candidates(site_id: int, department_id: int, skill_id: int | None) -> tuple[Staff, ...]:
    """Who the rule may pick: the active field staff of the department at the site, with
    the skill when there is one, by id; kept in the process (refdata: a change of a staff
    member, their account, sites or skills, or of a department or skill is seen at once
    here and within a second elsewhere)."""

    def load() -> tuple[Staff, ...]:
        found = Staff.objects.filter(
            is_active=True, user__is_active=True, department_id=department_id, sites=site_id, role__in=FIELD_ROLES
        )
        if skill_id is not None:
            found = found.filter(skills=skill_id)
        return tuple(found.order_by("id"))

    return refdata.cached(f"dispatch.candidates:{site_id}:{department_id}:{skill_id}", load)


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


@dataclass(frozen=True)
class HandOver:
    """What a dispatch or transfer writes: the hand-over row, the ticket's new fields and the
    timeline event. Worked out apart from the write so that the demo builder, which
    back-dates history, applies exactly the same rules as live work."""

    action: str
    from_status: str
    target: str
    assignment: Assignment
    fields: dict[str, Any]
    event_data: dict[str, Any]


def hand_over_changes(
    *,
    ticket: Ticket,
    actor: Staff,
    department: Department | None,
    assignee: Staff | None,
    mode: str,
    reason: str,
    now: datetime,
    rules: Rules | None = None,
) -> HandOver:
    action = "transfer" if mode == Assignment.Mode.TRANSFER else "dispatch"
    target = next_status(ticket.kind, ticket.status, action)
    if target is None:
        raise ValidationFailed(_refusal(ticket, action))
    assignment = Assignment(
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
    fields = {
        "status": target,
        "department": department,
        "assignee": assignee,
        "dispatched_at": now,
        "accepted_at": None,
        "arrived_at": None,
        "responded_at": ticket.responded_at or now,
        # A person handed the work must report progress in time, or get a blue card.
        "progress_due": None,
    }
    if assignee is not None:
        minutes = (rules or rules_for(ticket.site_id)).blue_minutes
        fields["progress_due"] = now + timedelta(minutes=minutes)
    data = {
        "mode": mode,
        "department": department.name if department else "",
        "assignee": assignee.name if assignee else "",
    }
    return HandOver(action, ticket.status, target, assignment, fields, data)


def _dispatch(
    ticket: Ticket,
    actor: Staff,
    department: Department | None,
    assignee: Staff | None,
    *,
    mode: str,
    reason: str,
    version: int | None = None,
    rules: Rules | None = None,
) -> None:
    now = timezone.now()
    rules = rules or rules_for(ticket.site_id)
    change = hand_over_changes(
        ticket=ticket,
        actor=actor,
        department=department,
        assignee=assignee,
        mode=mode,
        reason=reason,
        now=now,
        rules=rules,
    )
    forget(ticket, "assignments")
    change.assignment.save()
    _apply(ticket, ticket.version if version is None else version, rules=rules, **change.fields)
    _event(
        ticket,
        actor,
        change.action,
        from_status=change.from_status,
        to_status=change.target,
        note=reason,
        data=change.event_data,
        at=now,
    )

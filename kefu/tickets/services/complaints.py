"""The complaint's six steps (seed 002): 受理登记 → 判定 → 调查 → 方案 (批示) → 实施 → 总结.

Each step is one service: it checks that the complaint stands at that step and that the
actor may take it, validates the input, then moves the ticket through the one transition
service (version check, timeline event) and writes what the step records on the
``Complaint`` row, all in one transaction. Step 1 is intake (``ticket_create``), which also
decides whether the complaint is major; the customer's confirmation is ``ticket_confirm``.
"""

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
from kefu.customers.models import Customer
from kefu.org.models import Department, Role, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import leaders_at

from ..lifecycle import Kind, Status
from ..models import Category, Complaint, ComplaintProposal, Ticket, Urgency
from ._common import MAX_CONTENT, _apply, _attach, _check_action, _check_fresh, _decimal, _event
from .dispatch import _check_target, _dispatch
from .transitions import ticket_transition

MAX_PROPOSALS = 5
# The hand-over written when a valid complaint goes to the responsible department.
JUDGED_DISPATCH_REASON = gettext_lazy("投诉成立，交责任部门调查")
REPEAT_DAYS = 30

NOTIFY_METHODS = {
    "phone": gettext_lazy("电话"),
    "onsite": gettext_lazy("上门"),
    "sms": gettext_lazy("短信"),
    "wechat": gettext_lazy("微信"),
    "letter": gettext_lazy("书面"),
}


# --- 1 受理登记: major or not ---------------------------------------------------------------


def complaint_major_reasons(
    *,
    site_id: int,
    customer: Customer | None,
    urgency: str,
    category: Category | None,
    flagged: bool,
    now: datetime,
) -> list[str]:
    """Why a new complaint is major (重大投诉), in words; empty when it is not."""
    repeat = False
    if customer is not None:
        since = now - timedelta(days=REPEAT_DAYS)
        earlier = Ticket.objects.filter(
            site_id=site_id, customer=customer, kind=Kind.COMPLAINT, created_at__gte=since, created_at__lte=now
        ).exclude(status=Status.CANCELLED)
        repeat = earlier.exists()
    return major_reasons(flagged=flagged, urgency=urgency, repeat=repeat, category=category)


def major_reasons(*, flagged: bool, urgency: str, repeat: bool, category: Category | None) -> list[str]:
    """The rule, apart from the lookup of earlier complaints (the demo builder shares it):
    flagged by the person taking it, critical urgency, the customer's second complaint
    within 30 days (``repeat``), or a category marked major (or under one)."""
    reasons = []
    if flagged:
        reasons.append(_("受理人标记为重大投诉"))
    if urgency == Urgency.CRITICAL:
        reasons.append(_("紧急程度为特急"))
    if repeat:
        reasons.append(_("同一客户 {days} 天内再次投诉").format(days=REPEAT_DAYS))
    if category is not None and category.marks_major:
        reasons.append(_("分类“{name}”属于重大投诉").format(name=category.name))
    return reasons


def announce_major(ticket: Ticket, actor: Staff | None) -> None:
    """Tell the site's managers and the directors at once (SPEC §3.2)."""
    leaders = leaders_at(site_id=ticket.site_id, roles=(Role.MANAGER, Role.DIRECTOR))
    _notify_major(ticket, [s for s in leaders if actor is None or s.id != actor.id], actor)


def _notify_major(ticket: Ticket, recipients: list[Staff], actor: Staff | None) -> None:
    from kefu.notify.services import notify

    notify(
        recipients=recipients,
        event="complaint.major",
        title=_("重大投诉 {number}").format(number=ticket.number),
        body=_("{site}：{reason}。{content}").format(
            site=ticket.site.name, reason=ticket.major_reason, content=ticket.content[:120]
        ),
        link=f"/tickets/{ticket.pk}/",
        ref=f"ticket:{ticket.pk}",
        site=ticket.site,
        actor=actor,
    )


def complaint_mark_major(*, ticket: Ticket, actor: Staff, version: int, reason: str) -> Ticket:
    """A supervisor or above marks a complaint major after intake; the manager and the
    director are told at once."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    if actor.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以标记重大投诉"))
    if ticket.is_major:
        raise ValidationFailed(_("该投诉已是重大投诉"))
    if ticket.status in (Status.CLOSED, Status.CANCELLED):
        raise ValidationFailed(_("投诉已结束，不能再标记为重大投诉"))
    reason = _text(reason, "reason", _("请填写标记为重大投诉的原因"), limit=200)
    with transaction.atomic():
        _apply(ticket, version, is_major=True, major_reason=reason[:200])
        _event(ticket, actor, "major", note=reason, data={"reasons": [reason]})
        announce_major(ticket, actor)
    return ticket


# --- 2 判定 -------------------------------------------------------------------------------


def complaint_judge(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    valid: bool,
    reason: str,
    department: Department | None = None,
    assignee: Staff | None = None,
) -> Ticket:
    """Judge the complaint. Valid: record why, and hand the investigation to the
    responsible department or person if named. Not valid: ``reason`` is the reasoned reply
    to the customer, and the complaint is closed."""
    _check_fresh(ticket, version)
    action = "judge" if valid else "dismiss"
    _check_complaint(ticket)
    _check_action(ticket, actor, action)
    if valid:
        reason = _text(reason, "reason", _("请填写判定说明"))
        if department is not None or assignee is not None:
            department, assignee = _check_target(ticket, department, assignee)
    else:
        reason = _text(reason, "reason", _("投诉不成立时请填写给客户的答复"))
    now = timezone.now()
    with transaction.atomic():
        ticket_transition(
            ticket=ticket,
            action=action,
            actor=actor,
            version=version,
            note=reason,
            public=not valid,
            data={"valid": valid},
        )
        _save(ticket, valid=valid, judgment=reason, judged_by=actor, judged_at=now)
        if valid and (department is not None or assignee is not None):
            _dispatch(ticket, actor, department, assignee, mode="manual", reason=str(JUDGED_DISPATCH_REASON))
    return ticket


# --- 3 调查 -------------------------------------------------------------------------------


def complaint_investigate(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    cause: str,
    responsible_department: Department | None,
    responsible_person: Staff | None = None,
    photos: Sequence[UploadedFile] = (),
) -> Ticket:
    """Record what the investigation found: the cause, the responsible department and (if
    any) person, with photos as evidence."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    _check_action(ticket, actor, "investigate")
    errors: dict[str, list[str]] = {}
    cause = (cause or "").strip()
    if not cause:
        errors.setdefault("cause", []).append(_("请填写投诉原因"))
    elif len(cause) > MAX_CONTENT:
        errors.setdefault("cause", []).append(_("内容不能超过 {n} 字").format(n=MAX_CONTENT))
    if responsible_department is None:
        errors.setdefault("responsible_department", []).append(_("请选择责任部门"))
    elif not responsible_department.is_active:
        errors.setdefault("responsible_department", []).append(_("所选部门已停用"))
    if responsible_person is not None:
        if not responsible_person.sites.filter(id=ticket.site_id).exists():
            errors.setdefault("responsible_person", []).append(_("责任人不在该项目"))
        elif responsible_department is not None and responsible_person.department_id != responsible_department.id:
            errors.setdefault("responsible_person", []).append(_("责任人不属于所选责任部门"))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    extensions = check_photos(list(photos))
    now = timezone.now()
    assert responsible_department is not None
    with transaction.atomic():
        ticket_transition(
            ticket=ticket,
            action="investigate",
            actor=actor,
            version=version,
            note=cause,
            data={
                "responsible_department": responsible_department.name,
                "responsible_person": responsible_person.name if responsible_person else "",
            },
        )
        _save(
            ticket,
            cause=cause,
            responsible_department=responsible_department,
            responsible_person=responsible_person,
            investigated_by=actor,
            investigated_at=now,
        )
        if photos:
            event = ticket.events.order_by("-id").first()
            _attach(ticket, event, photos, extensions, actor)
    return ticket


# --- 4 方案 and 批示 ------------------------------------------------------------------------


def complaint_propose(*, ticket: Ticket, actor: Staff, version: int, proposals: Sequence[str]) -> Ticket:
    """Put one or more solutions (处理方案) before the supervisor."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    _check_action(ticket, actor, "propose")
    texts = [(text or "").strip() for text in proposals]
    texts = [text for text in texts if text]
    if not texts:
        raise ValidationFailed(_("请至少填写一个处理方案"), field="proposals")
    if len(texts) > MAX_PROPOSALS:
        raise ValidationFailed(_("一次最多提交 {n} 个方案").format(n=MAX_PROPOSALS), field="proposals")
    if any(len(text) > 2000 for text in texts):
        raise ValidationFailed(_("每个方案不能超过 2000 字"), field="proposals")
    now = timezone.now()
    with transaction.atomic():
        complaint = _record(ticket, lock=True)
        next_round = complaint.round + 1
        ticket_transition(
            ticket=ticket,
            action="propose",
            actor=actor,
            version=version,
            note=proposals_note(texts),
            data={"round": next_round, "count": len(texts)},
        )
        ComplaintProposal.objects.bulk_create(
            ComplaintProposal(complaint=complaint, round=next_round, text=text, proposed_by=actor, proposed_at=now)
            for text in texts
        )
        _save(ticket, round=next_round)
    return ticket


def proposals_note(texts: Sequence[str]) -> str:
    """The timeline's record of a round of proposals: numbered, one per line."""
    return "\n".join(f"{i}. {text}" for i, text in enumerate(texts, 1))


def complaint_approve(*, ticket: Ticket, actor: Staff, version: int, proposal_id: Any, instruction: str) -> Ticket:
    """The supervisor (or above) picks the best solution of the round and signs it with an
    instruction (批示); the others of the round are marked not chosen."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    _check_action(ticket, actor, "approve")
    complaint = _record(ticket)
    proposal = _proposal_of_round(complaint, proposal_id)
    instruction = _text(instruction, "instruction", _("请填写批示意见"), limit=2000)
    now = timezone.now()
    with transaction.atomic():
        ticket_transition(
            ticket=ticket,
            action="approve",
            actor=actor,
            version=version,
            note=instruction,
            data={"proposal": proposal.text[:200], "round": proposal.round},
        )
        current = ComplaintProposal.objects.filter(complaint=complaint, round=complaint.round)
        current.exclude(pk=proposal.pk).update(
            state=ComplaintProposal.State.NOT_CHOSEN, decided_by=actor, decided_at=now
        )
        current.filter(pk=proposal.pk).update(
            state=ComplaintProposal.State.CHOSEN, decided_by=actor, decided_at=now, decision_note=instruction
        )
        _save(ticket, chosen=proposal, instruction=instruction, approved_by=actor, approved_at=now)
    return ticket


def complaint_send_back(*, ticket: Ticket, actor: Staff, version: int, reason: str) -> Ticket:
    """The supervisor sends the round's solutions back (退回) for better ones."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    _check_action(ticket, actor, "send_back")
    reason = _text(reason, "reason", _("请填写退回原因"), limit=2000)
    now = timezone.now()
    with transaction.atomic():
        ticket_transition(ticket=ticket, action="send_back", actor=actor, version=version, note=reason)
        ComplaintProposal.objects.filter(
            complaint_id=ticket.pk, round=_record(ticket).round, state=ComplaintProposal.State.PROPOSED
        ).update(state=ComplaintProposal.State.RETURNED, decided_by=actor, decided_at=now, decision_note=reason)
    return ticket


# --- 5 实施 -------------------------------------------------------------------------------


def complaint_implement(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    implementation: str,
    notify_method: str,
    penalty: str = "",
    penalty_amount: Any = None,
    notified_at: datetime | None = None,
) -> Ticket:
    """Record that the chosen solution was carried out: what was done, any penalty for the
    responsible person (seed 002: 对直接责任者…按照有关规定进行处罚), and how and when the
    customer was told. The customer's answer comes next (``ticket_confirm`` or
    ``complaint_refuse``)."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    _check_action(ticket, actor, "implement")
    errors: dict[str, list[str]] = {}
    implementation = (implementation or "").strip()
    if not implementation:
        errors.setdefault("implementation", []).append(_("请填写实施情况"))
    elif len(implementation) > MAX_CONTENT:
        errors.setdefault("implementation", []).append(_("内容不能超过 {n} 字").format(n=MAX_CONTENT))
    if notify_method not in NOTIFY_METHODS:
        errors.setdefault("notify_method", []).append(_("请选择通知客户的方式"))
    penalty = (penalty or "").strip()
    if len(penalty) > 300:
        errors.setdefault("penalty", []).append(_("责任处理不能超过 300 字"))
    amount = _decimal(penalty_amount, "penalty_amount", _("处罚金额"), errors, maximum=Decimal("999999"))
    if amount and not penalty:
        errors.setdefault("penalty", []).append(_("填写处罚金额时请写明责任处理"))
    now = timezone.now()
    told = notified_at or now
    if told > now + timedelta(minutes=5):
        errors.setdefault("notified_at", []).append(_("通知客户时间不能晚于现在"))
    elif told < ticket.created_at:
        errors.setdefault("notified_at", []).append(_("通知客户时间不能早于投诉受理时间"))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    with transaction.atomic():
        ticket_transition(
            ticket=ticket,
            action="implement",
            actor=actor,
            version=version,
            note=implementation,
            public=True,
            data={"penalty": penalty, "penalty_amount": str(amount) if amount is not None else None},
        )
        _save(
            ticket,
            implementation=implementation,
            penalty=penalty,
            penalty_amount=amount,
            notify_method=notify_method,
            customer_notified_at=told,
            implemented_by=actor,
            implemented_at=now,
        )
    return ticket


def complaint_refuse(*, ticket: Ticket, actor: Staff, version: int, reason: str) -> Ticket:
    """The customer does not accept the solution: back to 方案 for a new round."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    _check_action(ticket, actor, "reject")
    reason = _text(reason, "reason", _("请填写客户不认可的原因"), limit=2000)
    with transaction.atomic():
        ticket_transition(ticket=ticket, action="reject", actor=actor, version=version, note=reason)
        record_refusal(ticket, reason)
    return ticket


def record_refusal(ticket: Ticket, reason: str) -> None:
    """What a customer's refusal writes on the complaint record: the chosen proposal is
    refused and the count goes up. Shared with the customer's own confirmation link."""
    complaint = _record(ticket, lock=True)
    if complaint.chosen_id:
        ComplaintProposal.objects.filter(pk=complaint.chosen_id).update(
            state=ComplaintProposal.State.REFUSED, decision_note=reason
        )
    _save(ticket, refusals=complaint.refusals + 1)


# --- 6 总结 -------------------------------------------------------------------------------


def complaint_summarize(
    *,
    ticket: Ticket,
    actor: Staff,
    version: int,
    classification: Category | None,
    root_cause: str,
    improvement: str,
) -> Ticket:
    """Close the loop: the complaint's class in the category tree (for the 投诉分类统计表),
    its root cause and the improvement measure."""
    _check_fresh(ticket, version)
    _check_complaint(ticket)
    _check_action(ticket, actor, "summarize")
    errors: dict[str, list[str]] = {}
    if classification is None:
        errors.setdefault("classification", []).append(_("请选择投诉分类"))
    elif not classification.is_active or not classification.applies_to(Kind.COMPLAINT):
        errors.setdefault("classification", []).append(_("该分类不适用于投诉"))
    for field, value, message in (
        ("root_cause", root_cause, _("请填写根本原因")),
        ("improvement", improvement, _("请填写改进措施")),
    ):
        value = (value or "").strip()
        if not value:
            errors.setdefault(field, []).append(message)
        elif len(value) > MAX_CONTENT:
            errors.setdefault(field, []).append(_("内容不能超过 {n} 字").format(n=MAX_CONTENT))
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert classification is not None
    now = timezone.now()
    with transaction.atomic():
        ticket_transition(
            ticket=ticket,
            action="summarize",
            actor=actor,
            version=version,
            note=improvement.strip(),
            data={"classification": classification.path},
        )
        _save(
            ticket,
            classification=classification,
            root_cause=root_cause.strip(),
            improvement=improvement.strip(),
            summarized_by=actor,
            summarized_at=now,
        )
    return ticket


# --- helpers -------------------------------------------------------------------------------


def _check_complaint(ticket: Ticket) -> None:
    if ticket.kind != Kind.COMPLAINT:
        raise ValidationFailed(_("该工单不是投诉"))


def _record(ticket: Ticket, *, lock: bool = False) -> Complaint:
    """The complaint's record; made on the spot for a complaint taken before records
    existed (intake makes one for every new complaint)."""
    rows = Complaint.objects.select_for_update() if lock else Complaint.objects
    complaint, _created = rows.get_or_create(ticket=ticket)
    return complaint


def _save(ticket: Ticket, **fields: Any) -> None:
    Complaint.objects.update_or_create(ticket=ticket, defaults=fields)


def _text(value: str, field: str, missing: str, *, limit: int = MAX_CONTENT) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationFailed(missing, field=field)
    if len(value) > limit:
        raise ValidationFailed(_("内容不能超过 {n} 字").format(n=limit), field=field)
    return value


def _proposal_of_round(complaint: Complaint, proposal_id: Any) -> ComplaintProposal:
    try:
        pk = int(proposal_id)
    except (TypeError, ValueError):
        raise ValidationFailed(_("请选择一个处理方案"), field="proposal") from None
    proposal = ComplaintProposal.objects.filter(
        pk=pk, complaint=complaint, round=complaint.round, state=ComplaintProposal.State.PROPOSED
    ).first()
    if proposal is None:
        raise ValidationFailed(_("请选择本轮待批示的处理方案"), field="proposal")
    return proposal

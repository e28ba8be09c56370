"""The complaint's six steps: who may take each, what each records, where each leads."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.utils import timezone

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.notify.models import Notification
from kefu.testing import make_category
from kefu.tickets.lifecycle import Kind, Status
from kefu.tickets.models import Channel, Complaint, ComplaintProposal, Ticket, Urgency
from kefu.tickets.services import (
    complaint_approve,
    complaint_implement,
    complaint_investigate,
    complaint_judge,
    complaint_mark_major,
    complaint_propose,
    complaint_refuse,
    complaint_send_back,
    complaint_summarize,
    ticket_confirm,
    ticket_create,
    ticket_transition,
)


def _complaint(world, *, actor=None, **extra) -> Ticket:
    fields = {
        "site": world.site,
        "kind": Kind.COMPLAINT,
        "channel": Channel.PHONE,
        "content": "保洁人员态度恶劣，楼道垃圾两天无人清理",
        "actor": actor or world.agent,
        "customer": world.customer,
    }
    fields.update(extra)
    return ticket_create(**fields)


def _fresh(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_related("complaint").get(pk=ticket.pk)


@pytest.fixture
def classification(world):
    root = make_category("服务态度", kinds=["complaint"])
    return make_category("保洁人员态度", parent=root, kinds=["complaint"])


def _to_proposing(world, ticket: Ticket) -> Ticket:
    complaint_judge(ticket=ticket, actor=world.agent, version=ticket.version, valid=True, reason="理由充分")
    ticket = _fresh(ticket)
    complaint_investigate(
        ticket=ticket,
        actor=world.supervisor,
        version=ticket.version,
        cause="保洁排班空缺",
        responsible_department=world.security,
        responsible_person=world.guard,
    )
    return _fresh(ticket)


def _to_implementing(world, ticket: Ticket) -> Ticket:
    ticket = _to_proposing(world, ticket)
    complaint_propose(
        ticket=ticket, actor=world.supervisor, version=ticket.version, proposals=["当天清理并致歉", "免一个月保洁费"]
    )
    ticket = _fresh(ticket)
    first = ticket.complaint.proposals.order_by("id").first()
    complaint_approve(
        ticket=ticket,
        actor=world.manager,
        version=ticket.version,
        proposal_id=first.id,
        instruction="同意方案一，今日内完成",
    )
    return _fresh(ticket)


def test_intake_creates_the_complaint_record_and_does_not_dispatch(world):
    ticket = _complaint(world, category=make_category("服务", department=world.security, kinds=["complaint"]))
    assert ticket.status == Status.RECEIVED
    assert ticket.department_id is None and ticket.assignee_id is None
    assert Complaint.objects.filter(pk=ticket.pk, valid__isnull=True).exists()


def test_full_six_steps_to_resolved(world, classification):
    earlier = timezone.now() - timedelta(hours=2)
    with time_machine.travel(earlier, tick=False):
        ticket = _complaint(world)
        ticket = _to_implementing(world, ticket)
    assert ticket.status == Status.IMPLEMENTING
    complaint = ticket.complaint
    assert complaint.instruction == "同意方案一，今日内完成"
    assert complaint.approved_by_id == world.manager.id
    states = dict(complaint.proposals.values_list("text", "state"))
    assert states == {"当天清理并致歉": "chosen", "免一个月保洁费": "not_chosen"}

    with time_machine.travel(earlier + timedelta(minutes=30), tick=False):
        complaint_implement(
            ticket=ticket,
            actor=world.supervisor,
            version=ticket.version,
            implementation="已清理并当面致歉",
            notify_method="phone",
            penalty="保洁员通报批评，扣绩效",
            penalty_amount="50",
        )
    ticket = _fresh(ticket)
    assert ticket.status == Status.PENDING_CONFIRM
    assert ticket.completed_at is not None
    assert ticket.complaint.penalty_amount == Decimal("50.00")
    assert ticket.complaint.notify_method == "phone"

    signed = (earlier + timedelta(hours=1)).replace(microsecond=0)
    ticket_confirm(
        ticket=ticket, actor=world.agent, version=ticket.version, confirmed_by="张业主", method="onsite", at=signed
    )
    ticket = _fresh(ticket)
    assert ticket.status == Status.SUMMARIZING
    assert ticket.confirmed_at == signed and ticket.confirm_method == "onsite"

    complaint_summarize(
        ticket=ticket,
        actor=world.supervisor,
        version=ticket.version,
        classification=classification,
        root_cause="排班无替岗机制",
        improvement="建立保洁替岗制度",
    )
    ticket = _fresh(ticket)
    assert ticket.status == Status.RESOLVED
    assert ticket.complaint.classification_id == classification.id
    types = list(ticket.events.values_list("type", flat=True))
    assert types == [
        "created",
        "judge",
        "investigate",
        "propose",
        "approve",
        "implement",
        "visit_planned",
        "confirm",
        "summarize",
    ]


def test_not_valid_is_answered_and_closed(world):
    ticket = _complaint(world)
    complaint_judge(
        ticket=ticket, actor=world.agent, version=ticket.version, valid=False, reason="经核实属市政停水，已向您解释"
    )
    ticket = _fresh(ticket)
    assert ticket.status == Status.CLOSED
    assert ticket.complaint.valid is False
    assert ticket.closed_at is not None and ticket.responded_at is not None
    event = ticket.events.get(type="dismiss")
    assert event.visibility == "public" and "市政停水" in event.note


def test_not_valid_needs_the_reply(world):
    ticket = _complaint(world)
    with pytest.raises(ValidationFailed) as err:
        complaint_judge(ticket=ticket, actor=world.agent, version=ticket.version, valid=False, reason="  ")
    assert err.value.fields == {"reason": ["投诉不成立时请填写给客户的答复"]}
    assert _fresh(ticket).status == Status.RECEIVED


def test_valid_judgment_hands_investigation_to_the_department(world):
    ticket = _complaint(world)
    complaint_judge(
        ticket=ticket, actor=world.agent, version=ticket.version, valid=True, reason="成立", department=world.security
    )
    ticket = _fresh(ticket)
    assert ticket.status == Status.INVESTIGATING
    assert ticket.department_id == world.security.id
    assert ticket.assignments.count() == 1
    # The department's staff are now its handlers and may report the investigation.
    complaint_investigate(
        ticket=ticket,
        actor=world.guard,
        version=ticket.version,
        cause="巡逻漏岗",
        responsible_department=world.security,
    )
    assert _fresh(ticket).status == Status.PROPOSING


def test_technician_outside_the_department_may_not_investigate(world):
    ticket = _complaint(world)
    complaint_judge(
        ticket=ticket, actor=world.agent, version=ticket.version, valid=True, reason="成立", department=world.security
    )
    ticket = _fresh(ticket)
    with pytest.raises(PermissionDenied):
        complaint_investigate(
            ticket=ticket, actor=world.tech, version=ticket.version, cause="x", responsible_department=world.eng
        )


def test_investigation_validates_person_and_department(world):
    ticket = _complaint(world)
    complaint_judge(ticket=ticket, actor=world.agent, version=ticket.version, valid=True, reason="成立")
    ticket = _fresh(ticket)
    with pytest.raises(ValidationFailed) as err:
        complaint_investigate(
            ticket=ticket,
            actor=world.supervisor,
            version=ticket.version,
            cause="",
            responsible_department=world.eng,
            responsible_person=world.guard,
        )
    assert set(err.value.fields) == {"cause", "responsible_person"}
    with pytest.raises(ValidationFailed) as err:
        complaint_investigate(
            ticket=ticket, actor=world.supervisor, version=ticket.version, cause="原因", responsible_department=None
        )
    assert "responsible_department" in err.value.fields
    assert _fresh(ticket).status == Status.INVESTIGATING


def test_agents_may_not_approve_and_proposals_must_be_of_the_round(world):
    ticket = _to_proposing(world, _complaint(world))
    complaint_propose(ticket=ticket, actor=world.supervisor, version=ticket.version, proposals=["方案甲"])
    ticket = _fresh(ticket)
    proposal = ticket.complaint.proposals.get()
    with pytest.raises(PermissionDenied):
        complaint_approve(
            ticket=ticket, actor=world.agent, version=ticket.version, proposal_id=proposal.id, instruction="同意"
        )
    with pytest.raises(ValidationFailed):
        complaint_approve(
            ticket=ticket, actor=world.supervisor, version=ticket.version, proposal_id="abc", instruction="同意"
        )
    with pytest.raises(ValidationFailed) as err:
        complaint_approve(
            ticket=ticket, actor=world.supervisor, version=ticket.version, proposal_id=proposal.id, instruction=""
        )
    assert "instruction" in err.value.fields
    assert _fresh(ticket).status == Status.AWAITING_APPROVAL


def test_send_back_then_second_round(world):
    ticket = _to_proposing(world, _complaint(world))
    complaint_propose(ticket=ticket, actor=world.supervisor, version=ticket.version, proposals=["口头致歉"])
    ticket = _fresh(ticket)
    complaint_send_back(ticket=ticket, actor=world.manager, version=ticket.version, reason="补偿不足")
    ticket = _fresh(ticket)
    assert ticket.status == Status.PROPOSING
    assert ticket.complaint.proposals.get().state == ComplaintProposal.State.RETURNED
    complaint_propose(
        ticket=ticket, actor=world.supervisor, version=ticket.version, proposals=["书面致歉并赠送清洁服务"]
    )
    ticket = _fresh(ticket)
    assert ticket.complaint.round == 2
    old = ticket.complaint.proposals.get(round=1)
    # A returned proposal of an earlier round cannot be picked.
    with pytest.raises(ValidationFailed):
        complaint_approve(
            ticket=ticket, actor=world.manager, version=ticket.version, proposal_id=old.id, instruction="同意"
        )
    new = ticket.complaint.proposals.get(round=2)
    complaint_approve(
        ticket=ticket, actor=world.manager, version=ticket.version, proposal_id=new.id, instruction="同意"
    )
    assert _fresh(ticket).complaint.chosen_id == new.id


def test_customer_refuses_back_to_proposals(world):
    ticket = _to_implementing(world, _complaint(world))
    complaint_implement(
        ticket=ticket, actor=world.supervisor, version=ticket.version, implementation="已处理", notify_method="sms"
    )
    ticket = _fresh(ticket)
    complaint_refuse(ticket=ticket, actor=world.agent, version=ticket.version, reason="客户要求赔偿")
    ticket = _fresh(ticket)
    assert ticket.status == Status.PROPOSING
    assert ticket.completed_at is None
    assert ticket.complaint.refusals == 1
    assert ticket.complaint.chosen.state == ComplaintProposal.State.REFUSED


def test_implementation_validation(world):
    ticket = _to_implementing(world, _complaint(world))
    with pytest.raises(ValidationFailed) as err:
        complaint_implement(
            ticket=ticket,
            actor=world.supervisor,
            version=ticket.version,
            implementation="",
            notify_method="pigeon",
            penalty_amount="-3",
            notified_at=timezone.now() + timedelta(days=1),
        )
    assert set(err.value.fields) == {"implementation", "notify_method", "penalty_amount", "notified_at"}
    with pytest.raises(ValidationFailed) as err:
        complaint_implement(
            ticket=ticket,
            actor=world.supervisor,
            version=ticket.version,
            implementation="x",
            notify_method="phone",
            penalty_amount="20",
        )
    assert "penalty" in err.value.fields
    assert _fresh(ticket).status == Status.IMPLEMENTING


def test_summary_needs_a_complaint_class(world):
    ticket = _to_implementing(world, _complaint(world))
    complaint_implement(
        ticket=ticket, actor=world.supervisor, version=ticket.version, implementation="已处理", notify_method="phone"
    )
    ticket = _fresh(ticket)
    ticket_confirm(ticket=ticket, actor=world.agent, version=ticket.version, confirmed_by="张业主", method="phone")
    ticket = _fresh(ticket)
    with pytest.raises(ValidationFailed) as err:
        complaint_summarize(
            ticket=ticket,
            actor=world.supervisor,
            version=ticket.version,
            classification=world.repair_cat,
            root_cause="a",
            improvement="b",
        )
    assert "classification" in err.value.fields
    with pytest.raises(PermissionDenied):
        complaint_summarize(
            ticket=ticket, actor=world.agent, version=ticket.version, classification=None, root_cause="", improvement=""
        )


def test_confirmation_time_cannot_precede_the_work(world):
    ticket = _to_implementing(world, _complaint(world))
    complaint_implement(
        ticket=ticket, actor=world.supervisor, version=ticket.version, implementation="已处理", notify_method="phone"
    )
    ticket = _fresh(ticket)
    with pytest.raises(ValidationFailed) as err:
        ticket_confirm(
            ticket=ticket,
            actor=world.agent,
            version=ticket.version,
            confirmed_by="张业主",
            method="onsite",
            at=ticket.completed_at - timedelta(hours=1),
        )
    assert "at" in err.value.fields


def test_steps_out_of_order_are_refused(world, classification):
    ticket = _complaint(world)
    with pytest.raises(ValidationFailed) as err:
        complaint_propose(ticket=ticket, actor=world.supervisor, version=ticket.version, proposals=["x"])
    assert "不能执行" in err.value.message
    with pytest.raises(ValidationFailed):
        ticket_transition(ticket=ticket, action="complete", actor=world.agent, version=ticket.version, note="x")


def test_complaint_steps_refuse_other_kinds(world):
    repair = ticket_create(
        site=world.site,
        kind=Kind.REPAIR,
        channel=Channel.PHONE,
        content="漏水",
        actor=world.agent,
        customer=world.customer,
    )
    with pytest.raises(ValidationFailed) as err:
        complaint_judge(ticket=repair, actor=world.agent, version=repair.version, valid=True, reason="x")
    assert err.value.message == "该工单不是投诉"


def test_reopen_after_close_returns_to_proposals(world, classification):
    ticket = _to_implementing(world, _complaint(world))
    complaint_implement(
        ticket=ticket, actor=world.supervisor, version=ticket.version, implementation="已处理", notify_method="phone"
    )
    ticket = _fresh(ticket)
    ticket_confirm(ticket=ticket, actor=world.agent, version=ticket.version, confirmed_by="张业主", method="phone")
    ticket = _fresh(ticket)
    complaint_summarize(
        ticket=ticket,
        actor=world.supervisor,
        version=ticket.version,
        classification=classification,
        root_cause="a",
        improvement="b",
    )
    ticket = _fresh(ticket)
    ticket_transition(ticket=ticket, action="close", actor=world.agent, version=ticket.version)
    ticket = _fresh(ticket)
    ticket_transition(ticket=ticket, action="reopen", actor=world.agent, version=ticket.version, note="回访不满意")
    ticket = _fresh(ticket)
    assert ticket.status == Status.PROPOSING and ticket.reopen_count == 1


def test_suspend_and_resume_keep_the_step(world):
    ticket = _to_proposing(world, _complaint(world))
    ticket_transition(ticket=ticket, action="suspend", actor=world.supervisor, version=ticket.version, note="客户出差")
    ticket = _fresh(ticket)
    ticket_transition(ticket=ticket, action="resume", actor=world.supervisor, version=ticket.version)
    assert _fresh(ticket).status == Status.PROPOSING


# --- major complaints ---------------------------------------------------------------------


def _major_notices(world) -> set[int]:
    return set(Notification.objects.filter(event="complaint.major").values_list("recipient_id", flat=True))


def test_ordinary_complaint_is_not_major(world):
    ticket = _complaint(world)
    assert not ticket.is_major and ticket.major_reason == ""
    assert _major_notices(world) == set()


def test_flagged_at_intake_notifies_manager_and_director(world):
    ticket = _complaint(world, major=True)
    assert ticket.is_major and "受理人标记" in ticket.major_reason
    assert _major_notices(world) == {world.manager.id, world.director.id}
    assert ticket.events.filter(type="major").exists()


def test_critical_urgency_is_major(world):
    ticket = _complaint(world, urgency=Urgency.CRITICAL)
    assert ticket.is_major and "特急" in ticket.major_reason


def test_second_complaint_within_30_days_is_major(world):
    start = timezone.now()
    with time_machine.travel(start - timedelta(days=29)):
        first = _complaint(world)
    assert not first.is_major
    second = _complaint(world)
    assert second.is_major and "30 天内再次投诉" in second.major_reason


def test_complaint_after_31_days_is_not_major(world):
    with time_machine.travel(timezone.now() - timedelta(days=31)):
        _complaint(world)
    assert not _complaint(world).is_major


def test_cancelled_earlier_complaint_does_not_count(world):
    first = _complaint(world)
    ticket_transition(ticket=first, action="cancel", actor=world.agent, version=first.version, note="客户撤回")
    assert not _complaint(world).is_major


def test_major_category_inherited_by_children(world):
    root = make_category("安全事故", kinds=["complaint"])
    root.is_major = True
    root.save()
    leaf = make_category("高空坠物", parent=root, kinds=["complaint"])
    ticket = _complaint(world, category=leaf)
    assert ticket.is_major and "安全事故" not in ticket.major_reason and "高空坠物" in ticket.major_reason


def test_supervisor_marks_major_later(world):
    ticket = _complaint(world)
    with pytest.raises(PermissionDenied):
        complaint_mark_major(ticket=ticket, actor=world.agent, version=ticket.version, reason="媒体关注")
    complaint_mark_major(ticket=ticket, actor=world.supervisor, version=ticket.version, reason="媒体关注")
    ticket = _fresh(ticket)
    assert ticket.is_major and ticket.major_reason == "媒体关注"
    assert _major_notices(world) == {world.manager.id, world.director.id}
    with pytest.raises(ValidationFailed):
        complaint_mark_major(ticket=ticket, actor=world.supervisor, version=ticket.version, reason="再次")


def test_manager_of_another_site_is_not_told(world):
    from kefu.org.models import Role
    from kefu.testing import make_staff

    elsewhere = make_staff(Role.MANAGER, sites=[world.other_site])
    _complaint(world, major=True)
    assert elsewhere.id not in _major_notices(world)

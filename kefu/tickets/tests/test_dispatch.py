"""Dispatch by rule (category → department → least-loaded skilled staff), by hand, transfer."""

from __future__ import annotations

import pytest

from kefu.core.errors import ValidationFailed
from kefu.org.models import Role
from kefu.testing import make_category, make_staff, make_ticket
from kefu.tickets import services
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import Assignment


def test_rule_picks_skilled_staff_of_the_category_department(world):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    assert ticket.department == world.eng
    assert ticket.assignee == world.tech  # the only one with 水电
    a = ticket.assignments.get()
    assert (a.mode, a.to_assignee, a.by) == (Assignment.Mode.AUTO, world.tech, world.agent)


def test_rule_balances_load_among_skilled_staff(world):
    third = make_staff(Role.TECHNICIAN, sites=[world.site], department=world.eng, skills=[world.plumbing])
    picks = [make_ticket(world.site, world.agent, category=world.repair_cat).assignee for _ in range(4)]
    assert sorted(p.name for p in picks) == sorted([world.tech.name, third.name] * 2)


def test_finished_work_does_not_count_as_load(world):
    third = make_staff(Role.TECHNICIAN, sites=[world.site], department=world.eng, skills=[world.plumbing])
    first = make_ticket(world.site, world.agent, category=world.repair_cat)
    assert first.assignee == world.tech
    services.ticket_transition(ticket=first, action="cancel", actor=world.agent, version=first.version, note="重复报修")
    # world.tech's only ticket is cancelled: he is least loaded again (tie → lowest id).
    assert make_ticket(world.site, world.agent, category=world.repair_cat).assignee == world.tech
    assert make_ticket(world.site, world.agent, category=world.repair_cat).assignee == third


def test_inactive_or_other_site_staff_are_never_picked(world):
    world.tech.is_active = False
    world.tech.save()
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    # Nobody active at this site has the skill (outsider_tech has it, at another site).
    assert (ticket.department, ticket.assignee) == (world.eng, None)
    assert ticket.status == Status.DISPATCHED


def _picked(world):
    return services.pick_handler(site=world.site, category=world.repair_cat)[1]


def test_the_rule_sees_a_change_of_whom_it_may_pick_at_once(world):
    """Whom the rule may pick is kept in the process (decision 0013); every change of a
    staff member's skills, sites, department, role or account is seen by the next pick."""
    assert _picked(world) == world.tech
    world.tech.skills.remove(world.plumbing)
    assert _picked(world) is None
    world.tech2.skills.add(world.plumbing)
    assert _picked(world) == world.tech2
    world.tech2.sites.remove(world.site)
    assert _picked(world) is None
    world.tech2.sites.add(world.site)
    world.tech2.department = world.security
    world.tech2.save()
    assert _picked(world) is None
    world.tech2.department = world.eng
    world.tech2.save()
    assert _picked(world) == world.tech2
    world.tech2.user.is_active = False
    world.tech2.user.save()
    assert _picked(world) is None
    world.tech2.user.is_active = True
    world.tech2.user.save()
    world.tech2.role = Role.AGENT
    world.tech2.save()
    assert _picked(world) is None


def test_the_rule_hands_out_its_own_copy_of_the_picked_staff_member(world):
    first = _picked(world)
    first.name = "改过"
    assert _picked(world).name == world.tech.name


def test_category_without_rule_inherits_or_stays_with_desk(world):
    lone = make_category("其他咨询", kinds=["inquiry"])
    ticket = make_ticket(world.site, world.agent, kind="inquiry", category=lone)
    assert ticket.status == Status.RECEIVED and ticket.department is None
    child = make_category("楼道照明", parent=world.repair_cat.parent, kinds=["repair"])
    ticket = make_ticket(world.site, world.agent, category=child)
    assert ticket.department == world.eng and ticket.assignee in (world.tech, world.tech2)


def test_manual_dispatch_to_a_department_member(world):
    ticket = make_ticket(world.site, world.agent, auto_dispatch=False)
    services.ticket_dispatch(
        ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.guard, reason="请巡查"
    )
    assert (ticket.status, ticket.department, ticket.assignee) == (Status.DISPATCHED, world.security, world.guard)


def test_dispatch_refuses_staff_of_another_site(world):
    ticket = make_ticket(world.site, world.agent, auto_dispatch=False)
    with pytest.raises(ValidationFailed, match="不在该项目"):
        services.ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.outsider_tech)
    ticket.refresh_from_db()
    assert ticket.status == Status.RECEIVED and not ticket.assignments.exists()


def test_transfer_keeps_every_hand_over(world):
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    services.ticket_accept(ticket=ticket, actor=world.tech, version=ticket.version)
    services.ticket_transfer(
        ticket=ticket, actor=world.supervisor, version=ticket.version, assignee=world.tech2, reason="王师傅休假"
    )
    assert (ticket.status, ticket.assignee, ticket.accepted_at) == (Status.DISPATCHED, world.tech2, None)
    hand_overs = [(a.mode, a.from_assignee, a.to_assignee, a.by, a.reason) for a in ticket.assignments.all()]
    assert hand_overs == [
        (Assignment.Mode.AUTO, None, world.tech, world.agent, "按分类规则自动派单"),
        (Assignment.Mode.TRANSFER, world.tech, world.tech2, world.supervisor, "王师傅休假"),
    ]
    with pytest.raises(ValidationFailed, match="转派原因"):
        services.ticket_transfer(
            ticket=ticket, actor=world.supervisor, version=ticket.version, assignee=world.tech, reason=" "
        )


def test_department_member_who_accepts_becomes_the_assignee(world):
    ticket = make_ticket(world.site, world.agent, kind="help", auto_dispatch=False)
    services.ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, department=world.security)
    assert ticket.assignee is None
    services.ticket_accept(ticket=ticket, actor=world.guard, version=ticket.version)
    ticket.refresh_from_db()
    assert ticket.assignee == world.guard and ticket.status == Status.ACCEPTED

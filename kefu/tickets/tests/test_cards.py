"""The warning engine: pre-warnings, blue/yellow/red cards, escalation up the chain, issued
exactly once by a sweep that any number of workers may run at the same time."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import close_old_connections, connection
from django.utils import translation

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.notify.models import Notification
from kefu.notify.services import Message
from kefu.org.models import Role
from kefu.testing import make_site, make_staff, make_ticket
from kefu.tickets.models import SlaPolicy, Ticket, TicketClock, TicketEvent, WarningCard, WarningRules
from kefu.tickets.services import ticket_accept, ticket_add_note, ticket_dispatch, ticket_transition
from kefu.tickets.services.cards import (
    _DIGESTS,
    DIGEST_AFTER,
    _digested,
    sla_sweep,
    ticket_mark_serious,
    warning_revoke,
)
from kefu.tickets.sla import Rules, sla_schedule

SH = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 11, 23, 9, 0, tzinfo=SH)  # a Monday


@pytest.fixture
def policy(world):
    # Repairs, low urgency: respond in 30 minutes, resolve in 10 hours, calendar time.
    return SlaPolicy.objects.create(kind="repair", urgency="low", respond_minutes=30, resolve_minutes=600)


def _repair(world, **extra) -> Ticket:
    with time_machine.travel(START, tick=False):
        return make_ticket(world.site, world.agent, customer=world.customer, auto_dispatch=False, **extra)


def _sweep(at: datetime, **kwargs):
    with time_machine.travel(at, tick=False):
        return sla_sweep(**kwargs)


def _notices(event: str) -> list[tuple[int, str]]:
    return list(Notification.objects.filter(event=event).order_by("id").values_list("recipient_id", "title"))


# --- the schedule, without the database -------------------------------------------------------


def test_schedule_of_a_fresh_ticket():
    ticket = Ticket(
        site_id=1,
        kind="repair",
        status="received",
        created_at=START,
        respond_due=START + timedelta(minutes=30),
        resolve_due=START + timedelta(hours=10),
    )
    plan = {d.key: d.at for d in sla_schedule(ticket, Rules(stall_hours=0))}
    assert plan == {
        "prewarn:respond": START + timedelta(minutes=24),
        "breach:respond": START + timedelta(minutes=30),
        "prewarn:resolve": START + timedelta(hours=8),
        "breach:resolve": START + timedelta(hours=10),
        "manager:resolve": START + timedelta(hours=12),
        "director:resolve": START + timedelta(hours=18),
        "red:resolve": START + timedelta(hours=34),
    }


def test_schedule_is_empty_while_suspended_or_ended_and_skips_met_deadlines():
    base = {"site_id": 1, "kind": "repair", "created_at": START, "resolve_due": START + timedelta(hours=1)}
    assert sla_schedule(Ticket(status="suspended", **base), Rules()) == []
    assert sla_schedule(Ticket(status="closed", **base), Rules()) == []
    done = Ticket(status="pending_confirm", respond_due=START, responded_at=START, updated_at=START, **base)
    # Done by the handler: only the first responder's reminder, should nothing happen for a day.
    assert [(d.step, d.at) for d in sla_schedule(done, Rules())] == [("stall", START + timedelta(hours=24))]
    blue = Ticket(status="dispatched", assignee_id=5, progress_due=START + timedelta(hours=1), **base)
    steps = [d.step for d in sla_schedule(blue, Rules(prewarn_percent=50, stall_hours=0))]
    assert steps == ["blue", "prewarn", "breach", "manager", "director", "red"]


# --- the sweep ----------------------------------------------------------------------------------


def test_nothing_happens_before_anything_is_due(world, policy):
    ticket = _repair(world)
    assert ticket.clock.next_check_at == START + timedelta(minutes=24)
    result = _sweep(START + timedelta(minutes=20))
    assert result.checked == 0 and Notification.objects.count() == 0


def test_prewarning_then_yellow_card_once_with_word_to_the_supervisor(world, policy):
    ticket = _repair(world)
    _sweep(START + timedelta(minutes=25))
    assert _notices("sla.prewarn") == [(world.agent.id, f"时限预警：{ticket.number}")]

    _sweep(START + timedelta(minutes=31))
    card = WarningCard.objects.get()
    assert (card.color, card.rule, card.staff_id) == ("yellow", "respond", world.agent.id)
    assert card.deadline == START + timedelta(minutes=30)
    # The agent and the agent's superior (the supervisor) hear of it.
    assert {r for r, _ in _notices("warning.card")} == {world.agent.id, world.supervisor.id}
    assert ticket.events.filter(type="warning").count() == 1

    # Sweeping again, or later, never issues the same card again.
    _sweep(START + timedelta(minutes=32))
    _sweep(START + timedelta(minutes=33))
    assert WarningCard.objects.count() == 1
    assert len(_notices("sla.prewarn")) == 1


def test_a_late_sweep_sends_no_prewarning_for_a_deadline_already_past(world, policy):
    """Down over the response deadline (30 min) but not the resolution deadline (10 h): the
    response's pre-warning is done without a word (its yellow card says more), the
    resolution's, still ahead, is sent."""
    ticket = _repair(world)
    result = _sweep(START + timedelta(hours=9))
    keys = {key.split(":", 1)[1] for key in result.keys}
    assert {"prewarn:respond", "breach:respond", "prewarn:resolve"} <= keys
    notices = Notification.objects.filter(event="sla.prewarn")
    assert [n.body for n in notices] == ["办结期限 11-23 19:00，请抓紧处理。"]
    assert WarningCard.objects.get().rule == "respond"
    # Nothing is left to send later either.
    ticket.refresh_from_db()
    assert "prewarn:respond" in ticket.clock.sla_done
    assert _sweep(START + timedelta(hours=9, minutes=30)).checked == 0
    assert notices.count() == 1


def test_a_sweep_words_its_messages_in_the_language_of_its_run(world, policy):
    """Each text is translated once a run, in the language active for that run: an English
    run after a Chinese one is worded in English throughout."""
    first, second = _repair(world), _repair(world)
    _sweep(START + timedelta(minutes=25))  # Chinese: the pre-warnings of both
    with translation.override("en"):
        _sweep(START + timedelta(minutes=31))  # English: their yellow cards
    assert sorted(_notices("sla.prewarn")) == sorted(
        [(world.agent.id, f"时限预警：{first.number}"), (world.agent.id, f"时限预警：{second.number}")]
    )
    cards = Notification.objects.filter(event="warning.card", recipient=world.agent).order_by("id")
    assert [n.title for n in cards] == [f"Yellow card: {t.number}" for t in (first, second)]
    assert all("Response deadline" in n.body and "has passed" in n.body for n in cards)
    notes = {c.note for c in WarningCard.objects.all()}
    assert notes == {"Response deadline 11-23 09:30 has passed"}


def test_escalation_climbs_to_manager_then_director_then_red_card(world, policy):
    ticket = _repair(world)
    ticket_add_note(ticket=ticket, actor=world.agent, text="已电话联系", public=True)  # responded
    _sweep(START + timedelta(hours=10, minutes=1))
    assert [c.rule for c in WarningCard.objects.all()] == ["resolve"]
    assert _notices("sla.escalate") == []
    _sweep(START + timedelta(hours=12, minutes=1))
    assert [r for r, _ in _notices("sla.escalate")] == [world.manager.id]
    _sweep(START + timedelta(hours=18, minutes=1))
    assert [r for r, _ in _notices("sla.escalate")] == [world.manager.id, world.director.id]
    assert list(ticket.events.filter(type="escalated").values_list("data__level", flat=True)) == [
        "manager",
        "director",
    ]
    _sweep(START + timedelta(hours=34, minutes=1))
    red = WarningCard.objects.get(color="red")
    assert red.rule == "long_overdue" and red.staff_id == world.agent.id
    ticket.refresh_from_db()
    assert ticket.clock.next_check_at is None


def test_a_sweep_after_downtime_does_everything_due_at_once(world, policy):
    _repair(world)
    result = _sweep(START + timedelta(days=3))
    assert result.cards == 3  # respond and resolve yellow, then red
    assert {c.color for c in WarningCard.objects.all()} == {"yellow", "red"}


def test_site_rules_override_the_company_rules(world, policy):
    WarningRules.objects.create(prewarn_percent=50)
    WarningRules.objects.create(site=world.site, prewarn_percent=90)
    ticket = _repair(world)
    assert ticket.clock.next_check_at == START + timedelta(minutes=27)


def test_blue_card_when_the_handler_reports_nothing_for_an_hour(world, policy):
    ticket = _repair(world)
    ticket_add_note(ticket=ticket, actor=world.agent, text="已答复", public=True)
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
    ticket.refresh_from_db()
    assert ticket.progress_due == START + timedelta(minutes=65)
    _sweep(START + timedelta(minutes=66))
    card = WarningCard.objects.get()
    assert (card.color, card.rule, card.staff_id) == ("blue", "progress", world.tech.id)


def test_no_blue_card_when_the_handler_accepts_in_time(world, policy):
    ticket = _repair(world)
    ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
    with time_machine.travel(START + timedelta(minutes=20), tick=False):
        ticket_accept(ticket=ticket, actor=world.tech, version=ticket.version)
    ticket.refresh_from_db()
    assert ticket.progress_due is None
    _sweep(START + timedelta(minutes=90))
    assert not WarningCard.objects.filter(color="blue").exists()


def test_a_note_from_the_handler_counts_as_progress(world, policy):
    ticket = _repair(world)
    ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
    version = Ticket.objects.get(pk=ticket.pk).version
    with time_machine.travel(START + timedelta(minutes=30), tick=False):
        ticket_add_note(ticket=ticket, actor=world.tech, text="配件已订")
    ticket.refresh_from_db()
    assert ticket.progress_due is None and ticket.version == version  # a note never makes forms stale


def test_suspended_ticket_is_not_warned_and_its_deadlines_move_on(world, policy):
    ticket = _repair(world)
    with time_machine.travel(START + timedelta(minutes=10), tick=False):
        ticket_transition(ticket=ticket, action="suspend", actor=world.agent, version=ticket.version, note="客户出差")
    ticket.refresh_from_db()
    assert ticket.clock.next_check_at is None
    assert _sweep(START + timedelta(hours=5)).checked == 0
    with time_machine.travel(START + timedelta(hours=5, minutes=10), tick=False):
        ticket_transition(ticket=ticket, action="resume", actor=world.agent, version=ticket.version)
    ticket.refresh_from_db()
    assert ticket.respond_due == START + timedelta(hours=5, minutes=30)
    _sweep(START + timedelta(hours=5, minutes=20))
    assert WarningCard.objects.count() == 0


def test_met_and_missed_minutes_are_kept_per_deadline(world, policy):
    ticket = _repair(world)
    with time_machine.travel(START + timedelta(minutes=12), tick=False):
        ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
    ticket.refresh_from_db()
    assert ticket.respond_delta == -18  # a dispatch is a response: 18 minutes early
    with time_machine.travel(START + timedelta(minutes=20), tick=False):
        ticket_accept(ticket=ticket, actor=world.tech, version=ticket.version)
        ticket_transition(ticket=ticket, action="arrive", actor=world.tech, version=ticket.version)
    with time_machine.travel(START + timedelta(hours=11), tick=False):
        ticket_transition(ticket=ticket, action="complete", actor=world.tech, version=ticket.version, note="x")
    ticket.refresh_from_db()
    assert ticket.resolve_delta == 60  # an hour late
    # Left: only the first responder's reminder, a day after the last change.
    assert ticket.clock.next_check_at == START + timedelta(hours=35)


def test_revoking_a_card(world, policy):
    _repair(world)
    _sweep(START + timedelta(minutes=31))
    card = WarningCard.objects.get()
    with pytest.raises(PermissionDenied):
        warning_revoke(card=card, actor=world.supervisor, reason="系统故障")
    with pytest.raises(ValidationFailed):
        warning_revoke(card=card, actor=world.manager, reason=" ")
    warning_revoke(card=card, actor=world.manager, reason="系统故障期间无法响应")
    card.refresh_from_db()
    assert card.is_revoked and card.revoked_by_id == world.manager.id
    assert TicketEvent.objects.filter(type="warning_revoked").count() == 1
    with pytest.raises(ValidationFailed):
        warning_revoke(card=card, actor=world.director, reason="again")
    # A revoked card is not issued again by later sweeps.
    _sweep(START + timedelta(minutes=40))
    assert WarningCard.objects.count() == 1


def test_marking_serious_gives_a_red_card_once(world, policy):
    ticket = _repair(world)
    ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
    with pytest.raises(PermissionDenied):
        ticket_mark_serious(ticket=ticket, actor=world.agent, reason="水淹楼下")
    card = ticket_mark_serious(ticket=ticket, actor=world.supervisor, reason="水淹楼下三户")
    assert (card.color, card.rule, card.staff_id, card.issued_by_id) == (
        "red",
        "serious",
        world.tech.id,
        world.supervisor.id,
    )
    with pytest.raises(ValidationFailed):
        ticket_mark_serious(ticket=ticket, actor=world.manager, reason="再次")


def test_many_warnings_to_one_person_in_a_sweep_are_one_message(world, policy):
    """After a day down: each of 8 tickets has two yellow cards and an escalation. The agent
    and their supervisor each get one message for the 16 cards, the manager one for the 8
    escalations; every ticket's timeline still shows its own warnings."""
    tickets = [_repair(world) for _ in range(8)]
    _sweep(START + timedelta(hours=13))
    assert WarningCard.objects.count() == 16
    cards = Notification.objects.filter(event="warning.card")
    assert sorted(n.recipient_id for n in cards) == sorted([world.agent.id, world.supervisor.id])
    for notice in cards:
        assert notice.title == "警告卡：16 张"
        assert notice.link == "/tickets/warnings/"
        assert [number for number in (t.number for t in tickets) if number in notice.body] == [
            t.number for t in tickets
        ]
        assert "（共 8 张）" in notice.body
    escalation = Notification.objects.get(event="sla.escalate")
    assert (escalation.recipient_id, escalation.title) == (world.manager.id, "超时升级：8 张工单")
    assert escalation.link == "/tickets/?overdue=1" and escalation.site_id == world.site.id
    for ticket in tickets:
        assert ticket.events.filter(type="warning").count() == 2
        assert ticket.events.filter(type="escalated").count() == 1


def test_up_to_five_warnings_of_a_kind_are_told_one_by_one(world, policy):
    """Five tickets: the manager's five escalations come one by one (the limit is more than
    five), while the agent's ten cards come as one message naming the five tickets."""
    tickets = [_repair(world) for _ in range(DIGEST_AFTER)]
    _sweep(START + timedelta(hours=13))
    escalations = Notification.objects.filter(event="sla.escalate").order_by("id")
    assert [n.title for n in escalations] == [f"超时升级：{t.number}" for t in tickets]
    assert [n.link for n in escalations] == [f"/tickets/{t.pk}/" for t in tickets]
    card = Notification.objects.get(event="warning.card", recipient=world.agent)
    assert card.title == "警告卡：10 张" and "（共 5 张）" in card.body


def test_a_digest_names_ten_tickets_and_counts_the_rest(world):
    """The digest of many: the first ten numbers, then 等 and the count; a message to two
    people of whom one is over the limit still reaches the other as it was."""
    site, agent, supervisor = world.site, world.agent, world.supervisor
    tickets = [Ticket(pk=n, number=f"BX-20261123-{n:04d}", site=site) for n in range(1, 13)]
    told = [
        (Message([supervisor, agent if n == 1 else None], "sla.escalate", f"超时升级：{t.number}", "…", site=site), t)
        for n, t in enumerate(tickets, start=1)
    ]
    out = _digested(told)
    assert [(m.recipients, m.title) for m in out[:1]] == [([agent], "超时升级：BX-20261123-0001")]
    digest = out[1]
    assert (digest.recipients, digest.title) == ([supervisor], "超时升级：12 张工单")
    assert digest.body == ("本次时限检查涉及工单：" + "、".join(t.number for t in tickets[:10]) + "等（共 12 张）。")
    assert len(out) == 2
    # Under the limit nothing changes.
    assert _digested(told[:DIGEST_AFTER]) == [m for m, _t in told[:DIGEST_AFTER]]


@pytest.mark.parametrize("event", sorted(_DIGESTS))
def test_a_digests_link_opens_the_list_of_its_tickets(world, client, event):
    ticket = _repair(world)
    ticket_add_note(ticket=ticket, actor=world.agent, text="已联系", public=True)
    _title, link = _DIGESTS[event]
    for staff in (world.agent, world.supervisor, world.manager):
        client.force_login(staff.user)
        assert client.get(link).status_code == 200, (event, staff.role)


def test_quiet_sweep_backdates_cards_and_tells_nobody(world, policy):
    _repair(world)
    _sweep(START + timedelta(days=2), quiet=True)
    cards = {c.rule: c.issued_at for c in WarningCard.objects.all()}
    assert cards["respond"] == START + timedelta(minutes=30)
    assert cards["long_overdue"] == START + timedelta(hours=34)
    assert Notification.objects.count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_issue_each_card_and_escalation_once():
    assert connection.vendor == "postgresql"
    site = make_site("并发项目", code="SW")
    director = make_staff(Role.DIRECTOR, name="周总监")
    manager = make_staff(Role.MANAGER, sites=[site], superior=director)
    agents = [make_staff(Role.AGENT, sites=[site], superior=manager) for _ in range(4)]
    SlaPolicy.objects.create(kind="repair", urgency="low", respond_minutes=30, resolve_minutes=600)
    with time_machine.travel(START, tick=False):
        tickets = [make_ticket(site, agents[i % 4], auto_dispatch=False) for i in range(40)]
    errors, results = [], []
    barrier = threading.Barrier(2)

    def sweep():
        try:
            barrier.wait()
            with time_machine.travel(START + timedelta(hours=13), tick=False):
                results.append(sla_sweep())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    # Each ticket: respond and resolve yellow cards, one escalation to the manager.
    assert WarningCard.objects.count() == 2 * len(tickets)
    assert sum(r.cards for r in results) == 2 * len(tickets)
    keys = [k for r in results for k in r.keys]
    assert len(keys) == len(set(keys)) == 5 * len(tickets)  # two pre-warnings, two breaches, the manager
    # The manager hears of every escalation once: one by one, or counted in a digest.
    told = Notification.objects.filter(event="sla.escalate", recipient=manager)
    digests = [int(re.search(r"(\d+) 张工单", n.title).group(1)) for n in told if n.ref.startswith("sweep:")]
    assert digests and sum(digests) + told.exclude(ref__startswith="sweep:").count() == len(tickets)
    assert told.count() < len(tickets)
    # Both deadlines had passed: their pre-warnings are done but told to nobody.
    assert Notification.objects.filter(event="sla.prewarn").count() == 0


def test_first_responder_is_reminded_once_of_a_stalled_ticket(world, policy):
    ticket = _repair(world)
    ticket_add_note(ticket=ticket, actor=world.agent, text="已答复", public=True)
    _sweep(START + timedelta(hours=24, minutes=1))
    _sweep(START + timedelta(hours=30))
    reminders = _notices("first_response.stalled")
    assert reminders == [(world.agent.id, f"首问工单停滞：{ticket.number}")]
    # Anything that happens restarts the quiet period, and a new quiet day a new reminder.
    with time_machine.travel(START + timedelta(hours=31), tick=False):
        ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, department=world.eng)
    _sweep(START + timedelta(hours=54))
    assert len(_notices("first_response.stalled")) == 1
    _sweep(START + timedelta(hours=55, minutes=1))
    assert len(_notices("first_response.stalled")) == 2


# --- the sweep in batches ----------------------------------------------------------------------


def test_batches_give_the_same_cards_and_words_as_one_sweep_per_ticket(world, policy, monkeypatch):
    from kefu.tickets.services import cards

    tickets = [_repair(world) for _ in range(5)]
    monkeypatch.setattr(cards, "SWEEP_BATCH", 2)  # three batches
    result = _sweep(START + timedelta(hours=13))
    assert result.checked == 5 and result.cards == 10  # respond and resolve yellow each
    for ticket in tickets:
        ticket.refresh_from_db()
        assert ticket.clock.next_check_at == START + timedelta(hours=18)  # the director next
        assert ticket.events.filter(type="warning").count() == 2
        assert list(ticket.events.filter(type="escalated").values_list("data__level", flat=True)) == ["manager"]
    card = WarningCard.objects.filter(ticket=tickets[0], rule="respond").get()
    assert card.issued_at == START + timedelta(hours=13) and card.deadline == START + timedelta(minutes=30)
    event = tickets[0].events.get(type="warning", data__rule="respond")
    assert event.data == {"color": "yellow", "rule": "respond", "staff": world.agent.name, "card": card.pk}
    assert event.note == "响应期限 11-23 09:30 已过"
    words = Notification.objects.filter(event="warning.card", ref=f"ticket:{tickets[0].pk}", title__startswith="黄牌")
    said = f"{world.agent.name}，超过响应时限。响应期限 11-23 09:30 已过"
    assert {(n.recipient_id, n.body) for n in words if "响应" in n.body} == {
        (world.agent.id, said),
        (world.supervisor.id, said),
    }


def test_a_card_issued_before_is_not_issued_again_and_spoils_nothing(world, policy):
    ticket = _repair(world)
    earlier = WarningCard.objects.create(
        key=f"breach:respond:{ticket.pk}", site=world.site, ticket=ticket, staff=world.agent, color="yellow",
        rule="respond", issued_at=START,
    )  # fmt: skip
    result = _sweep(START + timedelta(hours=13))
    assert result.cards == 1  # the resolution card; the response card was there already
    assert set(WarningCard.objects.values_list("pk", flat=True)) - {earlier.pk} == {
        WarningCard.objects.get(rule="resolve").pk
    }
    assert ticket.events.filter(type="warning").count() == 1
    ticket.refresh_from_db()
    assert "breach:respond" in ticket.clock.sla_done and ticket.clock.next_check_at == START + timedelta(hours=18)


def test_a_sweep_reads_and_writes_the_same_number_of_times_for_2_tickets_or_8(
    world, policy, django_assert_max_num_queries
):
    for _ in range(2):
        _repair(world)
    with django_assert_max_num_queries(40) as few:
        assert _sweep(START + timedelta(hours=13)).checked == 2
    claims = [q["sql"] for q in few.captured_queries if q["sql"].startswith("WITH claim")]
    assert len(claims) == 1
    for _ in range(8):
        _repair(world)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert _sweep(START + timedelta(hours=13)).checked == 8


def test_a_ticket_changed_since_the_list_was_read_is_left_to_the_next_sweep(world, policy, monkeypatch):
    from kefu.tickets.services import cards

    ticket = _repair(world)
    claim = cards._claim

    def someone_acts_first(rows):
        TicketClock.objects.filter(pk=ticket.pk).update(next_check_at=START + timedelta(days=9))
        return claim(rows)

    monkeypatch.setattr(cards, "_claim", someone_acts_first)
    result = _sweep(START + timedelta(hours=13))
    assert (result.checked, result.cards) == (0, 0)
    assert not WarningCard.objects.exists() and not Notification.objects.exists()


# --- the clock: a row of its own (decision 0016) ---------------------------------------------------


def test_the_sweep_moves_the_clock_and_leaves_the_tickets_row_alone(world, policy):
    """The claim is an UPDATE of the small clock table: the ticket's row, in two dozen
    indexes, is not written by a sweep."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    tickets = [_repair(world) for _ in range(3)]
    versions = [t.version for t in tickets]
    with CaptureQueriesContext(connection) as queries:
        result = _sweep(START + timedelta(minutes=25))
    assert result.checked == 3
    writes = [q["sql"] for q in queries.captured_queries if re.search(r"\b(UPDATE|INSERT|DELETE)\b", q["sql"])]
    assert not [sql for sql in writes if 'UPDATE "tickets_ticket" ' in sql], writes
    assert [sql for sql in writes if 'UPDATE "tickets_ticketclock" ' in sql], writes
    for ticket, version in zip(tickets, versions, strict=True):
        ticket.refresh_from_db()
        assert ticket.version == version
        assert ticket.clock.sla_done == ["prewarn:respond"]
        assert ticket.clock.next_check_at == START + timedelta(minutes=30)  # the response's breach next


def test_intake_makes_the_clock_with_the_ticket(world, policy):
    ticket = _repair(world)
    clock = TicketClock.objects.get(pk=ticket.pk)
    assert (clock.next_check_at, clock.sla_done) == (START + timedelta(minutes=24), [])


def test_an_action_moves_the_clock(world, policy):
    ticket = _repair(world)
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        ticket_dispatch(ticket=ticket, actor=world.agent, version=ticket.version, assignee=world.tech)
    clock = TicketClock.objects.get(pk=ticket.pk)
    # Dispatched and so answered: the response's warnings are gone; the handler's progress
    # report (blue card) comes first now.
    assert clock.next_check_at == ticket.progress_due
    assert clock.next_check_at != START + timedelta(minutes=24)


def test_a_ticket_without_a_clock_gets_one_at_its_next_change(world, policy):
    """A ticket row written without its clock (an import, a restore of one table) is not
    broken: its next change gives it one, as intake would have."""
    ticket = _repair(world)
    TicketClock.objects.filter(pk=ticket.pk).delete()
    ticket = Ticket.objects.get(pk=ticket.pk)
    with time_machine.travel(START + timedelta(minutes=5), tick=False):
        ticket_add_note(ticket=ticket, actor=world.agent, text="已联系业主，约下午上门", public=True)
    clock = TicketClock.objects.get(pk=ticket.pk)
    assert clock.sla_done == []
    # Answered by the public reply: the resolution's pre-warning is the next warning.
    assert clock.next_check_at == START + timedelta(hours=8)

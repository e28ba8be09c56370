"""Due times from the time-limit policy: site rows over company rows, business hours over holidays."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import IntegrityError

from kefu.testing import make_ticket
from kefu.tickets.models import SlaPolicy
from kefu.tickets.sla import due_times

SH = ZoneInfo("Asia/Shanghai")


def test_without_a_policy_the_defaults_apply(world):
    start = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    due = due_times(site_id=world.site.id, kind="repair", urgency="high", start=start)
    assert (due.respond - start).total_seconds() == 30 * 60 and (due.resolve - start).total_seconds() == 8 * 3600
    assert due.arrive is None


def test_site_row_beats_the_company_row(world):
    SlaPolicy.objects.create(kind="repair", urgency="low", respond_minutes=60, resolve_minutes=600)
    SlaPolicy.objects.create(
        site=world.site, kind="repair", urgency="low", respond_minutes=20, resolve_minutes=240, arrive_minutes=45
    )
    start = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    mine = due_times(site_id=world.site.id, kind="repair", urgency="low", start=start)
    other = due_times(site_id=world.other_site.id, kind="repair", urgency="low", start=start)
    assert mine.respond == datetime(2026, 11, 23, 10, 20, tzinfo=SH) and mine.arrive == datetime(
        2026, 11, 23, 10, 45, tzinfo=SH
    )
    assert other.resolve == datetime(2026, 11, 23, 20, 0, tzinfo=SH) and other.arrive is None


def test_business_hours_skip_the_national_day_holiday(world):
    SlaPolicy.objects.create(
        kind="complaint", urgency="low", respond_minutes=60, resolve_minutes=8 * 60, business_hours=True
    )
    # 2026-09-30 is the last working day before the National Day holiday (1–7 October).
    start = datetime(2026, 9, 30, 16, 30, tzinfo=SH)
    due = due_times(site_id=world.site.id, kind="complaint", urgency="low", start=start)
    assert due.respond == datetime(2026, 9, 30, 17, 30, tzinfo=SH)
    # 60 minutes on 30 September, the remaining 7 hours on 8 October (08:30–12:00, 13:30–17:00).
    assert due.resolve == datetime(2026, 10, 8, 17, 0, tzinfo=SH)


@time_machine.travel("2026-11-23 09:00:00+08:00", tick=False)
def test_a_repair_gets_an_arrival_deadline(world):
    SlaPolicy.objects.create(kind="repair", urgency="low", respond_minutes=30, arrive_minutes=120, resolve_minutes=480)
    ticket = make_ticket(world.site, world.agent, category=world.repair_cat)
    assert ticket.arrive_due == datetime(2026, 11, 23, 11, 0, tzinfo=SH)
    assert make_ticket(world.site, world.agent, kind="complaint", auto_dispatch=False).arrive_due is None


def test_one_company_row_per_kind_and_urgency(world):
    SlaPolicy.objects.create(kind="help", urgency="low", respond_minutes=1, resolve_minutes=2)
    SlaPolicy.objects.create(site=world.site, kind="help", urgency="low", respond_minutes=1, resolve_minutes=2)
    with pytest.raises(IntegrityError):
        SlaPolicy.objects.create(kind="help", urgency="low", respond_minutes=3, resolve_minutes=4)


def test_the_clock_stops_while_the_ticket_waits_for_the_customer(world):
    from kefu.tickets import services

    SlaPolicy.objects.create(kind="repair", urgency="low", respond_minutes=30, arrive_minutes=120, resolve_minutes=480)
    with time_machine.travel("2026-11-23 09:00:00+08:00", tick=False):
        t = make_ticket(world.site, world.agent, category=world.repair_cat)
        services.ticket_accept(ticket=t, actor=world.tech, version=t.version)
    with time_machine.travel("2026-11-23 09:30:00+08:00", tick=False):
        services.ticket_transition(ticket=t, action="suspend", actor=world.tech, version=t.version, note="业主出差")
    with time_machine.travel("2026-11-24 09:30:00+08:00", tick=False):
        services.ticket_transition(ticket=t, action="resume", actor=world.tech, version=t.version)
    t.refresh_from_db()
    # Responded (accepted) before the pause: that deadline stays; the others move on by 24 h.
    assert t.respond_due == datetime(2026, 11, 23, 9, 30, tzinfo=SH)
    assert t.arrive_due == datetime(2026, 11, 24, 11, 0, tzinfo=SH)
    assert t.resolve_due == datetime(2026, 11, 24, 17, 0, tzinfo=SH)
    assert t.suspended_at is None


def test_a_business_hours_clock_pauses_in_business_hours(world):
    from kefu.tickets import services

    SlaPolicy.objects.create(kind="help", urgency="low", respond_minutes=60, resolve_minutes=240, business_hours=True)
    with time_machine.travel("2026-11-23 09:00:00+08:00", tick=False):  # a Monday
        t = make_ticket(world.site, world.agent, kind="help", auto_dispatch=False)
        assert t.resolve_due == datetime(2026, 11, 23, 14, 30, tzinfo=SH)  # 3 h before lunch, 1 h after
        services.ticket_transition(ticket=t, action="suspend", actor=world.agent, version=t.version, note="等业主回电")
    with time_machine.travel("2026-11-23 15:30:00+08:00", tick=False):
        services.ticket_transition(ticket=t, action="resume", actor=world.agent, version=t.version)
    t.refresh_from_db()
    # Paused 09:00–15:30 = 3 h (09:00–12:00) + 2 h (13:30–15:30) = 5 business hours; the due
    # time 14:30 moves on 3 h to Monday's close and 2 h into Tuesday: 10:30.
    assert t.resolve_due == datetime(2026, 11, 24, 10, 30, tzinfo=SH)

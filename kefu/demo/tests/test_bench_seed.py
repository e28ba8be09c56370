"""``kefu bench-seed`` on a small year: the mix, the life cycle, numbers, the warning engine's
state, determinism, and the refusals."""

from __future__ import annotations

import random
import re
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count
from django.utils import timezone

from kefu.__main__ import main
from kefu.core.models import Counter as NumberCounter
from kefu.core.quiet import ContactWindows
from kefu.demo.bench import flows, rows, runner
from kefu.demo.bench.clock import DayTable, Windows
from kefu.org.models import Site, Staff
from kefu.org.queries import calendar_for_site
from kefu.surveys.models import Answer
from kefu.tickets.lifecycle import ENDED, NUMBER_PREFIX, Kind, Status
from kefu.tickets.models import Complaint, Ticket, TicketEvent, WarningCard
from kefu.tickets.services import ticket_create
from kefu.tickets.services.cards import sla_sweep
from kefu.tickets.sla import next_check, rules_for
from kefu.visits.models import Visit

pytestmark = pytest.mark.django_db

ANCHOR = date(2025, 6, 1)
SMALL = ("--tickets", "2000", "--anchor", ANCHOR.isoformat(), "--quiet")
# The digest of the small seed (``runner.digest``): the same on SQLite and on PostgreSQL.
# A deliberate change to the generator changes it; update it then.
SMALL_DIGEST = "d45adb1bfc92e2f7922289c49d4d58102e1ff3ad864da0a99eae4e0f97935d20"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("bench_seed", *SMALL, *args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.fixture
def seeded() -> None:
    seed()


def anchor_moment() -> datetime:
    return runner.anchor_moment(ANCHOR)


def test_the_year_has_the_mix_of_a_centre(seeded):
    tickets = Ticket.objects.all()
    assert tickets.count() == 2000
    kinds = Counter(tickets.values_list("kind", flat=True))
    total = sum(flows.KIND_MIX.values())
    for kind, weight in flows.KIND_MIX.items():
        assert abs(kinds[kind] / 2000 - weight / total) < 0.04, (kind, kinds)
    assert [k for k, _ in kinds.most_common(3)] == [Kind.REPAIR, Kind.INQUIRY, Kind.COMPLAINT]
    # Categories are skewed: the top fifth of the repair leaves take most repairs (Pareto).
    leaves = Counter(tickets.filter(kind=Kind.REPAIR).values_list("category__name", flat=True))
    top = sum(n for _, n in leaves.most_common(max(1, len(leaves) // 5)))
    assert top / kinds[Kind.REPAIR] > 0.4
    # About a fifth open, at every stage of the life cycle.
    statuses = Counter(tickets.values_list("status", flat=True))
    open_share = sum(n for s, n in statuses.items() if s not in ENDED) / 2000
    assert 0.15 < open_share < 0.26, statuses
    assert {Status.RECEIVED, Status.DISPATCHED, Status.IN_PROGRESS, Status.SUSPENDED, Status.PENDING_CONFIRM,
            Status.RESOLVED, Status.VISITED} <= set(statuses)  # fmt: skip
    # Spread over the twelve months before the anchor, and nothing after it.
    months = {t.strftime("%Y-%m") for t in tickets.values_list("created_at", flat=True)}
    assert len(months) >= 12
    assert not tickets.filter(created_at__gte=anchor_moment()).exists()
    assert not TicketEvent.objects.filter(at__gte=anchor_moment()).exists()


def test_every_ticket_has_a_timeline_with_notes(seeded):
    events = TicketEvent.objects.all()
    assert events.count() >= 3 * 2000
    assert events.exclude(note="").count() >= 2000
    per_ticket = Ticket.objects.annotate(n=Count("events")).values_list("kind", "status", "n")
    assert min(n for _, _, n in per_ticket) >= 1
    # An inquiry answered at once is closed at first contact, with the answer on its timeline.
    fcr = Ticket.objects.filter(first_contact_resolved=True)
    assert fcr.exists() and set(fcr.values_list("kind", flat=True)) == {Kind.INQUIRY}
    assert all(set(t.events.values_list("type", flat=True)) == {"created", "reply", "closed"} for t in fcr[:20])


def test_times_follow_the_life_cycle(seeded):
    order = ["created_at", "dispatched_at", "accepted_at", "arrived_at", "completed_at", "confirmed_at", "closed_at"]
    checked = 0
    for values in Ticket.objects.values(*order, "kind", "status", "first_contact_resolved", "reopen_count"):
        moments = [values[name] for name in order if values[name] is not None]
        assert moments == sorted(moments), values
        if values["status"] == Status.CLOSED and values["kind"] == Kind.REPAIR and not values["reopen_count"]:
            assert values["created_at"] < values["dispatched_at"] < values["accepted_at"] < values["arrived_at"]
            assert values["arrived_at"] < values["completed_at"] < values["closed_at"]
            checked += 1
    assert checked > 300
    # Deadlines and deltas as the services compute them; mostly on time, some late.
    done = Ticket.objects.filter(completed_at__isnull=False, resolve_due__isnull=False)
    for ticket in done[:200]:
        assert ticket.resolve_delta == round((ticket.completed_at - ticket.resolve_due).total_seconds() / 60)
    late = done.filter(resolve_delta__gt=0).count() / done.count()
    assert 0.03 < late < 0.3
    calendar = calendar_for_site(done[0].site_id)
    for ticket in done.filter(site_id=done[0].site_id)[:50]:
        assert ticket.handling_minutes == max(
            0, calendar.business_minutes_between(ticket.created_at, ticket.completed_at)
        )
    # Complaints have their record, the finished ones a responsible department.
    complaints = Ticket.objects.filter(kind=Kind.COMPLAINT)
    assert Complaint.objects.count() == complaints.count()
    summed_up = Complaint.objects.filter(summarized_at__isnull=False)
    assert summed_up.exists() and not summed_up.filter(responsible_department__isnull=True).exists()
    # Return visits for completed repairs and complaints, cards for the late ones.
    visits = Visit.objects.all()
    assert visits.exists() and set(visits.values_list("ticket__kind", flat=True)) == {Kind.REPAIR, Kind.COMPLAINT}
    assert not visits.filter(ticket__completed_at__isnull=True, status=Visit.Status.DONE).exists()
    cards = WarningCard.objects.all()
    assert cards.exists() and not cards.filter(ticket__resolve_delta__lte=0, rule="resolve").exists()
    assert Ticket.objects.filter(rating__isnull=False).exists()
    assert Answer.objects.exists()


def test_numbers_are_unique_per_site_and_the_next_ticket_gets_a_fresh_one(seeded):
    tickets = list(Ticket.objects.values_list("site_id", "number", "kind", "created_at").order_by("created_at", "id"))
    assert len({(site, number) for site, number, _, _ in tickets}) == len(tickets)
    runs: dict[tuple[int, str], list[int]] = {}
    for site, number, kind, created in tickets:
        prefix, day, n = re.fullmatch(r"([A-Z]{2})-(\d{8})-(\d{4})", number).groups()  # type: ignore[union-attr]
        assert prefix == NUMBER_PREFIX[kind]
        assert day == timezone.localtime(created).strftime("%Y%m%d")
        runs.setdefault((site, f"{prefix}-{day}"), []).append(int(n))
    # Numbered in the order tickets came in, from 1, without gaps; the counters left there.
    assert all(found == list(range(1, len(found) + 1)) for found in runs.values())
    (site_id, key), found = max(runs.items(), key=lambda item: (len(item[1]), item[0]))
    prefix, day = key.split("-")
    assert NumberCounter.objects.get(key=f"ticket:{site_id}:{prefix}:{day}").value == len(found)
    site = Site.objects.get(pk=site_id)
    agent = Staff.objects.filter(role="agent", sites=site).first()
    kind = next(k for k, p in NUMBER_PREFIX.items() if p == prefix)
    noon = timezone.make_aware(datetime.strptime(day, "%Y%m%d").replace(hour=12))
    with time_machine.travel(noon, tick=False):
        ticket = ticket_create(site=site, kind=kind, channel="phone", content="基准数据之后新受理的工单",
                               actor=agent, contact_phone="13900001111")  # fmt: skip
    assert ticket.number == f"{prefix}-{day}-{len(found) + 1:04d}"


def test_the_sweep_has_work_at_the_anchor_and_agrees_with_the_engine(seeded):
    anchor = anchor_moment()
    open_tickets = Ticket.objects.exclude(status__in=ENDED)
    # Old open tickets have had every warning (up to the red card); recent ones have some to come.
    recent = open_tickets.filter(created_at__gte=anchor - timedelta(days=1), status__in=[Status.DISPATCHED,
                                 Status.ACCEPTED, Status.IN_PROGRESS, Status.RECEIVED])  # fmt: skip
    assert recent.exists() and not recent.filter(clock__next_check_at__isnull=True).exists()
    assert WarningCard.objects.filter(ticket__in=open_tickets, color="red").exists()
    rules = rules_for(open_tickets[0].site_id)
    for ticket in open_tickets.filter(site_id=open_tickets[0].site_id)[:100]:
        expected = next_check(ticket, rules, ticket.clock.sla_done)
        if expected is None:
            assert ticket.clock.next_check_at is None
        else:
            assert abs((ticket.clock.next_check_at - expected).total_seconds()) < 1, ticket.number
    # The sweep last ran two hours before the anchor: what fell due since is waiting for it.
    due = Ticket.objects.filter(clock__next_check_at__lte=anchor).count()
    assert due > 0
    before = WarningCard.objects.count()
    result = sla_sweep(now=anchor, quiet=True, limit=10**6)
    assert result.checked == due
    assert WarningCard.objects.count() >= before
    assert not Ticket.objects.filter(clock__next_check_at__lte=anchor).exists()


def _indexes() -> set[str]:
    with connection.cursor() as cursor:
        return {
            name
            for model in rows.MODELS
            for name in connection.introspection.get_constraints(cursor, model._meta.db_table)
        }


def test_the_same_seed_gives_the_same_rows(monkeypatch):
    indexes = _indexes()
    # The first run takes the bulk path (indexes set aside and rebuilt), the second not.
    monkeypatch.setattr(runner, "BULK_FROM", 0)
    seed()
    assert _indexes() == indexes
    first = runner.digest()
    monkeypatch.setattr(runner, "BULK_FROM", 10**9)
    assert "将删除" in seed("--reset")
    assert Ticket.objects.count() == 2000
    assert runner.digest() == first
    assert first == SMALL_DIGEST
    seed("--reset", "--seed", "7")
    assert runner.digest() != first


def test_refuses_a_database_with_tickets_unless_reset(seeded):
    numbers = set(Ticket.objects.values_list("number", flat=True)[:50])
    with pytest.raises(CommandError, match="--reset"):
        seed()
    assert Ticket.objects.count() == 2000
    out = seed("--reset")
    assert "将删除" in out and "工单 2,000 条" in out
    assert Ticket.objects.count() == 2000
    assert numbers <= set(Ticket.objects.values_list("number", flat=True))


@pytest.mark.parametrize(
    "args",
    [["--tickets", "0"], ["--tickets", "many"], ["--anchor", "2025-13-01"], ["--seed", "x"], ["--tickets", "10**9"]],
)
def test_bad_arguments_exit_with_code_2_and_no_traceback(args, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", ["kefu", "bench-seed", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and ("bench_seed" in err or "CommandError" in err)
    assert not Ticket.objects.exists()


def test_tables_answer_as_the_calendar_and_the_call_windows_do():
    site = Site.objects.create(name="日历测试", code="CAL")
    calendar = calendar_for_site(site.id)
    table = DayTable(calendar, date(2024, 12, 1), date(2025, 7, 1))
    windows = ContactWindows.outside()
    fast = Windows(windows, table)
    tz = calendar.tz
    rng = random.Random(5)
    start = int(datetime(2024, 12, 5, tzinfo=tz).timestamp())
    for _ in range(400):
        a = start + rng.randrange(150 * 86400)
        b = a + rng.randrange(20 * 86400)
        da, db = datetime.fromtimestamp(a, tz), datetime.fromtimestamp(b, tz)
        assert table.business_minutes_between(a, b) == calendar.business_minutes_between(da, db)
        assert table.add_workdays(a, 3) == int(calendar.add_workdays(da, 3).timestamp())
        assert fast.next_allowed(a) == int(windows.next_allowed(da).timestamp())
        assert fast.last_allowed_by(a) == int(windows.last_allowed_by(da).timestamp())

"""The SLA sweep at scale: the real ``sweep_time_limits`` work (``sla_sweep``) over the data
``kefu bench-seed`` made, at the anchor and at later hours.

    DATABASE_URL=… .venv/bin/python bench/sla_sweep.py [--anchor 2026-12-02] [--at 0,1,4,24,72]
        [--minutes 10] [--smoke]

The seed leaves the warning engine as a sweep that stopped two hours before the anchor
would: each open ticket's ``TicketClock.next_check_at`` at its next warning. Each case moves
the clock (time-machine, so the sweep, the cards, the events and the notifications all read the same
"now") to the anchor plus ``--at`` hours and runs the sweep the way the worker's minute task
does, ``sla_sweep()`` with its own limit, again until nothing is due (a backlog of more
than one run's limit takes several runs; each run is timed). Also one case with nothing due,
and the worker's steady state: after a sweep at the anchor has done the backlog, the sweep of
each of the next ``--minutes`` minutes. A figure is the wall time of a run and, beside it, the
CPU time of this process (on a machine other work keeps busy, the wall time is mostly waiting
for a core; the database server's own time is in the wall time only).

Every case runs inside one transaction that is rolled back at the end, so the database stays
as it was: the times include the writes (cards, events, notifications, deliveries, the
tickets' claims) but not a commit's fsync, and the worker's delivery task is never enqueued
(it is queued on commit).

Checks: the sweep handles exactly the tickets a direct query finds due at that time, makes
exactly the warnings ``sla_schedule`` says have come due for them (card for card), leaves
nothing due behind, and a second sweep at the same time makes nothing; each minute's sweep
takes exactly the tickets due by then.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from common import Report, Timings, parser, setup_django

setup_django()

import time_machine  # noqa: E402
from django.db import transaction  # noqa: E402
from django.db.models import Min  # noqa: E402

from kefu.demo.bench.runner import anchor_moment  # noqa: E402
from kefu.notify.models import Notification  # noqa: E402
from kefu.tickets.models import Ticket, TicketClock, WarningCard  # noqa: E402
from kefu.tickets.services.cards import sla_sweep  # noqa: E402
from kefu.tickets.sla import Rules, rules_for, sla_schedule  # noqa: E402

TARGET_SECONDS = 1.0
CARD_STEPS = frozenset({"blue", "breach", "red"})
ESCALATIONS = frozenset({"manager", "director"})


@dataclass
class Case:
    name: str
    now: datetime
    laps: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    checked: int = 0
    cards: int = 0
    notices: int = 0
    steps: Counter[str] = field(default_factory=Counter)


def expected_at(now: datetime) -> tuple[set[int], set[str]]:
    """What a direct query says is due at ``now``: the tickets whose next check has come and,
    from their schedules, the keys of every warning due and not yet done."""
    rules: dict[int, Rules] = {}
    tickets: set[int] = set()
    keys: set[str] = set()
    due = Ticket.objects.filter(clock__next_check_at__lte=now).select_related("clock")
    for ticket in due.iterator(chunk_size=2000):
        tickets.add(ticket.pk)
        if ticket.site_id not in rules:
            rules[ticket.site_id] = rules_for(ticket.site_id)
        done = set(ticket.clock.sla_done or ())
        keys.update(
            f"{ticket.pk}:{d.key}"
            for d in sla_schedule(ticket, rules[ticket.site_id])
            if d.at <= now and d.key not in done
        )
    return tickets, keys


def run_case(case: Case, report: Report) -> None:
    """Sweep at ``case.now`` until nothing is due, check it, and roll everything back."""
    with time_machine.travel(case.now, tick=False), transaction.atomic():
        due_tickets, due_keys = expected_at(case.now)
        cards_before = WarningCard.objects.count()
        notes_before = Notification.objects.count()
        keys: list[str] = []
        while True:
            started, used = time.perf_counter(), time.process_time()
            result = sla_sweep()
            case.laps.append(time.perf_counter() - started)
            case.cpu.append(time.process_time() - used)
            case.checked += result.checked
            case.cards += result.cards
            keys += result.keys
            if result.checked == 0 or len(case.laps) > 1000:
                break
        case.steps = Counter(key.split(":")[1] for key in keys)
        made_cards = WarningCard.objects.count() - cards_before
        case.notices = Notification.objects.count() - notes_before
        swept = {int(key.split(":")[0]) for key in keys}
        again = sla_sweep()
        left = TicketClock.objects.filter(next_check_at__lte=case.now).count()
        transaction.set_rollback(True)
    report.check(
        swept <= due_tickets and case.checked == len(due_tickets),
        f"{case.name}: swept the {len(due_tickets):,} tickets a direct query finds due ({case.checked:,})",
    )
    report.check(
        set(keys) == due_keys and len(keys) == len(due_keys),
        f"{case.name}: made exactly the {len(due_keys):,} warnings their schedules say are due ({len(keys):,})",
    )
    report.check(made_cards == case.cards, f"{case.name}: {made_cards:,} new cards in the database, as reported")
    report.check(left == 0, f"{case.name}: nothing left due after the sweep ({left})")
    report.check(
        again.checked == 0 and again.cards == 0 and again.notices == 0,
        f"{case.name}: a second sweep at the same time makes nothing ({again.checked} tickets, {again.cards} cards)",
    )


def run_minutes(anchor: datetime, minutes: int, report: Report) -> Case:
    """The worker's steady state: after a sweep at the anchor has done the backlog (not
    timed), the sweep of each following minute, timed; rolled back at the end."""
    case = Case(f"every minute after the anchor ({minutes} runs)", anchor)
    wrong = []
    with transaction.atomic():
        with time_machine.travel(anchor, tick=False):
            while sla_sweep().checked:
                pass
        for minute in range(1, minutes + 1):
            now = anchor + timedelta(minutes=minute)
            with time_machine.travel(now, tick=False):
                due = TicketClock.objects.filter(next_check_at__lte=now).count()
                started, used = time.perf_counter(), time.process_time()
                result = sla_sweep()
                case.laps.append(time.perf_counter() - started)
                case.cpu.append(time.process_time() - used)
            case.checked += result.checked
            case.cards += result.cards
            case.steps.update(key.split(":")[1] for key in result.keys)
            if result.checked != due:
                wrong.append((minute, due, result.checked))
        case.notices = 0
        transaction.set_rollback(True)
    report.check(not wrong, f"{case.name}: each minute's sweep takes exactly the tickets due then {wrong[:3]}")
    return case


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument(
        "--at", default="0,1,4,24,72", help="hours after the anchor to sweep at, comma-separated (default 0,1,4,24,72)"
    )
    args_parser.add_argument("--minutes", type=int, default=10, help="minutes of steady-state sweeps (default 10)")
    args = args_parser.parse_args()
    anchor = anchor_moment(args.anchor)
    hours = [float(h) for h in args.at.split(",") if h.strip()]
    if args.smoke:
        hours = hours[:3]
    first_due = TicketClock.objects.aggregate(first=Min("next_check_at"))["first"]
    quiet = (first_due or anchor) - timedelta(seconds=1)
    cases = [Case("nothing due", quiet)] + [
        Case(f"anchor{'' if not h else f' + {h:g} h'}", anchor + timedelta(hours=h)) for h in hours
    ]
    open_tickets = Ticket.objects.open().count()
    watched = TicketClock.objects.filter(next_check_at__isnull=False).count()
    report = Report(
        f"SLA sweep, anchor {anchor:%Y-%m-%d %H:%M}, {open_tickets:,} open tickets, {watched:,} with a next check",
        smoke=args.smoke,
    )
    for case in cases:
        run_case(case, report)
        escalations = sum(case.steps[s] for s in ESCALATIONS)
        runs = len(case.laps) - 1 if len(case.laps) > 1 else 1  # the last run finds nothing
        worst = max(case.laps[:runs])
        figure = (
            f"{worst:.3f} s the longest of {runs} run(s) (CPU {max(case.cpu[:runs]):.3f} s; "
            f"total {sum(case.laps):.3f} s); "
            f"{case.checked:,} tickets, {case.cards:,} cards, {escalations:,} escalations, "
            f"{case.notices:,} notifications; steps {dict(sorted(case.steps.items()))}"
        )
        report.row(case.name, figure, target=f"≤ {TARGET_SECONDS:g} s a run", met=worst <= TARGET_SECONDS)
    minutes = run_minutes(anchor, 3 if args.smoke else args.minutes, report)
    laps = Timings(minutes.laps)
    report.row(
        minutes.name,
        f"p50 {laps.p50 * 1000:.0f} ms, max {laps.max * 1000:.0f} ms (CPU max {max(minutes.cpu) * 1000:.0f} ms); "
        f"{minutes.checked:,} tickets, {minutes.cards:,} cards in all",
        target=f"≤ {TARGET_SECONDS:g} s a run",
        met=laps.max <= TARGET_SECONDS,
    )
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())

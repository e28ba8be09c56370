"""The agent ticket list and the ticket detail at scale: server time of the real views.

    DATABASE_URL=… .venv/bin/python bench/ticket_list.py [--runs 5] [--anchor 2026-12-02] [--smoke]

Each request goes through Django's test ``Client`` in this process (URL routing, middleware,
session, the view, the templates), so a figure is the server's time without the network. The
readers are three of the seed's people: an agent of the first site, that site's manager and a
director who sees every site. The list is asked for 50 rows a page with each of its filters
(open, status, kind, site, category, assignee, 我的待办, overdue, a date range, a search word),
in its default order and by due time, on page 1 and on deep pages (20, 200 and the last one
the pager offers), and as the htmx fragment the search form asks for. The detail page is read
for random tickets (seeded), open and closed, complaints among them, and for the tickets
with the longest timelines of a sample.

Every case is read once with its SQL counted (the query count is printed) and its rows
checked: 200, the total the pager shows (exact, or "10,000+" when there are more), its page
count and page number, the rows of the page equal, in order, to those a plain ORM query over
the same filters has at that offset (so every row is in the reader's scope); for a search
word, every row holds it. A detail page shows its ticket's number and every event of its
timeline. Then ``--runs`` timed reads; a figure is p50/p95 of those (the checked read is the
cold one, shown apart), with the median time spent in SQL and the median CPU time of this
process (on SQLite that includes the database's own work; on a loaded machine wall time is
the larger). ``--readers``, ``--only`` (case names) and ``--details`` narrow a run.

The clock is set to the anchor (the seed's "now", via time-machine) so that overdue and
open mean what they meant when the data was made. Nothing is written: sessions are signed
cookies and logging in does not touch ``last_login``.
"""

from __future__ import annotations

import math
import random
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from common import Report, Timings, parser, setup_django

setup_django()

from django.conf import settings  # noqa: E402
from django.contrib.auth.models import update_last_login  # noqa: E402
from django.contrib.auth.signals import user_logged_in  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from kefu.demo.bench.runner import anchor_moment  # noqa: E402
from kefu.org.models import Role, Site, Staff  # noqa: E402
from kefu.tickets.lifecycle import ENDED, IN_HAND, Kind, Status  # noqa: E402
from kefu.tickets.models import Ticket, TicketEvent, TicketSearch  # noqa: E402

LIST_TARGET = 0.200  # p95, seconds (issue item 2b)
DETAIL_TARGET = 0.150
SIZE = 50
SEED = 20240601

_ROW = re.compile(r'data-ticket="([^"]+)">\s*<td><a href="/tickets/(\d+)/"')
_TOTAL = re.compile(r"共\s*([\d,]+)(\+?)\s*条")
_PAGER = re.compile(r'<span class="cur">(\d+)</span><span>/ (\d+)</span>')
_EVENT = re.compile(r'<li class="[^"]*" data-event="')


@dataclass
class Reader:
    label: str
    staff: Staff
    client: Client
    site_ids: set[int]


@dataclass
class Case:
    name: str
    params: dict[str, str]
    partial: bool = False
    timings: Timings = field(default_factory=Timings)


class Counter:
    """Counts the SQL statements run inside it and their time (``execute_wrapper``: nothing
    is logged)."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started

    def __len__(self) -> int:
        return self.count


@contextmanager
def counted() -> Iterator[Counter]:
    counter = Counter()
    with connection.execute_wrapper(counter):
        yield counter


@contextmanager
def at(moment: datetime) -> Iterator[None]:
    """The clock stopped at ``moment`` when time-machine is installed, else the real one."""
    try:
        import time_machine
    except ImportError:
        print(f"(time-machine not installed: 'now' is the real time, not {moment})")
        yield
        return
    with time_machine.travel(moment, tick=False):
        yield


def readers() -> list[Reader]:
    """An agent and the manager of the first site, and a director (every site)."""
    site = Site.objects.filter(is_active=True).order_by("id").first()
    assert site is not None, "no site: run kefu bench-seed first"
    picks = [
        ("agent", Staff.objects.filter(role=Role.AGENT, sites=site)),
        ("manager", Staff.objects.filter(role=Role.MANAGER, sites=site)),
        ("director", Staff.objects.filter(role=Role.DIRECTOR)),
    ]
    found = []
    for label, qs in picks:
        staff = qs.filter(is_active=True, user__is_active=True).select_related("user").order_by("id").first()
        assert staff is not None, f"no {label} in the data"
        client = Client()
        client.force_login(staff.user)
        if staff.role == Role.DIRECTOR:
            sites = set(Site.objects.filter(is_active=True).values_list("id", flat=True))
        else:
            sites = set(staff.sites.filter(is_active=True).values_list("id", flat=True))
        found.append(
            Reader(f"{label} ({staff.user.username}, {len(sites)} site{'s' * (len(sites) > 1)})", staff, client, sites)
        )
    return found


def list_cases(reader: Reader, anchor: datetime) -> list[Case]:
    """The list's filters, sorts and deep pages as this reader would use them."""
    first_site = min(reader.site_ids)
    other = sorted(reader.site_ids)[-1]
    # The busiest repair leaf and a technician of the reader's first site.
    leaf = (
        Ticket.objects.filter(site_id=first_site, kind=Kind.REPAIR, created_at__gte=anchor - timedelta(days=30))
        .values("category")
        .annotate(n=Count("id"))
        .order_by("-n", "category")
        .first()
    )
    tech = Staff.objects.filter(role=Role.TECHNICIAN, sites=first_site, is_active=True).order_by("id").first()
    month = (anchor - timedelta(days=30)).date().isoformat(), (anchor - timedelta(days=1)).date().isoformat()
    cases = [
        Case("default (newest first)", {}),
        Case("default, htmx fragment", {}, partial=True),
        Case("default, page 20", {"page": "20"}),
        Case("default, page 200", {"page": "200"}),
        Case("default, last page", {"page": "999999"}),
        Case("open", {"open": "1"}),
        Case("open, last page", {"open": "1", "page": "999999"}),
        Case("status in progress", {"status": Status.IN_PROGRESS}),
        Case("kind complaint", {"kind": Kind.COMPLAINT}),
        Case("kind repair + open, by due time", {"kind": Kind.REPAIR, "open": "1", "sort": "due"}),
        Case("by due time", {"sort": "due"}),
        Case("by due time, page 200", {"sort": "due", "page": "200"}),
        Case("open by due time", {"open": "1", "sort": "due"}),
        Case("open by due time, page 20", {"open": "1", "sort": "due", "page": "20"}),
        Case("overdue", {"overdue": "1"}),
        Case("overdue by due time", {"overdue": "1", "sort": "due"}),
        Case("我的待办 (mine)", {"mine": "1"}),
        Case("mine by due time", {"mine": "1", "sort": "due"}),
        Case("last 30 days", {"date_from": month[0], "date_to": month[1]}),
        Case("last 30 days, page 20", {"date_from": month[0], "date_to": month[1], "page": "20"}),
        Case("search 漏水", {"q": "漏水"}),
        Case("search 漏水, by due time", {"q": "漏水", "sort": "due"}),
    ]
    if leaf and leaf["category"]:
        cases.append(Case("category (busiest repair leaf)", {"category": str(leaf["category"])}))
        cases.append(Case("category + open", {"category": str(leaf["category"]), "open": "1"}))
    if tech:
        cases.append(Case("assignee (a technician)", {"assignee": str(tech.pk)}))
        cases.append(Case("assignee + open, by due time", {"assignee": str(tech.pk), "open": "1", "sort": "due"}))
    if len(reader.site_ids) > 1:
        cases.append(Case("one site of several", {"site": str(other)}))
        cases.append(Case("one site, page 200", {"site": str(other), "page": "200"}))
    return cases


# --- what the page must show ------------------------------------------------------------


def expected(reader: Reader, params: dict[str, str], now: datetime) -> Any:
    """The rows a page must show, as a plain ORM query written apart from the view's code."""
    me = reader.staff
    qs = Ticket.objects.filter(site_id__in=reader.site_ids)
    for name in ("kind", "status"):
        if params.get(name):
            qs = qs.filter(**{name: params[name]})
    for name in ("site", "category", "assignee"):
        if params.get(name):
            qs = qs.filter(**{f"{name}_id": int(params[name])})
    if params.get("open"):
        qs = qs.exclude(status__in=ENDED)
    if params.get("overdue"):
        qs = qs.filter(status__in=IN_HAND, resolve_due__lt=now)
    if params.get("mine"):
        qs = qs.exclude(status__in=ENDED).filter(Q(assignee=me) | Q(first_responder=me))
    if params.get("date_from"):
        qs = qs.filter(created_at__date__gte=params["date_from"])
    if params.get("date_to"):
        qs = qs.filter(created_at__date__lte=params["date_to"])
    if params.get("q"):
        return qs  # the search's own order; the search benchmark checks what it finds
    return qs.order_by(*({"due": ("resolve_due", "id")}.get(params.get("sort", ""), ("-created_at", "-id"))))


def check_list(report: Report, reader: Reader, case: Case, status: int, body: str, now: datetime) -> None:
    where = f"{reader.label.split()[0]} · {case.name}"
    if not report.check(status == 200, f"{where}: 200 (got {status})"):
        return
    rows = _ROW.findall(body)
    total_match, pager = _TOTAL.search(body), _PAGER.search(body)
    if not report.check(total_match is not None and pager is not None, f"{where}: the pager shows a total and a page"):
        return
    assert total_match is not None and pager is not None
    shown_total, capped = int(total_match.group(1).replace(",", "")), bool(total_match.group(2))
    page, pages = int(pager.group(1)), int(pager.group(2))
    qs = expected(reader, case.params, now)
    ids = [int(pk) for _, pk in rows]
    if case.params.get("q"):
        words = set(case.params["q"].split())
        docs = dict(
            TicketSearch.objects.filter(ticket_id__in=ids, ticket__site_id__in=reader.site_ids).values_list(
                "ticket_id", "document"
            )
        )
        report.check(
            bool(ids) and len(docs) == len(ids) and all(words <= set(d.split()) for d in docs.values()),
            f"{where}: {len(ids)} rows, each in scope and holding the word",
        )
        return
    true_total = qs.count()
    ok_total = true_total > shown_total if capped else true_total == shown_total
    report.check(ok_total, f"{where}: total {shown_total:,}{'+' * capped} (true {true_total:,})")
    wanted_page = int(case.params.get("page", "1"))
    last = max(1, math.ceil(shown_total / SIZE))
    report.check(pages == last and page == min(wanted_page, last), f"{where}: page {page} of {pages}")
    offset = (page - 1) * SIZE
    want = list(qs.values_list("id", flat=True)[offset : offset + SIZE])
    first = rows[0][0] if rows else "none"
    report.check(ids == want, f"{where}: rows {offset + 1}–{offset + len(ids)} as the query says (first {first})")


def detail_sample(reader: Reader, rng: random.Random, count: int) -> list[tuple[str, int]]:
    """(label, id) of random open and closed tickets of the reader's sites, and of the longest
    timelines among a random sample."""
    bounds = Ticket.objects.filter(site_id__in=reader.site_ids).order_by("id").values_list("id", flat=True)
    low, high = bounds.first(), bounds.last()
    assert low is not None and high is not None
    pool = rng.sample(range(low, high + 1), min(high - low + 1, 3000))
    rows = list(
        Ticket.objects.filter(pk__in=pool, site_id__in=reader.site_ids)
        .values_list("id", "status", "kind")
        .order_by("id")
    )
    rng.shuffle(rows)
    opened = [pk for pk, status, _ in rows if status not in ENDED][:count]
    closed = [pk for pk, status, _ in rows if status == Status.CLOSED][:count]
    complaints = [pk for pk, _, kind in rows if kind == Kind.COMPLAINT][: max(2, count // 3)]
    longest = list(
        TicketEvent.objects.filter(ticket_id__in=[pk for pk, _, _ in rows])
        .values("ticket_id")
        .annotate(n=Count("id"))
        .order_by("-n", "ticket_id")
        .values_list("ticket_id", flat=True)[: max(2, count // 3)]
    )
    return (
        [("open", pk) for pk in opened]
        + [("closed", pk) for pk in closed]
        + [("complaint", pk) for pk in complaints]
        + [("long timeline", pk) for pk in longest]
    )


def get(
    reader: Reader, path: str, params: dict[str, str] | None = None, *, partial: bool = False
) -> tuple[int, str, float, float]:
    """(status, body, wall seconds, CPU seconds of this process: the Python side and, on
    SQLite, the database's work, whatever else the machine runs)."""
    headers = {"HX-Request": "true"} if partial else {}
    cpu, started = time.process_time(), time.perf_counter()
    response = reader.client.get(path, params or {}, headers=headers)
    elapsed = time.perf_counter() - started
    return response.status_code, response.content.decode(), elapsed, time.process_time() - cpu


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--runs", type=int, default=5, help="timed reads of each case (after the checked one)")
    args_parser.add_argument(
        "--details", type=int, default=6, help="open and closed tickets of each reader's detail sample"
    )
    args_parser.add_argument(
        "--only", default="", help="only the list cases whose name contains one of these (comma-separated)"
    )
    args_parser.add_argument("--readers", default="agent,manager,director", help="which readers (comma-separated)")
    args = args_parser.parse_args()
    runs = 1 if args.smoke else args.runs
    details = 1 if args.smoke else args.details
    # The smoke run (make test): the agent and the director, every case once.
    wanted = ("agent", "director") if args.smoke else tuple(args.readers.split(","))

    # Nothing written: no session rows, no last_login.
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    user_logged_in.disconnect(update_last_login)
    anchor = anchor_moment(args.anchor)
    rng = random.Random(SEED)
    report = Report(
        f"ticket list and detail, {SIZE} a page, now = {timezone.localtime(anchor):%Y-%m-%d %H:%M}", smoke=args.smoke
    )
    print(f"{runs} timed read(s) per case after one checked read; SQL: time in the database driver; CPU: this process")

    all_list, all_detail = Timings(), Timings()
    with at(anchor):
        now = timezone.now()
        for reader in readers():
            if reader.label.split()[0] not in wanted:
                continue
            print(f"## {reader.label}", flush=True)
            for case in list_cases(reader, anchor):
                if args.only and not any(part in case.name for part in args.only.split(",")):
                    continue
                params = {"size": str(SIZE), **case.params}
                with counted() as captured:
                    status, body, first, _ = get(reader, "/tickets/", params, partial=case.partial)
                check_list(report, reader, case, status, body, now)
                sql, cpu = Timings(), Timings()
                for _ in range(runs):
                    with counted() as timed:
                        *_, elapsed, used = get(reader, "/tickets/", params, partial=case.partial)
                    case.timings.add(elapsed)
                    sql.add(timed.seconds)
                    cpu.add(used)
                all_list.samples.extend(case.timings.samples)
                report.row(
                    f"list · {reader.label.split()[0]} · {case.name}",
                    f"{case.timings.summary_ms()} (cold {first * 1000:.0f} ms), "
                    f"{len(captured)} queries, SQL p50 {sql.p50 * 1000:.0f} ms, CPU p50 {cpu.p50 * 1000:.0f} ms",
                    target=f"p95 ≤ {LIST_TARGET * 1000:.0f} ms",
                    met=case.timings.p95 <= LIST_TARGET,
                )
            if reader.staff.role == Role.AGENT and "manager" in wanted:
                continue  # the agent reads the same details as the manager
            timings, detail_cpu = Timings(), Timings()
            for label, pk in detail_sample(reader, rng, details):
                with counted() as captured:
                    status, body, first, _ = get(reader, f"/tickets/{pk}/")
                ticket = Ticket.objects.get(pk=pk)
                events = TicketEvent.objects.filter(ticket_id=pk).count()
                where = f"{reader.label.split()[0]} · detail {ticket.number} ({label}, {events} events)"
                report.check(
                    status == 200 and f'<h3 style="margin:0">{ticket.number}</h3>' in body,
                    f"{where}: 200, {len(captured)} queries, cold {first * 1000:.0f} ms",
                )
                report.check(len(_EVENT.findall(body)) == events, f"{where}: every event of the timeline shown")
                for _ in range(runs):
                    *_, elapsed, used = get(reader, f"/tickets/{pk}/")
                    timings.add(elapsed)
                    detail_cpu.add(used)
            all_detail.samples.extend(timings.samples)
            report.row(
                f"detail · {reader.label.split()[0]} · random open/closed/complaint/long timelines",
                f"{timings.summary_ms()}, CPU p50 {detail_cpu.p50 * 1000:.0f} ms",
                target=f"p95 ≤ {DETAIL_TARGET * 1000:.0f} ms",
                met=timings.p95 <= DETAIL_TARGET,
            )
    print("## all")
    report.row(
        "list, every case and reader", all_list.summary_ms(), target="p95 ≤ 200 ms", met=all_list.p95 <= LIST_TARGET
    )
    report.row(
        "detail, every ticket and reader",
        all_detail.summary_ms(),
        target="p95 ≤ 150 ms",
        met=all_detail.p95 <= DETAIL_TARGET,
    )
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())

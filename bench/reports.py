"""Reports at scale: the times of the report queries over the data ``kefu bench-seed`` made.

    DATABASE_URL=… .venv/bin/python bench/reports.py [--runs 3] [--anchor 2026-12-02] [--smoke]

Each figure is the median of ``--runs`` runs (the first run, with a cold cache, is shown
apart). The period is the twelve months before the anchor for the yearly reports and the
month before it for the dashboard and the monthly figures; the reader is a director (every
site) and, for the per-site lines, the first site.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from common import Report, parser, setup_django

setup_django()

from django.db import connection  # noqa: E402

from kefu.appraisal.queries import figures_for  # noqa: E402
from kefu.org.models import Site, Staff  # noqa: E402
from kefu.reports import queries  # noqa: E402
from kefu.reports.filters import ReportFilters  # noqa: E402
from kefu.reports.services import monthly_figures  # noqa: E402
from kefu.tickets.models import Ticket  # noqa: E402

# name → (target in seconds on PostgreSQL, on SQLite); None: no target of the issue's own.
TARGETS: dict[str, tuple[float, float] | None] = {
    "12 months: complaint classification + Pareto + SLA compliance": (5.0, 10.0),
    "dashboard counters (a month, all sites)": (0.3, 0.3),
}


def timed(read: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(first run, median of the next ``runs``) in seconds."""
    started = time.perf_counter()
    read()
    first = time.perf_counter() - started
    laps = []
    for _ in range(runs):
        started = time.perf_counter()
        read()
        laps.append(time.perf_counter() - started)
    return first, statistics.median(laps)


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--runs", type=int, default=3)
    args = args_parser.parse_args()
    runs = 1 if args.smoke else args.runs

    anchor: date = args.anchor
    sites = frozenset(Site.objects.values_list("id", flat=True))
    one = frozenset({min(sites)})
    year = ReportFilters(start=anchor - timedelta(days=365), end=anchor - timedelta(days=1), site_ids=sites)
    last_month_end = anchor.replace(day=1) - timedelta(days=1)
    month = ReportFilters(start=last_month_end.replace(day=1), end=last_month_end, site_ids=sites)
    site_month = ReportFilters(start=month.start, end=month.end, site_ids=one)
    complaints_year = ReportFilters(start=year.start, end=year.end, site_ids=sites, kind="complaint")
    staff_ids = list(Staff.objects.filter(sites__in=one).values_list("id", flat=True).distinct())

    def yearly_bundle() -> None:
        queries.pareto(complaints_year, "category")  # 投诉分类统计
        queries.pareto(year, "category")
        queries.sla_compliance(year, "department")

    cases: list[tuple[str, Callable[[], Any]]] = [
        ("12 months: complaint classification + Pareto + SLA compliance", yearly_bundle),
        ("12 months: volume by kind (monthly)", lambda: queries.volume(year, "kind")),
        ("12 months: Pareto by building", lambda: queries.pareto(year, "building")),
        ("12 months: SLA compliance by person", lambda: queries.sla_compliance(year, "person")),
        ("12 months: first-contact resolution by kind", lambda: queries.resolution(year, "kind")),
        ("12 months: satisfaction trend", lambda: queries.satisfaction_trend(year)),
        ("12 months: warning cards by person", lambda: queries.cards_by_person(year)),
        ("12 months: complaint ledger, first 50", lambda: list(queries.complaints(year)[:50])),
        ("12 months: complaint steps", lambda: queries.complaint_steps(year)),
        ("a month: workload by person", lambda: queries.workload(month, "person")),
        ("dashboard counters (a month, all sites)", lambda: queries.dashboard(month)),
        ("dashboard counters (a month, one site)", lambda: queries.dashboard(site_month)),
        ("monthly report figures (one site)", lambda: monthly_figures(Site.objects.get(pk=min(one)), month.start)),
        (
            "appraisal figures (one site's staff, a month)",
            lambda: figures_for(staff_ids=staff_ids, site_ids=list(one), start=month.start, end=month.end),
        ),
    ]
    vendor = connection.vendor
    report = Report(
        f"reports, {len(sites)} sites, anchor {anchor}: first (cold) run and median of {runs}", smoke=args.smoke
    )
    for name, read in cases:
        first, median = timed(read, runs)
        figure = f"{median:.3f} s (first {first:.3f} s)"
        target = TARGETS.get(name)
        if target is None:
            report.row(name, figure)
        else:
            limit = target[0] if vendor == "postgresql" else target[1]
            report.row(name, figure, target=f"≤ {limit:g} s", met=median <= limit)
    report.check(Ticket.objects.exists(), "the database holds tickets")
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())

"""Every report, the dashboard, the monthly report's figures and the appraisal's figures run a
fixed number of queries however many tickets the period holds: the work is grouped SQL, never
a query (or a loop) per ticket, per person or per category (decision 0004)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.appraisal.queries import figures_for
from kefu.org.models import Role
from kefu.reports import queries
from kefu.reports.filters import ReportFilters
from kefu.reports.services import monthly_figures
from kefu.reports.views import _ledger_row
from kefu.testing import make_category, make_staff, make_ticket
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import WarningCard

from .conftest import at, shape

pytestmark = pytest.mark.django_db


def _november(world) -> ReportFilters:
    return ReportFilters(start=date(2026, 11, 1), end=date(2026, 11, 30), site_ids=frozenset({world.site.id}))


def _readers(world) -> dict[str, Callable[[], Any]]:
    f = _november(world)
    staff_ids = [world.agent.id, world.tech.id, world.tech2.id, world.guard.id, world.supervisor.id]
    return {
        "volume": lambda: queries.volume(f, "category"),
        "pareto by category": lambda: queries.pareto(f, "category"),
        "pareto by handler": lambda: queries.pareto(f, "handler"),
        "sla by person": lambda: queries.sla_compliance(f, "person"),
        "resolution by department": lambda: queries.resolution(f, "department"),
        # The ledger is read row by row on its page and in Excel: the related rows come with it.
        "complaint ledger": lambda: [_ledger_row(t) for t in queries.complaints(f)],
        "complaint steps": lambda: queries.complaint_steps(f),
        "satisfaction": lambda: queries.satisfaction_trend(f),
        "cards": lambda: queries.cards_by_person(f),
        "workload by person": lambda: queries.workload(f, "person"),
        "dashboard": lambda: queries.dashboard(f),
        "monthly report": lambda: monthly_figures(world.site, date(2026, 11, 1)),
        "appraisal": lambda: figures_for(
            staff_ids=staff_ids, site_ids=[world.site.id], start=date(2026, 11, 1), end=date(2026, 11, 30)
        ),
    }


def _counts(world) -> dict[str, int]:
    counts = {}
    for name, read in _readers(world).items():
        with CaptureQueriesContext(connection) as ctx:
            read()
        counts[name] = len(ctx.captured_queries)
    return counts


def _more_of_everything(world, n: int) -> None:
    """n more tickets of November in new categories, with new handlers, some done, some
    complaints, and a card for each new handler."""
    for i in range(n):
        handler = make_staff(Role.TECHNICIAN, sites=[world.site], department=world.eng, name=f"师傅{i}")
        category = make_category(f"分类{i}", kinds=["repair", "complaint"])
        kind = "complaint" if i % 3 == 0 else "repair"
        done = i % 2 == 0
        ticket = shape(
            make_ticket(world.site, world.agent, kind=kind, category=category, content=f"第{i}件事"),
            created_at=at(1 + i % 25),
            status=Status.CLOSED if done else Status.IN_PROGRESS,
            department=world.eng if i % 4 else world.security,
            assignee=handler,
            respond_delta=i % 7 - 3,
            resolve_delta=(i % 5 - 2) if done else None,
            completed_at=at(2 + i % 25) if done else None,
        )
        WarningCard.objects.create(
            key=f"count-{i}",
            site=world.site,
            ticket=ticket,
            staff=handler,
            color=WarningCard.Color.YELLOW,
            rule=WarningCard.Rule.RESOLVE,
            issued_at=at(2 + i % 25),
        )


def test_reports_do_not_grow_with_the_tickets(world, month):
    before = _counts(world)
    _more_of_everything(world, 12)
    after = _counts(world)
    assert after == before
    # The figures did see the new tickets: the reports read them, only not one by one.
    assert queries.volume(_november(world)).total == 7 + 12

"""A period computed from the data: figures per person against a hand-built month."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.appraisal.models import Appraisal, RewardPenalty
from kefu.appraisal.queries import figures_for
from kefu.appraisal.services import period_compute, period_create
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.testing import make_ticket
from kefu.tickets.models import Ticket, WarningCard
from kefu.visits.models import Visit

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(datetime(2026, 12, 2, 9, 0, tzinfo=SH), tick=False):
        yield


@pytest.fixture
def november(world):
    """王师傅 (tech) handled three, one of two measured on time; rated 5, 4 and 2; two yellow
    cards and a red (a third yellow revoked); one praise; +5 and −2 in the ledger.
    The agent made two visits, one on time, and took four tickets first, one answered at once
    and one cancelled."""
    w = world

    def ticket(**fields):
        t = make_ticket(w.site, w.agent, auto_dispatch=False)
        Ticket.objects.filter(pk=t.pk).update(**fields)
        return t

    ticket(
        assignee=w.tech,
        created_at=at(2),
        completed_at=at(3),
        resolve_delta=-10,
        rating=5,
        rated_at=at(4),
        rated_staff=w.tech,
    )
    ticket(
        assignee=w.tech,
        created_at=at(5),
        completed_at=at(6),
        resolve_delta=5,
        rating=4,
        rated_at=at(7),
        rated_staff=w.tech,
    )
    ticket(assignee=w.tech, created_at=at(8), completed_at=at(9), rating=2, rated_at=at(10), rated_staff=w.tech)
    ticket(assignee=w.tech, created_at=at(8), completed_at=datetime(2026, 10, 31, 10, tzinfo=SH))  # October's
    ticket(first_contact_resolved=True, created_at=at(11), status="closed")
    ticket(created_at=at(12), status="cancelled")
    praise = make_ticket(w.site, w.agent, kind="praise", content="王师傅修得好", auto_dispatch=False)
    Ticket.objects.filter(pk=praise.pk).update(assignee=w.tech, created_at=at(13))
    for n, (color, revoked) in enumerate([("yellow", False), ("yellow", False), ("red", False), ("yellow", True)]):
        WarningCard.objects.create(key=f"k{n}", site=w.site, staff=w.tech, color=color, rule="respond",
                                   issued_at=at(14), revoked_at=at(15) if revoked else None)  # fmt: skip
    for due, done in ((at(16), at(16, 9)), (at(17), at(18))):
        Visit.objects.create(site=w.site, customer=w.customer, assignee=w.agent, status="done", result="satisfied",
                             due_at=due, done_at=done)  # fmt: skip
    RewardPenalty.objects.create(
        staff=w.tech, site=w.site, day=date(2026, 11, 20), kind="reward", points=5, reason="好人好事"
    )
    RewardPenalty.objects.create(
        staff=w.tech, site=w.site, day=date(2026, 11, 21), kind="penalty", points=2, reason="迟到"
    )
    return w


def test_figures_per_person(november):
    w = november
    f = figures_for(staff_ids=[w.tech.id, w.agent.id], site_ids=[w.site.id], start=date(2026, 11, 1),
                    end=date(2026, 11, 30))  # fmt: skip
    tech, agent = f[w.tech.id], f[w.agent.id]
    assert (tech["handled"], tech["on_time"], tech["satisfaction"]) == (3, 50.0, 66.7)
    assert tech["cards"] == {"yellow": 2, "red": 1} and tech["praise"] == 1
    assert (tech["rewards"], tech["penalties"]) == (5.0, 2.0)
    # Seven tickets taken first in November (the four repairs, the answered one, the cancelled one
    # and the praise); the cancelled one left out, one of six answered at once.
    assert (agent["visits_on_time"], agent["first_contact"]) == (50.0, 16.7)
    assert agent["handled"] == 0 and agent.get("on_time") is None


def test_compute_scores_and_ranks(november):
    w = november
    period = period_create(name="2026年11月", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[w.site],
                           actor=w.manager)  # fmt: skip
    assert period_compute(period=period, actor=w.manager) >= 2
    tech = Appraisal.objects.get(period=period, staff=w.tech)
    # Handled 3 of 60 → 5; on time 50; satisfaction 66.7: (35×5 + 35×50 + 30×66.7) / 100 = 39.26.
    assert tech.kpi_score == Decimal("39.26")
    # + 1 praise × 2 − (2 yellow × 3 + 1 red × 10) + 5 − 2 = −11
    assert (tech.adjustments, tech.total) == (Decimal("-11.00"), Decimal("28.26"))
    # 李师傅 (tech2) handled nothing: 0 on handled, no data on the rest; 王师傅 ranks first.
    assert tech.rank == 1
    idle = Appraisal.objects.get(period=period, staff=w.tech2)
    assert (idle.kpi_score, idle.total, idle.rank) == (Decimal("0.00"), Decimal("0.00"), 2)
    # The agent is ranked among agents, not against the technicians.
    assert Appraisal.objects.get(period=period, staff=w.agent).rank == 1
    # Recomputing changes nothing.
    period_compute(period=period, actor=w.director)
    assert Appraisal.objects.get(period=period, staff=w.tech).total == Decimal("28.26")


def test_who_may_create_and_compute(world):
    with pytest.raises(PermissionDenied):
        period_create(
            name="x", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site], actor=world.supervisor
        )
    with pytest.raises(ValidationFailed):
        period_create(
            name="x", start=date(2026, 11, 30), end=date(2026, 11, 1), sites=[world.site], actor=world.manager
        )
    with pytest.raises(ValidationFailed):
        period_create(name="x", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.other_site],
                      actor=world.manager)  # fmt: skip
    period = period_create(
        name="x", start=date(2026, 11, 1), end=date(2026, 11, 30), sites=[world.site], actor=world.manager
    )
    with pytest.raises(PermissionDenied):
        period_compute(period=period, actor=world.supervisor)

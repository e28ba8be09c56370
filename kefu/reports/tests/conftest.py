"""The ticket tests' personas, and a hand-built month of tickets whose figures are worked
out by hand in the tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from kefu.customers.models import Unit
from kefu.testing import make_ticket
from kefu.tickets.lifecycle import Status
from kefu.tickets.models import Ticket
from kefu.tickets.tests.conftest import world

__all__ = ["NOW", "SH", "month", "world"]

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 25, 10, 0, tzinfo=SH)
SLA = ("respond_due", "responded_at", "respond_delta", "arrive_due", "arrived_at", "arrive_delta",
       "resolve_due", "completed_at", "resolve_delta")  # fmt: skip


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


def shape(ticket: Ticket, **fields: Any) -> Ticket:
    """Set a ticket's figures directly: every time-limit field not given is emptied."""
    values: dict[str, Any] = dict.fromkeys(SLA)
    values.update(fields)
    Ticket.objects.filter(pk=ticket.pk).update(**values)
    ticket.refresh_from_db()
    return ticket


def at(day: int, hour: int = 9, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=SH)


@pytest.fixture
def month(world) -> dict[str, Ticket]:
    """November 2026 at 翠湖花园, seen on the 25th:

    1 repair  phone   给排水  11-02 09:00 工程部 王师傅  respond −5, arrive −10, resolve −60
    2 repair  wechat  给排水  11-02 15:00 工程部 王师傅  respond +3, arrive −1, resolve +30
    3 repair  phone   给排水  11-10       工程部 李师傅  respond −1, not arrived and past due, not done and past due
    4 complaint phone —       11-10       秩序维护部     respond −1, resolution due next week
    5 inquiry visit   —       11-20       no department  respond 0, resolve −100
    6 repair  phone   —       11-21       cancelled
    7 repair  phone   给排水  11-22       工程部 李师傅  suspended: respond −2, arrive −5, resolution past due
    and, left out: a repair of 10-31 23:00 and one at the other site.
    """
    w = world
    cat = w.repair_cat
    past, future = NOW - timedelta(days=1), NOW + timedelta(days=5)
    t: dict[str, Ticket] = {}
    flat = Unit.objects.get(site=w.site, building="1", entrance="2", room="301")
    t["1"] = shape(make_ticket(w.site, w.agent, category=cat, customer=w.customer), created_at=at(2), unit=flat,
                   status=Status.CLOSED, department=w.eng, assignee=w.tech,
                   respond_delta=-5, arrive_delta=-10, resolve_delta=-60, completed_at=at(3))  # fmt: skip
    t["2"] = shape(make_ticket(w.site, w.agent, category=cat, channel="wechat"), created_at=at(2, 15),
                   status=Status.CLOSED, department=w.eng, assignee=w.tech,
                   respond_delta=3, arrive_delta=-1, resolve_delta=30, completed_at=at(4))  # fmt: skip
    t["3"] = shape(make_ticket(w.site, w.agent, category=cat), created_at=at(10), status=Status.IN_PROGRESS,
                   department=w.eng, assignee=w.tech2, respond_delta=-1, arrive_due=past, resolve_due=past)  # fmt: skip
    t["4"] = shape(make_ticket(w.site, w.agent, kind="complaint", content="保安态度差"), created_at=at(10),
                   status=Status.INVESTIGATING, department=w.security, assignee=w.guard,
                   respond_delta=-1, resolve_due=future)  # fmt: skip
    t["5"] = shape(make_ticket(w.site, w.agent, kind="inquiry", channel="visit", content="停车费怎么交"),
                   created_at=at(20), status=Status.CLOSED, department=None, assignee=None,
                   respond_delta=0, resolve_delta=-100, completed_at=at(20, 10))  # fmt: skip
    t["6"] = shape(make_ticket(w.site, w.agent), created_at=at(21), status=Status.CANCELLED, department=w.eng,
                   respond_due=past, resolve_due=past)  # fmt: skip
    t["7"] = shape(make_ticket(w.site, w.agent, category=cat), created_at=at(22), status=Status.SUSPENDED,
                   department=w.eng, assignee=w.tech2, respond_delta=-2, arrive_delta=-5, resolve_due=past)  # fmt: skip
    shape(make_ticket(w.site, w.agent), created_at=datetime(2026, 10, 31, 23, 0, tzinfo=SH), department=w.eng,
          respond_delta=50)  # fmt: skip
    shape(make_ticket(w.other_site, w.outsider_agent), created_at=at(5), respond_delta=50)
    return t

"""Ticket numbers: kind prefix, local date, per-site sequence, unique under concurrency."""

from __future__ import annotations

import re
import threading

import pytest
import time_machine
from django.db import close_old_connections, connection

from kefu.testing import make_site, make_staff, make_ticket
from kefu.tickets.models import Ticket


@time_machine.travel("2026-11-22 09:30:00+08:00", tick=False)
def test_number_format_and_sequences(world):
    first = make_ticket(world.site, world.agent, kind="repair", auto_dispatch=False)
    second = make_ticket(world.site, world.agent, kind="repair", auto_dispatch=False)
    complaint = make_ticket(world.site, world.agent, kind="complaint", auto_dispatch=False)
    other_site = make_ticket(world.other_site, world.director, kind="repair", auto_dispatch=False)
    assert [first.number, second.number, complaint.number] == [
        "BX-20261122-0001",
        "BX-20261122-0002",
        "TS-20261122-0001",
    ]
    assert other_site.number == "BX-20261122-0001"  # unique per site


@time_machine.travel("2026-11-22 23:59:30+08:00", tick=False)
def test_date_is_local_time_and_sequence_restarts_each_day(world):
    assert make_ticket(world.site, world.agent, auto_dispatch=False).number == "BX-20261122-0001"
    with time_machine.travel("2026-11-23 00:00:10+08:00", tick=False):
        assert make_ticket(world.site, world.agent, auto_dispatch=False).number == "BX-20261123-0001"


def test_a_failed_intake_does_not_consume_a_number(world):
    make_ticket(world.site, world.agent, auto_dispatch=False)
    with pytest.raises(Exception):  # noqa: B017 - any refusal
        make_ticket(world.site, world.agent, content="")
    number = make_ticket(world.site, world.agent, auto_dispatch=False).number
    assert number.endswith("-0002")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_parallel_intake_on_postgresql_never_duplicates_a_number():
    assert connection.vendor == "postgresql"
    site = make_site("并发项目", code="PX")
    clerks = [make_staff("frontdesk", sites=[site]) for _ in range(8)]
    per_thread, errors = 15, []
    barrier = threading.Barrier(len(clerks))

    def work(clerk):
        try:
            barrier.wait()
            for _ in range(per_thread):
                make_ticket(site, clerk, auto_dispatch=False)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=work, args=(c,)) for c in clerks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = list(Ticket.objects.filter(site=site).values_list("number", flat=True))
    assert len(numbers) == len(clerks) * per_thread == len(set(numbers))
    sequences = sorted(int(re.search(r"-(\d{4})$", n).group(1)) for n in numbers)
    assert sequences == list(range(1, len(numbers) + 1))  # no gaps, no repeats

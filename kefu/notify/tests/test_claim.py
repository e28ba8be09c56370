"""Claiming: one worker per row, a killed worker loses nothing, and on PostgreSQL two
concurrent sweeps send every row exactly once."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.db import close_old_connections, connection
from django.utils import timezone

from kefu.notify.models import Channel, Delivery, Notification
from kefu.notify.queries import deliveries_due
from kefu.notify.services import LEASE, deliveries_process, delivery_claim, delivery_send, notify
from kefu.testing import make_channel_target, make_site, make_staff

START = "2026-11-22 09:30:00+08:00"


def _due_email(team) -> Delivery:
    notify(recipients=[team.supervisor], event="sla.prewarn", title="时限预警", body="还剩 30 分钟")
    return Delivery.objects.get()


def test_the_same_due_row_is_claimed_once(team):
    delivery = _due_email(team)
    first = delivery_claim(delivery_id=delivery.pk)
    second = delivery_claim(delivery_id=delivery.pk)
    assert first is not None and second is None
    assert (first.status, first.attempts) == ("sending", 1)
    assert first.claimed_until == first.next_attempt_at
    assert not deliveries_due(timezone.now()).exists()


def test_rows_not_yet_due_or_finished_cannot_be_claimed(team):
    delivery = _due_email(team)
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
    assert delivery_claim(delivery_id=delivery.pk) is None
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", next_attempt_at=None)
    assert delivery_claim(delivery_id=delivery.pk) is None
    assert delivery_claim(delivery_id=10**12) is None


def test_a_killed_worker_loses_nothing(team):
    """Claimed and never recorded (the worker died mid-send): after the lease the row is due
    again and the next sweep sends it."""
    with time_machine.travel(START, tick=False) as traveller:
        delivery = _due_email(team)
        assert delivery_claim(delivery_id=delivery.pk) is not None  # ... and the worker dies
        traveller.shift(LEASE - timedelta(seconds=1))
        assert deliveries_process() == 0  # still held
        traveller.shift(timedelta(seconds=1))
        assert deliveries_process() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 2)


def test_a_worker_dying_on_the_last_attempt_leaves_a_dead_row(team, settings):
    settings.KEFU_NOTIFY_MAX_ATTEMPTS = 1
    with time_machine.travel(START, tick=False) as traveller:
        delivery = _due_email(team)
        assert delivery_claim(delivery_id=delivery.pk) is not None
        traveller.shift(LEASE)
        assert deliveries_process() == 0
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("dead", None)
    assert delivery.last_error


def test_a_late_worker_does_not_overwrite_the_one_that_took_over(team):
    with time_machine.travel(START, tick=False) as traveller:
        delivery = _due_email(team)
        slow = delivery_claim(delivery_id=delivery.pk)
        traveller.shift(LEASE)
        fast = delivery_claim(delivery_id=delivery.pk)
        assert fast is not None and fast.attempts == 2
        assert delivery_send(delivery=fast) is True
        # The first worker wakes up and records its (failed) attempt: ignored.
        slow.target = "not-an-address"
        delivery_send(delivery=slow)
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 2, "")


def test_the_sweep_reads_the_partial_index(team):
    """The due query filters on the indexed column and the index's own condition."""
    sql = str(deliveries_due(timezone.now()).query)
    assert '"next_attempt_at" <=' in sql
    assert "pending" in sql and "failed" in sql and "sending" in sql
    index = next(i for i in Delivery._meta.indexes if i.name == "notify_delivery_due_idx")
    assert index.fields == ["next_attempt_at"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_on_postgresql_send_each_row_exactly_once(http_server):
    assert connection.vendor == "postgresql"
    site = make_site("并发项目", code="NX")
    boss = make_staff("manager", sites=[site])
    gateway = make_channel_target("sms_gateway", f"{http_server.url}/sms")
    now = timezone.now()
    notification = Notification.objects.create(recipient=boss, site=site, event="sla.breach", title="超时")
    Delivery.objects.bulk_create(
        Delivery(
            notification=notification,
            channel=Channel.SMS,
            target=f"139{n:08d}",
            channel_target=gateway,
            next_attempt_at=now,
        )
        for n in range(50)
    )
    http_server.delay = 0.005  # long enough for the two sweeps to overlap
    barrier = threading.Barrier(2)
    sent, errors = [], []

    def sweep():
        try:
            barrier.wait()
            sent.append(deliveries_process())
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
    phones = Counter(body["phone"] for body in http_server.bodies())
    assert len(phones) == 50 and set(phones.values()) == {1}
    assert sum(sent) == 50
    assert all(n > 0 for n in sent), sent  # both sweeps really took part
    assert set(Delivery.objects.values_list("status", "attempts")) == {("sent", 1)}

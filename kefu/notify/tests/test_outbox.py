"""notify(): the in-app rows and the outbox rows are written in the caller's transaction,
and the delivery task is enqueued only when it commits."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction

from kefu.core.errors import ValidationFailed
from kefu.notify import tasks
from kefu.notify.models import Channel, Delivery, Notification
from kefu.notify.services import notify
from kefu.testing import make_channel_target, make_site, make_staff, with_contact


def _notify(recipients, **kwargs):
    values = {
        "event": "complaint.major",
        "title": "重大投诉：TS-20261122-0001",
        "body": "业主投诉物业服务态度，请尽快处理。",
        "link": "/tickets/1/",
        "ref": "ticket:1",
    }
    values.update(kwargs)
    return notify(recipients=recipients, **values)


def test_writes_one_notification_per_recipient_and_deliveries_for_their_channels(team):
    notifications = _notify([team.supervisor, team.manager, team.agent], site=team.site, actor=team.agent)
    assert [n.recipient for n in notifications] == [team.supervisor, team.manager, team.agent]
    stored = Notification.objects.get(recipient=team.supervisor)
    assert (stored.event, stored.title, stored.link, stored.ref, stored.site, stored.actor) == (
        "complaint.major",
        "重大投诉：TS-20261122-0001",
        "/tickets/1/",
        "ticket:1",
        team.site,
        team.agent,
    )
    assert stored.read_at is None
    # The agent has no e-mail address and no channel is configured: in-app only.
    emails = Delivery.objects.filter(channel=Channel.EMAIL).order_by("target")
    assert [(d.target, d.status, d.attempts) for d in emails] == [
        ("qian@example.com", "pending", 0),
        ("sun@example.com", "pending", 0),
    ]
    assert all(d.next_attempt_at is not None for d in emails)


def test_recipients_are_deduplicated_and_inactive_staff_skipped(team):
    gone = make_staff("supervisor", sites=[team.site])
    gone.is_active = False
    gone.save()
    notifications = _notify([team.supervisor, team.supervisor, gone, None, team.manager, team.supervisor])
    assert [n.recipient for n in notifications] == [team.supervisor, team.manager]
    assert Notification.objects.count() == 2
    assert Delivery.objects.filter(target="sun@example.com").count() == 1


def test_nobody_to_tell_writes_nothing(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        assert _notify([]) == []
    assert callbacks == []
    assert Notification.objects.count() == 0


def test_rolled_back_change_leaves_no_rows_and_enqueues_nothing(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(RuntimeError), transaction.atomic():
        _notify([team.supervisor, team.manager])
        assert Notification.objects.count() == 2
        raise RuntimeError("the change failed")
    assert callbacks == []
    assert Notification.objects.count() == 0
    assert Delivery.objects.count() == 0


def test_committed_change_enqueues_the_delivery_task_once(team, django_capture_on_commit_callbacks, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks, "deliver", lambda ids: calls.append(sorted(ids)))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _notify([team.supervisor, team.manager])
        assert calls == []  # not before the commit
    assert len(callbacks) == 1
    assert calls == [sorted(Delivery.objects.values_list("pk", flat=True))]


def test_without_external_sends_nothing_is_enqueued(team, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        _notify([team.agent])  # no address, no phone, no channel configured
    assert callbacks == []
    assert Notification.objects.filter(recipient=team.agent).count() == 1


@pytest.mark.django_db(transaction=True)
def test_real_transactions_commit_delivers_and_rollback_sends_nothing(monkeypatch):
    """With real COMMIT/ROLLBACK (no test transaction around): the task runs inline
    (Huey's immediate mode under pytest) and the mail reaches the test outbox."""
    site = make_site()
    boss = with_contact(make_staff("manager", sites=[site]), email="boss@example.com")
    with pytest.raises(RuntimeError), transaction.atomic():
        _notify([boss], title="不会发出")
        raise RuntimeError
    assert Notification.objects.count() == 0
    assert mail.outbox == []

    with transaction.atomic():
        _notify([boss], title="会发出")
        assert mail.outbox == []  # nothing leaves before the commit
    assert [m.subject for m in mail.outbox] == ["会发出"]
    assert Delivery.objects.get().status == Delivery.Status.SENT


def test_enqueue_failure_does_not_break_the_change(team, django_capture_on_commit_callbacks, monkeypatch):
    def broken(ids):
        raise ConnectionError("queue is down")

    monkeypatch.setattr(tasks, "deliver", broken)
    with django_capture_on_commit_callbacks(execute=True):
        _notify([team.supervisor])
    # The row waits for the minute sweep.
    assert Delivery.objects.get().status == Delivery.Status.PENDING


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("event", ""),
        ("event", "Complaint Major"),
        ("event", "x" * 41),
        ("title", "   "),
        ("title", "长" * 201),
        ("body", "长" * 2001),
        ("link", "https://evil.example.com/"),
        ("link", "//evil.example.com/"),
        ("link", "tickets/1/"),
        ("ref", "r" * 61),
        ("body", "a\x00b"),
    ],
)
def test_bad_arguments_are_refused_before_writing(team, field, value):
    with pytest.raises(ValidationFailed):
        _notify([team.supervisor], **{field: value})
    assert Notification.objects.count() == 0


def test_title_is_kept_on_one_line(team):
    (n,) = _notify([team.supervisor], title="第一行\r\n第二行")
    assert n.title == "第一行 第二行"


def test_wecom_group_gets_one_message_per_notify_with_mentions(team, http_server):
    robot = make_channel_target("wecom", f"{http_server.url}/robot", site=team.site)
    make_channel_target("wecom", f"{http_server.url}/other-site", site=team.other_site)
    make_channel_target("wecom", f"{http_server.url}/only-escalations", events=["sla.escalate"])
    _notify([team.supervisor, team.manager, team.agent], site=team.site)
    (wecom,) = Delivery.objects.filter(channel=Channel.WECOM)
    assert wecom.channel_target == robot
    assert wecom.target == robot.url
    assert wecom.mentions == ["13800000001", "13800000002"]


def test_sms_uses_the_sites_own_gateway_before_the_companys(team, http_server):
    from kefu.notify.models import Preference

    make_channel_target("sms_gateway", f"{http_server.url}/company")
    own = make_channel_target("sms_gateway", f"{http_server.url}/site", site=team.site)
    Preference.objects.create(staff=team.supervisor, channel=Channel.SMS, event="", enabled=True)
    _notify([team.supervisor, team.manager], site=team.site)
    (sms,) = Delivery.objects.filter(channel=Channel.SMS)
    assert (sms.target, sms.channel_target) == ("13800000001", own)

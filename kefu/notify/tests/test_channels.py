"""Each channel against a real server on 127.0.0.1: the SMTP conversation, the WeCom robot's
JSON, the SMS gateway's JSON and bearer token; failures retried with back-off, then dead."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from kefu.notify.models import Channel, Delivery, Preference
from kefu.notify.services import deliveries_process, notify, retry_delay
from kefu.testing import make_channel_target

START = "2026-11-22 09:30:00+08:00"


def _send(team, recipients, settings=None, **kwargs):
    values = {
        "event": "sla.escalate",
        "title": "超时升级：BX-20261122-0007 厨房漏水",
        "body": "工单已超过办结期限 2 小时，请督办。",
        "link": "/tickets/7/",
        "ref": "ticket:7",
        "site": team.site,
    }
    values.update(kwargs)
    return notify(recipients=recipients, **values)


def _sms_on(*staff):
    for s in staff:
        Preference.objects.create(staff=s, channel=Channel.SMS, event="", enabled=True)


# --- e-mail -------------------------------------------------------------------------------


def test_email_reaches_a_real_smtp_server_in_utf8(team, smtp_server, settings, django_capture_on_commit_callbacks):
    settings.KEFU_BASE_URL = "https://kefu.example.com"
    with django_capture_on_commit_callbacks(execute=True):
        _send(team, [team.supervisor])
    ((recipients, message),) = smtp_server.messages
    assert recipients == ["sun@example.com"]
    assert message["To"] == "sun@example.com"
    assert message["Subject"].strip() == "超时升级：BX-20261122-0007 厨房漏水"
    body = message.get_content()
    assert "工单已超过办结期限 2 小时，请督办。" in body
    assert "https://kefu.example.com/tickets/7/" in body
    assert message.get_content_charset() == "utf-8"
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("sent", 1, "")
    assert delivery.sent_at is not None and delivery.next_attempt_at is None


def test_unreachable_smtp_server_is_recorded_and_retried(team, settings, django_capture_on_commit_callbacks):
    from kefu.notify.tests.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    with django_capture_on_commit_callbacks(execute=True):
        _send(team, [team.supervisor])
    delivery = Delivery.objects.get()
    assert delivery.status == "failed"
    assert "ConnectionRefusedError" in delivery.last_error
    assert delivery.next_attempt_at > timezone.now()


# --- WeCom --------------------------------------------------------------------------------


def test_wecom_robot_receives_the_text_message(team, http_server, django_capture_on_commit_callbacks):
    make_channel_target("wecom", f"{http_server.url}/cgi-bin/webhook/send?key=abc", site=team.site)
    with django_capture_on_commit_callbacks(execute=True):
        _send(team, [team.supervisor, team.manager])
    (request,) = http_server.requests
    assert request["path"] == "/cgi-bin/webhook/send?key=abc"
    assert request["headers"]["content-type"].startswith("application/json")
    body = request["json"]
    assert body["msgtype"] == "text"
    assert body["text"]["content"].startswith("超时升级：BX-20261122-0007 厨房漏水\n工单已超过办结期限")
    assert "/tickets/7/" in body["text"]["content"]
    assert body["text"]["mentioned_mobile_list"] == ["13800000001", "13800000002"]
    assert "超时升级".encode() in request["raw"]  # UTF-8, not \u escapes
    assert Delivery.objects.get(channel=Channel.WECOM).status == "sent"


@pytest.mark.parametrize(
    ("status", "reply", "error"),
    [
        (500, {"errmsg": "internal"}, "HTTP 500"),
        (200, {"errcode": 93000, "errmsg": "invalid webhook url"}, "errcode 93000: invalid webhook url"),
        (200, "not an object", "errcode None"),
        (404, {}, "HTTP 404"),
    ],
)
def test_wecom_refusals_are_failures(team, http_server, django_capture_on_commit_callbacks, status, reply, error):
    make_channel_target("wecom", f"{http_server.url}/robot")
    http_server.status, http_server.reply = status, reply
    with django_capture_on_commit_callbacks(execute=True):
        _send(team, [team.supervisor])
    delivery = Delivery.objects.get(channel=Channel.WECOM)
    assert delivery.status == "failed"
    assert error in delivery.last_error


# --- SMS gateway --------------------------------------------------------------------------


def test_sms_gateway_receives_phone_text_and_bearer_token(team, http_server, django_capture_on_commit_callbacks):
    make_channel_target("sms_gateway", f"{http_server.url}/sms/send", token="s3cret-token")
    _sms_on(team.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        _send(team, [team.supervisor, team.manager])  # the manager keeps the default: SMS off
    (request,) = http_server.requests
    assert request["path"] == "/sms/send"
    assert request["headers"]["authorization"] == "Bearer s3cret-token"
    assert request["json"] == {
        "phone": "13800000001",
        "text": "超时升级：BX-20261122-0007 厨房漏水：工单已超过办结期限 2 小时，请督办。",
    }
    assert Delivery.objects.get(channel=Channel.SMS).status == "sent"


def test_sms_gateway_without_token_sends_no_authorization(team, http_server, django_capture_on_commit_callbacks):
    make_channel_target("sms_gateway", f"{http_server.url}/sms")
    http_server.status, http_server.reply = 202, {"queued": True}
    _sms_on(team.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        _send(team, [team.supervisor])
    (request,) = http_server.requests
    assert "authorization" not in request["headers"]
    assert Delivery.objects.get(channel=Channel.SMS).status == "sent"  # any 2xx


def test_a_gateway_switched_off_after_the_notification_fails_cleanly(team, http_server):
    gateway = make_channel_target("sms_gateway", f"{http_server.url}/sms")
    _sms_on(team.supervisor)
    _send(team, [team.supervisor])
    gateway.is_active = False
    gateway.save()
    deliveries_process()
    delivery = Delivery.objects.get(channel=Channel.SMS)
    assert (delivery.status, delivery.last_error) == ("failed", "no active SMS gateway")
    assert http_server.requests == []


# --- retries, back-off, dead ----------------------------------------------------------------


def test_backoff_doubles_and_is_capped():
    assert [retry_delay(n) for n in (1, 2, 3, 4, 5)] == [timedelta(minutes=m) for m in (1, 2, 4, 8, 16)]
    assert retry_delay(30) == timedelta(hours=1)


def test_failing_gateway_is_retried_with_backoff_then_dead(team, http_server, settings):
    settings.KEFU_NOTIFY_MAX_ATTEMPTS = 4
    make_channel_target("sms_gateway", f"{http_server.url}/sms")
    http_server.status, http_server.reply = 500, {"error": "服务不可用"}
    _sms_on(team.supervisor)
    with time_machine.travel(START, tick=False) as traveller:
        _send(team, [team.supervisor])
        start = timezone.now()
        deliveries_process()  # the e-mail goes; the SMS fails
        waits = []
        for _ in range(3):
            delivery = Delivery.objects.get(channel=Channel.SMS)
            assert delivery.status == "failed"
            wait = delivery.next_attempt_at - timezone.now()
            waits.append(wait)
            # Not a second before it is due.
            traveller.shift(wait - timedelta(seconds=1))
            deliveries_process()
            assert Delivery.objects.get(channel=Channel.SMS).attempts == len(waits)
            traveller.shift(timedelta(seconds=1))
            deliveries_process()
        delivery = Delivery.objects.get(channel=Channel.SMS)
        assert waits == [timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)]
        assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == ("dead", 4, None)
        assert "HTTP 500" in delivery.last_error and "服务不可用" in delivery.last_error
        assert len(http_server.requests) == 4
        # Dead is the end: no sweep sends it again.
        traveller.shift(timedelta(days=1))
        deliveries_process()
        assert len(http_server.requests) == 4
        assert timezone.now() - start > timedelta(days=1)


def test_gateway_that_does_not_answer_times_out_and_is_retried(team, http_server, settings):
    settings.KEFU_NOTIFY_TIMEOUT = 1
    make_channel_target("wecom", f"{http_server.url}/slow")
    http_server.delay = 2.5
    with time_machine.travel(START, tick=False) as traveller:
        _send(team, [team.supervisor])
        deliveries_process()
        delivery = Delivery.objects.get(channel=Channel.WECOM)
        assert delivery.status == "failed"
        assert "1s" in delivery.last_error or "timed out" in delivery.last_error
        assert delivery.next_attempt_at == timezone.now() + timedelta(minutes=1)
        # The robot recovers; the next sweep after the back-off sends it.
        http_server.delay = 0
        traveller.shift(timedelta(minutes=1))
        assert deliveries_process() == 1
    assert Delivery.objects.get(channel=Channel.WECOM).status == "sent"


def test_errors_are_truncated(team, http_server):
    make_channel_target("wecom", f"{http_server.url}/robot")
    http_server.reply = {"errcode": 1, "errmsg": "错" * 5000}
    _send(team, [team.supervisor])
    deliveries_process()
    assert len(Delivery.objects.get(channel=Channel.WECOM).last_error) == 1000


def test_unexpected_exceptions_never_leave_the_worker(team, monkeypatch):
    from kefu.notify import channels

    def explode(delivery):
        raise RuntimeError("boom")

    monkeypatch.setattr(channels, "send_email", explode)
    _send(team, [team.supervisor])
    assert deliveries_process() == 0
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.last_error) == ("failed", "RuntimeError: boom")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://x"])
def test_only_http_addresses_are_ever_opened(team, url):
    from kefu.notify.models import ChannelTarget

    ChannelTarget.objects.create(name="坏地址", kind="wecom", url=url)  # bypassing the admin's validation
    _send(team, [team.supervisor])
    deliveries_process()
    assert Delivery.objects.get(channel=Channel.WECOM).last_error == "only http and https addresses are allowed"


def test_periodic_task_sends_what_is_due(team, http_server):
    from kefu.notify.tasks import deliver_due

    make_channel_target("wecom", f"{http_server.url}/robot")
    _send(team, [team.supervisor])  # no commit callback ran: as if the enqueue was lost
    assert http_server.requests == []
    deliver_due.call_local()
    assert len(http_server.requests) == 1
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}

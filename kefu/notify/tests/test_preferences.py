"""Who gets what: defaults, channel switches, per-event choices, and the settings page."""

from __future__ import annotations

import pytest

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.notify.models import Channel, Delivery, Notification, Preference
from kefu.notify.queries import channel_enabled, default_enabled
from kefu.notify.services import notify, preferences_save
from kefu.testing import make_channel_target


@pytest.fixture
def channels(team, http_server):
    make_channel_target("wecom", f"{http_server.url}/robot")
    make_channel_target("sms_gateway", f"{http_server.url}/sms")


def _send(team, recipients, event="sla.breach"):
    notify(recipients=recipients, event=event, title="超时", body="工单已超时")


def _channels_of(staff):
    rows = Delivery.objects.filter(notification__recipient=staff).values_list("channel", flat=True)
    return sorted(rows)


def test_defaults_email_when_there_is_an_address_wecom_on_sms_off(team, channels):
    _send(team, [team.supervisor, team.agent])
    assert _channels_of(team.supervisor) == ["email", "wecom"]
    assert _channels_of(team.agent) == []  # the WeCom message hangs on the first recipient
    assert Delivery.objects.get(channel=Channel.WECOM).mentions == ["13800000001"]
    assert Notification.objects.filter(recipient=team.agent).exists()  # in-app always


def test_default_rules():
    assert default_enabled("email", has_email=True) and not default_enabled("email", has_email=False)
    assert default_enabled("wecom", has_email=False)
    assert not default_enabled("sms", has_email=True)


def test_channel_switch_and_event_override(team, channels):
    preferences_save(
        staff=team.supervisor,
        choices={
            ("email", ""): False,
            ("sms", ""): True,
            ("email", "sla.escalate"): True,
            ("wecom", "sla.breach"): False,
        },
        actor=team.supervisor,
    )
    _send(team, [team.supervisor], event="sla.breach")
    assert _channels_of(team.supervisor) == ["sms"]
    Delivery.objects.all().delete()
    _send(team, [team.supervisor], event="sla.escalate")
    assert _channels_of(team.supervisor) == ["email", "sms", "wecom"]


def test_none_removes_a_choice(team):
    preferences_save(staff=team.supervisor, choices={("sms", "handover"): True}, actor=team.supervisor)
    preferences_save(staff=team.supervisor, choices={("sms", "handover"): None}, actor=team.supervisor)
    assert not Preference.objects.filter(staff=team.supervisor).exists()


def test_resolution_order():
    saved = {("sms", ""): True, ("sms", "handover"): False}
    assert channel_enabled(saved, "sms", "handover", has_email=False) is False
    assert channel_enabled(saved, "sms", "sla.breach", has_email=False) is True
    assert channel_enabled(saved, "email", "sla.breach", has_email=True) is True


def test_only_the_staff_member_changes_their_own(team):
    with pytest.raises(PermissionDenied):
        preferences_save(staff=team.supervisor, choices={("sms", ""): True}, actor=team.manager)
    with pytest.raises(ValidationFailed):
        preferences_save(staff=team.supervisor, choices={("fax", ""): True}, actor=team.supervisor)
    with pytest.raises(ValidationFailed):
        preferences_save(staff=team.supervisor, choices={("sms", "Bad Event"): True}, actor=team.supervisor)
    assert not Preference.objects.exists()


# --- the page -----------------------------------------------------------------------------


def test_page_shows_and_saves_the_choices(team, client):
    client.force_login(team.supervisor.user)
    page = client.get("/notifications/preferences/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "通知设置" in html and 'name="channel:email" value="1" checked' in html
    assert 'name="channel:sms" value="1" >' in html or 'name="channel:sms" value="1">' in html
    response = client.post(
        "/notifications/preferences/",
        {"channel:email": "1", "channel:sms": "1", "sms:sla.prewarn": "off", "wecom:handover": "on"},
    )
    assert response.status_code == 302
    saved = {(p.channel, p.event): p.enabled for p in Preference.objects.filter(staff=team.supervisor)}
    assert saved == {
        ("email", ""): True,
        ("sms", ""): True,
        ("wecom", ""): False,
        ("sms", "sla.prewarn"): False,
        ("wecom", "handover"): True,
    }
    html = client.get("/notifications/preferences/").content.decode()
    assert '<option value="off" selected>' in html


@pytest.mark.parametrize("value", ["", "x", "1' OR 1=1", "\u202e", "漏" * 6000, "on\x00"])
def test_page_survives_garbage(team, client, value):
    client.force_login(team.supervisor.user)
    response = client.post(
        "/notifications/preferences/", {"channel:email": value, "sms:sla.prewarn": value, "bogus": value}
    )
    assert response.status_code in (302, 400)
    assert not Preference.objects.filter(enabled=True, channel="sms").exists()

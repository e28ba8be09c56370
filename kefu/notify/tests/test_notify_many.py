"""notify_many(): many messages in a fixed number of queries, with the same rows as one
notify() call per message (the SLA sweep tells hundreds of people in one run)."""

from __future__ import annotations

import pytest

from kefu.core.errors import ValidationFailed
from kefu.notify.models import Channel, Delivery, Notification, Preference
from kefu.notify.services import Message, notify, notify_many
from kefu.testing import make_channel_target


def _messages(team, count: int) -> list[Message]:
    return [
        Message(
            [team.supervisor, team.manager] if i % 2 else [team.agent, team.supervisor, team.agent],
            "sla.prewarn" if i % 3 else "warning.card",
            f"时限预警：BX-20261123-{i:04d}",
            "办结期限 11-23 19:00，请抓紧处理。",
            link=f"/tickets/{i}/",
            ref=f"ticket:{i}",
            site=team.site if i % 4 else team.other_site,
        )
        for i in range(count)
    ]


def _rows() -> list[tuple]:
    notes = Notification.objects.order_by("id").values_list("recipient_id", "event", "title", "link", "site_id")
    sends = Delivery.objects.order_by("id").values_list("notification__title", "channel", "target", "channel_target")
    return [*notes, *(("delivery", *d) for d in sends)]


@pytest.fixture
def channels(team):
    make_channel_target("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=a", events=["warning.card"])
    make_channel_target("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=b", site=team.site)
    make_channel_target("sms_gateway", "https://sms.example.com/send", site=team.other_site)
    Preference.objects.create(staff=team.supervisor, channel=Channel.SMS, event="", enabled=True)
    Preference.objects.create(staff=team.manager, channel=Channel.EMAIL, event="sla.prewarn", enabled=False)


def test_the_same_rows_as_one_notify_per_message(team, channels):
    for m in _messages(team, 12):
        notify(recipients=m.recipients, event=m.event, title=m.title, body=m.body, link=m.link, ref=m.ref, site=m.site)
    one_by_one = _rows()
    Delivery.objects.all().delete()
    Notification.objects.all().delete()
    written = notify_many(_messages(team, 12))
    assert _rows() == one_by_one
    assert len(written) == Notification.objects.count() == 24  # two recipients each (the agent once)


def test_queries_do_not_grow_with_the_messages(team, channels, django_assert_max_num_queries):
    with django_assert_max_num_queries(10) as few:
        notify_many(_messages(team, 3))
    # (SQLite's bound-parameter limit splits an INSERT of a few hundred rows; 20 messages fit.)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(notify_many(_messages(team, 20))) == 40


def test_one_bad_message_writes_nothing(team):
    messages = [*_messages(team, 3), Message([team.agent], "sla.prewarn", "", "正文")]
    with pytest.raises(ValidationFailed):
        notify_many(messages)
    assert Notification.objects.count() == 0


def test_people_read_once_are_not_read_again(team, channels):
    """A caller's ``known`` keeps the recipients read (and those not active, as None): a
    second call with the same people reads no staff, and writes the same rows as without."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    team.manager.is_active = False
    team.manager.save(update_fields=["is_active"])
    notify_many(_messages(team, 4))
    plain = _rows()
    Delivery.objects.all().delete()
    Notification.objects.all().delete()
    known: dict = {}
    notify_many(_messages(team, 4), known=known)
    assert known.keys() == {team.agent.pk, team.supervisor.pk, team.manager.pk}
    assert known[team.manager.pk] is None and known[team.agent.pk].user.email == team.agent.user.email
    Delivery.objects.all().delete()
    Notification.objects.all().delete()
    with CaptureQueriesContext(connection) as seen:
        notify_many(_messages(team, 4), known=known)
    assert not [q for q in seen.captured_queries if '"org_staff"' in q["sql"]]
    assert _rows() == plain and team.manager.pk not in {row[0] for row in plain}

"""The bell, my notifications, and the delivery status page, as insiders and outsiders."""

from __future__ import annotations

import re

import pytest

from kefu.notify.models import Delivery, Notification
from kefu.notify.services import notification_mark_read, notify
from kefu.testing import make_channel_target


def _tell(staff, n=1, **kwargs):
    out = []
    for i in range(n):
        values = {
            "event": "sla.prewarn",
            "title": f"时限预警 {i}",
            "body": "还剩 30 分钟",
            "link": f"/tickets/{i + 1}/",
        }
        values.update(kwargs)
        out += notify(recipients=[staff], **values)
    return out


def _bell(html: str) -> str | None:
    match = re.search(r'id="notify-bell".*?</a>', html, re.S)
    assert match, "no bell on the page"
    count = re.search(r'data-unread="(\d+)"', match.group(0))
    return count.group(1) if count else None


# --- the bell -------------------------------------------------------------------------------


def test_bell_shows_my_unread_count(team, client):
    _tell(team.agent, 3)
    _tell(team.supervisor, 5)
    notification_mark_read(staff=team.agent, ids=[Notification.objects.filter(recipient=team.agent).first().pk])
    client.force_login(team.agent.user)
    assert _bell(client.get("/notifications/").content.decode()) == "2"


def test_bell_caps_at_99(team, client):
    _tell(team.agent, 100)
    client.force_login(team.agent.user)
    html = client.get("/").content.decode()
    assert _bell(html) == "100" and ">99+</span>" in html


def test_bell_without_unread_shows_no_number(team, client):
    client.force_login(team.agent.user)
    assert _bell(client.get("/").content.decode()) is None


def test_bell_costs_one_count_query(team, client, django_assert_num_queries):
    from kefu.notify.context_processors import bell
    from kefu.org.queries import staff_for_user

    _tell(team.agent, 2)
    request = client.get("/").wsgi_request
    request.user = team.agent.user
    staff_for_user(request.user)  # the org context processor already loaded it
    with django_assert_num_queries(1) as captured:
        assert bell(request)["notify_unread"] == 2
    assert "COUNT(*)" in captured.captured_queries[0]["sql"]


def test_login_page_has_no_bell(db, client):
    html = client.get("/login/").content.decode()
    assert "notify-bell" not in html


# --- my notifications -------------------------------------------------------------------------


def test_list_shows_only_mine_unread_first(team, client):
    old_read = _tell(team.agent, title="已读的旧通知")[0]
    _tell(team.agent, title="未读的新通知")
    notification_mark_read(staff=team.agent, ids=[old_read.pk])
    _tell(team.outsider_agent, title="别人的通知")
    client.force_login(team.agent.user)
    html = client.get("/notifications/").content.decode()
    assert "别人的通知" not in html
    assert html.index("未读的新通知") < html.index("已读的旧通知")
    unread_only = client.get("/notifications/", {"unread": "1"}).content.decode()
    assert "未读的新通知" in unread_only and "已读的旧通知" not in unread_only


def test_list_is_paginated_with_constant_queries(team, client, django_assert_max_num_queries):
    _tell(team.agent, 3)
    client.force_login(team.agent.user)
    with django_assert_max_num_queries(12) as small:
        assert client.get("/notifications/").status_code == 200
    _tell(team.agent, 40)
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = client.get("/notifications/", {"size": "20", "page": "2"}).content.decode()
    assert html.count("data-notification=") == 20
    assert "共 43 条" in html or "43" in html


def test_open_marks_read_and_goes_to_the_link(team, client):
    (n,) = _tell(team.agent, link="/tickets/42/")
    client.force_login(team.agent.user)
    response = client.post(f"/notifications/{n.pk}/open/")
    assert response.status_code == 302 and response["Location"] == "/tickets/42/"
    n.refresh_from_db()
    assert n.read_at is not None


def test_open_with_a_stored_bad_link_stays_here(team, client):
    (n,) = _tell(team.agent)
    Notification.objects.filter(pk=n.pk).update(link="//evil.example.com/")
    client.force_login(team.agent.user)
    response = client.post(f"/notifications/{n.pk}/open/")
    assert response["Location"] == "/notifications/"


def test_mark_one_and_all_read(team, client):
    first, *_ = _tell(team.agent, 3)
    client.force_login(team.agent.user)
    assert client.post(f"/notifications/{first.pk}/read/").status_code == 302
    assert Notification.objects.filter(recipient=team.agent, read_at__isnull=True).count() == 2
    assert client.post("/notifications/read-all/").status_code == 302
    assert not Notification.objects.filter(recipient=team.agent, read_at__isnull=True).exists()


def test_another_users_notification_is_404_and_untouched(team, client):
    (theirs,) = _tell(team.supervisor)
    client.force_login(team.outsider_agent.user)
    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/open/").status_code == 404
    client.post("/notifications/read-all/")
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_read_service_is_scoped_to_the_recipient(team):
    mine = _tell(team.agent, 2)
    theirs = _tell(team.supervisor, 2)
    assert notification_mark_read(staff=team.agent, ids=[n.pk for n in mine + theirs] + [0, -5, 2**70]) == 2
    assert Notification.objects.filter(recipient=team.supervisor, read_at__isnull=True).count() == 2
    assert notification_mark_read(staff=team.agent, ids=[]) == 0


def test_signed_out_goes_to_login(db, client):
    response = client.get("/notifications/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_reading_needs_post(team, client):
    (n,) = _tell(team.agent)
    client.force_login(team.agent.user)
    assert client.get(f"/notifications/{n.pk}/read/").status_code == 405
    assert client.get("/notifications/read-all/").status_code == 405


@pytest.mark.parametrize("query", ["page=abc", "page=-1", "page=99999999999999999999", "size=0", "unread=\u202e"])
def test_list_survives_odd_queries(team, client, query):
    client.force_login(team.agent.user)
    assert client.get(f"/notifications/?{query}").status_code == 200


def test_nul_in_form_is_a_400(team, client):
    client.force_login(team.agent.user)
    assert client.post("/notifications/read-all/", {"x": "a\x00b"}).status_code == 400
    assert client.get("/notifications/", {"page": "\x00"}).status_code == 400


@pytest.mark.parametrize("pk", ["99999999999999999999999", "0"])
def test_huge_or_zero_ids_are_404(team, client, pk):
    client.force_login(team.agent.user)
    assert client.post(f"/notifications/{pk}/read/").status_code == 404
    assert client.post(f"/notifications/{pk}/open/").status_code == 404


# --- delivery status ------------------------------------------------------------------------


@pytest.fixture
def failing(team, http_server):
    """A dead WeCom delivery about the team's site, and one about the other site."""
    make_channel_target("wecom", f"{http_server.url}/robot")
    http_server.status = 500
    notify(recipients=[team.supervisor], event="sla.breach", title="翠湖超时", body="", site=team.site)
    notify(recipients=[team.outsider_agent], event="sla.breach", title="国贸超时", body="", site=team.other_site)
    Delivery.objects.filter(channel="wecom").update(status="dead", attempts=8, last_error="HTTP 500: 服务不可用")
    return http_server


def test_manager_sees_the_deliveries_of_their_sites(team, client, failing):
    client.force_login(team.manager.user)
    html = client.get("/notifications/deliveries/").content.decode()
    assert "翠湖超时" in html and "国贸超时" not in html
    assert "HTTP 500: 服务不可用" in html and "立即重试" in html
    assert failing.url not in html  # the webhook key is not shown


def test_director_sees_all(team, client, failing):
    client.force_login(team.director.user)
    html = client.get("/notifications/deliveries/", {"status": "dead"}).content.decode()
    assert "翠湖超时" in html and "国贸超时" in html


def test_agents_may_not_see_deliveries(team, client, failing):
    client.force_login(team.agent.user)
    assert client.get("/notifications/deliveries/").status_code == 403
    delivery = Delivery.objects.filter(channel="wecom").first()
    assert client.post(f"/notifications/deliveries/{delivery.pk}/retry/").status_code == 403


def test_retry_now_sends_a_dead_delivery_again(team, client, failing, django_capture_on_commit_callbacks):
    failing.status = 200
    delivery = Delivery.objects.get(channel="wecom", notification__site=team.site)
    client.force_login(team.manager.user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/notifications/deliveries/{delivery.pk}/retry/")
    assert response.status_code == 302
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("sent", 1)
    assert [b["text"]["content"].split("\n")[0] for b in failing.bodies()] == ["翠湖超时"]


def test_outsider_manager_cannot_retry_another_sites_delivery(team, client, failing):
    delivery = Delivery.objects.get(channel="wecom", notification__site=team.site)
    client.force_login(team.outsider_manager.user)
    assert client.post(f"/notifications/deliveries/{delivery.pk}/retry/").status_code == 404
    delivery.refresh_from_db()
    assert delivery.status == "dead"


def test_retrying_a_sent_delivery_is_refused(team, client, failing):
    delivery = Delivery.objects.get(channel="wecom", notification__site=team.site)
    Delivery.objects.filter(pk=delivery.pk).update(status="sent", next_attempt_at=None)
    client.force_login(team.manager.user)
    response = client.post(f"/notifications/deliveries/{delivery.pk}/retry/", follow=True)
    assert "只有失败或已放弃的投递可以重试" in response.content.decode()


@pytest.mark.parametrize("query", ["status=bogus", "channel=' OR 1=1", "page=x", "status=\u202e"])
def test_delivery_page_survives_odd_queries(team, client, failing, query):
    client.force_login(team.manager.user)
    assert client.get(f"/notifications/deliveries/?{query}").status_code == 200

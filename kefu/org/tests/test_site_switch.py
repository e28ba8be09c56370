"""项目切换 narrows every list to one site; it cannot widen a user's scope."""

import pytest

from kefu.org.models import Role
from kefu.testing import make_site, make_staff, make_ticket

pytestmark = pytest.mark.django_db


def link(ticket) -> str:
    return f'href="/tickets/{ticket.pk}/"'


def test_switching_site_narrows_the_ticket_list_and_never_widens_it(client):
    a, b, c = make_site("甲项目"), make_site("乙项目"), make_site("丙项目")
    agent = make_staff(Role.AGENT, sites=[a, b])
    outsider = make_staff(Role.AGENT, sites=[c])
    ta, tb = make_ticket(a, agent, auto_dispatch=False), make_ticket(b, agent, auto_dispatch=False)
    tc = make_ticket(c, outsider, auto_dispatch=False)
    client.force_login(agent.user)
    body = client.get("/tickets/").content.decode()
    assert link(ta) in body and link(tb) in body and link(tc) not in body

    client.post("/site/", {"site": b.pk})
    body = client.get("/tickets/").content.decode()
    assert link(tb) in body and link(ta) not in body

    client.post("/site/", {"site": c.pk})  # not one of hers: back to all of her sites
    body = client.get("/tickets/").content.decode()
    assert link(ta) in body and link(tb) in body and link(tc) not in body
    assert client.session.get("site_id") is None


def test_switch_redirects_only_to_this_host(client):
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    client.force_login(agent.user)
    response = client.post("/site/", {"site": site.pk}, HTTP_REFERER="https://evil.example/phish")
    assert response["Location"] == "/"


def test_login_page_is_chinese_and_wrong_password_says_so(client):
    site = make_site()
    make_staff(Role.AGENT, sites=[site], username="wang")
    page = client.get("/login/").content.decode()
    assert "登 录" in page and "请输入用户名" in page
    response = client.post("/login/", {"username": "wang", "password": "wrong-password"})
    assert "用户名或密码错误" in response.content.decode()
    response = client.post("/login/", {"username": "wang", "password": "kefu-test-pass"})
    assert response.status_code == 302 and response["Location"] == "/"

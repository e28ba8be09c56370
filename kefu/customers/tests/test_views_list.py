"""客户档案 list page: search, data scope, site switcher, masking, toolbar rights, query count."""

from __future__ import annotations

import re

import pytest

from kefu.org.models import Role
from kefu.testing import make_customer, make_site, make_staff

pytestmark = pytest.mark.django_db


def names(response) -> list[str]:
    """The customers listed, in order (one checkbox per row, labelled with the name)."""
    return re.findall(r'name="ids" value="\d+" aria-label="选择 ([^"]+)"', response.content.decode())


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("张业主", ["张业主"]),
        ("13687654321", ["李租户"]),
        ("136 8765 4321", ["李租户"]),
        ("5678", ["张业主"]),
        ("1-2-301", ["张业主"]),
        ("5-1201", ["李租户"]),
        ("不存在的人", []),
    ],
)
def test_agent_searches_by_name_phone_last4_and_room(world, login, q, expected):
    response = login(world.agent).get("/customers/", {"q": q})
    assert response.status_code == 200
    assert names(response) == expected


def test_list_shows_only_my_sites(world, login):
    # 赵先生 lives in 1-2-301 too, but of another site.
    response = login(world.agent).get("/customers/", {"q": "1-2-301"})
    assert names(response) == ["张业主"]
    assert names(login(world.outsider).get("/customers/")) == ["赵先生"]


def test_filters_by_tag_and_kind(world, login):
    client = login(world.agent)
    vip = world.zhang.tags.get()
    assert names(client.get("/customers/", {"tag": vip.pk})) == ["张业主"]
    assert names(client.get("/customers/", {"kind": "company"})) == []
    assert names(client.get("/customers/", {"kind": "person"})) == ["李租户", "张业主"]


def test_site_switcher_narrows_the_list(world, login):
    client = login(world.director)
    assert sorted(names(client.get("/customers/"))) == ["张业主", "李租户", "赵先生"]
    client.post("/site/", {"site": world.other_site.pk})
    assert names(client.get("/customers/")) == ["赵先生"]
    # The 项目 select offers only the sites the list can show.
    body = client.get("/customers/").content.decode()
    select = re.search(r'<select name="site">.*?</select>', body).group(0)
    assert "国贸中心" in select and "翠湖花园" not in select


def test_site_filter_cannot_reach_outside_my_sites(world, login):
    response = login(world.agent).get("/customers/", {"site": world.other_site.pk})
    assert names(response) == []


def test_phones_are_masked_for_a_role_without_see_phone(world, login):
    # 系统管理员 may read records but not phone numbers.
    body = login(world.admin).get("/customers/").content.decode()
    assert "139****5678" in body
    assert "13912345678" not in body
    body = login(world.agent).get("/customers/").content.decode()
    assert "13912345678" in body


def test_masking_follows_the_capability_table(world, login, monkeypatch):
    from kefu.org import permissions

    caps = dict(permissions.CAPABILITIES)
    caps["customers.see_phone"] = caps["customers.see_phone"] - {Role.AGENT}
    monkeypatch.setattr(permissions, "CAPABILITIES", caps)
    body = login(world.agent).get("/customers/").content.decode()
    assert "139****5678" in body and "13912345678" not in body


def test_toolbar_shows_only_what_the_role_may_do(world, login):
    agent = login(world.agent).get("/customers/").content.decode()
    assert ">新增</a>" in agent and ">导入</a>" not in agent and ">导出</a>" not in agent
    supervisor = login(world.supervisor).get("/customers/").content.decode()
    assert ">新增</a>" in supervisor and ">导入</a>" in supervisor and ">导出</a>" in supervisor
    admin = login(world.admin).get("/customers/").content.decode()
    assert ">新增</a>" not in admin and ">编辑</a>" not in admin and ">导入</a>" in admin


def test_technician_gets_403_on_the_list(world, login):
    response = login(world.tech).get("/customers/")
    assert response.status_code == 403
    assert "您没有查看客户档案的权限" in response.content.decode()


def test_anonymous_is_sent_to_login(client, world):
    response = client.get("/customers/")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_list_row_shows_columns(world, login):
    body = login(world.agent).get("/customers/", {"q": "张业主"}).content.decode()
    assert "1-2-301" in body and "业主" in body
    assert '<span class="tag tag-primary">VIP</span>' in body
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", body)
    assert f'href="/customers/{world.zhang.pk}/edit/"' in body


def test_pagination_sizes_and_jump(world, login):
    for n in range(12):
        make_customer(world.site, world.agent, name=f"批量客户{n:02d}")
    client = login(world.agent)
    body = client.get("/customers/", {"size": 10, "q": "批量"}).content.decode()
    assert "共 12 条" in body
    assert body.count('name="ids"') == 10
    assert "page=2" in body and "q=%E6%89%B9%E9%87%8F" in body
    second = client.get("/customers/", {"size": 10, "page": 2, "q": "批量"}).content.decode()
    assert second.count('name="ids"') == 2
    # Bad page sizes and page numbers fall back instead of failing.
    assert client.get("/customers/", {"size": 7, "page": "x"}).status_code == 200
    assert client.get("/customers/", {"page": 999}).status_code == 200


def test_htmx_search_returns_only_the_results(world, login):
    response = login(world.agent).get("/customers/", {"q": "张"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="results">')
    assert "张业主" in body and "<html" not in body


def _fill(site, actor, count):
    for n in range(count):
        make_customer(
            site, actor, name=f"客户{n}", room=(str(n % 5 + 1), "1", f"{n + 101}"), tags=["VIP", "会员"][: n % 3]
        )


def test_query_count_does_not_grow_with_rows(db, client, django_assert_max_num_queries):
    site = make_site()
    agent = make_staff(Role.AGENT, sites=[site])
    client.force_login(agent.user)
    _fill(site, agent, 10)
    with django_assert_max_num_queries(14) as small:
        assert client.get("/customers/", {"size": 100}).status_code == 200
    _fill(site, agent, 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get("/customers/", {"size": 100})
    assert response.content.decode().count('name="ids"') == 40


def test_page_numbers_window():
    from kefu.customers.views import _page_numbers

    assert _page_numbers(1, 1) == [1]
    assert _page_numbers(1, 4) == [1, 2, 3, 4]
    assert _page_numbers(6, 20) == [1, None, 4, 5, 6, 7, 8, None, 20]
    assert _page_numbers(20, 20) == [1, None, 18, 19, 20]

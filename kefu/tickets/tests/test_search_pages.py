"""Search on the pages and the API: the ticket list's box (relevance, highlights, query
counts), the API's ``q``, and the global search page — each with an insider and an
outsider of another site."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.testing import api_auth, make_customer, make_ticket
from kefu.tickets.tests.test_search import HOSTILE


def ticket(world, content, site=None, actor=None, **kwargs):
    return make_ticket(site or world.site, actor or world.agent, content=content, auto_dispatch=False, **kwargs)


def numbers_in(body: str) -> list[str]:
    return re.findall(r'data-ticket="([^"]+)"', body)


def api_numbers(client, staff, **params):
    response = client.get("/api/v1/tickets", params, **api_auth(staff))
    assert response.status_code == 200, response.content
    return [row["number"] for row in response.json()["items"]]


# --- the ticket list ----------------------------------------------------------------------


def test_list_search_sorts_by_relevance_unless_a_sort_is_chosen(world, client):
    twice = ticket(world, "卫生间漏水，厨房也漏水")
    once = ticket(world, "厨房漏水")  # newer, but with the word once
    client.force_login(world.agent.user)
    body = client.get("/tickets/", {"q": "漏水"}).content.decode()
    assert numbers_in(body) == [twice.number, once.number]
    assert '<option value="rank" selected>' in body
    body = client.get("/tickets/", {"q": "漏水", "sort": "-created"}).content.decode()
    assert numbers_in(body) == [once.number, twice.number]
    # Without a query there is no relevance to sort by.
    body = client.get("/tickets/", {"sort": "rank"}).content.decode()
    assert numbers_in(body) == [once.number, twice.number]
    assert '<option value="rank"' not in body


def test_list_highlights_matches_and_escapes_content(world, client):
    t = ticket(world, "<script>alert('x')</script>阳台地漏返水<b>")
    client.force_login(world.agent.user)
    body = client.get("/tickets/", {"q": "返水"}).content.decode()
    assert numbers_in(body) == [t.number]
    assert "<script>alert" not in body and "<b>" not in body
    # The cell starts a little before the match; the tooltip holds the whole text, escaped.
    assert "…ipt&gt;阳台地漏<mark>返水</mark>&lt;b&gt;</td>" in body
    assert 'title="&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;阳台地漏返水&lt;b&gt;"' in body
    # The htmx fragment highlights the same way.
    fragment = client.get("/tickets/", {"q": "返水"}, HTTP_HX_REQUEST="true").content.decode()
    assert "<mark>返水</mark>" in fragment and "<html" not in fragment


def test_list_without_a_query_has_no_marks(world, client):
    ticket(world, "阳台地漏返水")
    client.force_login(world.agent.user)
    assert "<mark>" not in client.get("/tickets/").content.decode()


def _search_queries(client, world, n):
    for i in range(n):
        ticket(world, f"第{i}次报修：厨房水龙头漏水", customer=world.customer)
    with CaptureQueriesContext(connection) as ctx:
        response = client.get("/tickets/", {"q": "水龙头 漏水", "size": 50})
    assert response.status_code == 200
    assert len(numbers_in(response.content.decode())) == n_total(world)
    return len(ctx.captured_queries)


def n_total(world):
    from kefu.tickets.models import Ticket

    return Ticket.objects.filter(site=world.site).count()


def test_list_search_query_count_does_not_grow_with_rows(world, client):
    client.force_login(world.supervisor.user)
    few = _search_queries(client, world, 2)
    many = _search_queries(client, world, 15)
    assert few == many
    # The page is read in two steps (its ids, then those rows: tickets.queries.page_rows);
    # PostgreSQL asks for the planner's estimate of the hits, then counts them (search.py).
    assert many <= (14 if connection.vendor == "postgresql" else 13)


def test_export_follows_the_search(world, client):
    from io import BytesIO

    from openpyxl import load_workbook

    hit = ticket(world, "电梯按钮失灵")
    ticket(world, "楼道灯不亮")
    client.force_login(world.supervisor.user)
    response = client.get("/tickets/export/", {"q": "电梯"})
    sheet = load_workbook(BytesIO(response.getvalue())).active
    assert [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)] == [hit.number]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_on_the_list_page_answer_200(world, client, q):
    ticket(world, "卫生间漏水")
    client.force_login(world.agent.user)
    assert client.get("/tickets/", {"q": q}).status_code == 200
    assert client.get("/search/", {"q": q}).status_code == 200


# --- the API ------------------------------------------------------------------------------


def test_api_takes_the_same_q_and_orders_by_relevance(world, client):
    twice = ticket(world, "卫生间漏水，厨房也漏水")
    once = ticket(world, "厨房漏水")
    ticket(world, "客厅灯不亮")
    assert api_numbers(client, world.agent, q="漏水") == [twice.number, once.number]
    assert api_numbers(client, world.agent, q="漏水", ordering="-created_at") == [once.number, twice.number]
    assert api_numbers(client, world.agent, q=twice.number) == [twice.number]
    response = client.get("/api/v1/tickets", {"q": "漏水"}, **api_auth(world.agent)).json()
    assert response["count"] == 2


@pytest.mark.parametrize("q", [q for q in HOSTILE if len(q) <= 100])
def test_hostile_queries_in_the_api_answer_200(world, client, q):
    ticket(world, "卫生间漏水")
    api_numbers(client, world.agent, q=q)


def test_api_refuses_an_overlong_query_with_a_field_error(world, client):
    response = client.get("/api/v1/tickets", {"q": "漏" * 1000}, **api_auth(world.agent))
    assert response.status_code == 422
    assert "q" in response.json()["errors"]


def test_api_search_query_count_is_constant(world, client, django_assert_max_num_queries):
    headers = api_auth(world.agent)
    client.get("/api/v1/tickets", **headers)  # first use stamps the token

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/tickets", {"q": "漏水", "limit": 50}, **headers).status_code == 200
        return len(ctx.captured_queries)

    for _ in range(2):
        ticket(world, "厨房漏水", customer=world.customer)
    few = count()
    for _ in range(10):
        ticket(world, "厨房漏水", customer=world.customer)
    assert count() == few <= 7


# --- data scope ---------------------------------------------------------------------------


def test_an_outsider_finds_nothing_of_another_site(world, client):
    mine = ticket(world, "国贸中心水龙头漏水", customer=world.customer)
    theirs = ticket(world, "国贸中心水龙头漏水", site=world.other_site, actor=world.outsider_agent)
    # Numbers are per site: the outsider's first ticket has the same number as ours.
    link = f'href="/tickets/{mine.pk}/"'
    client.force_login(world.outsider_agent.user)
    for q in ("水龙头", mine.number, "13912345678", "5678", "1-2-301", "张业主"):
        assert link not in client.get("/tickets/", {"q": q}).content.decode()
        everywhere = client.get("/search/", {"q": q}).content.decode()
        assert link not in everywhere and f'data-customer="{world.customer.pk}"' not in everywhere
        rows = client.get("/api/v1/tickets", {"q": q}, **api_auth(world.outsider_agent)).json()["items"]
        assert mine.pk not in [row["id"] for row in rows]
    assert f'href="/tickets/{theirs.pk}/"' in client.get("/search/", {"q": "水龙头"}).content.decode()
    rows = client.get("/api/v1/tickets", {"q": "水龙头"}, **api_auth(world.agent)).json()["items"]
    assert [row["id"] for row in rows] == [mine.pk]


def test_a_technician_finds_only_work_sent_to_them(world, client):
    theirs = make_ticket(world.site, world.agent, category=world.repair_cat, content="主卧水管漏水")
    other = ticket(world, "次卧水管漏水")
    assert theirs.assignee == world.tech
    assert api_numbers(client, world.tech, q="漏水") == [theirs.number]
    client.force_login(world.tech.user)
    body = client.get("/search/", {"q": "水管"}).content.decode()
    assert theirs.number in body and other.number not in body
    assert 'id="customer-results"' not in body  # technicians do not read customer records


# --- global search ------------------------------------------------------------------------


def test_global_search_shows_customers_and_tickets_with_highlights(world, client):
    t = ticket(world, "张业主家门口路灯不亮", customer=world.customer)
    other = make_customer(world.site, world.agent, name="李四", phone="13600001111")
    client.force_login(world.agent.user)
    body = client.get("/search/", {"q": "张业主"}).content.decode()
    assert f'data-customer="{world.customer.pk}"' in body and f'data-customer="{other.pk}"' not in body
    assert "<mark>张业主</mark>" in body
    assert numbers_in(body) == [t.number]
    assert "/tickets/?q=%E5%BC%A0%E4%B8%9A%E4%B8%BB" in body and "/customers/?q=" in body
    by_room = client.get("/search/", {"q": "1-2-301"}).content.decode()
    assert f'data-customer="{world.customer.pk}"' in by_room and numbers_in(by_room) == [t.number]
    by_phone = client.get("/search/", {"q": "13912345678"}).content.decode()
    assert f'data-customer="{world.customer.pk}"' in by_phone and numbers_in(by_phone) == [t.number]


def test_global_search_shows_at_most_twenty_and_links_to_the_rest(world, client):
    for i in range(21):
        ticket(world, f"{i}号车位地锁损坏")
    client.force_login(world.agent.user)
    body = client.get("/search/", {"q": "地锁"}).content.decode()
    assert len(numbers_in(body)) == 20
    assert "只显示前 20 张，查看全部" in body
    few = client.get("/search/", {"q": "3号车位"}).content.decode()
    assert "只显示前 20 张" not in few


def test_global_search_without_a_query_shows_the_box_only(world, client):
    ticket(world, "路灯不亮")
    client.force_login(world.agent.user)
    body = client.get("/search/").content.decode()
    assert 'name="q"' in body and 'id="ticket-results"' not in body


def test_every_page_has_the_search_box_in_the_top_bar(world, client):
    client.force_login(world.agent.user)
    body = client.get("/").content.decode()
    assert 'class="global-search"' in body and 'action="/search/"' in body


def test_a_search_counts_its_hits_up_to_a_cap(world, client, monkeypatch):
    from kefu.tickets.views import tickets as views

    monkeypatch.setattr(views, "SEARCH_COUNT_CAP", 2)
    made = [ticket(world, f"{i}号楼电梯异响") for i in range(3)]
    client.force_login(world.agent.user)
    body = client.get("/tickets/", {"q": "电梯", "size": 10}).content.decode()
    assert "共 2+ 条" in body
    assert set(numbers_in(body)) <= {t.number for t in made} and len(numbers_in(body)) == 2
    assert "共 3 条" in client.get("/tickets/", {"q": ""}).content.decode()

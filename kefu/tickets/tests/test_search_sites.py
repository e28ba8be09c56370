"""The word of its site in every search document (docs/decisions/0009): a search limited to
some sites asks the index for them, so that a word found at other sites only costs nothing,
and nothing of another site is ever found. On SQLite and, with DATABASE_URL, PostgreSQL."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

from django.apps import apps as django_apps
from django.db import connection

from kefu.testing import make_ticket
from kefu.tickets import search
from kefu.tickets.models import TicketSearch
from kefu.tickets.queries import scope_sites, search_tickets, tickets_for


def found(staff, q, *, sites=None):
    scope = tickets_for(staff, sites=sites)
    return {t.number for t in search_tickets(scope, {"q": q}, sites=scope_sites(staff, sites))}


def test_every_document_starts_with_the_word_of_its_site(world):
    t = make_ticket(world.site, world.agent, content="小区东门道闸不抬杆", auto_dispatch=False)
    document = TicketSearch.objects.get(ticket=t).document
    assert document.split()[0] == search.site_word(world.site.pk) == f"kefusite{world.site.pk}"
    assert document == search.ticket_document(t)


def test_a_query_within_sites_asks_for_one_of_their_words():
    query = search.parse("电梯 漏水").within([3, 1])
    assert query.terms == search.parse("电梯 漏水").terms and query.sites == (1, 3)
    assert query.fts5() == '"电梯" AND "漏水" AND ("kefusite1" OR "kefusite3")'
    assert query.tsquery() == "('电梯') & ('漏水') & ('kefusite1' | 'kefusite3')"
    assert search.parse("电梯").within(None).fts5() == '"电梯"'


def test_a_word_of_another_site_only_finds_nothing_here_and_everything_there(world):
    there = [make_ticket(world.other_site, world.outsider_agent, content="国贸写字楼茶水间漏水") for _ in range(3)]
    here = make_ticket(world.site, world.agent, content="家里厨房漏水", auto_dispatch=False)
    assert found(world.agent, "茶水间") == set()
    assert found(world.agent, "漏水") == {here.number}
    assert found(world.director, "茶水间") == {t.number for t in there}
    assert found(world.director, "漏水") == {here.number, *(t.number for t in there)}
    # The site switcher: the director narrowed to one site.
    assert found(world.director, "茶水间", sites=[world.site.pk]) == set()


def test_exact_matches_stay_within_the_sites_too(world):
    there = make_ticket(world.other_site, world.outsider_agent, content="门禁卡失灵", contact_phone="13700001111")
    assert found(world.agent, "13700001111") == set()
    assert found(world.director, "13700001111") == {there.number}


def test_the_list_and_the_global_search_of_an_agent_show_no_other_site(world, client):
    make_ticket(world.other_site, world.outsider_agent, content="国贸写字楼茶水间漏水")
    client.force_login(world.agent.user)
    body = client.get("/tickets/", {"q": "茶水间"}).content.decode()
    assert "共 0 条" in body
    assert "国贸写字楼" not in client.get("/search/", {"q": "茶水间"}).content.decode()


def test_the_migration_gives_old_documents_their_site_word_once(world):
    t = make_ticket(world.site, world.agent, content="地下车库照明不亮", auto_dispatch=False)
    written = TicketSearch.objects.get(ticket=t).document
    old = written.split(" ", 1)[1]
    TicketSearch.objects.filter(ticket=t).update(document=old)
    assert found(world.agent, "照明") == set()  # an old document is not found within a site
    migration = importlib.import_module("kefu.tickets.migrations.0015_search_site_words")
    editor = SimpleNamespace(
        connection=connection, execute=lambda sql, params: connection.cursor().execute(sql, params)
    )
    migration.add_site_words(django_apps, editor)
    migration.add_site_words(django_apps, editor)  # a second run changes nothing
    assert TicketSearch.objects.get(ticket=t).document == written
    assert found(world.agent, "照明") == {t.number}
    migration.remove_site_words(django_apps, editor)
    assert TicketSearch.objects.get(ticket=t).document == old

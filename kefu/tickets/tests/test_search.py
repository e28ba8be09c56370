"""Full-text search (tickets/search.py): words, matching, ranking, the index kept in step with
every write, exact matches, hostile queries. Runs on SQLite and, with DATABASE_URL, on
PostgreSQL; the storage checks of each database are marked."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.customers.models import CustomerUnit, Unit
from kefu.customers.services import CustomerData, UnitLink, customer_update
from kefu.testing import make_customer, make_ticket
from kefu.tickets import search
from kefu.tickets.models import Ticket, TicketSearch
from kefu.tickets.queries import search_tickets, tickets_for
from kefu.tickets.services import (
    ticket_accept,
    ticket_add_note,
    ticket_arrive,
    ticket_complete,
    ticket_create_with_new_customer,
)

sqlite_only = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's FTS5 storage")


def found(staff, q, **params):
    """Numbers of the tickets ``q`` finds for ``staff``, best first."""
    qs = search_tickets(tickets_for(staff), {"q": q, **params})  # a search comes ordered
    return [t.number for t in (qs if q.strip() else qs.order_by("-created_at", "-id"))]


def ticket(world, content, **kwargs):
    return make_ticket(world.site, world.agent, content=content, auto_dispatch=False, **kwargs)


# --- words --------------------------------------------------------------------------------


def test_segment_gives_words_then_their_sub_words():
    words = search.segment("厨房水龙头漏水").split()
    assert words[:3] == ["厨房", "水龙头", "漏水"]
    assert "龙头" in words[3:]


def test_segment_folds_width_and_case_and_drops_punctuation():
    wide = search.segment("ＢＸ－２０２６１１２２，ＡＢＣ！")
    assert wide == search.segment("bx-20261122, abc!") == "bx 20261122 abc"
    assert search.segment("😀<>*()") == ""


def test_parse_turns_a_query_into_terms():
    assert search.parse("水龙头 漏水").terms == (("水龙头",), ("漏水",))
    assert search.parse('"厨房水龙头"').terms == (("厨房", "水龙头"),)
    assert search.parse("1-2-301").terms == (("1", "2", "301"),)
    assert search.parse("1栋2单元301室").terms == (("1", "2", "301"),)
    # Operators of FTS5 and of tsquery are words like any other, quoted in the expression.
    query = search.parse('AND OR NOT NEAR( "x" *')
    assert query.terms == (("and",), ("or",), ("not",), ("near",), ("x",))
    assert query.fts5() == '"and" AND "or" AND "not" AND "near" AND "x"'
    assert query.tsquery() == "('and') & ('or') & ('not') & ('near') & ('x')"
    assert not search.parse("  *** -- ()  ")
    assert len(search.parse("漏水 " * 500).terms) == 1
    assert len(search.parse(" ".join(f"词{i}" for i in range(100))).terms) == search.MAX_TERMS


def test_the_word_list_is_kept_only_in_the_data_dir_and_a_blocked_one_still_cuts(tmp_path, monkeypatch):
    import tempfile

    def no_temp_dir() -> str:
        raise AssertionError("the word list must not use the system temp dir")

    monkeypatch.setattr(tempfile, "gettempdir", no_temp_dir)
    writable = tmp_path / "cache"
    writable.mkdir()
    cutter = search.load_tokenizer(str(writable))
    assert sorted(p.suffix for p in writable.iterdir()) == [".freq", ".trie"]
    assert all(p.name.startswith("jieba-words-") for p in writable.iterdir())
    # A data dir that cannot be written (here: below a plain file): no files, same words.
    blocked = tmp_path / "file"
    blocked.write_text("")
    again = search.load_tokenizer(str(blocked / "cache"))
    assert list(again.cut("厨房水龙头漏水", HMM=False)) == list(cutter.cut("厨房水龙头漏水", HMM=False))
    assert list(cutter.cut("厨房水龙头漏水", HMM=False)) == ["厨房", "水龙头", "漏水"]


# --- matching and ranking -----------------------------------------------------------------


def test_words_and_sub_words_match_and_other_words_do_not(world):
    tap = ticket(world, "厨房水龙头漏水，请尽快上门维修")
    socket = ticket(world, "卧室插座漏电，跳闸了")
    assert found(world.agent, "水龙头") == [tap.number]
    assert found(world.agent, "漏水") == [tap.number]
    assert found(world.agent, "龙头") == [tap.number]
    assert found(world.agent, "漏电") == [socket.number]
    assert found(world.agent, "ＦＯＯ 漏水") == []  # every word must match
    assert found(world.agent, "水龙头 漏电") == []


def test_a_quoted_phrase_needs_its_words_side_by_side(world):
    together = ticket(world, "厨房水龙头漏水")
    apart = ticket(world, "水龙头坏了，卫生间也漏水")
    assert set(found(world.agent, "水龙头漏水")) == {together.number, apart.number}
    assert found(world.agent, '"水龙头漏水"') == [together.number]
    assert found(world.agent, "“水龙头漏水”") == [together.number]


def test_names_rooms_and_site_are_searchable(world):
    owner = ticket(world, "门禁卡失灵", customer=world.customer)
    caller = ticket(world, "楼道灯不亮", contact_name="欧阳娜娜", contact_phone="13700001111")
    assert found(world.agent, "张业主") == [owner.number]
    assert found(world.agent, "欧阳娜娜") == [caller.number]
    assert found(world.agent, "翠湖花园 门禁卡") == [owner.number]


def test_more_occurrences_rank_higher(world):
    once = ticket(world, "卫生间漏水，厨房也坏了")
    twice = ticket(world, "卫生间漏水，厨房也漏水")
    ticket(world, "客厅灯不亮了")
    assert found(world.agent, "漏水") == [twice.number, once.number]
    ranks = {t.number: t.search_rank for t in search_tickets(tickets_for(world.agent), {"q": "漏水"})}
    assert ranks[twice.number] > ranks[once.number] > 0


def test_a_word_on_very_many_tickets_lists_them_newest_first(world, monkeypatch):
    older = ticket(world, "漏水漏水漏水")
    newer = ticket(world, "漏水")
    assert found(world.agent, "漏水") == [older.number, newer.number]
    monkeypatch.setitem(search.RANK_LIMIT, connection.vendor, 0)
    assert found(world.agent, "漏水") == [newer.number, older.number]


def test_a_newest_first_search_is_counted_as_its_page_lists(world, monkeypatch):
    for _ in range(3):
        ticket(world, "厨房漏水")
    ticket(world, "电梯异响")
    monkeypatch.setitem(search.RANK_LIMIT, connection.vendor, 0)
    hits = search_tickets(tickets_for(world.agent), {"q": "漏水"})
    assert hits.capped_count(10) == 3 == len(list(hits))
    assert hits.capped_count(2) == 2
    # Filters and orders added afterwards count with it.
    assert hits.filter(kind="inquiry").order_by("id").capped_count(10) == 0
    if connection.vendor == "postgresql":
        # The page walks newest first testing each row; the count asks the GIN index.
        assert "ts_match_vq" in str(hits.query)
        with CaptureQueriesContext(connection) as queries:
            hits.capped_count(10)
        assert "@@" in queries[-1]["sql"] and "ts_match_vq" not in queries[-1]["sql"]
        assert "ts_match_vq" in str(hits.query)  # the page's own query is left as it was


def test_a_search_with_quotes_and_a_backslash_is_counted_as_it_lists(world, monkeypatch):
    hit = ticket(world, "门牌写着 O'Brien\\室 漏水")
    ticket(world, "电梯异响")
    monkeypatch.setitem(search.RANK_LIMIT, connection.vendor, 0)
    for q in ("O'Brien", "Brien\\室", "'; DROP TABLE x; --"):
        with CaptureQueriesContext(connection) as queries:
            hits = search_tickets(tickets_for(world.agent), {"q": q})
        assert hits.capped_count(10) == len(list(hits))
        if connection.vendor == "postgresql":
            # The hits are counted from the index first, the words quoted by the driver.
            assert any("enable_seqscan" in query["sql"] for query in queries)
    assert [t.number for t in search_tickets(tickets_for(world.agent), {"q": "O'Brien"})] == [hit.number]


def test_search_combines_with_the_other_filters(world):
    repair = ticket(world, "电梯异响")
    inquiry = make_ticket(world.site, world.agent, kind="inquiry", content="电梯年检时间", answer="下周一")
    assert found(world.agent, "电梯", kind="inquiry") == [inquiry.number]
    assert found(world.agent, "电梯", open="1") == [repair.number]


# --- exact matches ------------------------------------------------------------------------


def test_exact_number_phone_last4_and_room_are_kept(world):
    unit = world.customer.unit_links.get().unit
    mine = ticket(world, "阳台推拉门卡住", customer=world.customer, unit=unit)
    mentioned = ticket(world, "邻居反映13912345678家漏水", contact_phone="13800000000")
    assert found(world.agent, mine.number) == [mine.number]
    assert found(world.agent, mine.number.lower()) == [mine.number]
    # The customer's phone finds their ticket first, then one that mentions the number.
    assert found(world.agent, "13912345678") == [mine.number, mentioned.number]
    assert found(world.agent, "139 1234 5678") == [mine.number]
    assert found(world.agent, "5678") == [mine.number]
    assert found(world.agent, "1-2-301") == [mine.number]
    assert found(world.agent, "13800000000") == [mentioned.number]


def test_a_room_in_the_text_is_a_phrase(world):
    there = ticket(world, "1-2-301楼上渗水")
    elsewhere = ticket(world, "2号楼1单元3层301旁边的灯坏了")
    assert found(world.agent, "1-2-301") == [there.number]
    assert elsewhere.number not in found(world.agent, "1-2-301")


# --- kept in step -------------------------------------------------------------------------


def test_intake_indexes_the_ticket_in_its_transaction(world):
    t = ticket(world, "地下车库积水")
    row = TicketSearch.objects.get(ticket=t)
    assert row.document == search.ticket_document(t)
    assert "积水" in row.document.split() and t.number.lower().split("-")[1] in row.document


def test_intake_writes_the_document_a_rebuild_would(world):
    """The intake composes the document from the rows in hand; a rebuild from the database
    must give the same words: a caller under another name, the unit of the ticket and every
    room of the customer, no customer at all."""
    customer = make_customer(world.site, world.agent, name="周先生", phone="13700001111", room=("3", "1", "502"))
    unit = Unit.objects.create(site=world.site, building="7", entrance="", room="1201")
    CustomerUnit.objects.create(customer=customer, unit=unit)
    cases = [
        ticket(world, "阳台漏水", customer=customer, unit=unit, contact_name="周太太"),
        ticket(world, "门禁卡失效", customer=customer),
        ticket(world, "路灯不亮", contact_phone="13600002222"),
        # An inquiry answered at intake: the answer's words are in the first document.
        ticket(world, "物业费怎么交", kind="inquiry", customer=customer, answer="可在前台或微信缴纳"),
    ]
    # A caller with no record yet: the record made on the spot, with the room given.
    cases.append(
        ticket_create_with_new_customer(
            site=world.site,
            actor=world.agent,
            contact_name="吴女士",
            contact_phone="13500003333",
            room="6-2-1101",
            kind="repair",
            channel="phone",
            content="卧室空调滴水",
            auto_dispatch=False,
        )
    )
    for t in cases:
        assert TicketSearch.objects.get(ticket=t).document == search.ticket_document(t)
        assert search.index_tickets(ids=[t.pk]) == 0
    assert set(search.segment("6-2-1101").split()) <= set(TicketSearch.objects.get(ticket=cases[4]).document.split())
    words = TicketSearch.objects.get(ticket=cases[0]).document.split()
    for part in ("周太太", "周先生", "7-1201", "3-1-502"):
        assert set(search.segment(part).split()) <= set(words), part
    assert "缴纳" in TicketSearch.objects.get(ticket=cases[3]).document.split()


def test_a_note_and_a_reply_are_found_at_once(world):
    t = ticket(world, "热水器不出热水")
    ticket_add_note(ticket=t, actor=world.agent, text="已联系厂家售后，周三上门")
    ticket_add_note(ticket=t, actor=world.agent, text="告知业主：配件已到", public=True)
    assert found(world.agent, "厂家") == [t.number]
    assert found(world.agent, "配件") == [t.number]
    # The note was appended; a rebuild writes exactly the same document.
    assert TicketSearch.objects.get(ticket=t).document == search.ticket_document(t)
    assert search.index_tickets(ids=[t.pk]) == 0


def test_system_notes_are_not_indexed(world):
    t = make_ticket(world.site, world.agent, category=world.repair_cat, content="马桶堵了")
    assert t.events.filter(type="dispatch").exclude(note="").exists()
    assert found(world.agent, "自动派单") == []


def test_completion_notes_are_found(world):
    t = make_ticket(world.site, world.agent, category=world.repair_cat, content="洗手池下水慢")
    assert t.assignee == world.tech
    t = ticket_accept(ticket=t, actor=world.tech, version=t.version)
    t = ticket_arrive(ticket=t, actor=world.tech, version=t.version)
    t = ticket_complete(ticket=t, actor=world.tech, version=t.version, work_notes="疏通存水弯，更换密封圈")
    assert found(world.agent, "密封圈") == [t.number]
    assert TicketSearch.objects.get(ticket=t).document == search.ticket_document(t)


def _rename(world, customer, name, rooms=(("1", "2", "301"),)):
    customer.refresh_from_db()
    data = CustomerData(name=name, phones=list(customer.phones.values_list("number", flat=True)))
    data.units = [UnitLink(*room) for room in rooms]
    return customer_update(customer=customer, data=data, actor=world.agent, version=customer.version)


def test_a_renamed_customer_is_found_by_the_new_name(world):
    t = ticket(world, "空调外机噪音", customer=world.customer, contact_name="张先生")
    _rename(world, world.customer, "张伟业")
    assert found(world.agent, "张伟业") == [t.number]
    assert found(world.agent, "张业主") == []
    assert found(world.agent, "张先生") == [t.number]  # the caller's name as taken at intake stays


def test_a_customer_with_other_rooms_is_found_by_them(world):
    t = ticket(world, "窗户漏风", customer=world.customer)
    _rename(world, world.customer, "张业主", rooms=[("8", "1", "1502")])
    assert found(world.agent, '"8-1-1502"') == [t.number]
    assert t.number not in found(world.agent, '"1 2 301"')


def test_many_tickets_of_a_renamed_customer_are_reindexed_by_the_worker(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(search, "INLINE_CUSTOMER_TICKETS", 1)
    tickets = [ticket(world, "信报箱损坏", customer=world.customer) for _ in range(3)]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _rename(world, world.customer, "张大业")
    assert found(world.agent, "张大业") == []  # not yet: the task runs after the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert set(found(world.agent, "张大业")) == {t.number for t in tickets}


def test_an_unrelated_customer_change_writes_nothing(world):
    ticket(world, "楼道堆放杂物", customer=world.customer)
    before = dict(TicketSearch.objects.values_list("ticket_id", "document"))
    world.customer.refresh_from_db()
    data = CustomerData(name="张业主", phones=["13912345678"], units=[UnitLink("1", "2", "301")], note="VIP")
    customer_update(customer=world.customer, data=data, actor=world.agent, version=world.customer.version)
    assert dict(TicketSearch.objects.values_list("ticket_id", "document")) == before


def test_reindex_rebuilds_everything_and_then_has_nothing_to_do(world, capsys):
    made = [ticket(world, f"第{i}号电梯按钮失灵") for i in range(5)]
    TicketSearch.objects.all().delete()
    assert found(world.agent, "按钮") == []
    call_command("reindex", batch=2)
    err = capsys.readouterr().err
    assert "已索引 5/5 张工单（100%" in err
    assert set(found(world.agent, "按钮")) == {t.number for t in made}
    assert search.reindex_all(batch=3) == 0


def test_reindex_missing_finishes_a_stopped_rebuild_and_leaves_the_rest(world, capsys):
    made = [ticket(world, f"小区路灯坏了 {i}") for i in range(4)]
    TicketSearch.objects.filter(ticket__in=made[2:]).delete()
    TicketSearch.objects.filter(ticket=made[0]).update(document="旧的 文档")  # left alone: not missing
    call_command("reindex", missing=True)
    assert "已索引 2/2 张工单（100%" in capsys.readouterr().err
    assert set(found(world.agent, "路灯")) == {t.number for t in made[1:]}
    assert TicketSearch.objects.get(ticket=made[0]).document == "旧的 文档"
    assert search.reindex_all(missing=True) == 0


def test_the_migration_writes_the_same_documents_as_the_service(world):
    # 0013 indexes existing databases with its own copy of the queries; both must agree.
    t = ticket(world, "小区东门道闸不抬杆", customer=world.customer, unit=world.customer.unit_links.get().unit)
    ticket_add_note(ticket=t, actor=world.agent, text="已通知秩序维护部")
    expected = TicketSearch.objects.get(ticket=t).document
    TicketSearch.objects.all().delete()
    migration = importlib.import_module("kefu.tickets.migrations.0013_index_existing_tickets")
    migration.index_existing(django_apps, SimpleNamespace(connection=connection))
    assert TicketSearch.objects.get(ticket=t).document == expected


def test_a_deleted_ticket_leaves_the_index(world):
    gone = ticket(world, "快递柜无法开门")
    kept = ticket(world, "快递柜屏幕黑屏")
    Ticket.objects.filter(pk=gone.pk).delete()
    assert found(world.agent, "快递柜") == [kept.number]
    assert not TicketSearch.objects.filter(ticket_id=gone.pk).exists()


def test_room_labels_match_the_units(world):
    unit = world.customer.unit_links.get().unit
    assert search._room(unit.building, unit.entrance, unit.room) == unit.label == "1-2-301"
    assert search._room("5", "", "1201") == "5-1201"


# --- hostile input ------------------------------------------------------------------------

HOSTILE = [
    '"',
    '"漏水',
    "漏水*",
    "*",
    "AND OR NOT",
    "漏水 OR 漏电",
    "NEAR(漏水 漏电)",
    "content:漏水",
    "-漏水",
    "(((",
    "'; DROP TABLE tickets_ticket; --",
    "\\",
    "😀🔥 漏水",
    "漏" * 1000,
    "a" * 1000,
    "　",
    "''''",
    "%_%",
]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_never_fail(world, q):
    t = ticket(world, "卫生间漏水")
    numbers = found(world.agent, q)
    assert set(numbers) <= {t.number}


def test_blank_query_filters_nothing(world):
    a, b = ticket(world, "甲"), ticket(world, "乙")
    qs = search_tickets(tickets_for(world.agent), {"q": "   "})
    assert set(qs.values_list("number", flat=True)) == {a.number, b.number}


# --- highlighting -------------------------------------------------------------------------


def test_highlight_marks_matches_and_escapes_the_rest():
    html = search.highlight("<script>alert(1)</script>厨房水龙头漏水", search.parse("水龙头 漏水"))
    assert html == "&lt;script&gt;alert(1)&lt;/script&gt;厨房<mark>水龙头漏水</mark>"
    assert search.highlight("水龙头一直漏水", search.parse("水龙头 漏水")) == "<mark>水龙头</mark>一直<mark>漏水</mark>"


def test_highlight_folds_width_and_keeps_numbers_whole():
    html = search.highlight("Ｂ座1301和1-2-301", search.parse("b 301"))
    assert html == "<mark>Ｂ</mark>座1301和1-2-<mark>301</mark>"
    assert search.highlight("1-2-301漏水", search.parse("1-2-301")) == "<mark>1-2-301</mark>漏水"


def test_highlight_cuts_an_excerpt_around_the_first_match():
    text = "甲" * 100 + "漏水" + "乙" * 100
    html = search.highlight(text, search.parse("漏水"), limit=40, before=5)
    assert html == "…" + "甲" * 5 + "<mark>漏水</mark>" + "乙" * 33 + "…"
    assert search.highlight("<b>", None) == "&lt;b&gt;"
    # A short text still starts near its match: the table cell shows only its beginning.
    assert (
        search.highlight("今天早上厨房水龙头开始漏水", search.parse("漏水"), limit=80, before=2)
        == "…开始<mark>漏水</mark>"
    )


# --- storage ------------------------------------------------------------------------------


@sqlite_only
def test_sqlite_keeps_an_fts5_table_in_step_by_triggers(world):
    ticket(world, "消防通道被占用")
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'tickets_ticketsearch'")
        assert {row[0] for row in cursor.fetchall()} == {
            "tickets_ticketsearch_ai",
            "tickets_ticketsearch_ad",
            "tickets_ticketsearch_au",
        }
        # FTS5 compares its index with the content table; an index out of step fails here.
        cursor.execute(f"INSERT INTO {search.FTS_TABLE}({search.FTS_TABLE}, rank) VALUES ('integrity-check', 1)")


def _fts_data_rows(cursor):
    cursor.execute(f"SELECT count(*) FROM {search.FTS_TABLE}_data")
    return cursor.fetchone()[0]


def _fts_data_statistic(cursor):
    cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = %s", [f"{search.FTS_TABLE}_data"])
    return int(cursor.fetchone()[0].split()[0])


@sqlite_only
def test_a_rebuild_leaves_sqlite_statistics_of_the_index_as_it_is(world):
    # The statistics of a database analysed while its index was nearly empty: planned on
    # them, FTS5's deletes of merged segments scanned the whole segment table.
    ticket(world, "电梯困人请速来")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
        stale = _fts_data_statistic(cursor)
        for number in range(40):
            ticket(world, f"{number + 1} 号楼地下车库照明灯不亮")
        search.reindex_all()
        rows = _fts_data_rows(cursor)
        assert rows > stale
        assert _fts_data_statistic(cursor) == rows
        cursor.execute(f"EXPLAIN QUERY PLAN DELETE FROM {search.FTS_TABLE}_data WHERE id >= %s AND id <= %s", [1, 2])
        assert "SEARCH" in cursor.fetchone()[3]


@pytest.mark.postgres
def test_postgresql_keeps_a_generated_tsvector_with_a_gin_index(world):
    t = ticket(world, "消防通道被占用")
    with connection.cursor() as cursor:
        cursor.execute("SELECT vector::text FROM tickets_ticketsearch WHERE ticket_id = %s", [t.pk])
        vector = cursor.fetchone()[0]
        assert all(f"'{word}'" in vector for word in search.segment("消防通道被占用").split())
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'tickets_ticketsearch_vector'")
        assert "USING gin (vector)" in cursor.fetchone()[0]


@pytest.mark.postgres
def test_a_rebuild_leaves_planner_statistics_of_the_new_words(world):
    # ANALYZE inside the test's transaction samples its own new rows; autovacuum cannot see them.
    for _ in range(3):
        ticket(world, "电梯困人请速来")
    search.reindex_all()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_elems::text FROM pg_stats "
            "WHERE tablename = 'tickets_ticketsearch' AND attname = 'vector'"
        )
        row = cursor.fetchone()
    assert row is not None and "电梯" in (row[0] or "")

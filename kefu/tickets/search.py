"""Full-text search over tickets in Chinese, on SQLite and PostgreSQL (docs/decisions/0005).

Words. ``segment`` folds full-width to half-width and upper to lower case (NFKC), keeps the
runs of letters and digits, and has jieba cut each run with its dictionary alone (no HMM
guessing, so one string always cuts the same way, in a document and in a query). Every
word of three or more characters also gives its dictionary sub-words, as jieba's search
mode does (水龙头 → 龙头), listed after the text's own words so that a phrase of those words
still finds them side by side.

Documents. One ``TicketSearch`` row per ticket holds the words of its number, site, contact,
customer, rooms, content, repair notes and timeline notes, written in the transaction of
every change that alters them: intake, a note or any event with text (``_event`` calls
``index_note``), a change of a searched column (``_apply`` calls ``index_tickets``), and a
customer renamed or given other rooms (the customers hook list). ``reindex_all`` rebuilds
everything in batches (``kefu reindex``).

Queries. ``parse`` cuts the query the same way; every term must match (AND); a quoted text,
a room (1-2-301) or a run of single characters (张 三) is a phrase. ``search`` narrows a
ticket queryset — already in the user's data scope — to the matches, annotated with
``search_rank`` (higher is better: bm25 on SQLite, ts_rank on PostgreSQL). Nothing the user
types reaches the database except as the words it contains.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import sys
import threading
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connections, transaction
from django.db.models import Case, FloatField, QuerySet, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kefu.core.prefetch import kept
from kefu.customers.models import Customer, CustomerUnit, Unit
from kefu.customers.queries import parse_room

from .models import Ticket, TicketEvent, TicketQuerySet, TicketSearch

if TYPE_CHECKING:
    import jieba

FTS_TABLE = "tickets_ticketsearch_fts"
# The ordinary tables FTS5 keeps the index in (segments, term index, sizes, settings).
FTS_SHADOW_TABLES = tuple(f"{FTS_TABLE}_{part}" for part in ("data", "idx", "docsize", "config"))

# Timeline entries whose text the system writes itself (rules, sweeps, auto-dispatch): not
# what anyone searches for, and the same words on most tickets.
SKIPPED_EVENTS = frozenset({"dispatch", "escalated", "major", "warning", "warning_revoked"})
# Ticket columns a search document is made of: a write of any of them rebuilds the document.
SEARCHED_FIELDS = frozenset(
    {"number", "site", "site_id", "contact_name", "customer", "customer_id", "unit", "unit_id", "content", "work_notes"}
)
# A customer's tickets are re-indexed inside the customer's transaction up to this many;
# beyond, by the worker just after it commits.
INLINE_CUSTOMER_TICKETS = 200

# --- words ------------------------------------------------------------------------------------

_RUN = re.compile(r"[^\W_]+")  # letters and digits of any script; everything else separates
_CACHED_RUN = 64  # runs up to this long are cut once per process (the same phrases recur)

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _import_jieba() -> Any:
    # jieba 0.42 imports pkg_resources only to open its own data files, and falls back to
    # open() without it; blocking that import spares each process ~170 ms and ~8 MB.
    blocked = "pkg_resources" not in sys.modules
    if blocked:
        sys.modules["pkg_resources"] = None  # type: ignore[assignment]
    try:
        import jieba
    finally:
        if blocked:
            del sys.modules["pkg_resources"]
    # jieba logs its progress to stderr at DEBUG, and a failed cache write as an error.
    jieba.setLogLevel(logging.CRITICAL)
    return jieba


def cache_dir() -> str:
    """Where the word list is kept between processes (``wordlist``). Never the system temp
    dir while the data dir can be written."""
    path = os.path.join(settings.DATA_DIR, "cache")
    with contextlib.suppress(OSError):
        os.makedirs(path, exist_ok=True)
    return path


def load_tokenizer(cache: str) -> jieba.Tokenizer:
    """A jieba tokenizer with jieba's default dictionary as a 2 MB memory-mapped word list
    (``wordlist``, decision 0011) built once into ``cache``. jieba downloads nothing."""
    from . import wordlist

    return wordlist.compact_tokenizer(_import_jieba(), wordlist.load(cache))


def tokenizer() -> jieba.Tokenizer:
    """The process's tokenizer, loaded on first use: a process that never indexes nor
    searches never pays for it."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = load_tokenizer(cache_dir())
    return _tokenizer


def normalize(text: str) -> str:
    """Full-width → half-width, compatibility forms → plain (NFKC), then lower case."""
    return unicodedata.normalize("NFKC", text).lower()


def _cut_run(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    cutter = tokenizer()
    words = tuple(cutter.cut(run, HMM=False))
    freq = cutter.FREQ
    extra: list[str] = []
    for word in words:
        size = len(word)
        if size > 2:
            extra.extend(word[i : i + 2] for i in range(size - 1) if freq.get(word[i : i + 2]))
        if size > 3:
            extra.extend(word[i : i + 3] for i in range(size - 2) if freq.get(word[i : i + 3]))
    return words, tuple(extra)


_cut_cached = lru_cache(maxsize=50_000)(_cut_run)


def _cut(run: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The words of one run of letters and digits, and their sub-words."""
    return _cut_cached(run) if len(run) <= _CACHED_RUN else _cut_run(run)


def words(text: str) -> list[str]:
    """The words of ``text`` in order, without sub-words."""
    return [word for run in _RUN.findall(normalize(text or "")) for word in _cut(run)[0]]


def segment(text: str) -> str:
    """The words of ``text``, space-separated, then the sub-words of its longer words:
    ``segment("厨房水龙头漏水")`` → ``"厨房 水龙头 漏水 水龙 龙头"``."""
    text = text or ""
    return _segment_cached(text) if len(text) <= _CACHED_RUN else _segment(text)


def _segment(text: str) -> str:
    found: list[str] = []
    extra: list[str] = []
    for run in _RUN.findall(normalize(text or "")):
        own, sub = _cut(run)
        found.extend(own)
        extra.extend(sub)
    return " ".join(found + extra)


# Short texts recur whole (site names, the usual notes: 已接单，马上出发).
_segment_cached = lru_cache(maxsize=20_000)(_segment)


# --- documents --------------------------------------------------------------------------------


# The first word of every document names its site (kefusite12): a search by someone who sees
# some sites only asks for one of their sites' words too, so that the full-text index leaves
# the other sites' documents out before any row is read (decision 0009). Not a word anyone
# types; letters and digits, so that FTS5 and PostgreSQL keep it whole.
SITE_WORD = "kefusite"


def site_word(site_id: int) -> str:
    return f"{SITE_WORD}{int(site_id)}"


def compose(
    *,
    number: str,
    site_id: int | None = None,
    site: str = "",
    contact_name: str = "",
    customer: str = "",
    rooms: Sequence[str] = (),
    content: str = "",
    work_notes: str = "",
    notes: Sequence[str] = (),
) -> str:
    """A ticket's search document from its texts, in a fixed order, after the word of its
    site; notes come last, in timeline order, so that ``index_note`` can append a new one."""
    names = [contact_name] if contact_name == customer else [contact_name, customer]
    parts = [number, site, *names, *dict.fromkeys(rooms), content, work_notes, *notes]
    words = [site_word(site_id)] if site_id is not None else []
    return " ".join(filter(None, (*words, *(segment(part) for part in parts if part))))


def _room(building: str | None, entrance: str | None, room: str | None) -> str:
    """``Unit.label`` from the columns (1-2-301, or 5-1201 without an entrance)."""
    if not building:
        return ""
    return "-".join([building, entrance, room or ""] if entrance else [building, room or ""])


def _unit_room(unit: Unit) -> str:
    return _room(unit.building, unit.entrance, unit.room)


def _customer_rooms(customer_ids: set[int]) -> dict[int, list[str]]:
    """The room labels of each customer's units, in the order they were linked (one query)."""
    rooms: dict[int, list[str]] = defaultdict(list)
    if customer_ids:
        links = (
            CustomerUnit.objects.filter(customer_id__in=customer_ids)
            .order_by("customer_id", "id")
            .values_list("customer_id", "unit__building", "unit__entrance", "unit__room")
        )
        for customer_id, *unit in links:
            rooms[customer_id].append(_room(*unit))
    return rooms


def documents(ids: Sequence[int]) -> dict[int, str]:
    """The search documents of the tickets ``ids`` (those that exist), in three queries."""
    rows = list(
        Ticket.objects.filter(pk__in=ids)
        .order_by("pk")
        .values_list(
            "id",
            "number",
            "site_id",
            "site__name",
            "contact_name",
            "customer_id",
            "customer__name",
            "unit__building",
            "unit__entrance",
            "unit__room",
            "content",
            "work_notes",
        )
    )
    notes: dict[int, list[str]] = defaultdict(list)
    events = (
        TicketEvent.objects.filter(ticket_id__in=[row[0] for row in rows])
        .exclude(note="")
        .exclude(type__in=SKIPPED_EVENTS)
        .order_by("ticket_id", "at", "id")
        .values_list("ticket_id", "note")
    )
    for ticket_id, note in events:
        notes[ticket_id].append(note)
    rooms = _customer_rooms({row[5] for row in rows if row[5] is not None})
    result = {}
    for pk, number, site_id, site, contact, customer_id, customer, building, entrance, room, content, work in rows:
        result[pk] = compose(
            number=number,
            site_id=site_id,
            site=site,
            contact_name=contact,
            customer=customer or "",
            rooms=[_room(building, entrance, room), *rooms.get(customer_id, [])],
            content=content,
            work_notes=work,
            notes=notes.get(pk, []),
        )
    return result


def ticket_document(ticket: Ticket) -> str:
    """What ``ticket`` is found by, as the index holds it."""
    return documents([ticket.pk]).get(ticket.pk, "")


def index_tickets(*, ids: Iterable[int], batch: int = 2000) -> int:
    """(Re)write the search documents of the tickets ``ids``; rows already right are left
    alone. Returns how many rows were written. Five queries per ``batch`` tickets."""
    pending = list(dict.fromkeys(ids))
    written = 0
    for start in range(0, len(pending), batch):
        chunk = pending[start : start + batch]
        docs = documents(chunk)
        current = dict(TicketSearch.objects.filter(ticket_id__in=list(docs)).values_list("ticket_id", "document"))
        changed = [TicketSearch(ticket_id=pk, document=doc) for pk, doc in docs.items() if current.get(pk) != doc]
        if changed:
            # One statement inserts the new rows and rewrites the changed ones; the FTS5
            # triggers (SQLite) or the generated column (PostgreSQL) follow. In id order:
            # FTS5 writes its pending words to disk whenever a rowid comes out of order,
            # which made a rebuild 3–5× slower.
            TicketSearch.objects.bulk_create(
                changed, batch_size=500, update_conflicts=True, unique_fields=["ticket"], update_fields=["document"]
            )
        written += len(changed)
    return written


@dataclass(frozen=True)
class NewDocument:
    """The search document of a ticket about to be taken, segmented before its number is
    drawn: the words of everything but the number (``compose``'s order), so that the write
    transaction, which holds SQLite's one write lock, only adds the number's and inserts."""

    site_id: int
    rest: str

    def with_number(self, number: str) -> str:
        return " ".join(filter(None, (site_word(self.site_id), segment(number), self.rest)))


def new_document(ticket: Ticket, *, notes: Sequence[str] = ()) -> NewDocument:
    """The document of ``ticket`` (not saved yet) from the ticket and the rows it holds (site,
    customer, unit), with one query for the customer's rooms (none when their unit links
    were read along, ``customer_with_units``), where ``index_tickets`` reads the ticket
    back with its notes (four). ``notes``: what its intake writes to the timeline
    with words (an inquiry's answer); the notes that follow are appended (``index_note``).
    With the number, the document is the one ``documents`` builds."""
    customer = ticket.customer
    unit = ticket.unit if ticket.unit_id is not None else None
    rooms = [_unit_room(unit) if unit is not None else ""]
    if customer is not None and kept(customer, "unit_links"):
        rooms += [_unit_room(link.unit) for link in customer.unit_links.all()]
    elif customer is not None:
        rooms += _customer_rooms({customer.pk}).get(customer.pk, [])
    rest = compose(
        number="",
        site=ticket.site.name,
        contact_name=ticket.contact_name,
        customer=customer.name if customer is not None else "",
        rooms=rooms,
        content=ticket.content,
        work_notes=ticket.work_notes,
        notes=notes,
    )
    return NewDocument(ticket.site_id, rest)


def index_new_ticket(ticket: Ticket, document: NewDocument) -> None:
    """Write the document of a ticket just taken (one INSERT)."""
    TicketSearch.objects.create(ticket_id=ticket.pk, document=document.with_number(ticket.number))


def index_note(*, ticket_id: int, text: str) -> None:
    """Add the words of a new timeline note to its ticket's document (one UPDATE); a ticket
    not indexed yet gets its whole document."""
    found = segment(text)
    if not found:
        return
    updated = TicketSearch.objects.filter(ticket_id=ticket_id).update(document=Concat("document", Value(" " + found)))
    if not updated:
        index_tickets(ids=[ticket_id])


def reindex_all(*, batch: int = 2000, missing: bool = False, progress: Callable[[int, int], None] | None = None) -> int:
    """Rebuild every ticket's document (with ``missing``, only of the tickets that have none:
    the rest of a rebuild that was stopped), ``batch`` tickets at a time in id order (never
    all in memory); each batch is its own transaction unless the caller holds one. Documents
    of tickets that no longer exist go with them (on delete cascade). Returns the rows
    written; ``progress(done, total)`` is called after each batch."""
    tickets = Ticket.objects.filter(search_document__isnull=True) if missing else Ticket.objects.all()
    total = tickets.count()
    done = written = 0
    last = 0
    with _big_page_cache():
        while True:
            ids = list(tickets.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
            if not ids:
                break
            with transaction.atomic():
                written += index_tickets(ids=ids, batch=batch)
            done += len(ids)
            last = ids[-1]
            if progress is not None:
                progress(done, total)
    _analyze()
    return written


def _analyze() -> None:
    """Fresh planner statistics for the rewritten documents, on either database.

    PostgreSQL: without them (a rebuild is faster than autovacuum's next look) a rare word's
    search walked the newest-first index testing each row until 50 matched: 852 ms, against
    17 ms through the GIN index once analysed (1M tickets).

    SQLite: FTS5 keeps its index in ordinary tables, planned by their statistics like any
    other. Statistics taken while the index was empty (an ANALYZE of a freshly loaded
    database) said its segment table held 2 rows; FTS5's ``DELETE … WHERE id BETWEEN`` of
    each merged segment was then planned as a scan of the whole table (190 MB at 1M tickets),
    and every 16th ticket taken waited 0.7–1 s for the merge its commit set off. Measured in
    bench/RESULTS.md. A few hundred milliseconds for a million rows."""
    connection = connections["default"]
    if connection.vendor == "postgresql":
        tables = [TicketSearch._meta.db_table]
    elif connection.vendor == "sqlite":
        tables = [TicketSearch._meta.db_table, *FTS_SHADOW_TABLES]
    else:
        return
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"ANALYZE {table}")


@contextlib.contextmanager
def _big_page_cache() -> Iterator[None]:
    """On SQLite, 128 MB of page cache for the rebuild instead of the default 2 MB: the reads of
    tickets and notes otherwise push the FTS5 index's pages out between batches (20 % faster
    at 200,000 tickets, a sixth of the system time). Put back afterwards."""
    connection = connections["default"]
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = int(cursor.fetchone()[0])
        cursor.execute("PRAGMA cache_size = -131072")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {before}")


def index_customer(*, customer_id: int) -> int:
    """Re-index the tickets of one customer (renamed, or other rooms)."""
    ids = list(Ticket.objects.filter(customer_id=customer_id).values_list("pk", flat=True))
    return index_tickets(ids=ids)


def on_customer_update(*, customer: Customer, changed: frozenset[str]) -> None:
    """Hook of ``customer_update`` (``customers.hooks``): the customer's name and rooms are
    in their tickets' documents."""
    if not changed & {"name", "units"}:
        return
    ids = list(Ticket.objects.filter(customer=customer).values_list("pk", flat=True)[: INLINE_CUSTOMER_TICKETS + 1])
    if len(ids) <= INLINE_CUSTOMER_TICKETS:
        index_tickets(ids=ids)
        return
    from .tasks import reindex_customer

    transaction.on_commit(lambda: reindex_customer(customer.pk))


# --- queries ----------------------------------------------------------------------------------

MAX_QUERY = 200  # characters of a query that count
# Ranking reads every hit: bm25 costs FTS5 ~2 µs a hit, ts_rank with the row's tsvector
# ~13 µs on PostgreSQL. Past this many hits ranking alone would take longer than the page may,
# and the best of thousands of equally plain matches is not much better than the newest, so
# such a query lists its hits newest first (highest id first), which both databases answer
# from the index in a few milliseconds. Counted within the reader's sites (``SITE_WORD``).
# SQLite's was 50,000 (decision 0005): at 1M tickets ranking 37,000 hits took FTS5 120–300
# ms. PostgreSQL now counts the hits of a query up to its limit (decision 0009).
RANK_LIMIT = {"sqlite": 20_000, "postgresql": 5_000}
MAX_TERMS = 12
MAX_PHRASE = 8

_QUOTED = re.compile(r'"([^"]*)"|“([^”]*)”|「([^」]*)」')
# A code or address written with separators: 1-2-301, bx-20261122-0007, a/b.
_CODE = re.compile(r"^[0-9a-z]+(?:[-_/.:#][0-9a-z]+)+$")


@dataclass(frozen=True)
class SearchQuery:
    """What a query asks for: terms that must all match; a term of several words is a
    phrase (the words side by side)."""

    terms: tuple[tuple[str, ...], ...]
    # When not empty: the document must also be of one of these sites (its ``site_word``).
    sites: tuple[int, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.terms)

    def within(self, sites: Iterable[int] | None) -> SearchQuery:
        """The same terms, asked only of the documents of ``sites`` (None: of every site)."""
        return SearchQuery(self.terms, tuple(sorted(set(sites))) if sites is not None else ())

    def fts5(self) -> str:
        # Each term a quoted FTS5 string: AND, OR, NEAR, *, : or ( inside are plain words.
        found = " AND ".join('"' + " ".join(term) + '"' for term in self.terms)
        if self.sites:
            found += " AND (" + " OR ".join(f'"{site_word(site)}"' for site in self.sites) + ")"
        return found

    def tsquery(self) -> str:
        def lexeme(word: str) -> str:
            return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"

        found = " & ".join("(" + " <-> ".join(lexeme(w) for w in term) + ")" for term in self.terms)
        if self.sites:
            found += " & (" + " | ".join(lexeme(site_word(site)) for site in self.sites) + ")"
        return found


def parse(text: str) -> SearchQuery:
    """The terms of a query as the user typed it (see the module docstring)."""
    raw = normalize(text or "").strip()[:MAX_QUERY]
    terms: list[tuple[str, ...]] = []

    def phrase(part: str) -> None:
        found = words(part)
        if found:
            terms.append(tuple(found[:MAX_PHRASE]))

    def loose(part: str) -> None:
        for chunk in part.split():
            room = parse_room(chunk)
            if room is not None or _CODE.match(chunk):
                phrase("-".join(p for p in room if p) if room else chunk)
                continue
            run: list[str] = []  # single characters side by side: 漏了, 张 三 → a phrase
            for word in words(chunk):
                if len(word) == 1:
                    run.append(word)
                    continue
                if run:
                    terms.append(tuple(run[:MAX_PHRASE]))
                    run = []
                terms.append((word,))
            if run:
                terms.append(tuple(run[:MAX_PHRASE]))

    position = 0
    for match in _QUOTED.finditer(raw):
        loose(raw[position : match.start()])
        phrase(next(group for group in match.groups() if group is not None))
        position = match.end()
    loose(raw[position:])
    return SearchQuery(terms=tuple(dict.fromkeys(terms))[:MAX_TERMS])


def search(
    qs: TicketQuerySet, text: str, *, also: Sequence[QuerySet[Any]] = (), sites: Iterable[int] | None = None
) -> TicketQuerySet:
    """The tickets of ``qs`` that match ``text``, or are among ``also`` (querysets of ticket
    ids: exact matches by number, phone, room), best first, annotated with ``search_rank``
    (higher is better). Blank text filters nothing. A later ``order_by`` replaces the order.
    ``sites``: the sites ``qs`` is limited to (None: every site), asked of the index too, so
    that the other sites' documents are left out there, and counted out of the ranking.

    Without ``also`` the full-text index is joined and the database ranks the hits (bm25 on
    SQLite, ts_rank on PostgreSQL); a query with more than ``RANK_LIMIT`` hits is listed
    newest first instead. With ``also`` the candidates are one
    UNION of id lists; the exact matches come first, then the rest, newest first."""
    if not (text or "").strip():
        return qs
    query = parse(text)
    scoped = query.within(sites)
    vendor = connections[qs.db].vendor
    newest = ("-created_at", "-id")
    if also:
        exact = [_ids_sql(q) for q in also]
        parts = [*exact, _hits_sql(vendor, scoped)] if query else exact
        rank = Case(When(pk__in=_union(exact), then=Value(1.0)), default=Value(0.0), output_field=FloatField())
        return qs.filter(pk__in=_union(parts)).annotate(search_rank=rank).order_by("-search_rank", *newest)
    if not query:
        return qs.annotate(search_rank=Value(0.0, output_field=FloatField())).none()
    ticket = Ticket._meta.db_table
    if vendor == "sqlite":
        # extra() is the one way to join a table Django has no model for; the words are a
        # parameter. (Not for a queryset used as a subquery: Django would re-alias the tables.)
        hits = _hit_count(qs.db, scoped, RANK_LIMIT["sqlite"] + 1)
        ranked = hits <= RANK_LIMIT["sqlite"]
        found = qs.order_by().extra(
            tables=[FTS_TABLE],
            where=[f"{FTS_TABLE}.rowid = {ticket}.id", f"{FTS_TABLE} MATCH %s"],
            params=[scoped.fts5()],
            # bm25 counts the documents of each word on its first call: 130 ms for a word on
            # 600,000 of them, for a page listed newest first that shows no rank.
            select={"search_rank": f"-{FTS_TABLE}.rank" if ranked else "0.0"},
        )
        if not hits:
            return found.none()  # type: ignore[return-value]
        # FTS5 sorts by its own rank, or by rowid, when that is the whole ORDER BY, and the
        # join then stops after a page; with tie-breakers SQLite would sort every joined row
        # (2–3× slower at 180,000 hits). Ties keep FTS5's order.
        order = f"{FTS_TABLE}.rank" if ranked else f"-{FTS_TABLE}.rowid"
        return found.extra(order_by=[order])  # type: ignore[return-value]
    if vendor == "postgresql":
        table = TicketSearch._meta.db_table
        tsquery = scoped.tsquery()
        limit = RANK_LIMIT["postgresql"]
        hits = _estimated_hits(qs.db, tsquery)
        if hits < COUNT_LIMIT:
            # The planner takes the words of a query as independent: a phrase of words that
            # go together (a site's name: 137,000 hits) is estimated at a few thousand and was
            # ranked in full (4 s at 1M); a word found at other sites only is estimated at
            # thousands with the site's word, and the newest-first walk then read every
            # ticket of the site for none (2.5 s). The index itself knows: count, up to the
            # limit (a bitmap from the GIN index, then at most limit + 1 rows).
            hits = _counted_hits(qs.db, tsquery, limit + 1)
            if not hits:
                return qs.annotate(search_rank=Value(0.0, output_field=FloatField())).none()
        if hits > limit:
            # Newest first: the tickets walked backwards by id, each document checked, until a
            # page is found. Written as a function call, which the planner cannot answer from
            # the GIN index and does not estimate from its statistics: with the operator it
            # took the (low) estimate of a phrase, read every hit from the index and sorted
            # them all (137,000 for a site's name: 2 s).
            walked = f"ts_match_vq({table}.vector, to_tsquery('simple', %s))"
            found = qs.extra(
                tables=[table],
                where=[f"{table}.ticket_id = {ticket}.id", walked],
                params=[tsquery],
                select={"search_rank": "0.0"},
            ).order_by("-id")
            # Counted (up to a cap, with no order) the GIN index is the quick way, and the
            # planner's low estimate of a phrase no longer matters: the operator, for the count.
            found.count_condition = (walked, f"{table}.vector @@ to_tsquery('simple', %s)")  # type: ignore[attr-defined]
            return found  # type: ignore[return-value]
        found = qs.extra(
            tables=[table],
            where=[f"{table}.ticket_id = {ticket}.id", f"{table}.vector @@ to_tsquery('simple', %s)"],
            params=[tsquery],
            select={"search_rank": f"ts_rank({table}.vector, to_tsquery('simple', %s))"},
            select_params=[tsquery],
        )
        return found.order_by("-search_rank", *newest)  # type: ignore[return-value]
    # Any other database: every word as a substring of the document (slow, but right).
    for term in query.terms:
        qs = qs.filter(search_document__document__contains=" ".join(term))
    return qs.annotate(search_rank=Value(0.0, output_field=FloatField())).order_by(*newest)


# PostgreSQL: past this estimate the hits are not counted: a word on so many documents (the
# estimate of one word is good; of several it is low, not high) is dense enough in any site
# for the newest-first walk, and its bitmap would cost more than the walk.
COUNT_LIMIT = 60_000


def _estimated_hits(using: str, tsquery: str) -> int:
    """PostgreSQL's own estimate of the hits (the planner's lexeme statistics, kept by
    autovacuum's ANALYZE): about right, and about a millisecond where counting would read
    every hit's row."""
    table = TicketSearch._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {table} WHERE vector @@ to_tsquery('simple', %s)", [tsquery]
        )
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


def _counted_hits(using: str, tsquery: str, limit: int) -> int:
    """The hits, up to ``limit``, counted from the GIN index: a bitmap of the documents that
    hold every word, then at most ``limit`` of their rows. Sequential scans are off for that
    one statement: with a LIMIT the planner would read the table from the start, expecting
    the estimated hits to come soon, and read all of it for a word that is on none. One
    round trip."""
    from psycopg import sql

    table = TicketSearch._meta.db_table
    connection = connections[using]
    with connection.cursor() as cursor:
        # The values quoted by the driver itself: three statements go in one round trip
        # whichever binding the connection uses (with server-side binding a statement with
        # parameters must travel alone).
        count = sql.SQL(
            "SET enable_seqscan = off; "
            "SELECT count(*) FROM (SELECT 1 FROM {table} "
            "WHERE vector @@ to_tsquery('simple', {words}) LIMIT {limit}) hits; "
            "RESET enable_seqscan"
        ).format(table=sql.Identifier(table), words=sql.Literal(tsquery), limit=sql.Literal(int(limit)))
        cursor.execute(count.as_string(connection.connection))
        cursor.nextset()
        return int(cursor.fetchone()[0])


def _hit_count(using: str, query: SearchQuery, limit: int) -> int:
    """How many documents match (within the query's sites), up to ``limit``: FTS5 counts
    without ranking, and stops there (a word on 600,000 documents took 170 ms to count in
    full)."""
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s LIMIT %s)",
            [query.fts5(), limit],
        )
        return int(cursor.fetchone()[0])


def _ids_sql(qs: QuerySet[Any]) -> tuple[str, list[Any]]:
    # No ORDER BY: SQLite refuses one inside a UNION.
    sql, params = qs.order_by().values_list("pk").query.sql_with_params()
    return sql, list(params)


def _union(parts: Sequence[tuple[str, list[Any]]]) -> RawSQL:
    return RawSQL(" UNION ".join(sql for sql, _ in parts), [p for _, params in parts for p in params])


def _hits_sql(vendor: str, query: SearchQuery) -> tuple[str, list[Any]]:
    if vendor == "sqlite":
        return f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s", [query.fts5()]
    if vendor == "postgresql":
        table = TicketSearch._meta.db_table
        return f"SELECT ticket_id FROM {table} WHERE vector @@ to_tsquery('simple', %s)", [query.tsquery()]
    inner = TicketSearch.objects.all()
    for term in query.terms:
        inner = inner.filter(document__contains=" ".join(term))
    sql, params = inner.order_by().values_list("ticket_id").query.sql_with_params()
    return sql, list(params)


# --- highlighting -----------------------------------------------------------------------------

_ASCII = re.compile(r"[0-9a-z]")


def _pattern(query: SearchQuery) -> re.Pattern[str] | None:
    alternatives = []
    for term in query.terms:
        body = r"[\W_]*".join(re.escape(word) for word in term)
        # A Latin word or a number matches whole (301 not inside 1301); Chinese has no spaces.
        if _ASCII.match(term[0][0]):
            body = r"(?<![0-9a-z])" + body
        if _ASCII.match(term[-1][-1]):
            body += r"(?![0-9a-z])"
        alternatives.append((sum(map(len, term)), body))
    if not alternatives:
        return None
    return re.compile("|".join(body for _, body in sorted(alternatives, reverse=True)))


def highlight(text: str, query: SearchQuery | None, *, limit: int = 0, before: int = 16) -> SafeString:
    """``text`` escaped, with each match of ``query`` in ``<mark>``. With ``limit``, an
    excerpt of at most that many characters, from ``before`` characters ahead of the first
    match (a table cell shows only its start)."""
    text = text or ""
    pattern = _pattern(query) if query else None
    # Match on the folded text, mark the original: map every folded character back.
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in normalize(char):
            folded.append(piece)
            origin.append(index)
    origin.append(len(text))
    spans: list[tuple[int, int]] = []
    if pattern is not None:
        for found in pattern.finditer("".join(folded)):
            left, right = origin[found.start()], origin[found.end()]
            if right <= left:
                continue
            if spans and left <= spans[-1][1]:  # 张 + 业主 side by side: one mark
                spans[-1] = (spans[-1][0], right)
            else:
                spans.append((left, right))
    start, end = 0, len(text)
    if limit:
        if spans and spans[0][0] > before:
            start = spans[0][0] - before
        end = min(len(text), start + limit)
    out: list[str] = ["…"] if start else []
    cursor = start
    for left, right in spans:
        left, right = max(left, cursor), min(right, end)
        if left >= right:
            continue
        out.append(escape(text[cursor:left]))
        out.append(f"<mark>{escape(text[left:right])}</mark>")
        cursor = right
    out.append(escape(text[cursor:end]))
    if end < len(text):
        out.append("…")
    return mark_safe("".join(out))  # every piece of ``text`` went through escape()

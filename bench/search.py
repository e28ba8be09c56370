"""Chinese full-text search at scale: server time of the ticket list's search and of the global
search page, and whether they find the right tickets.

    DATABASE_URL=… .venv/bin/python bench/search.py [--runs 2] [--anchor 2026-12-02] [--smoke]

Run after ``kefu bench-seed`` and ``kefu reindex``. The queries are ``bench/search_corpus.py``'s,
drawn from the data with a fixed seed: words of the generator's vocabulary, sub-words, the
most common and rare words of a random sample of documents, the numbers, phones, rooms,
customer names and phrases of random tickets of the first site, two words of one content,
words found only at other sites, words the data cannot hold.

Each query is asked by two readers through Django's test ``Client`` in this process: an
agent of the first site and a director (every site). Once, checked (the cold read): the list
page ``/tickets/?q=…&size=50`` answers 200; every row is in the reader's scope and its
stored document holds every term of the query, word by word (or the row is an exact match of
the number, phone or room asked); stored documents are what the tickets say now; the ticket
the query was drawn from is among the hits (a number's ticket on the first page); over the
sample documents in scope, the hits are exactly those a brute-force word match finds (so 水管
is not found by 水 … 管 apart, and 龙头 finds 水龙头); the absent words find nothing, a word of
other sites only nothing for the agent and something for the director; the global search
page answers 200 with rows that hold the query. Then ``--runs`` timed reads of both pages;
the figures are p50/p95 of those, against the issue's targets (p50 ≤ 150 ms, p95 ≤ 500 ms).
Nothing is written (signed-cookie sessions, no ``last_login``).
"""

from __future__ import annotations

import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass

from common import Report, Timings, parser, setup_django

setup_django()

import search_corpus  # noqa: E402
from django.conf import settings  # noqa: E402
from django.contrib.auth.models import update_last_login  # noqa: E402
from django.contrib.auth.signals import user_logged_in  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from search_corpus import Query, Sample  # noqa: E402

from kefu.core.phones import normalize  # noqa: E402
from kefu.customers.models import Unit  # noqa: E402
from kefu.customers.queries import parse_room  # noqa: E402
from kefu.org.models import Role, Site, Staff  # noqa: E402
from kefu.tickets import search  # noqa: E402
from kefu.tickets.models import Ticket, TicketQuerySet, TicketSearch  # noqa: E402
from kefu.tickets.queries import exact_matches, search_tickets, tickets_for  # noqa: E402

P50_TARGET, P95_TARGET = 0.150, 0.500
SEED = 20240601
SIZE = 50

_ROW = re.compile(r'data-ticket="([^"]+)">\s*<td><a href="/tickets/(\d+)/"')
_TOTAL = re.compile(r"共\s*([\d,]+)(\+?)\s*条")


@dataclass
class Reader:
    label: str
    staff: Staff
    client: Client
    sites: set[int]

    def scope(self) -> TicketQuerySet:
        return tickets_for(self.staff)


def readers(site: Site) -> list[Reader]:
    found = []
    for label, qs in (
        ("agent", Staff.objects.filter(role=Role.AGENT, sites=site)),
        ("director", Staff.objects.filter(role=Role.DIRECTOR)),
    ):
        staff = qs.filter(is_active=True, user__is_active=True).select_related("user").order_by("id").first()
        assert staff is not None, f"no {label} in the data"
        client = Client()
        client.force_login(staff.user)
        sites = set(Site.objects.filter(is_active=True).values_list("id", flat=True))
        if staff.role != Role.DIRECTOR:
            sites = set(staff.sites.filter(is_active=True).values_list("id", flat=True))
        found.append(Reader(label, staff, client, sites))
    return found


def get(reader: Reader, path: str, q: str) -> tuple[int, str, float]:
    params = {"q": q, "size": str(SIZE)} if path == "/tickets/" else {"q": q}
    started = time.perf_counter()
    response = reader.client.get(path, params)
    return response.status_code, response.content.decode(), time.perf_counter() - started


def exact_ids(text: str, ids: list[int]) -> set[int]:
    """Which of ``ids`` are exact matches of ``text`` (number, phone, room), by plain lookups."""
    q = text.strip()
    cond = Q(number=q.upper())
    phone = normalize(q)
    if phone.replace("-", "").isdigit() and len(phone.replace("-", "")) >= 7:
        cond |= Q(contact_phone=phone) | Q(customer__phones__number=phone)
    elif q.isdigit() and len(q) == 4:
        cond |= Q(customer__phones__last4=q)
    room = parse_room(q)
    if room is not None:
        units = Unit.objects.filter(building=room[0], entrance=room[1], room=room[2])
        cond |= Q(unit__in=units) | Q(customer__unit_links__unit__in=units)
    return set(Ticket.objects.filter(cond, pk__in=ids).values_list("pk", flat=True))


def rows_without_the_words(
    reader: Reader, query: Query, parsed: search.SearchQuery, ids: list[int]
) -> tuple[dict[int, str], list[int]]:
    """The stored documents of the rows shown (in the reader's scope), and the rows that are
    out of scope or neither an exact match nor holding the query's words."""
    stored = dict(
        TicketSearch.objects.filter(ticket_id__in=ids, ticket__site_id__in=reader.sites).values_list(
            "ticket_id", "document"
        )
    )
    exact = exact_ids(query.text, ids) if exact_matches(query.text) else set()
    wrong = [
        pk
        for pk in ids
        if pk not in stored or (pk not in exact and not search_corpus.holds(stored[pk].split(), parsed))
    ]
    return stored, wrong


def check_query(report: Report, reader: Reader, query: Query, body: str, status: int, sample: Sample) -> None:
    where = f"{reader.label} · {query.kind} · {query.text}"
    parsed = search.parse(query.text)
    if not report.check(status == 200, f"{where}: list 200 (got {status})"):
        return
    ids = [int(pk) for _, pk in _ROW.findall(body)]
    total = _TOTAL.search(body)
    stored, wrong = rows_without_the_words(reader, query, parsed, ids)
    report.check(not wrong, f"{where}: {len(ids)} rows, each in scope and holding the words (wrong: {wrong[:5]})")
    if ids:
        fresh = search.documents(ids)
        report.check(fresh == {pk: stored[pk] for pk in ids if pk in stored}, f"{where}: stored documents are current")
    scope = reader.scope()
    if query.none or (query.none_at_site is not None and query.none_at_site in reader.sites and len(reader.sites) == 1):
        shown = int(total.group(1).replace(",", "")) if total else -1
        report.check(not ids and shown == 0, f"{where}: no hits (shows {shown})")
    elif query.none_at_site is not None:
        report.check(bool(ids), f"{where}: hits at the other sites ({len(ids)} on page 1)")
    if query.ticket_id is not None and Ticket.objects.filter(pk=query.ticket_id, site_id__in=reader.sites).exists():
        if query.kind == "number":
            report.check(query.ticket_id in ids, f"{where}: the ticket of that number on page 1")
        else:
            found = search_tickets(scope, {"q": query.text}).filter(pk=query.ticket_id).exists()
            report.check(found, f"{where}: the ticket {query.ticket_id} it was drawn from is among the hits")
    if not exact_matches(query.text):
        in_scope = sample.ids_at(reader.sites)
        hits = set(search_tickets(scope.filter(pk__in=in_scope), {"q": query.text}).values_list("pk", flat=True))
        brute = sample.matching(parsed, reader.sites)
        report.check(
            hits == brute,
            f"{where}: over {len(in_scope)} sample documents, {len(hits)} hits = {len(brute)} brute-force word matches",
        )
    if query.not_hits:
        hits = set(search_tickets(scope.filter(pk__in=query.not_hits), {"q": query.text}).values_list("pk", flat=True))
        report.check(not hits, f"{where}: of {len(query.not_hits)} documents with the characters apart, none found")


def check_global(report: Report, reader: Reader, query: Query, body: str, status: int) -> None:
    where = f"{reader.label} · global · {query.kind} · {query.text}"
    ids = [int(pk) for _, pk in _ROW.findall(body)]
    parsed = search.parse(query.text)
    _, wrong = rows_without_the_words(reader, query, parsed, ids)
    report.check(status == 200 and not wrong, f"{where}: 200, {len(ids)} ticket rows holding the words")


def main() -> int:
    args_parser = parser(__doc__)
    args_parser.add_argument("--runs", type=int, default=2, help="timed reads of each query and page")
    args_parser.add_argument("--tickets", type=int, default=8, help="random tickets the corpus draws queries from")
    args_parser.add_argument("--words", type=int, default=20, help="vocabulary words in the corpus")
    args_parser.add_argument("--sample", type=int, default=3000, help="documents of the brute-force sample")
    args = args_parser.parse_args()
    runs = 1 if args.smoke else args.runs
    tickets, words, each = (1, 2, 1) if args.smoke else (args.tickets, args.words, 5)

    settings.SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
    user_logged_in.disconnect(update_last_login)
    report = Report(f"Chinese search, {SIZE} rows a page", smoke=args.smoke)
    rng = random.Random(SEED)
    site = Site.objects.filter(is_active=True).order_by("id").first()
    assert site is not None, "no site: run kefu bench-seed first"
    started = time.perf_counter()
    search.tokenizer()
    sample = search_corpus.sample(rng, 500 if args.smoke else args.sample)
    corpus = search_corpus.build(rng, sample, site_id=site.pk, tickets=tickets, words=words, each=each)
    kinds = defaultdict(int)
    for query in corpus:
        kinds[query.kind] += 1
    print(
        f"corpus: {len(corpus)} queries ({', '.join(f'{k} {n}' for k, n in kinds.items())}); "
        f"{len(sample.docs)} sample documents; built in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    report.check(
        TicketSearch.objects.count() == Ticket.objects.count(), "every ticket has a search document (kefu reindex)"
    )

    figures: dict[tuple[str, str], Timings] = defaultdict(Timings)
    by_kind: dict[tuple[str, str, str], Timings] = defaultdict(Timings)
    slowest: list[tuple[float, str]] = []
    for reader in readers(site):
        for query in corpus:
            status, body, _ = get(reader, "/tickets/", query.text)
            check_query(report, reader, query, body, status, sample)
            status, body, _ = get(reader, "/search/", query.text)
            check_global(report, reader, query, body, status)
            for page, path in (("list", "/tickets/"), ("global", "/search/")):
                for _ in range(runs):
                    *_, elapsed = get(reader, path, query.text)
                    figures[(reader.label, page)].add(elapsed)
                    by_kind[(reader.label, page, query.kind)].add(elapsed)
                    slowest.append((elapsed, f"{reader.label} · {page} · {query.kind} · {query.text}"))

    print("## by kind of query (p50/p95 of the timed reads)")
    for (label, page, kind), timings in sorted(by_kind.items()):
        report.row(f"{label} · {page} · {kind}", timings.summary_ms())
    print("## slowest reads")
    for elapsed, what in sorted(slowest, reverse=True)[:8]:
        print(f"- {what}: {elapsed * 1000:.0f} ms")
    print("## against the targets")
    for (label, page), timings in figures.items():
        name = "ticket list ?q=" if page == "list" else "global search /search/"
        report.row(
            f"{label} · {name} p50", f"{timings.p50 * 1000:.0f} ms", target="≤ 150 ms", met=timings.p50 <= P50_TARGET
        )
        report.row(
            f"{label} · {name} p95",
            f"{timings.p95 * 1000:.0f} ms ({timings.summary_ms()})",
            target="≤ 500 ms",
            met=timings.p95 <= P95_TARGET,
        )
    return report.finish()


if __name__ == "__main__":
    raise SystemExit(main())

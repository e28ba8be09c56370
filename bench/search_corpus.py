"""The query corpus of ``bench/search.py``: what people type into the ticket search, drawn
from the data itself with a seeded random generator, so that the same seed and data give the
same queries at any size, and each query carries an expectation that can be checked.

Kinds of query (and what must hold for each):

- ``vocabulary``: words of the generator's own texts (``kefu.demo.texts``,
  ``kefu.demo.bench.words``); hits compared with a brute-force count over a sample.
- ``sub-word``: a dictionary sub-word of a longer vocabulary word (龙头 of 水龙头); a sample
  ticket holding only the longer word is among the hits.
- ``common`` / ``rare``: the words on the most sample documents, and words on exactly one of
  them (that ticket is among the hits).
- ``number``, ``phone``, ``room``, ``name + room``, ``name``: of a ticket chosen at random
  (its number, contact phone, room 3-2-1502, customer's name and room); that ticket is among
  the hits (the number's ticket on the first page).
- ``phrase`` (quoted, two or three words side by side in a ticket's content) and ``two words``
  (two words of one content, apart): that ticket is among the hits.
- ``other sites``: a word of another site's name that no document of the first site holds
  (checked with a scan): nothing for a reader of the first site, hits for a director.
- ``absent``: words and a number the data cannot contain: no hits for anyone.
- ``scattered``: a two-character word whose characters also occur apart in some sample
  documents (水 … 管 is not 水管): those documents are not hits.
"""

from __future__ import annotations

import dataclasses
import random
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from kefu.customers.models import Unit
from kefu.demo import texts
from kefu.demo.bench import words as bench_words
from kefu.org.models import Site
from kefu.tickets import search
from kefu.tickets.models import Ticket, TicketSearch

_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_PLACEHOLDER = re.compile(r"\{[^}]*\}")
# Words no property-management ticket of the generator holds.
ABSENT = ("量子", "恐龙", "区块链", "莎士比亚", "火箭发射", "ZZ-20990101-0001")


@dataclass(frozen=True)
class Query:
    kind: str
    text: str
    # A ticket that must be among the hits of every reader who sees it.
    ticket_id: int | None = None
    # Hits for nobody (absent), or for nobody of this site (other sites).
    none: bool = False
    none_at_site: int | None = None
    # Sample documents that hold the characters apart but not the word (scattered).
    not_hits: tuple[int, ...] = ()


@dataclass
class Sample:
    """Random search documents (the brute-force side of the checks): id → (site, words)."""

    docs: dict[int, tuple[int, list[str]]]

    def ids_at(self, sites: set[int]) -> list[int]:
        return [pk for pk, (site, _) in self.docs.items() if site in sites]

    def matching(self, query: search.SearchQuery, sites: set[int]) -> set[int]:
        return {pk for pk, (site, doc) in self.docs.items() if site in sites and holds(doc, query)}


def holds(doc: list[str], query: search.SearchQuery) -> bool:
    """Word level, as the index means it: every term's words side by side in the document."""
    present = set(doc)
    for term in query.terms:
        if not set(term) <= present:
            return False
        if len(term) > 1 and not any(
            doc[i : i + len(term)] == list(term) for i, word in enumerate(doc) if word == term[0]
        ):
            return False
    return True


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _strings(item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from _strings(getattr(value, item.name))


def vocabulary(modules: Iterable[ModuleType] = (texts, bench_words)) -> list[str]:
    """The Chinese words (two characters or more) of the generator's texts, sorted."""
    found: set[str] = set()
    for module in modules:
        for name, value in vars(module).items():
            if name.startswith("__"):
                continue
            for text in _strings(value):
                found.update(w for w in search.words(_PLACEHOLDER.sub(" ", text.lstrip("!"))) if len(w) > 1)
    return sorted(w for w in found if _HAN.match(w))


def sample(rng: random.Random, size: int) -> Sample:
    """``size`` random documents (fewer when there are fewer tickets)."""
    bounds = Ticket.objects.order_by("id").values_list("id", flat=True)
    low, high = bounds.first(), bounds.last()
    if low is None or high is None:
        return Sample({})
    ids = rng.sample(range(low, high + 1), min(size, high - low + 1))
    rows = TicketSearch.objects.filter(ticket_id__in=ids).values_list("ticket_id", "ticket__site_id", "document")
    return Sample({pk: (site, doc.split()) for pk, site, doc in rows.order_by("ticket_id")})


def _room(unit: Unit | None) -> str:
    return unit.label if unit is not None else ""


def build(rng: random.Random, docs: Sample, *, site_id: int, tickets: int, words: int, each: int = 5) -> list[Query]:
    """The corpus: ``words`` vocabulary words and ``tickets`` tickets of ``site_id`` (each
    giving a number, phone, room, name and phrase query), plus up to ``each`` queries of every
    other kind."""
    corpus: list[Query] = []
    vocab = vocabulary()
    corpus += [Query("vocabulary", w) for w in rng.sample(vocab, min(words, len(vocab)))]

    # Sub-words: 龙头 of 水龙头, with a sample document that holds the long word.
    cutter_freq = search.tokenizer().FREQ
    long_words = [w for w in vocab if len(w) >= 3]
    rng.shuffle(long_words)
    subs = 0
    for word in long_words:
        parts = [word[i : i + 2] for i in range(len(word) - 1) if cutter_freq.get(word[i : i + 2])]
        holder = next((pk for pk, (_, doc) in docs.docs.items() if word in doc), None)
        if parts and holder is not None and parts[-1] != word[:2]:
            corpus.append(Query("sub-word", parts[-1], ticket_id=holder))
            subs += 1
        if subs >= min(each, 4):
            break

    # Common and rare words of the sample.
    frequency = Counter(w for _, doc in docs.docs.values() for w in set(doc) if _HAN.match(w) and len(w) > 1)
    corpus += [Query("common", w) for w, _ in frequency.most_common(each)]
    rare = sorted(w for w, n in frequency.items() if n == 1)
    for word in rng.sample(rare, min(each, len(rare))):
        holder = next(pk for pk, (_, doc) in docs.docs.items() if word in doc)
        corpus.append(Query("rare", word, ticket_id=holder))

    # Tickets of the site, chosen at random.
    site_ids = list(Ticket.objects.filter(site_id=site_id).order_by("id").values_list("id", flat=True)[:1])
    last = Ticket.objects.filter(site_id=site_id).order_by("-id").values_list("id", flat=True).first()
    chosen: list[Ticket] = []
    if site_ids and last is not None:
        pool = rng.sample(range(site_ids[0], last + 1), min(tickets * 20, last - site_ids[0] + 1))
        found = Ticket.objects.filter(pk__in=pool, site_id=site_id).select_related("customer", "unit")
        by_id = {t.pk: t for t in found}
        chosen = [by_id[pk] for pk in pool if pk in by_id][:tickets]
    stored = dict(TicketSearch.objects.filter(ticket__in=chosen).values_list("ticket_id", "document"))
    for ticket in chosen:
        own_doc = stored.get(ticket.pk, "").split()
        corpus.append(Query("number", ticket.number, ticket_id=ticket.pk))
        if ticket.contact_phone:
            corpus.append(Query("phone", ticket.contact_phone, ticket_id=ticket.pk))
        room = _room(ticket.unit)
        if room:
            corpus.append(Query("room", room, ticket_id=ticket.pk))
        if ticket.customer is not None:
            corpus.append(Query("name", ticket.customer.name, ticket_id=ticket.pk))
            if room:
                corpus.append(Query("name + room", f"{ticket.customer.name} {room}", ticket_id=ticket.pk))
        content = [w for w in search.words(ticket.content) if _HAN.match(w)]
        if len(content) >= 3:
            start = rng.randrange(len(content) - 2)
            text = '"' + "".join(content[start : start + rng.choice((2, 3))]) + '"'
            # Cut alone, a phrase may cut otherwise than inside its sentence (then it is not
            # a phrase of this document, whatever the index says): keep those that hold.
            if holds(own_doc, search.parse(text)):
                corpus.append(Query("phrase", text, ticket_id=ticket.pk))
        distinct = list(dict.fromkeys(w for w in content if len(w) > 1))
        if len(distinct) >= 4:
            first, second = rng.sample(range(len(distinct)), 2)
            if abs(first - second) > 1:
                corpus.append(Query("two words", f"{distinct[first]} {distinct[second]}", ticket_id=ticket.pk))

    # Words of the other sites' names that no document of this site holds.
    own = Site.objects.get(pk=site_id)
    own_words = set(search.words(own.name))
    others = 0
    for other in Site.objects.exclude(pk=site_id).order_by("id"):
        for word in search.words(other.name):
            if len(word) < 2 or word in own_words or not _HAN.match(word):
                continue
            holders = TicketSearch.objects.filter(ticket__site_id=site_id)
            spaced = holders.filter(document__contains=f" {word} ") | holders.filter(document__endswith=f" {word}")
            if not spaced.exists():
                corpus.append(Query("other sites", word, none_at_site=site_id))
                others += 1
                break
        if others >= min(each, 3):
            break

    corpus += [Query("absent", text, none=True) for text in ABSENT[: max(2, each + 1)]]

    # 水管, 电梯 …: two-character words whose characters also stand apart in sample documents.
    for word in ("水管", "电梯", "门禁", "停车")[: min(each, 4)]:
        apart = tuple(
            pk for pk, (_, doc) in docs.docs.items() if word not in doc and {word[0], word[1]} <= set("".join(doc))
        )
        if apart:
            corpus.append(Query("scattered", word, not_hits=apart[:200]))
    return corpus

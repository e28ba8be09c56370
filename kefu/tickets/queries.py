"""Reads of tickets. ``tickets_for`` is the single data-scope rule for every list, export,
detail and API endpoint; ``ticket_get_for_user`` is the single access helper."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from kefu.core import refdata
from kefu.core.errors import NotFound
from kefu.core.lookup import by_pk
from kefu.core.phones import last4, normalize
from kefu.customers.models import Unit
from kefu.customers.queries import parse_room
from kefu.org.models import Role, Site, Staff
from kefu.org.permissions import CAPABILITIES, FIELD_ROLES, SUPERVISING_ROLES
from kefu.org.queries import site_ids_for

from .lifecycle import ACTIONS, ENDED, Kind, Status, actions_from
from .models import Category, Handover, Ticket, TicketQuerySet, WarningCard
from .search import search

# Not closed nor cancelled, named by the statuses it is in: an IN list the database can look
# up in the (site, status …) indexes, where NOT IN reads every row of the site.
OPEN_STATUSES: tuple[str, ...] = tuple(s for s in Status.values if s not in ENDED)


def tickets_for(staff: Staff, *, sites: Iterable[int] | None = None) -> TicketQuerySet:
    """Every ticket ``staff`` may see: their sites (or those of them in ``sites``, the site
    switcher); field roles only what is dispatched to them or to their department."""
    chosen = scope_sites(staff, sites)
    qs = Ticket.objects.all() if chosen is None else Ticket.objects.filter(site_id__in=chosen)
    if staff.role in FIELD_ROLES:
        mine = Q(assignee=staff)
        if staff.department_id:
            mine |= Q(department_id=staff.department_id)
        qs = qs.filter(mine)
    elif staff.role == Role.ADMIN:
        # Administrators configure the system; they do not read service records.
        qs = qs.none()
    return qs


def scope_sites(staff: Staff, sites: Iterable[int] | None = None) -> set[int] | None:
    """The sites ``tickets_for(staff, sites=sites)`` is limited to, or None when that is every
    site there is (a director): then no condition at all, the same rows, and the database walks
    the indexes that start with the sort column (created_at, resolve_due) and stops after a
    page, where with the IN list it sorted a million rows (7.7 s a page at 1M tickets on
    SQLite). One query of the sites per staff instance, and only for a scope of several."""
    allowed = site_ids_for(staff)
    chosen = allowed if sites is None else allowed & set(sites)
    if len(chosen) < 2:
        return chosen
    key = frozenset(chosen)
    known: dict[frozenset[int], bool] = staff.__dict__.setdefault("_every_site", {})
    if key not in known:
        known[key] = not Site.objects.exclude(pk__in=key).exists()
    return None if known[key] else chosen


def ticket_get_for_user(*, staff: Staff, pk: Any) -> Ticket:
    """The ticket ``pk`` if ``staff`` may see it; otherwise NotFound (404), never 403, so
    that the existence of another site's ticket is not revealed."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("工单不存在") from None
    ticket = (
        tickets_for(staff)
        .select_related("site", "category__parent", "customer", "unit", "first_responder", "department", "assignee")
        .filter(pk=pk)
        .first()
    )
    if ticket is None:
        raise NotFound("工单不存在")
    return ticket


def is_handler(staff: Staff, ticket: Ticket) -> bool:
    if ticket.assignee_id is not None:
        return ticket.assignee_id == staff.id
    return ticket.department_id is not None and ticket.department_id == staff.department_id


def allowed_actions(staff: Staff, ticket: Ticket) -> list[str]:
    """Actions ``staff`` may take on ``ticket`` now: allowed by the table and by role."""
    handler = is_handler(staff, ticket)
    result = []
    for code in actions_from(ticket.kind, ticket.status):
        action = ACTIONS[code]
        if staff.role in action.roles or (action.handler and handler):
            result.append(code)
    return result


def search_tickets(qs: TicketQuerySet, params: dict[str, Any], *, sites: Iterable[int] | None = None) -> TicketQuerySet:
    """Apply the list filters shared by the UI and the API to ``qs``.

    ``q`` is a full-text search (``tickets.search``: words of the content, notes, names,
    rooms), OR-ed with the exact matches of what looks like a ticket number, a phone number,
    its last four digits or a room (1-2-301); the result comes best first and carries
    ``search_rank``. Callers that want another order call ``order_by``. ``sites``: the sites
    ``qs`` is limited to (``scope_sites``), which the search asks of the index too."""
    q = (params.get("q") or "").strip()
    if q:
        qs = search(qs, q, also=exact_matches(q), sites=sites)
    for name in ("kind", "status", "channel", "urgency"):
        value = params.get(name)
        if value:
            qs = qs.filter(**{name: value})
    for name in ("site", "category", "department", "assignee", "customer"):
        value = params.get(name)
        if value and str(value).isdigit():
            qs = qs.filter(**{f"{name}_id": int(value)})
    if params.get("open") in ("1", True, "true"):
        qs = qs.filter(status__in=OPEN_STATUSES)
    if params.get("overdue") in ("1", True, "true"):
        qs = qs.overdue()
    # Receipt dates as a range of created_at (local days): ``created_at__date`` is a function
    # of every row, which no index serves (3.7 s for a month of one site at 1M tickets).
    date_from, date_to = _date(params.get("date_from")), _date(params.get("date_to"))
    if date_from:
        qs = qs.filter(created_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    return qs


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


_NUMBER = re.compile(r"^[A-Z]{2,4}-\d{8}-\d{3,}$")


def numbered(qs: TicketQuerySet, q: str) -> TicketQuerySet:
    """The tickets of ``qs`` whose number ``q`` is, in any case (bx-20261130-0009), through the
    number's index; no query at all when ``q`` cannot be a number (a phone, a room, a name).
    Numbers are written in capitals, so ``number__iexact`` would say the same, but it compares
    UPPER(number) and read every ticket: 540 ms at 1M on PostgreSQL for each intake lookup."""
    number = q.strip().upper()
    return qs.filter(number=number) if _NUMBER.match(number) else qs.none()


def exact_matches(q: str) -> list[TicketQuerySet]:
    """Tickets ``q`` names exactly, as id querysets for ``search``: a ticket number, a phone
    number (the caller's or one of the customer's), its last four digits, a room. Each is an
    indexed lookup; none applies to plain words."""
    q = q.strip()
    found: list[TicketQuerySet] = []
    if _NUMBER.match(q.upper()):
        found.append(numbered(Ticket.objects.all(), q))
    phone = normalize(q)
    digits = phone.replace("-", "")
    if digits.isdigit() and len(digits) >= 7:
        found.append(Ticket.objects.filter(contact_phone=phone))
        found.append(Ticket.objects.filter(customer__phones__number=phone))
    elif q.isdigit() and len(q) == 4:
        found.append(Ticket.objects.filter(customer__phones__last4=last4(q)))
    room = parse_room(q)
    if room is not None:
        building, entrance, door = room
        units = Unit.objects.filter(building=building, entrance=entrance, room=door)
        found.append(Ticket.objects.filter(unit__in=units))
        found.append(Ticket.objects.filter(customer__unit_links__unit__in=units))
    return found


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def with_list_columns(qs: TicketQuerySet) -> TicketQuerySet:
    return qs.select_related("site", "category", "customer", "department", "assignee", "first_responder")


# What a row of the ticket table (tickets/_table.html) shows, and nothing else: a ticket has
# ~60 columns, and reading and converting them all for 50 rows cost more than the query.
TABLE_COLUMNS = (
    "id", "number", "kind", "status", "is_major", "content", "contact_name", "created_at", "resolve_due",
    "site_id", "site__name", "category_id", "category__name", "department_id", "department__name",
    "assignee_id", "assignee__name",
)  # fmt: skip


def table_rows(ids: Sequence[int]) -> list[Ticket]:
    """The tickets ``ids`` in that order, with what the ticket table shows: their columns,
    names and active warning cards (3 queries)."""
    active_cards = Prefetch(
        "warning_cards",
        queryset=WarningCard.objects.filter(revoked_at__isnull=True)
        .only("id", "ticket", "color", "rule")
        .order_by("id"),
        to_attr="cards",
    )
    found = (
        Ticket.objects.filter(pk__in=list(ids))
        .select_related("site", "category", "department", "assignee")
        .only(*TABLE_COLUMNS)
        .prefetch_related(active_cards)
    )
    by_id = {ticket.pk: ticket for ticket in found}
    return [by_id[pk] for pk in ids if pk in by_id]


def page_rows(page_of: TicketQuerySet, *, searched: bool = False) -> list[Ticket]:
    """A list page in two steps: the ids of the page (a slice of the filtered, ordered
    queryset), which the database finds from an index alone however deep the page is, then
    only those rows. In one query, OFFSET made the database join and read in full every row
    it skipped (page 200: 9,950 rows). ``searched``: the slice is of ``search_tickets``
    with ``q``, ordered by its ``search_rank``, which must then be selected too."""
    if searched:
        ranked = page_of.values_list("pk", "search_rank")  # type: ignore[misc]  # an extra() select
        return table_rows([pk for pk, _ in ranked])
    return table_rows(list(page_of.values_list("pk", flat=True)))


def category_by_id(pk: int) -> Category | None:
    """The category ``pk`` (active or not) with its parents in place (``.parent``, ``.path``),
    from the process's copy of the tree (``refdata``): no query."""
    return refdata.copy_of(refdata.cached("tickets.categories", _category_tree).get(pk))


def _category_tree() -> dict[int, Category]:
    nodes = {c.pk: c for c in Category.objects.all()}
    for c in nodes.values():
        c.parent = nodes.get(c.parent_id) if c.parent_id is not None else None
    return nodes


def categories_for(kind: str | None = None) -> list[Category]:
    nodes = list(Category.objects.filter(is_active=True).select_related("parent").order_by("sort", "id"))
    if kind:
        nodes = [c for c in nodes if c.applies_to(kind)]
    return nodes


def my_work(qs: TicketQuerySet, me: Staff) -> TicketQuerySet:
    """Open tickets the user must act on: assigned to them, taken by them at intake, or
    waiting in their department without an assignee."""
    cond = Q(assignee=me) | Q(first_responder=me)
    if me.role in FIELD_ROLES and me.department_id:
        cond |= Q(department_id=me.department_id, assignee__isnull=True)
    return qs.filter(cond, status__in=OPEN_STATUSES)


def approvals_for(qs: TicketQuerySet) -> TicketQuerySet:
    """Complaints whose proposals wait for a supervisor's instruction (待我批示), the
    longest-waiting first."""
    return with_list_columns(qs.filter(kind=Kind.COMPLAINT, status=Status.AWAITING_APPROVAL)).order_by(
        "updated_at", "id"
    )


# --- warning cards ---------------------------------------------------------------------------


def cards_for(staff: Staff) -> QuerySet[WarningCard]:
    """Cards ``staff`` may see: supervisors and above every card of their sites; everyone
    else only the cards recorded against themselves."""
    qs = WarningCard.objects.filter(site_id__in=site_ids_for(staff))
    if staff.role == Role.ADMIN:
        return qs.none()
    if staff.role not in SUPERVISING_ROLES:
        qs = qs.filter(staff=staff)
    return qs


def search_cards(qs: QuerySet[WarningCard], params: dict[str, Any]) -> QuerySet[WarningCard]:
    """The ledger's filters, shared by the page, its export and the API."""
    for name in ("color", "rule"):
        value = params.get(name)
        if value:
            qs = qs.filter(**{name: value})
    for name in ("site", "staff", "ticket"):
        value = params.get(name)
        if value and str(value).isdigit():
            qs = qs.filter(**{f"{name}_id": int(value)})
    state = params.get("state")
    if state == "active":
        qs = qs.filter(revoked_at__isnull=True)
    elif state == "revoked":
        qs = qs.filter(revoked_at__isnull=False)
    date_from, date_to = _date(params.get("date_from")), _date(params.get("date_to"))
    # Local days as a range of issued_at, as for tickets: ``issued_at__date`` is a function of
    # every card on SQLite (646,550 at a million tickets), a range an index walk.
    if date_from:
        qs = qs.filter(issued_at__gte=_day_start(date_from))
    if date_to:
        qs = qs.filter(issued_at__lt=_day_start(date_to + timedelta(days=1)))
    return qs.select_related("site", "ticket", "staff__department", "issued_by", "revoked_by").order_by(
        "-issued_at", "-id"
    )


def card_get_for_user(*, staff: Staff, pk: Any) -> WarningCard:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("警告卡不存在") from None
    card = by_pk(cards_for(staff).select_related("staff", "ticket"), pk)
    if card is None:
        raise NotFound("警告卡不存在")
    return card


# --- first-responder duty --------------------------------------------------------------------


def first_response_of(qs: TicketQuerySet, me: Staff) -> TicketQuerySet:
    """Open tickets ``me`` is the first responder of (首问责任): theirs until closed."""
    return with_list_columns(qs.open().filter(first_responder=me)).order_by("updated_at", "id")


def handovers_waiting(me: Staff) -> QuerySet[Handover]:
    """Hand-overs of first-responder duty offered to ``me`` and not yet answered."""
    return (
        Handover.objects.filter(to_staff=me, state=Handover.State.PENDING)
        .select_related("ticket__site", "from_staff", "by")
        .order_by("at", "id")
    )


def handover_get_for_user(*, staff: Staff, pk: Any) -> Handover:
    """A hand-over ``staff`` may see: offered to them, or on a ticket they see."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("移交记录不存在") from None
    visible = Q(to_staff=staff) | Q(ticket__in=tickets_for(staff))
    handover = Handover.objects.select_related("ticket", "from_staff", "to_staff", "by").filter(visible, pk=pk).first()
    if handover is None:
        raise NotFound("移交记录不存在")
    return handover


def handover_candidates(ticket: Ticket) -> QuerySet[Staff]:
    """Who may receive the first-responder duty: active staff of the site who take tickets."""
    roles = CAPABILITIES["tickets.intake"]
    return (
        Staff.objects.filter(is_active=True, user__is_active=True, role__in=roles, sites=ticket.site_id)
        .exclude(pk=ticket.first_responder_id)
        .order_by("id")
    )

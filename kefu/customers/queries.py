"""Reads of customer records, with the single data-scope rule and access helper."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from kefu.core.errors import NotFound
from kefu.core.lookup import by_pk
from kefu.core.phones import normalize
from kefu.core.prefetch import kept
from kefu.org.models import Staff
from kefu.org.permissions import can
from kefu.org.queries import site_ids_for

from .models import Customer, CustomerPhone, CustomerUnit, Unit

# A room written as building-entrance-room (1-2-301) or building-room (5-1201).
_ROOM = re.compile(r"^\s*([0-9A-Za-z]+)\s*[-－—#栋号楼]\s*(?:([0-9A-Za-z]+)\s*[-－—单元]+\s*)?([0-9A-Za-z]+)\s*室?\s*$")


def customers_for(staff: Staff) -> QuerySet[Customer]:
    """Customers ``staff`` may see: those of their sites, for roles that read records."""
    if not can(staff.role, "customers.view"):
        return Customer.objects.none()
    return Customer.objects.filter(site_id__in=site_ids_for(staff))


def customer_get_for_user(*, staff: Staff, pk: Any) -> Customer:
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise NotFound("客户不存在") from None
    customer = by_pk(customers_for(staff).select_related("site"), pk)
    if customer is None:
        raise NotFound("客户不存在")
    return customer


def parse_room(text: str) -> tuple[str, str, str] | None:
    match = _ROOM.match(text or "")
    if not match:
        return None
    building, entrance, room = match.groups()
    return building, entrance or "", room


def search_customers(qs: QuerySet[Customer], params: dict[str, Any]) -> QuerySet[Customer]:
    """Name, phone (full or last four digits), room (1-2-301) or tag filters."""
    q = (params.get("q") or "").strip()
    if q:
        digits = normalize(q)
        room = parse_room(q)
        cond = Q(name__icontains=q) | Q(contact_person__icontains=q)
        if digits.isdigit() and len(digits) == 4:
            cond |= Q(phones__last4=digits)
        elif digits.replace("-", "").isdigit() and len(digits) >= 7:
            cond |= Q(phones__number=digits)
        if room:
            building, entrance, number = room
            unit_q = Q(unit_links__unit__building=building, unit_links__unit__room=number)
            if entrance:
                unit_q &= Q(unit_links__unit__entrance=entrance)
            cond |= unit_q
        qs = qs.filter(cond).distinct()
    for name in ("site", "tag"):
        value = params.get(name)
        if value and str(value).isdigit():
            qs = qs.filter(**({"site_id": int(value)} if name == "site" else {"tags__id": int(value)}))
    if params.get("kind") in Customer.Kind.values:
        qs = qs.filter(kind=params["kind"])
    owner = params.get("owner")
    if owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif owner and str(owner).isdigit():
        qs = qs.filter(owner_id=int(owner))
    building = (params.get("building") or "").strip()
    if building:
        qs = qs.filter(unit_links__unit__building=building[:20]).distinct()
    return qs


def first_contacts_pending(qs: QuerySet[Customer], now: Any, *, overdue: bool | None = None) -> QuerySet[Customer]:
    """Customers assigned and not contacted yet, the longest waiting first. ``overdue``: True
    keeps those assigned more than 7 days ago (past ``first_contact_due``), False those still
    within the 7 days, None both."""
    qs = qs.filter(owner__isnull=False, first_contacted_at__isnull=True)
    if overdue is True:
        qs = qs.filter(first_contact_due__lt=now)
    elif overdue is False:
        qs = qs.exclude(first_contact_due__lt=now)
    return qs.select_related("owner", "site").order_by("first_contact_due", "id")


def first_contact_overdue(qs: QuerySet[Customer], now: Any) -> QuerySet[Customer]:
    """Customers assigned more than 7 days ago and not contacted yet, the longest waiting first."""
    return first_contacts_pending(qs, now, overdue=True)


def with_list_columns(qs: QuerySet[Customer]) -> QuerySet[Customer]:
    return qs.select_related("site").prefetch_related(
        "tags",
        Prefetch("phones", queryset=CustomerPhone.objects.order_by("-is_primary", "id")),
        Prefetch("unit_links", queryset=CustomerUnit.objects.select_related("unit")),
    )


def units_for(staff: Staff) -> QuerySet[Unit]:
    return Unit.objects.filter(site_id__in=site_ids_for(staff))


def customer_with_units(staff: Staff, pk: Any) -> Customer | None:
    """The customer ``pk`` in ``staff``'s scope, or None, read with their unit links and the
    units (two queries): ``customer.unit_links.all()`` then answers from memory, in the order
    the units were linked, for what intake needs of them (the unit taken, the rooms the
    ticket is found by)."""
    links = Prefetch("unit_links", queryset=CustomerUnit.objects.select_related("unit").order_by("id"))
    return by_pk(customers_for(staff).prefetch_related(links), pk)


def unit_for(staff: Staff, pk: Any, *, customer: Customer | None = None) -> Unit | None:
    """The unit ``pk`` in ``staff``'s scope, or None. Taken without a query from ``customer``'s
    links when they were read along (``customer_with_units``) and it is one of theirs."""
    if customer is not None and kept(customer, "unit_links"):
        for link in customer.unit_links.all():
            if link.unit_id == pk and link.unit.site_id in site_ids_for(staff):
                return link.unit
    return by_pk(units_for(staff), pk)

"""全局搜索: one box for a ticket number, phone, room (1-2-301), name or words of a ticket,
answered with the customers and tickets of the user's data scope."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.customers.models import Customer
from kefu.customers.queries import customers_for, search_customers
from kefu.customers.queries import with_list_columns as customer_columns
from kefu.org.models import Staff
from kefu.org.permissions import can
from kefu.org.web import current_site_ids, staff_view

from ..models import Ticket
from ..queries import scope_sites, search_tickets, tickets_for, with_list_columns
from ..search import parse

SHOWN = 20  # of each kind; the full lists are one click away


@staff_view
def global_search(request: HttpRequest, me: Staff) -> HttpResponse:
    q = (request.GET.get("q") or "").strip()[:100]
    customers: list[Customer] = []
    tickets: list[Ticket] = []
    if q:
        if can(me.role, "customers.view"):
            base = customers_for(me).filter(site_id__in=current_site_ids(request, me))
            customers = list(customer_columns(search_customers(base, {"q": q})).order_by("id")[: SHOWN + 1])
        sites = current_site_ids(request, me)
        found = search_tickets(tickets_for(me, sites=sites), {"q": q}, sites=scope_sites(me, sites))  # best first
        tickets = list(with_list_columns(found)[: SHOWN + 1])
    context = {
        "page_title": _("全局搜索"),
        "q": q,
        "search": parse(q),
        "customers": customers[:SHOWN],
        "more_customers": len(customers) > SHOWN,
        "tickets": tickets[:SHOWN],
        "more_tickets": len(tickets) > SHOWN,
        "customers_link": f"{reverse('customers:list')}?{urlencode({'q': q})}",
        "tickets_link": f"{reverse('tickets:list')}?{urlencode({'q': q})}",
        "see_phone": can(me.role, "customers.see_phone"),
        "can_see_customers": can(me.role, "customers.view"),
        "now": timezone.now(),
    }
    return render(request, "tickets/search.html", context)

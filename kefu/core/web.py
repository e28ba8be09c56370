"""Small helpers shared by the HTML views of every app."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.functional import cached_property

PAGE_SIZES = (10, 20, 50, 100)


def is_partial(request: HttpRequest) -> bool:
    """True when htmx asks for a fragment rather than a whole page (not for boosted links)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not getattr(htmx, "boosted", False)


def int_param(request: HttpRequest, name: str, default: int, *, minimum: int = 1, maximum: int = 10**9) -> int:
    try:
        value = int(request.GET.get(name, default))
    except (TypeError, ValueError):
        return default
    return min(max(value, minimum), maximum)


def parse_date(value: Any) -> date | None:
    """An ISO date from a form or query string, or None for anything else."""
    try:
        return date.fromisoformat(str(value).strip()) if value else None
    except ValueError:
        return None


def parse_id(value: Any) -> int | None:
    """A primary key from a form or query string (digits only, of a sane length), else None."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 12 else None


class CappedPaginator(Paginator):
    """Counts at most ``cap`` rows, so that a total over a million rows stays cheap; the
    page shows "共 1000+ 条" (UI.md) and offers the pages up to the cap."""

    def __init__(self, object_list: QuerySet[Any], per_page: int, *, cap: int) -> None:
        super().__init__(object_list, per_page)
        self.queryset = object_list
        self.cap = cap
        self.capped = False

    @cached_property
    def count(self) -> int:
        # Unordered and only the ids: the database stops at cap + 1 rows and ranks none. A
        # queryset that knows a cheaper way to count (TicketQuerySet) is asked to use it.
        counter = getattr(self.queryset, "capped_count", None)
        if callable(counter):
            found = int(counter(self.cap + 1))
        else:
            found = self.queryset.order_by().values("pk")[: self.cap + 1].count()
        self.capped = found > self.cap
        return min(found, self.cap)


def paginate(
    request: HttpRequest, queryset: QuerySet[Any], *, default_size: int = 20, cap: int | None = None
) -> Page[Any]:
    """A page of ``queryset``; bad page numbers fall back to the nearest real page. With
    ``cap``, the total is counted up to that many rows (``CappedPaginator``)."""
    size = int_param(request, "size", default_size)
    if size not in PAGE_SIZES:
        size = default_size
    paginator = CappedPaginator(queryset, size, cap=cap) if cap else Paginator(queryset, size)
    number = int_param(request, "page", 1)
    return paginator.get_page(min(number, paginator.num_pages or 1))


def querystring_without(request: HttpRequest, *names: str) -> str:
    params = request.GET.copy()
    for name in names:
        params.pop(name, None)
    return params.urlencode()

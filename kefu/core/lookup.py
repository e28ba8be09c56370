"""One row by primary key, or None."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import Manager, Model, QuerySet

M = TypeVar("M", bound=Model)


def by_pk(queryset: QuerySet[M] | Manager[M], pk: Any) -> M | None:
    """The row of ``queryset`` with primary key ``pk``, or None when it has none (not there,
    or outside the queryset's filter: someone else's scope). Unlike ``filter(pk=…).first()``
    the query carries no ORDER BY, which a model's default ordering would add and which
    costs as much to build as the rest of such a query; a scope that joins (a staff
    member's sites) may repeat the row, which is still one row."""
    rows = list(queryset.filter(pk=pk).order_by()[:1])
    return rows[0] if rows else None

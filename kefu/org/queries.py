"""Reads of the organisation, and the one place that says which sites a staff member sees."""

from __future__ import annotations

from django.db.models import QuerySet

from .models import Department, Site, Staff
from .permissions import ALL_SITES_ROLES


def site_ids_for(staff: Staff) -> set[int]:
    """Ids of the sites this staff member's data scope covers (cached on the instance)."""
    cached: set[int] | None = getattr(staff, "_site_ids", None)
    if cached is None:
        if staff.role in ALL_SITES_ROLES:
            cached = set(Site.objects.filter(is_active=True).values_list("id", flat=True))
        else:
            cached = set(staff.sites.filter(is_active=True).values_list("id", flat=True))
        staff._site_ids = cached  # type: ignore[attr-defined]
    return cached


def sites_for(staff: Staff) -> QuerySet[Site]:
    return Site.objects.filter(id__in=site_ids_for(staff)).order_by("id")


def departments() -> QuerySet[Department]:
    return Department.objects.filter(is_active=True).order_by("id")


def staff_in_scope(staff: Staff) -> QuerySet[Staff]:
    """Colleagues visible to ``staff``: those sharing at least one site."""
    return (
        Staff.objects.filter(is_active=True, sites__in=site_ids_for(staff))
        .select_related("department")
        .distinct()
        .order_by("id")
    )


def staff_for_user(user: object) -> Staff | None:
    try:
        return user.staff  # type: ignore[attr-defined,no-any-return]
    except (AttributeError, Staff.DoesNotExist):
        return None

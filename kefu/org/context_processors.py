from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from .permissions import can
from .queries import missing_calendar_years, sites_for, staff_for_user


def staff(request: HttpRequest) -> dict[str, Any]:
    """The signed-in staff member, their sites, the site switched to, and menu rights."""
    user = getattr(request, "user", None)
    me = staff_for_user(user) if user is not None and user.is_authenticated else None
    if me is None:
        return {"me": None}
    sites = list(sites_for(me))
    current = request.session.get("site_id")
    settings_right = can(me.role, "settings.edit")
    return {
        "calendar_missing_years": missing_calendar_years(timezone.localdate()) if settings_right else [],
        "me": me,
        "my_sites": sites,
        "current_site": next((s for s in sites if s.id == current), None),
        "perms_intake": can(me.role, "tickets.intake"),
        "perms_customers": can(me.role, "customers.view"),
        "perms_settings": settings_right,
        "see_phone": can(me.role, "customers.see_phone"),
    }

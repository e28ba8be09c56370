from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from .queries import sites_for, staff_for_user


def staff(request: HttpRequest) -> dict[str, Any]:
    """The signed-in staff member, their sites and the site currently switched to."""
    me = staff_for_user(request.user) if request.user.is_authenticated else None
    if me is None:
        return {"me": None}
    sites = list(sites_for(me))
    current = request.session.get("site_id")
    return {
        "me": me,
        "my_sites": sites,
        "current_site": next((s for s in sites if s.id == current), None),
    }

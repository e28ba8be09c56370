from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from kefu.org.queries import staff_for_user

from .queries import unread_count


def bell(request: HttpRequest) -> dict[str, Any]:
    """The unread count under the bell: one COUNT, run only when a page shows it, only for
    signed-in staff."""
    user = getattr(request, "user", None)
    me = staff_for_user(user) if user is not None and user.is_authenticated else None
    if me is None:
        return {"notify_unread": 0}
    staff_id = me.pk
    return {"notify_unread": SimpleLazyObject(lambda: unread_count(staff_id))}

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import staff_for_user

from .queries import approvals_for, tickets_for


def approvals(request: HttpRequest) -> dict[str, Any]:
    """For supervisors and above: how many complaints wait for their instruction (待我批示),
    shown in the menu. One COUNT; nothing for anyone else."""
    user = getattr(request, "user", None)
    me = staff_for_user(user) if user is not None and user.is_authenticated else None
    if me is None or me.role not in SUPERVISING_ROLES:
        return {}
    return {"approvals_waiting": approvals_for(tickets_for(me)).count(), "perms_approve": True}

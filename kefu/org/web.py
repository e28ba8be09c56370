"""The web layer's entry check: signed in, with a staff profile; domain errors → pages."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render

from kefu.core.errors import NotFound, PermissionDenied

from .models import Staff
from .queries import site_ids_for, staff_for_user

View = Callable[..., HttpResponseBase]


def staff_view(view: View) -> View:
    """Require a signed-in staff member, pass them as ``me``; NotFound → 404, refusals → 403."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        me = staff_for_user(request.user)
        if me is None or not me.is_active:
            return render(request, "org/no_staff.html", status=403)
        try:
            return view(request, me, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except PermissionDenied as exc:
            return render(request, "org/forbidden.html", {"message": exc.message}, status=403)

    return wrapper


def current_site_ids(request: HttpRequest, me: Staff) -> set[int]:
    """The sites a list shows: the switched-to site, or all of the user's sites."""
    allowed = site_ids_for(me)
    chosen = request.session.get("site_id")
    return {chosen} if chosen in allowed else allowed

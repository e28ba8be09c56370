from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .queries import site_ids_for, staff_for_user


@login_required
@require_POST
def switch_site(request: HttpRequest) -> HttpResponse:
    """项目切换: narrow every list to one of the user's sites, or back to all of them."""
    me = staff_for_user(request.user)
    value = request.POST.get("site", "")
    if me is not None and value.isdigit() and int(value) in site_ids_for(me):
        request.session["site_id"] = int(value)
    else:
        request.session.pop("site_id", None)
    back = request.META.get("HTTP_REFERER", "")
    if back and url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        return redirect(back)
    return redirect("home")

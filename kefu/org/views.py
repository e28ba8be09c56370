from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.calendar import LIBRARY_YEARS, parse_schedule
from kefu.core.errors import DomainError, PermissionDenied, ValidationFailed
from kefu.core.lookup import by_pk
from kefu.core.models import HolidaySchedule

from .models import SiteDayOverride, Staff
from .permissions import can
from .queries import missing_calendar_years, site_ids_for, sites_for, staff_for_user
from .services import (
    holiday_schedule_delete,
    holiday_schedule_save,
    site_calendar_save,
    site_day_override_delete,
    site_day_override_set,
)
from .web import staff_view


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


# --- 营业日历: holidays, make-up working days, site hours and exceptions -----------------------


def _calendar_context(me: Staff, **extra: Any) -> dict[str, Any]:
    today = timezone.localdate()
    sites = list(sites_for(me).select_related("calendar"))
    overrides = SiteDayOverride.objects.filter(site__in=sites, day__gte=today.replace(month=1, day=1))
    schedules = []
    for item in HolidaySchedule.objects.all():
        parsed = parse_schedule(item.text, item.year)
        schedules.append({"item": item, "holidays": len(parsed.holidays), "workdays": len(parsed.workdays)})
    context: dict[str, Any] = {
        "page_title": _("营业日历"),
        "schedules": schedules,
        "sites": sites,
        "overrides": list(overrides.select_related("site")),
        "missing_years": missing_calendar_years(today),
        "library_years": f"{LIBRARY_YEARS.start}–{LIBRARY_YEARS.stop - 1}",
        "form": {},
        "errors": {},
    }
    context.update(extra)
    return context


@staff_view
def calendar_settings(request: HttpRequest, me: Staff) -> HttpResponse:
    if not can(me.role, "settings.edit"):
        raise PermissionDenied(_("您没有查看系统设置的权限"))
    form = {}
    year = request.GET.get("year", "")
    if year.isdigit():
        item = HolidaySchedule.objects.filter(year=int(year)).first()
        form = {"year": year, "text": item.text if item else ""}
    return render(request, "org/calendar.html", _calendar_context(me, form=form))


@staff_view
@require_POST
def calendar_action(request: HttpRequest, me: Staff, what: str, key: int = 0) -> HttpResponse:
    """The calendar page's forms: one URL each, all through ``org.services``."""
    post = request.POST
    try:
        if what == "schedule":
            year = int(post.get("year", "0")) if post.get("year", "").isdigit() else 0
            holiday_schedule_save(year=year, text=post.get("text", ""), actor=me)
            messages.success(request, _("{year} 年放假安排已保存").format(year=year))
        elif what == "schedule-delete":
            holiday_schedule_delete(year=key, actor=me)
            messages.success(request, _("已删除"))
        elif what == "site":
            site = by_pk(sites_for(me), key)
            if site is None:
                raise Http404
            site_calendar_save(
                site=site,
                hours=post.get("hours", ""),
                saturday_hours=post.get("saturday_hours", ""),
                sunday_hours=post.get("sunday_hours", ""),
                actor=me,
            )
            messages.success(request, _("工作时段已保存"))
        elif what == "override":
            site = by_pk(sites_for(me), key)
            if site is None:
                raise Http404
            try:
                day = date.fromisoformat(post.get("day", ""))
            except ValueError:
                raise ValidationFailed(_("请选择正确的日期"), field="day") from None
            site_day_override_set(
                site=site, day=day, is_workday=post.get("is_workday") == "1", note=post.get("note", ""), actor=me
            )
            messages.success(request, _("已保存"))
        elif what == "override-delete":
            override = by_pk(SiteDayOverride.objects, key)
            if override is None:
                raise Http404
            site_day_override_delete(override=override, actor=me)
            messages.success(request, _("已删除"))
        else:
            raise Http404
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
        context = _calendar_context(me, form=post.dict(), errors=exc.fields)
        return render(request, "org/calendar.html", context, status=exc.status_code)
    return redirect("calendar_settings")

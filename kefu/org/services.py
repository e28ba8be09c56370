"""Writes of the organisation: API tokens, and the business calendar settings."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.calendar import WorkingHours, parse_schedule
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.models import HolidaySchedule

from .models import ApiToken, Site, SiteCalendar, SiteDayOverride, Staff
from .permissions import can
from .queries import site_ids_for


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


def api_token_issue(*, staff: Staff) -> tuple[str, datetime]:
    """A new random token for ``staff``; only its digest is stored. Expired tokens of the
    same staff member are swept on the way."""
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(days=settings.KEFU_API_TOKEN_DAYS)
    ApiToken.objects.filter(staff=staff, expires_at__lte=now).delete()
    ApiToken.objects.create(staff=staff, digest=token_digest(token), expires_at=expires_at)
    return token, expires_at


# --- business calendar settings (营业日历) ---------------------------------------------------


def _require_settings_right(actor: Staff) -> None:
    if not can(actor.role, "settings.edit"):
        raise PermissionDenied(_("您没有修改系统设置的权限"))


def holiday_schedule_save(*, year: int, text: str, actor: Staff) -> HolidaySchedule:
    """Enter or replace a year's official schedule; the text is checked line by line."""
    _require_settings_right(actor)
    if not 2000 <= year <= 2100:
        raise ValidationFailed(_("年份须在 2000 到 2100 之间"), field="year")
    text = (text or "").strip()
    try:
        parse_schedule(text, year)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="text") from None
    schedule, _created = HolidaySchedule.objects.update_or_create(year=year, defaults={"text": text})
    return schedule


def holiday_schedule_delete(*, year: int, actor: Staff) -> None:
    _require_settings_right(actor)
    HolidaySchedule.objects.filter(year=year).delete()


def site_calendar_save(*, site: Site, hours: str, saturday_hours: str, sunday_hours: str, actor: Staff) -> SiteCalendar:
    """Set a site's working hours; each field is checked as a list of periods."""
    _require_settings_right(actor)
    if site.id not in site_ids_for(actor):
        raise PermissionDenied(_("无权修改该项目"))
    values = {"hours": hours, "saturday_hours": saturday_hours, "sunday_hours": sunday_hours}
    errors: dict[str, list[str]] = {}
    for name, value in values.items():
        value = (value or "").strip()
        values[name] = value
        if not value and name != "hours":
            continue
        try:
            WorkingHours.parse(value)
        except ValueError as exc:
            errors[name] = [str(exc)]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    calendar, _created = SiteCalendar.objects.update_or_create(site=site, defaults=values)
    return calendar


def site_day_override_set(*, site: Site, day: date, is_workday: bool, note: str, actor: Staff) -> SiteDayOverride:
    _require_settings_right(actor)
    if site.id not in site_ids_for(actor):
        raise PermissionDenied(_("无权修改该项目"))
    override, _created = SiteDayOverride.objects.update_or_create(
        site=site, day=day, defaults={"is_workday": is_workday, "note": (note or "").strip()[:100]}
    )
    return override


def site_day_override_delete(*, override: SiteDayOverride, actor: Staff) -> None:
    _require_settings_right(actor)
    if override.site_id not in site_ids_for(actor):
        raise PermissionDenied(_("无权修改该项目"))
    override.delete()

"""Reads of the organisation, and the one place that says which sites a staff member sees."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date

from django.db.models import Q, QuerySet

from kefu.core import refdata
from kefu.core.calendar import LIBRARY_YEARS, BusinessCalendar, WorkingHours, YearSchedule, parse_schedule
from kefu.core.models import HolidaySchedule

from .models import ApiToken, Department, Role, Site, SiteCalendar, SiteDayOverride, Staff
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


@dataclass(frozen=True)
class TokenHolder:
    """A bearer token as the process keeps it (``token_holder``): the token row, its staff
    member with their account and department, and the sites they see. Shared between
    requests and threads: read it, and take the staff member through ``staff()``."""

    token: ApiToken
    holder: Staff
    site_ids: frozenset[int]

    def staff(self) -> Staff:
        """A copy of the staff member (and of their account and department) for one request,
        which may set attributes on it; the sites they see come with it."""
        staff = copy.copy(self.holder)
        staff.user = copy.copy(self.holder.user)
        if self.holder.department is not None:
            staff.department = copy.copy(self.holder.department)
        staff._site_ids = set(self.site_ids)  # type: ignore[attr-defined]
        return staff


def token_holder(digest: str) -> TokenHolder | None:
    """The token with this SHA-256 digest and who holds it, from the process's copy
    (decision 0013): an API call reads no token, staff, account or sites row of its own.
    A token revoked, a staff member or account changed or deactivated, or their sites
    changed, is seen at once here and within a second in every other process. Unknown
    digests are not kept. Expiry is the caller's to check: the row says when."""
    return refdata.cached(f"org.token:{digest}", lambda: _load_token_holder(digest), keep_none=False)


def _load_token_holder(digest: str) -> TokenHolder | None:
    # digest is unique: no ORDER BY (first() would add one).
    found = ApiToken.objects.select_related("staff__user", "staff__department").filter(digest=digest).order_by()
    token = next(iter(found[:1]), None)
    if token is None:
        return None
    staff = token.staff
    return TokenHolder(token=token, holder=staff, site_ids=frozenset(site_ids_for(copy.copy(staff))))


def people_in_view(staff: Staff) -> frozenset[int] | None:
    """Whose own work ``staff`` reads in figures, appraisals and the rewards ledger: everyone at
    their sites (None) for managers and directors; for a supervisor the team (those who report
    to them, including any who have left since, and themselves); for everyone else themselves."""
    if staff.role in (Role.MANAGER, Role.DIRECTOR):
        return None
    if staff.role == Role.SUPERVISOR:
        return frozenset(Staff.objects.filter(superior=staff).values_list("id", flat=True)) | {staff.id}
    return frozenset({staff.id})


def site_by_id(pk: int, *, active: bool = True) -> Site | None:
    """The site ``pk`` (an active one unless ``active`` is False), from the process's copy."""
    site = refdata.cached("org.sites", _all_sites).get(pk)
    if site is None or (active and not site.is_active):
        return None
    return refdata.copy_of(site)


def department_by_id(pk: int) -> Department | None:
    """The department ``pk``, active or not, from the process's copy."""
    return refdata.copy_of(refdata.cached("org.departments", _all_departments).get(pk))


def _all_sites() -> dict[int, Site]:
    return {site.pk: site for site in Site.objects.all()}


def _all_departments() -> dict[int, Department]:
    return {department.pk: department for department in Department.objects.all()}


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


def leaders_at(*, site_id: int, roles: tuple[str, ...]) -> QuerySet[Staff]:
    """Active staff of ``roles`` whose scope covers the site: those posted there, and those
    whose role sees every site (directors). The people a major complaint or an escalation
    goes to."""
    covers = Q(sites=site_id) | Q(role__in=ALL_SITES_ROLES)
    return (
        Staff.objects.filter(covers, is_active=True, user__is_active=True, role__in=roles)
        .select_related("user")
        .distinct()
        .order_by("id")
    )


def staff_for_user(user: object) -> Staff | None:
    try:
        return user.staff  # type: ignore[attr-defined,no-any-return]
    except (AttributeError, Staff.DoesNotExist):
        return None


def calendar_for_site(site_id: int) -> BusinessCalendar:
    """The business calendar of a site: its hours and exceptions, every administrator-entered
    year schedule, and the holiday library for the years it knows. Immutable, so the
    process keeps it (``refdata``)."""
    return refdata.cached(f"org.calendar.{site_id}", lambda: _load_calendar(site_id))


def _load_calendar(site_id: int) -> BusinessCalendar:
    config = SiteCalendar.objects.filter(site_id=site_id).first()
    weekdays = {}
    if config is not None:
        weekdays = {day: text for day, text in ((5, config.saturday_hours), (6, config.sunday_hours)) if text}
    hours = WorkingHours.parse(config.hours, weekdays) if config is not None else WorkingHours()
    overrides = list(SiteDayOverride.objects.filter(site_id=site_id).values_list("day", "is_workday"))
    return BusinessCalendar(
        hours=hours,
        schedules=year_schedules(),
        extra_holidays=frozenset(day for day, work in overrides if not work),
        extra_workdays=frozenset(day for day, work in overrides if work),
    )


def year_schedules() -> dict[int, YearSchedule]:
    return {s.year: parse_schedule(s.text, s.year) for s in HolidaySchedule.objects.all()}


def missing_calendar_years(today: date) -> list[int]:
    """This year and next, when neither the library nor an administrator knows their holidays."""
    entered = set(HolidaySchedule.objects.filter(year__in=[today.year, today.year + 1]).values_list("year", flat=True))
    return [y for y in (today.year, today.year + 1) if y not in entered and y not in LIBRARY_YEARS]

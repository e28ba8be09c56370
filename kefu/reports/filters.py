"""The filters every report shares: a period, the sites in the reader's scope, a handling
department and a ticket kind. Bad values never break a report: each one is reported in
words and the default is used instead."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.web import parse_date, parse_id
from kefu.org.models import Department
from kefu.tickets.lifecycle import Kind
from kefu.tickets.models import Ticket

MAX_DAYS = 366 * 3


@dataclass(frozen=True)
class ReportFilters:
    start: date
    end: date
    site_ids: frozenset[int]
    department_id: int | None = None
    kind: str = ""
    # A team or one person (dashboards): tickets they handle or took first, their cards,
    # visits and ratings. None: everyone at the sites.
    people: frozenset[int] | None = None

    @property
    def since(self) -> datetime:
        """The first moment of the period (local midnight)."""
        return datetime.combine(self.start, time.min, tzinfo=timezone.get_current_timezone())

    @property
    def until(self) -> datetime:
        """The first moment after the period (exclusive)."""
        return datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=timezone.get_current_timezone())

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> ReportFilters:
        """The period of the same length just before this one (环比)."""
        return replace(self, start=self.start - timedelta(days=self.days), end=self.start - timedelta(days=1))

    def tickets(self) -> QuerySet[Ticket]:
        """Tickets received in the period at the chosen sites, department and kind."""
        qs = Ticket.objects.filter(site_id__in=self.site_ids, created_at__gte=self.since, created_at__lt=self.until)
        return self.narrow(qs)

    def narrow(self, qs: QuerySet[Any], prefix: str = "") -> QuerySet[Any]:
        if self.people is not None:
            qs = qs.filter(
                Q(**{f"{prefix}assignee_id__in": self.people}) | Q(**{f"{prefix}first_responder_id__in": self.people})
            )
        if self.department_id is not None:
            qs = qs.filter(**{f"{prefix}department_id": self.department_id})
        if self.kind:
            qs = qs.filter(**{f"{prefix}kind": self.kind})
        return qs

    def query(self, **extra: Any) -> str:
        """The filters as a query string, for export and print links."""
        params: dict[str, Any] = {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if len(self.site_ids) == 1:
            params["site"] = next(iter(self.site_ids))
        if self.department_id is not None:
            params["department"] = self.department_id
        if self.kind:
            params["kind"] = self.kind
        params.update(extra)
        return urlencode(params)


def parse_filters(
    params: Mapping[str, Any], *, allowed_sites: Iterable[int], today: date | None = None
) -> tuple[ReportFilters, list[str]]:
    """Filters from a query string; the second value lists, in words, what was not
    understood (and replaced by its default)."""
    today = today or timezone.localdate()
    allowed = frozenset(allowed_sites)
    problems: list[str] = []
    start, end = parse_date(params.get("start")), parse_date(params.get("end"))
    if params.get("start") and start is None:
        problems.append(_("开始日期格式不正确，已改用本月第一天"))
    if params.get("end") and end is None:
        problems.append(_("结束日期格式不正确，已改用今天"))
    start, end = start or today.replace(day=1), end or today
    if end < start:
        start, end = end, start
    if (end - start).days + 1 > MAX_DAYS:
        start = end - timedelta(days=MAX_DAYS - 1)
        problems.append(_("统计期间最长 3 年，已从结束日期往前截取"))
    sites = allowed
    if params.get("site"):
        site = parse_id(params.get("site"))
        if site in allowed:
            sites = frozenset({site}) if site is not None else allowed
        else:
            problems.append(_("无权查看所选项目，已显示您负责的全部项目"))
    department = parse_id(params.get("department"))
    if params.get("department") and (department is None or not Department.objects.filter(pk=department).exists()):
        problems.append(_("部门不存在，已显示全部部门"))
        department = None
    kind = str(params.get("kind") or "")
    if kind and kind not in Kind.values:
        problems.append(_("工单类型不正确，已显示全部类型"))
        kind = ""
    return ReportFilters(start=start, end=end, site_ids=sites, department_id=department, kind=kind), problems

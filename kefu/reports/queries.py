"""The report figures (SPEC §3.10). Every figure is one grouped SQL query over the tickets of
the period, whatever their number: no loop over tickets in Python. The definitions are
written next to each query and shown on the page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.tickets.lifecycle import Kind, Status
from kefu.tickets.models import Channel, Ticket

from .filters import ReportFilters

# A report over more days than this is drawn by month instead of by day.
DAILY_UP_TO = 62

VOLUME_DIMENSIONS = {
    "kind": gettext_lazy("按类型"),
    "channel": gettext_lazy("按来源渠道"),
    "category": gettext_lazy("按分类"),
}
VOLUME_LABELS = {"kind": gettext_lazy("类型"), "channel": gettext_lazy("来源渠道"), "category": gettext_lazy("分类")}
PARETO_DIMENSIONS = {
    "category": gettext_lazy("分类"),
    "building": gettext_lazy("楼栋"),
    "department": gettext_lazy("处理部门"),
    "assignee": gettext_lazy("处理人"),
}
SLA_GROUPS = {"department": gettext_lazy("按部门"), "person": gettext_lazy("按处理人")}


def percent(part: int | None, whole: int | None) -> float | None:
    return None if not whole else round((part or 0) * 100 / whole, 1)


def _labels(dimension: str) -> dict[Any, str]:
    if dimension == "kind":
        return {value: str(label) for value, label in Kind.choices}
    if dimension == "channel":
        return {value: str(label) for value, label in Channel.choices}
    return {}


def _dimension_field(dimension: str) -> Any:
    return {
        "kind": F("kind"),
        "channel": F("channel"),
        "category": F("category__name"),
        "building": F("unit__building"),
        "department": F("department__name"),
        "assignee": F("assignee__name"),
    }[dimension]


def _unknown(dimension: str) -> str:
    return {
        "category": _("未分类"),
        "building": _("未关联房屋"),
        "department": _("未派部门"),
        "assignee": _("未派人"),
    }.get(dimension, "—")


# --- volume ---------------------------------------------------------------------------------


@dataclass
class Volume:
    buckets: list[str]
    series: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    total: int
    monthly: bool


def volume(f: ReportFilters, dimension: str = "kind") -> Volume:
    """Tickets received per day (or month, for long periods), split by kind, channel or
    category: one query grouped by bucket and dimension."""
    if dimension not in VOLUME_DIMENSIONS:
        dimension = "kind"
    monthly = f.days > DAILY_UP_TO
    trunc = TruncMonth if monthly else TruncDate
    tz = timezone.get_current_timezone()
    grouped = (
        f.tickets()
        .annotate(bucket=trunc("created_at", tzinfo=tz), dim=_dimension_field(dimension))
        .values("bucket", "dim")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[tuple[str, Any], int] = {}
    for row in grouped:
        counts[(_bucket(row["bucket"], monthly), row["dim"])] = row["n"]
    buckets = _all_buckets(f, monthly)
    labels = _labels(dimension)
    totals: dict[Any, int] = {}
    for (_b, dim), n in counts.items():
        totals[dim] = totals.get(dim, 0) + n
    order = sorted(totals, key=lambda d: (-totals[d], str(d)))
    total = sum(totals.values())
    name = {d: labels.get(d, d if d else _unknown(dimension)) for d in order}
    series = [{"name": name[d], "data": [counts.get((b, d), 0) for b in buckets]} for d in order]
    rows = [{"label": name[d], "n": totals[d], "share": percent(totals[d], total)} for d in order]
    return Volume(buckets=buckets, series=series, rows=rows, total=total, monthly=monthly)


def _bucket(value: date | datetime, monthly: bool) -> str:
    if isinstance(value, datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return f"{value:%Y-%m}" if monthly else value.isoformat()


def _all_buckets(f: ReportFilters, monthly: bool) -> list[str]:
    """Every day (or month) of the period, so that quiet days show as zero."""
    if monthly:
        months, year, month = [], f.start.year, f.start.month
        while (year, month) <= (f.end.year, f.end.month):
            months.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return months
    return [date.fromordinal(f.start.toordinal() + n).isoformat() for n in range(f.days)]


# --- Pareto ---------------------------------------------------------------------------------


@dataclass
class ParetoRow:
    label: str
    n: int
    share: float | None
    cumulative: float | None
    group: str  # A: the vital few up to 80 %, B: up to 90 %, C: the rest


def pareto(f: ReportFilters, dimension: str = "category") -> list[ParetoRow]:
    """排列图: counts per value of ``dimension``, largest first, with the share and the
    cumulative share; A takes the values until 80 % is reached, B until 90 %."""
    if dimension not in PARETO_DIMENSIONS:
        dimension = "category"
    grouped = f.tickets().values(dim=_dimension_field(dimension)).annotate(n=Count("id")).order_by("-n", "dim")
    rows = [(row["dim"], row["n"]) for row in grouped]
    total = sum(n for _dim, n in rows)
    out, running = [], 0
    for dim, n in rows:
        before = percent(running, total) or 0.0
        running += n
        group = "A" if before < 80 else "B" if before < 90 else "C"
        label = dim if dim else _unknown(dimension)
        out.append(ParetoRow(str(label), n, percent(n, total), percent(running, total), group))
    return out


# --- time limits ----------------------------------------------------------------------------


@dataclass
class Compliance:
    label: str
    tickets: int = 0
    respond_on: int = 0
    respond_late: int = 0
    arrive_on: int = 0
    arrive_late: int = 0
    resolve_on: int = 0
    resolve_late: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def respond_rate(self) -> float | None:
        return percent(self.respond_on, self.respond_on + self.respond_late)

    @property
    def arrive_rate(self) -> float | None:
        return percent(self.arrive_on, self.arrive_on + self.arrive_late)

    @property
    def resolve_rate(self) -> float | None:
        return percent(self.resolve_on, self.resolve_on + self.resolve_late)


def _late(delta: str, due: str, met: str, now: datetime) -> Q:
    """Late: met after the deadline, or not met and the deadline has passed. A suspended
    ticket's clock is stopped, so it is not late while it waits."""
    return Q(**{f"{delta}__gt": 0}) | (Q(**{f"{met}__isnull": True, f"{due}__lt": now}) & ~Q(status=Status.SUSPENDED))


def compliance_columns(now: datetime) -> dict[str, Any]:
    return {
        "tickets": Count("id"),
        "respond_on": Count("id", filter=Q(respond_delta__lte=0)),
        "respond_late": Count("id", filter=_late("respond_delta", "respond_due", "responded_at", now)),
        "arrive_on": Count("id", filter=Q(arrive_delta__lte=0)),
        "arrive_late": Count("id", filter=_late("arrive_delta", "arrive_due", "arrived_at", now)),
        "resolve_on": Count("id", filter=Q(resolve_delta__lte=0)),
        "resolve_late": Count("id", filter=_late("resolve_delta", "resolve_due", "completed_at", now)),
    }


def sla_compliance(f: ReportFilters, by: str = "department", now: datetime | None = None) -> dict[str, Any]:
    """On-time shares of response, arrival and resolution for the tickets received in the
    period (cancelled ones left out), per handling department or per handler, and overall."""
    now = now or timezone.now()
    if by not in SLA_GROUPS:
        by = "department"
    qs: QuerySet[Ticket] = f.tickets().exclude(status=Status.CANCELLED)
    columns = compliance_columns(now)
    key = "department__name" if by == "department" else "assignee__name"
    grouped = qs.values(label=F(key)).annotate(**columns).order_by("label")
    unknown = _unknown("department" if by == "department" else "assignee")
    rows = [Compliance(label=row.pop("label") or unknown, **row) for row in grouped]
    rows.sort(key=lambda r: (-r.tickets, r.label))
    overall = Compliance(label=_("合计"), **qs.aggregate(**columns))
    return {"rows": rows, "overall": overall}

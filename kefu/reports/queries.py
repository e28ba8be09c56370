"""The report figures (SPEC §3.10). Every figure is one grouped SQL query over the tickets of
the period, whatever their number: no loop over tickets in Python. The definitions are
written next to each query and shown on the page."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from django.db.models import Avg, Count, F, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import PermissionDenied
from kefu.core.figures import percent
from kefu.org.models import Role, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import people_in_view
from kefu.tickets.lifecycle import IN_HAND, Kind, Status
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
    "responsible_department": gettext_lazy("投诉责任部门"),
    "responsible_person": gettext_lazy("投诉责任人"),
}
SLA_GROUPS = {"department": gettext_lazy("按部门"), "person": gettext_lazy("按处理人")}


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
        "responsible_department": F("complaint__responsible_department__name"),
        "responsible_person": F("complaint__responsible_person__name"),
    }[dimension]


def _unknown(dimension: str) -> str:
    return {
        "category": _("未分类"),
        "building": _("未关联房屋"),
        "department": _("未派部门"),
        "assignee": _("未派人"),
        "responsible_department": _("未认定"),
        "responsible_person": _("未认定"),
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
    qs = f.tickets()
    if dimension.startswith("responsible_"):
        # Only a complaint has a responsible department and person (from its investigation).
        qs = qs.filter(kind=Kind.COMPLAINT)
    grouped = qs.values(dim=_dimension_field(dimension)).annotate(n=Count("id")).order_by("-n", "dim")
    # Ties in label order, the same on every database (they sort empty values differently).
    rows = sorted(((row["dim"] or _unknown(dimension), row["n"]) for row in grouped), key=lambda r: (-r[1], str(r[0])))
    total = sum(n for _dim, n in rows)
    out, running = [], 0
    for dim, n in rows:
        before = percent(running, total) or 0.0
        running += n
        group = "A" if before < 80 else "B" if before < 90 else "C"
        out.append(ParetoRow(str(dim), n, percent(n, total), percent(running, total), group))
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


# --- first-contact resolution and reopening -------------------------------------------------

RESOLUTION_GROUPS = {
    "kind": gettext_lazy("按类型"),
    "department": gettext_lazy("按部门"),
    "first_responder": gettext_lazy("按首问责任人"),
}


@dataclass
class Resolution:
    label: str
    received: int = 0
    first_contact: int = 0
    completed: int = 0
    reopened: int = 0

    @property
    def first_contact_rate(self) -> float | None:
        return percent(self.first_contact, self.received)

    @property
    def reopen_rate(self) -> float | None:
        return percent(self.reopened, self.completed)


def resolution(f: ReportFilters, by: str = "kind") -> dict[str, Any]:
    """一次解决率 = tickets resolved at the first contact / tickets received (cancelled left
    out); 重开率 = completed tickets reopened at least once / completed tickets."""
    if by not in RESOLUTION_GROUPS:
        by = "kind"
    qs = f.tickets().exclude(status=Status.CANCELLED)
    columns = {
        "received": Count("id"),
        "first_contact": Count("id", filter=Q(first_contact_resolved=True)),
        "completed": Count("id", filter=Q(completed_at__isnull=False)),
        "reopened": Count("id", filter=Q(completed_at__isnull=False, reopen_count__gt=0)),
    }
    key = {"kind": "kind", "department": "department__name", "first_responder": "first_responder__name"}[by]
    labels = _labels("kind") if by == "kind" else {}
    unknown = _unknown("department") if by == "department" else "—"
    rows = [
        Resolution(label=labels.get(row["label"], row["label"] or unknown), **{k: row[k] for k in columns})
        for row in qs.values(label=F(key)).annotate(**columns).order_by("label")
    ]
    rows.sort(key=lambda r: (-r.received, r.label))
    return {"rows": rows, "overall": Resolution(label=_("合计"), **qs.aggregate(**columns))}


# --- the complaint tracking ledger ----------------------------------------------------------

STEPS = (
    ("received", gettext_lazy("受理")),
    ("judged", gettext_lazy("判定")),
    ("investigated", gettext_lazy("调查")),
    ("approved", gettext_lazy("方案批示")),
    ("implemented", gettext_lazy("实施")),
    ("confirmed", gettext_lazy("客户确认")),
    ("summarized", gettext_lazy("总结")),
)


def complaints(f: ReportFilters) -> QuerySet[Ticket]:
    """投诉案件登记追踪表: every complaint received in the period with its six steps, the
    responsible department and person, the result, the customer's confirmation and the last
    return visit's result. One query (the visit result is a subquery)."""
    from kefu.visits.models import Visit

    last_visit = Visit.objects.filter(ticket=OuterRef("pk"), status=Visit.Status.DONE).order_by("-done_at")
    return (
        f.tickets()
        .filter(kind=Kind.COMPLAINT)
        .select_related(
            "site",
            "customer",
            "unit",
            "category",
            "department",
            "complaint",
            "complaint__responsible_department",
            "complaint__responsible_person",
            "complaint__classification",
        )
        .annotate(visit_result=Subquery(last_visit.values("result")[:1]))
        .order_by("created_at", "id")
    )


def complaint_steps(f: ReportFilters) -> list[dict[str, Any]]:
    """How many of the period's complaints reached each step (cancelled ones left out)."""
    qs = f.tickets().filter(kind=Kind.COMPLAINT).exclude(status=Status.CANCELLED)
    counts = qs.aggregate(
        received=Count("id"),
        judged=Count("id", filter=Q(complaint__judged_at__isnull=False)),
        investigated=Count("id", filter=Q(complaint__investigated_at__isnull=False)),
        approved=Count("id", filter=Q(complaint__approved_at__isnull=False)),
        implemented=Count("id", filter=Q(complaint__implemented_at__isnull=False)),
        confirmed=Count("id", filter=Q(confirmed_at__isnull=False)),
        summarized=Count("id", filter=Q(complaint__summarized_at__isnull=False)),
    )
    return [{"key": key, "label": str(label), "n": counts[key]} for key, label in STEPS]


# --- satisfaction trend ---------------------------------------------------------------------


def satisfaction_trend(f: ReportFilters) -> dict[str, Any]:
    """Per month of the period: the customers' 1–5 ratings (average, and the share of 4 and 5
    stars), the return visits' satisfaction (满意 + 一般 over visits with a result) and the
    surveys' satisfaction rate (each questionnaire's own bar)."""
    from kefu.surveys.models import Answer
    from kefu.surveys.queries import rate_columns
    from kefu.visits.models import Visit

    tz = timezone.get_current_timezone()
    ratings = (
        f.narrow(Ticket.objects.filter(site_id__in=f.site_ids, rated_at__gte=f.since, rated_at__lt=f.until))
        .annotate(month=TruncMonth("rated_at", tzinfo=tz))
        .values("month")
        .annotate(n=Count("id"), total=Sum("rating"), good=Count("id", filter=Q(rating__gte=4)))
        .order_by()
    )
    visits = (
        Visit.objects.filter(
            site_id__in=f.site_ids, status=Visit.Status.DONE, done_at__gte=f.since, done_at__lt=f.until
        )
        .exclude(result="")
        .annotate(month=TruncMonth("done_at", tzinfo=tz))
        .values("month")
        .annotate(
            n=Count("id"),
            good=Count("id", filter=Q(result__in=[Visit.Result.SATISFIED, Visit.Result.ORDINARY])),
        )
        .order_by()
    )
    answers = (
        Answer.objects.filter(
            response__batch__site_id__in=f.site_ids,
            response__submitted_at__gte=f.since,
            response__submitted_at__lt=f.until,
        )
        .annotate(month=TruncMonth("response__submitted_at", tzinfo=tz))
        .values("month")
        .annotate(**rate_columns())
        .order_by()
    )
    months = _all_buckets(f, monthly=True)
    counters = ("rated", "rating_total", "rating_good", "visits", "visits_good", "answers", "answers_good")
    rows: dict[str, dict[str, Any]] = {m: {"month": m, **dict.fromkeys(counters, 0)} for m in months}
    for r in ratings:
        row = rows.get(_bucket(r["month"], True))
        if row:
            row.update(rated=r["n"], rating_total=r["total"] or 0, rating_good=r["good"])
    for r in visits:
        row = rows.get(_bucket(r["month"], True))
        if row:
            row.update(visits=r["n"], visits_good=r["good"])
    for r in answers:
        row = rows.get(_bucket(r["month"], True))
        if row:
            row.update(answers=r["valid"], answers_good=r["satisfied"])
    out = []
    for m in months:
        row = rows[m]
        row["rating_average"] = None if not row["rated"] else round(row["rating_total"] / row["rated"], 2)
        row["rating_rate"] = percent(row["rating_good"], row["rated"])
        row["visit_rate"] = percent(row["visits_good"], row["visits"])
        row["survey_rate"] = percent(row["answers_good"], row["answers"])
        out.append(row)
    return {"rows": out}


# --- warning cards --------------------------------------------------------------------------


def cards_by_person(f: ReportFilters) -> dict[str, Any]:
    """Cards issued in the period (revoked ones left out), per person and rule, with the
    count of each colour: one grouped query."""
    from kefu.tickets.models import WarningCard

    qs = WarningCard.objects.filter(
        site_id__in=f.site_ids, issued_at__gte=f.since, issued_at__lt=f.until, revoked_at__isnull=True
    )
    if f.department_id is not None:
        qs = qs.filter(staff__department_id=f.department_id)
    if f.kind:
        qs = qs.filter(ticket__kind=f.kind)
    grouped = qs.values("staff_id", "staff__name", "rule", "color").annotate(n=Count("id")).order_by()
    rules = [(value, str(label)) for value, label in WarningCard.Rule.choices]
    people: dict[int, dict[str, Any]] = {}
    for row in grouped:
        person = people.setdefault(
            row["staff_id"],
            {
                "name": row["staff__name"],
                "blue": 0,
                "yellow": 0,
                "red": 0,
                "total": 0,
                "rules": dict.fromkeys((r for r, _l in rules), 0),
            },
        )
        person[row["color"]] += row["n"]
        person["rules"][row["rule"]] += row["n"]
        person["total"] += row["n"]
    rows = sorted(people.values(), key=lambda p: (-p["total"], p["name"]))
    totals = {key: sum(p[key] for p in rows) for key in ("blue", "yellow", "red", "total")}
    by_rule = {r: sum(p["rules"][r] for p in rows) for r, _l in rules}
    return {"rows": rows, "rules": rules, "totals": totals, "by_rule": by_rule}


# --- workload -------------------------------------------------------------------------------

WORKLOAD_GROUPS = {"person": gettext_lazy("按处理人"), "department": gettext_lazy("按部门")}


@dataclass
class Workload:
    label: str
    open_now: int = 0
    overdue_now: int = 0
    received: int = 0
    handled: int = 0
    handling_minutes: float | None = None

    @property
    def average_hours(self) -> float | None:
        return None if self.handling_minutes is None else round(self.handling_minutes / 60, 1)


def workload(f: ReportFilters, by: str = "person", now: datetime | None = None) -> list[Workload]:
    """Per handler (or department): open and overdue now, received in the period (assigned
    tickets created then), handled in the period (completed then) and their average handling
    time in business hours (receipt to completion on the site's calendar). Three grouped
    queries, joined by key."""
    now = now or timezone.now()
    if by not in WORKLOAD_GROUPS:
        by = "person"
    key, name = ("assignee_id", "assignee__name") if by == "person" else ("department_id", "department__name")
    scope = f.narrow(Ticket.objects.filter(site_id__in=f.site_ids, **{f"{key}__isnull": False}))
    rows: dict[int, Workload] = {}

    def row(pk: int, label: str) -> Workload:
        return rows.setdefault(pk, Workload(label=label))

    current = (
        scope.filter(status__in=IN_HAND)
        .values(key, name)
        .annotate(n=Count("id"), late=Count("id", filter=Q(resolve_due__lt=now) & ~Q(status=Status.SUSPENDED)))
        .order_by()
    )
    for r in current:
        item = row(r[key], r[name])
        item.open_now, item.overdue_now = r["n"], r["late"]
    received = f.tickets().filter(**{f"{key}__isnull": False})
    for r in received.values(key, name).annotate(n=Count("id")).order_by():
        row(r[key], r[name]).received = r["n"]
    done = scope.filter(completed_at__gte=f.since, completed_at__lt=f.until)
    for r in done.values(key, name).annotate(n=Count("id"), avg=Avg("handling_minutes")).order_by():
        item = row(r[key], r[name])
        item.handled, item.handling_minutes = r["n"], r["avg"]
    return sorted(rows.values(), key=lambda w: (-(w.handled + w.open_now), w.label))


# --- dashboards -----------------------------------------------------------------------------


def require_reader(staff: Staff) -> None:
    """The report pages and their API are for supervisors and above."""
    if staff.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以查看统计报表"))


def dashboard_scope(staff: Staff, f: ReportFilters) -> tuple[ReportFilters, str]:
    """The dashboard reads whose work ``people_in_view`` says (administrators: everyone at
    their sites), and names that scope."""
    people = None if staff.role == Role.ADMIN else people_in_view(staff)
    if people is None:
        return f, str(_("全部人员"))
    if staff.role == Role.SUPERVISOR:
        return replace(f, people=people), _("本组（{n} 人）").format(n=len(people))
    return replace(f, people=people), str(_("本人"))


def kpis(f: ReportFilters, now: datetime | None = None, *, with_now: bool = True) -> dict[str, Any]:
    """The dashboard's key figures for the period: a handful of aggregate queries. The
    figures of "now" (open and overdue) are left out (None) without ``with_now``."""
    from kefu.tickets.models import WarningCard
    from kefu.visits.models import Visit

    now = now or timezone.now()
    received = f.tickets().exclude(status=Status.CANCELLED)
    t = received.aggregate(
        received=Count("id"),
        first_contact=Count("id", filter=Q(first_contact_resolved=True)),
        **{k: v for k, v in compliance_columns(now).items() if k != "tickets"},
    )
    completed = f.narrow(
        Ticket.objects.filter(site_id__in=f.site_ids, completed_at__gte=f.since, completed_at__lt=f.until)
    )
    c = completed.aggregate(
        handled=Count("id"),
        reopened=Count("id", filter=Q(reopen_count__gt=0)),
        minutes=Avg("handling_minutes"),
    )
    o: dict[str, int | None] = dict.fromkeys(NOW_FIGURES)
    if with_now:
        o = f.narrow(Ticket.objects.filter(site_id__in=f.site_ids).in_hand()).aggregate(
            open_now=Count("id"),
            overdue_now=Count("id", filter=Q(resolve_due__lt=now) & ~Q(status=Status.SUSPENDED)),
        )
    rated = Ticket.objects.filter(site_id__in=f.site_ids, rated_at__gte=f.since, rated_at__lt=f.until)
    if f.people is not None:
        rated = rated.filter(rated_staff_id__in=f.people)
    r = rated.aggregate(rated=Count("id"), good=Count("id", filter=Q(rating__gte=4)), stars=Avg("rating"))
    visits = Visit.objects.filter(site_id__in=f.site_ids, due_at__gte=f.since, due_at__lt=f.until)
    if f.people is not None:
        visits = visits.filter(assignee_id__in=f.people)
    done = Q(status=Visit.Status.DONE)
    v = visits.exclude(status=Visit.Status.CANCELLED).aggregate(
        due=Count("id"),
        made=Count("id", filter=done),
        on_time=Count("id", filter=done & Q(done_at__lte=F("due_at"))),
        with_result=Count("id", filter=done & ~Q(result="")),
        pleased=Count("id", filter=done & Q(result__in=[Visit.Result.SATISFIED, Visit.Result.ORDINARY])),
    )
    cards = WarningCard.objects.filter(
        site_id__in=f.site_ids, issued_at__gte=f.since, issued_at__lt=f.until, revoked_at__isnull=True
    )
    if f.people is not None:
        cards = cards.filter(staff_id__in=f.people)
    k = cards.aggregate(
        cards=Count("id"),
        yellow=Count("id", filter=Q(color=WarningCard.Color.YELLOW)),
        red=Count("id", filter=Q(color=WarningCard.Color.RED)),
    )
    return {
        "received": t["received"],
        "handled": c["handled"],
        "open_now": o["open_now"],
        "overdue_now": o["overdue_now"],
        "respond_rate": percent(t["respond_on"], t["respond_on"] + t["respond_late"]),
        "resolve_rate": percent(t["resolve_on"], t["resolve_on"] + t["resolve_late"]),
        "first_contact_rate": percent(t["first_contact"], t["received"]),
        "reopen_rate": percent(c["reopened"], c["handled"]),
        "average_hours": None if c["minutes"] is None else round(c["minutes"] / 60, 1),
        "rating_rate": percent(r["good"], r["rated"]),
        "rating_average": None if r["stars"] is None else round(r["stars"], 2),
        "visit_on_time_rate": percent(v["on_time"], v["made"]),
        "visit_satisfied_rate": percent(v["pleased"], v["with_result"]),
        "visits_due": v["due"],
        "cards": k["cards"],
        "yellow_cards": k["yellow"],
        "red_cards": k["red"],
    }


# The dashboard's figures: label, unit ("%" figures change in percentage points), and
# whether a rise is good news.
KPI_LIST: tuple[tuple[str, Any, str, bool], ...] = (
    ("received", gettext_lazy("受理"), "", True),
    ("handled", gettext_lazy("办结"), "", True),
    ("open_now", gettext_lazy("当前在办"), "", False),
    ("overdue_now", gettext_lazy("当前超期"), "", False),
    ("respond_rate", gettext_lazy("响应按时率"), "%", True),
    ("resolve_rate", gettext_lazy("办结按时率"), "%", True),
    ("first_contact_rate", gettext_lazy("一次解决率"), "%", True),
    ("reopen_rate", gettext_lazy("重开率"), "%", False),
    ("average_hours", gettext_lazy("平均处理用时(工作小时)"), "", False),
    ("rating_rate", gettext_lazy("评分 4–5 星占比"), "%", True),
    ("visit_on_time_rate", gettext_lazy("回访按时率"), "%", True),
    ("visit_satisfied_rate", gettext_lazy("回访满意率"), "%", True),
    ("cards", gettext_lazy("警告卡"), "", False),
)
NOW_FIGURES = frozenset({"open_now", "overdue_now"})


def dashboard(f: ReportFilters, now: datetime | None = None) -> list[dict[str, Any]]:
    """Each key figure with its value in the previous period of the same length (环比) and
    the change, marked good or bad news. Figures of "now" have no previous value."""
    this, before = kpis(f, now), kpis(f.previous(), now, with_now=False)
    out = []
    for key, label, unit, rise_is_good in KPI_LIST:
        value, previous = this[key], (None if key in NOW_FIGURES else before[key])
        change = None if value is None or previous is None else round(value - previous, 1)
        good = None if not change else (change > 0) == rise_is_good
        out.append({"key": key, "label": str(label), "unit": unit, "value": value, "previous": previous,
                    "change": change, "good": good})  # fmt: skip
    return out

"""A person's appraisal figures for a period, for many people at once: one grouped query per
figure, whatever the number of tickets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import NotFound, PermissionDenied
from kefu.core.figures import percent
from kefu.core.lookup import by_pk
from kefu.org.models import Role, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import people_in_view, site_ids_for
from kefu.tickets.lifecycle import Kind, Status
from kefu.tickets.models import Ticket, WarningCard
from kefu.visits.models import Visit

from .models import DEFAULT_WEIGHTS, Appraisal, Period, RewardPenalty, Scheme, Sheet, SheetTemplate
from .scoring import KPIS, Rules

# Who sets up periods, edits score sheets and schemes: managers and directors. Supervisors
# read the score sheets they fill in.
MANAGERS = frozenset({Role.MANAGER, Role.DIRECTOR})
SHEET_READERS = SUPERVISING_ROLES
APPRAISED = tuple(DEFAULT_WEIGHTS)

KPI_LABELS = {
    "handled": gettext_lazy("办结量"),
    "on_time": gettext_lazy("办结按时率"),
    "satisfaction": gettext_lazy("客户满意度"),
    "visits_on_time": gettext_lazy("回访按时率"),
    "first_contact": gettext_lazy("一次解决率"),
}


def rules_for(role: str) -> Rules:
    """The role's scheme, else the defaults."""
    scheme = Scheme.objects.filter(role=role).first()
    return rules_of(scheme) if scheme is not None else default_rules(role)


def default_rules(role: str) -> Rules:
    return Rules(weights=dict(DEFAULT_WEIGHTS.get(role, {})))


def rules_of(scheme: Scheme) -> Rules:
    return Rules(
        weights={k: int(v) for k, v in (scheme.weights or DEFAULT_WEIGHTS.get(scheme.role, {})).items()},
        handled_target=scheme.handled_target,
        sheet_share=scheme.sheet_share,
        card_points={k: int(v) for k, v in (scheme.card_points or {}).items()},
        praise_points=scheme.praise_points,
    )


def rules_applied(appraisal: Appraisal) -> Rules:
    """The rules the appraisal was computed with (kept with its figures), so that a scheme
    changed since affects a period only when it is computed again; the role's current
    rules for a result computed before the rules were kept."""
    kept = (appraisal.kpis or {}).get("rules")
    if not isinstance(kept, dict):
        return rules_for(appraisal.role)
    return Rules(
        weights={k: int(v) for k, v in kept.get("weights", {}).items()},
        handled_target=int(kept.get("handled_target", 60)),
        sheet_share=int(kept.get("sheet_share", 30)),
        card_points={k: int(v) for k, v in kept.get("card_points", {}).items()},
        praise_points=int(kept.get("praise_points", 2)),
    )


def figures_for(
    *, staff_ids: Iterable[int], site_ids: Iterable[int], start: date, end: date
) -> dict[int, dict[str, Any]]:
    """Per person: tickets handled (completed as handler), resolution on time among them,
    customer satisfaction (ratings of 4–5 stars), return visits made on time, first-contact
    resolution as first responder, cards by colour, praise received, and the manual rewards
    and penalties of the ledger."""
    people, sites = list(staff_ids), list(site_ids)
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    months = max(1, round(((end - start).days + 1) / 30.4))
    out: dict[int, dict[str, Any]] = {
        pk: {"months": months, "handled": 0, "cards": {}, "praise": 0, "rewards": 0.0, "penalties": 0.0}
        for pk in people
    }
    tickets = Ticket.objects.filter(site_id__in=sites)

    done = (
        tickets.filter(assignee_id__in=people, completed_at__gte=since, completed_at__lt=until)
        .values("assignee_id")
        .annotate(
            n=Count("id"),
            on=Count("id", filter=Q(resolve_delta__lte=0)),
            measured=Count("id", filter=Q(resolve_delta__isnull=False)),
        )
        .order_by()
    )
    for r in done:
        out[r["assignee_id"]].update(handled=r["n"], on_time=percent(r["on"], r["measured"]))
    rated = (
        tickets.filter(rated_staff_id__in=people, rated_at__gte=since, rated_at__lt=until)
        .values("rated_staff_id")
        .annotate(n=Count("id"), good=Count("id", filter=Q(rating__gte=4)))
        .order_by()
    )
    for r in rated:
        out[r["rated_staff_id"]]["satisfaction"] = percent(r["good"], r["n"])
    visits = (
        Visit.objects.filter(
            site_id__in=sites, assignee_id__in=people, status=Visit.Status.DONE, done_at__gte=since, done_at__lt=until
        )
        .values("assignee_id")
        .annotate(n=Count("id"), on=Count("id", filter=Q(done_at__lte=F("due_at"))))
        .order_by()
    )
    for r in visits:
        out[r["assignee_id"]]["visits_on_time"] = percent(r["on"], r["n"])
    first = (
        tickets.filter(first_responder_id__in=people, created_at__gte=since, created_at__lt=until)
        .exclude(status=Status.CANCELLED)
        .values("first_responder_id")
        .annotate(n=Count("id"), fcr=Count("id", filter=Q(first_contact_resolved=True)))
        .order_by()
    )
    for r in first:
        out[r["first_responder_id"]]["first_contact"] = percent(r["fcr"], r["n"])
    cards = (
        WarningCard.objects.filter(
            site_id__in=sites, staff_id__in=people, issued_at__gte=since, issued_at__lt=until, revoked_at__isnull=True
        )
        .values("staff_id", "color")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in cards:
        out[r["staff_id"]]["cards"][r["color"]] = r["n"]
    praise = (
        tickets.filter(kind=Kind.PRAISE, assignee_id__in=people, created_at__gte=since, created_at__lt=until)
        .exclude(status=Status.CANCELLED)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    for r in praise:
        out[r["assignee_id"]]["praise"] = r["n"]
    ledger = (
        RewardPenalty.objects.filter(staff_id__in=people, site_id__in=sites, day__gte=start, day__lte=end)
        .values("staff_id", "kind")
        .annotate(points=Sum("points"))
        .order_by()
    )
    for r in ledger:
        key = "rewards" if r["kind"] == RewardPenalty.Kind.REWARD else "penalties"
        out[r["staff_id"]][key] = float(r["points"] or 0)
    return out


def ledger(
    *, site_ids: Iterable[int], start: date, end: date, people: Iterable[int] | None = None
) -> list[dict[str, Any]]:
    """奖惩台账 of a period: the entries made by hand and the warning cards (each a penalty of
    the points its colour costs in the person's scheme), newest first."""
    sites = list(site_ids)
    tz = timezone.get_current_timezone()
    since = datetime.combine(start, time.min, tzinfo=tz)
    until = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    entries = RewardPenalty.objects.filter(site_id__in=sites, day__gte=start, day__lte=end).select_related(
        "staff", "created_by"
    )
    cards = WarningCard.objects.filter(
        site_id__in=sites, issued_at__gte=since, issued_at__lt=until, revoked_at__isnull=True
    ).select_related("staff", "ticket")
    if people is not None:
        entries, cards = entries.filter(staff_id__in=list(people)), cards.filter(staff_id__in=list(people))
    rows: list[dict[str, Any]] = [
        {"day": e.day, "staff": e.staff, "kind": e.kind, "kind_label": e.get_kind_display(), "points": e.points,
         "amount": e.amount, "reason": e.reason, "source": str(gettext_lazy("登记")),
         "by": e.created_by.name if e.created_by else ""}
        for e in entries[:2000]
    ]  # fmt: skip
    rules: dict[str, Any] = {}
    for c in cards[:2000]:
        role_rules = rules.setdefault(c.staff.role, rules_for(c.staff.role))
        rows.append(
            {"day": timezone.localtime(c.issued_at).date(), "staff": c.staff, "kind": RewardPenalty.Kind.PENALTY,
             "kind_label": RewardPenalty.Kind.PENALTY.label, "points": role_rules.card_points.get(c.color, 0),
             "amount": None, "reason": f"{c.get_color_display()}：{c.get_rule_display()}"
             + (f"（{c.ticket.number}）" if c.ticket else ""),
             "source": str(gettext_lazy("警告卡")), "by": ""}
        )  # fmt: skip
    rows.sort(key=lambda r: (r["day"], r["staff"].name), reverse=True)
    return rows


def periods_for(staff: Any) -> QuerySet[Period]:
    """The appraisal periods of the staff member's sites."""
    return Period.objects.filter(sites__in=site_ids_for(staff)).distinct()


def results_in_view(staff: Any) -> Q:
    """The appraisal results ``staff`` reads (``people_in_view``): everyone at their sites for
    managers and directors, the team for a supervisor, their own for everyone else."""
    people = people_in_view(staff)
    return Q(staff__sites__in=site_ids_for(staff)) if people is None else Q(staff_id__in=people)


def this_month_unless(start: date | None, end: date | None) -> tuple[date, date]:
    """The period asked for, this month to date by default, in order."""
    today = timezone.localdate()
    start, end = start or today.replace(day=1), end or today
    return (end, start) if end < start else (start, end)


def appraisal_get_for_user(*, staff: Staff, pk: int) -> Appraisal:
    """One result, if it belongs to a period of the staff member's sites and is one they read
    (``results_in_view``); anything else is "not found"."""
    found = (
        Appraisal.objects.filter(pk=pk, period__in=periods_for(staff))
        .filter(results_in_view(staff))
        .select_related("period", "staff", "signed_by")
        .first()
    )
    if found is None:
        raise NotFound(_("考核结果不存在"))
    return found


# --- settings: score-sheet templates and schemes ---------------------------------------------


def sheet_templates_for(staff: Staff) -> QuerySet[SheetTemplate]:
    """Every score-sheet template (they are company-wide) with its item count, total maximum
    and whether any sheet was scored with it; supervisors and above read them."""
    if staff.role not in SHEET_READERS:
        raise PermissionDenied(_("只有客服主管及以上可以查看评分表模板"))
    return SheetTemplate.objects.annotate(
        n_items=Count("items"),
        top=Sum("items__max_score"),
        in_use=Exists(Sheet.objects.filter(template=OuterRef("pk"))),
    ).order_by("id")


def sheet_template_get_for_user(*, staff: Staff, pk: int) -> SheetTemplate:
    found = by_pk(sheet_templates_for(staff), pk)
    if found is None:
        raise NotFound(_("评分表不存在"))
    return found


def sheet_template_in_use(template: SheetTemplate) -> bool:
    """Scored with at least once: its items are then part of those sheets and stay as they are."""
    return Sheet.objects.filter(template=template).exists()


def sheet_items_text(template: SheetTemplate) -> str:
    """The items as the textarea takes them, one a line: ``类别|评分项|满分``."""
    return "\n".join(f"{i.section}|{i.text}|{i.max_score}" for i in template.items.all())


def schemes_for(staff: Staff) -> list[dict[str, Any]]:
    """Each appraised role's rules as they stand (the defaults where no scheme was saved),
    with who changed them last; for managers and directors."""
    if staff.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以设置考核方案"))
    saved = {s.role: s for s in Scheme.objects.select_related("updated_by")}
    rows = []
    for role in APPRAISED:
        scheme = saved.get(role)
        rules = rules_of(scheme) if scheme is not None else default_rules(role)
        rows.append(
            {
                "role": role,
                "label": Role(role).label,
                "rules": rules,
                "weights": {code: rules.weights.get(code, 0) for code in KPIS},
                "scheme": scheme,
            }
        )
    return rows

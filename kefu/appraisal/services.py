"""Appraisal periods: created by managers, computed from the data, ranked per role."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.org.models import Role, Site, Staff
from kefu.org.queries import site_ids_for

from .models import DEFAULT_WEIGHTS, Appraisal, Period, Scheme
from .queries import figures_for
from .scoring import Rules, adjustments, combined, kpi_score, kpi_scores

MANAGERS = frozenset({Role.MANAGER, Role.DIRECTOR})
APPRAISED = tuple(DEFAULT_WEIGHTS)


def rules_for(role: str) -> Rules:
    """The role's scheme, else the defaults."""
    scheme = Scheme.objects.filter(role=role).first()
    if scheme is None:
        return Rules(weights=dict(DEFAULT_WEIGHTS.get(role, {})))
    return Rules(
        weights={k: int(v) for k, v in (scheme.weights or DEFAULT_WEIGHTS.get(role, {})).items()},
        handled_target=scheme.handled_target,
        sheet_share=scheme.sheet_share,
        card_points={k: int(v) for k, v in (scheme.card_points or {}).items()},
        praise_points=scheme.praise_points,
    )


def period_create(*, name: str, start: date | None, end: date | None, sites: Sequence[Site], actor: Staff) -> Period:
    if actor.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以设立考核期"))
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not name or len(name) > 50:
        errors["name"] = [_("请填写名称（不超过 50 字）")]
    if start is None or end is None:
        errors["end"] = [_("请填写开始和结束日期")]
    elif end < start:
        errors["end"] = [_("结束日期不能早于开始日期")]
    elif (end - start).days > 366:
        errors["end"] = [_("一个考核期不能超过一年")]
    allowed = site_ids_for(actor)
    if not sites:
        errors["sites"] = [_("请选择项目")]
    elif any(site.id not in allowed for site in sites):
        errors["sites"] = [_("无权考核该项目")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert start is not None and end is not None
    with transaction.atomic():
        period = Period.objects.create(name=name, start=start, end=end, created_by=actor)
        period.sites.set(sites)
    return period


def period_compute(*, period: Period, actor: Staff | None = None) -> int:
    """(Re)compute every appraisal of the period from the data: the staff of its sites in an
    appraised role; scores, adjustments, the combined total and the rank within each role.
    A closed period is not recomputed."""
    if actor is not None and actor.role not in MANAGERS:
        raise PermissionDenied(_("只有客服经理和总监可以计算考核结果"))
    if period.status == Period.Status.CLOSED:
        raise ValidationFailed(_("考核期已结束，不能重新计算"))
    site_ids = list(period.sites.values_list("id", flat=True))
    staff = list(Staff.objects.filter(sites__in=site_ids, role__in=APPRAISED, is_active=True).distinct().order_by("id"))
    figures = figures_for(staff_ids=[s.id for s in staff], site_ids=site_ids, start=period.start, end=period.end)
    rules = {role: rules_for(role) for role in {s.role for s in staff}}
    sheets = dict(Appraisal.objects.filter(period=period).values_list("staff_id", "sheet_score"))
    with transaction.atomic():
        for person in staff:
            r, f = rules[person.role], figures[person.id]
            scores = kpi_scores(f, r)
            score, adjust = kpi_score(scores, r), adjustments(f, r)
            sheet = sheets.get(person.id)
            Appraisal.objects.update_or_create(
                period=period,
                staff=person,
                defaults={
                    "role": person.role,
                    "kpis": {**f, "scores": {k: None if v is None else float(v) for k, v in scores.items()}},
                    "kpi_score": score,
                    "adjustments": adjust,
                    "total": combined(score, sheet, adjust, r),
                    "signed_by": None,
                    "signed_at": None,
                },
            )
        Appraisal.objects.filter(period=period).exclude(staff__in=staff).delete()
        _rank(period)
        Period.objects.filter(pk=period.pk).update(computed_at=timezone.now())
    return len(staff)


def _rank(period: Period) -> None:
    """1 for the best total within each role; equal totals share a rank; no total, no rank."""
    rows = list(Appraisal.objects.filter(period=period).order_by("role", "-total", "staff_id"))
    previous: tuple[str, object] | None = None
    rank = position = 0
    for row in rows:
        if row.total is None:
            row.rank = None
            continue
        if previous is None or previous[0] != row.role:
            position = 0
        position += 1
        if previous is None or previous != (row.role, row.total):
            rank = position
        row.rank = rank
        previous = (row.role, row.total)
    Appraisal.objects.bulk_update(rows, ["rank"])


def appraisal_sign(*, appraisal: Appraisal, actor: Staff) -> Appraisal:
    """签核: the person's superior, or a manager or director of the period's sites, confirms
    the result. Once signed it stays signed; recomputing the period clears it."""
    period_sites = set(appraisal.period.sites.values_list("id", flat=True))
    is_superior = appraisal.staff.superior_id == actor.id
    is_manager = actor.role in MANAGERS and period_sites & site_ids_for(actor)
    if not (is_superior or is_manager):
        raise PermissionDenied(_("只有直属上级或经理可以签核"))
    if appraisal.staff_id == actor.id:
        raise PermissionDenied(_("不能签核自己的考核结果"))
    if appraisal.total is None:
        raise ValidationFailed(_("尚无考核得分，不能签核"))
    Appraisal.objects.filter(pk=appraisal.pk, signed_at__isnull=True).update(signed_by=actor, signed_at=timezone.now())
    appraisal.refresh_from_db()
    return appraisal

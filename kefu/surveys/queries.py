"""Reads of surveys: the data-scope rule, one access helper per aggregate, and the figures
(回收率, 满意率, weighted score), every one computed by the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from kefu.core.errors import NotFound
from kefu.core.figures import percent
from kefu.org.models import Staff
from kefu.org.permissions import can
from kefu.org.queries import site_ids_for

from .models import SCALE, Answer, Batch, Invitation, Item, Questionnaire, Response

# A valid answer for 满意率: a scale item answered; satisfied: at or above the template's bar.
VALID = Q(item__kind=Item.Kind.SCALE, score__isnull=False)
SATISFIED = VALID & Q(score__gte=F("item__questionnaire__satisfied_min_score"))
SCORED = Q(score__isnull=False)


def _as_int(pk: Any) -> int:
    try:
        value = int(pk)
    except (TypeError, ValueError):
        raise NotFound("记录不存在") from None
    if not 1 <= value <= 2**63 - 1:
        raise NotFound("记录不存在")
    return value


def questionnaires_for(staff: Staff) -> QuerySet[Questionnaire]:
    """Templates are company-wide: every office role reads them."""
    if not can(staff.role, "surveys.enter"):
        return Questionnaire.objects.none()
    return Questionnaire.objects.all()


def questionnaire_get_for_user(*, staff: Staff, pk: Any) -> Questionnaire:
    questionnaire = questionnaires_for(staff).filter(pk=_as_int(pk)).first()
    if questionnaire is None:
        raise NotFound("问卷模板不存在")
    return questionnaire


def batches_for(staff: Staff) -> QuerySet[Batch]:
    """The batches of the staff member's sites, for the roles that work with surveys."""
    if not can(staff.role, "surveys.enter"):
        return Batch.objects.none()
    return Batch.objects.filter(site_id__in=site_ids_for(staff))


def batch_get_for_user(*, staff: Staff, pk: Any) -> Batch:
    batch = batches_for(staff).select_related("questionnaire", "site", "created_by").filter(pk=_as_int(pk)).first()
    if batch is None:
        raise NotFound("发放批次不存在")
    return batch


def invitation_get(*, batch: Batch, pk: Any) -> Invitation:
    invitation = (
        Invitation.objects.select_related("customer", "batch__questionnaire", "batch__site", "batch__created_by")
        .filter(batch=batch, pk=_as_int(pk))
        .first()
    )
    if invitation is None:
        raise NotFound("调查邀请不存在")
    return invitation


def has_responses(questionnaire: Questionnaire) -> bool:
    return Response.objects.filter(batch__questionnaire=questionnaire).exists()


# --- figures --------------------------------------------------------------------------------


def rate_columns() -> dict[str, Any]:
    """Aggregates over a queryset of answers: valid and satisfied scale answers, and the
    weighted sum and total weight of every scored answer."""
    return {
        "valid": Count("id", filter=VALID),
        "satisfied": Count("id", filter=SATISFIED),
        "weighted_sum": Sum(F("score") * F("item__weight"), filter=SCORED),
        "weight_total": Sum("item__weight", filter=SCORED),
    }


@dataclass
class Figures:
    """One row of figures: handed out, collected and the rates derived from the counts."""

    label: str = ""
    handed_out: int | None = None
    collected: int | None = None
    valid: int = 0
    satisfied: int = 0
    weighted_sum: int | None = 0
    weight_total: int | None = 0

    @property
    def response_rate(self) -> float | None:
        return None if self.handed_out is None else percent(self.collected, self.handed_out)

    @property
    def satisfaction_rate(self) -> float | None:
        return percent(self.satisfied, self.valid)

    @property
    def weighted_score(self) -> float | None:
        return None if not self.weight_total else round((self.weighted_sum or 0) / self.weight_total, 2)


def _figures(row: dict[str, Any], label: str = "", **extra: Any) -> Figures:
    return Figures(
        label=label,
        valid=row.get("valid") or 0,
        satisfied=row.get("satisfied") or 0,
        weighted_sum=row.get("weighted_sum") or 0,
        weight_total=row.get("weight_total") or 0,
        **extra,
    )


def batch_figures(batch: Batch) -> Figures:
    collected = Response.objects.filter(batch=batch).count()
    row = Answer.objects.filter(response__batch=batch).aggregate(**rate_columns())
    return _figures(row, batch.name, handed_out=batch.handed_out, collected=collected)


def item_figures(batch: Batch) -> list[dict[str, Any]]:
    """Per item of the batch's questionnaire: the count of each scale value, valid and
    satisfied answers, the average score, and the follow-ups opened. One query."""
    in_batch = Q(answers__response__batch=batch)
    counts = {f"n{score}": Count("answers", filter=in_batch & Q(answers__score=score)) for score, _label in SCALE}
    rows = (
        Item.objects.filter(questionnaire_id=batch.questionnaire_id)
        .select_related("department")
        .annotate(
            answered=Count("answers", filter=in_batch),
            valid=Count("answers", filter=in_batch & Q(kind=Item.Kind.SCALE, answers__score__isnull=False)),
            satisfied=Count(
                "answers",
                filter=in_batch & Q(kind=Item.Kind.SCALE, answers__score__gte=F("questionnaire__satisfied_min_score")),
            ),
            average=Avg("answers__score", filter=in_batch),
            followups=Count("answers", filter=in_batch & Q(answers__followup_ticket__isnull=False)),
            **counts,
        )
        .order_by("position")
    )
    out = []
    for item in rows:
        out.append(
            {
                "item": item,
                "answered": item.answered,  # type: ignore[attr-defined]
                "valid": item.valid,  # type: ignore[attr-defined]
                "satisfied": item.satisfied,  # type: ignore[attr-defined]
                "rate": percent(item.satisfied, item.valid) if item.kind == Item.Kind.SCALE else None,  # type: ignore[attr-defined]
                "average": None if item.average is None else round(item.average, 2),  # type: ignore[attr-defined]
                "followups": item.followups,  # type: ignore[attr-defined]
                "scale": [getattr(item, f"n{score}") for score, _label in SCALE],
            }
        )
    return out


def answers_in(*, site_ids: set[int], start: date | None = None, end: date | None = None) -> QuerySet[Answer]:
    """Answers of the batches of ``site_ids`` whose period overlaps start–end."""
    qs = Answer.objects.filter(response__batch__site_id__in=site_ids)
    if start is not None:
        qs = qs.filter(response__batch__ends_on__gte=start)
    if end is not None:
        qs = qs.filter(response__batch__starts_on__lte=end)
    return qs


def batches_in(*, site_ids: set[int], start: date | None = None, end: date | None = None) -> QuerySet[Batch]:
    qs = Batch.objects.filter(site_id__in=site_ids)
    if start is not None:
        qs = qs.filter(ends_on__gte=start)
    if end is not None:
        qs = qs.filter(starts_on__lte=end)
    return qs


def summary(*, site_ids: set[int], start: date | None = None, end: date | None = None) -> dict[str, list[Figures]]:
    """The results summary (结果汇总表): per batch, site, department, month and item. A fixed
    number of grouped queries whatever the number of answers."""
    answers = answers_in(site_ids=site_ids, start=start, end=end)
    batches = batches_in(site_ids=site_ids, start=start, end=end)
    cols = rate_columns()

    by_batch_rates = {r["response__batch_id"]: r for r in answers.values("response__batch_id").annotate(**cols)}
    by_batch = [
        _figures(
            by_batch_rates.get(b.id, {}),
            f"{b.name}（{b.site.name}，{b.starts_on:%Y-%m-%d}–{b.ends_on:%Y-%m-%d}）",
            handed_out=b.handed_out,
            collected=b.collected,  # type: ignore[attr-defined]
        )
        for b in batches.select_related("site").annotate(collected=Count("responses")).order_by("-starts_on", "-id")
    ]

    handed = dict(batches.values_list("site__name").annotate(n=Sum("handed_out")).order_by())
    collected = dict(
        Response.objects.filter(batch__in=batches).values_list("batch__site__name").annotate(n=Count("id")).order_by()
    )
    by_site = [
        _figures(r, r["response__batch__site__name"], handed_out=handed.get(r["response__batch__site__name"], 0))
        for r in answers.values("response__batch__site__name").annotate(**cols).order_by("response__batch__site__name")
    ]
    for row in by_site:
        row.collected = collected.get(row.label, 0)

    by_department = [
        _figures(r, r["item__department__name"] or "未指定部门")
        for r in answers.values("item__department__name").annotate(**cols).order_by("item__department__name")
    ]
    by_month = [
        _figures(r, f"{r['month']:%Y-%m}" if r["month"] else "")
        for r in answers.annotate(month=TruncMonth("response__submitted_at"))
        .values("month")
        .annotate(**cols)
        .order_by("month")
    ]
    by_item = [
        _figures(r, f"{r['item__questionnaire__title']} · {r['item__position']}. {r['item__text']}")
        for r in answers.values("item_id", "item__questionnaire__title", "item__position", "item__text")
        .annotate(**cols)
        .order_by("item__questionnaire__title", "item__position", "item_id")
    ]
    return {"batch": by_batch, "site": by_site, "department": by_department, "month": by_month, "item": by_item}

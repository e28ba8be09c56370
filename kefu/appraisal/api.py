"""REST endpoints of appraisal: periods, results (each caller sees what the pages show them),
one result with its figures, its score sheets and sign-off, the rewards and penalties ledger,
and the settings: score-sheet templates and each role's scheme."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import AfterValidator, Field, StringConstraints

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, Str20, Str100, Str300, clean_text, page, ref
from kefu.core.errors import DomainError, NotFound, ValidationFailed
from kefu.core.lookup import by_pk
from kefu.org.models import Site, Staff
from kefu.org.queries import people_in_view, site_ids_for

from . import services
from .models import Appraisal, Sheet, SheetTemplate
from .queries import (
    appraisal_get_for_user,
    ledger,
    periods_for,
    results_in_view,
    schemes_for,
    sheet_templates_for,
    this_month_unless,
)

router = Router(tags=["绩效考核"])
_ERRORS: dict[int | str, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# Text that must say something: not empty once trimmed (and nothing the database refuses).
Section = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), AfterValidator(clean_text)
]
ItemText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), AfterValidator(clean_text)
]
Points = Annotated[int, Field(ge=0, le=100)]


def _me(request: HttpRequest) -> Staff:
    return request.auth  # type: ignore[attr-defined,no-any-return]


class PeriodOut(Schema):
    id: int
    name: str
    start: date
    end: date
    status: str
    computed_at: Any


class PeriodPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[PeriodOut]


class ResultOut(Schema):
    id: int
    staff: dict[str, Any] | None
    role: str
    kpi_score: Decimal | None
    sheet_score: Decimal | None
    adjustments: Decimal
    total: Decimal | None
    rank: int | None
    signed_by: dict[str, Any] | None
    kpis: dict[str, Any]


def _period(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "start": p.start,
        "end": p.end,
        "status": p.status,
        "computed_at": p.computed_at,
    }


def _result(a: Appraisal) -> dict[str, Any]:
    return {"id": a.id, "staff": ref(a.staff), "role": a.role, "kpi_score": a.kpi_score, "sheet_score": a.sheet_score,
            "adjustments": a.adjustments, "total": a.total, "rank": a.rank, "signed_by": ref(a.signed_by),
            "kpis": a.kpis}  # fmt: skip


@router.get("/appraisal/periods", response={200: PeriodPage, **_ERRORS}, summary="考核期")
def period_list(request: HttpRequest, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    count, rows = page(periods_for(_me(request)).order_by("-start", "-id"), limit, offset)
    return {"count": count, "limit": limit, "offset": offset, "items": [_period(p) for p in rows]}


@router.get("/appraisal/periods/{period_id}/results", response={200: list[ResultOut], **_ERRORS}, summary="考核结果")
def period_results(request: HttpRequest, period_id: Id) -> list[dict[str, Any]]:
    """The results the caller may read: managers all at their sites, a supervisor the team, everyone their own."""
    me = _me(request)
    period = by_pk(periods_for(me), period_id)
    if period is None:
        raise NotFound(_("考核期不存在"))
    rows = (
        Appraisal.objects.filter(period=period)
        .filter(results_in_view(me))
        .select_related("staff", "signed_by")
        .distinct()
        .order_by("role", "rank", "staff_id")
    )
    return [_result(a) for a in rows]


class LedgerQuery(Schema):
    start: date | None = Field(None, description="开始日期（默认本月第一天）")
    end: date | None = Field(None, description="结束日期（默认今天）")


class LedgerRow(Schema):
    day: date
    staff: dict[str, Any] | None
    kind: str
    points: Decimal
    amount: Decimal | None
    reason: str
    source: str


class LedgerIn(Schema):
    staff_id: Id
    site_id: Id
    day: date
    kind: Literal["reward", "penalty"]
    points: Decimal = Field(gt=0, le=100, description="分值")
    amount: Decimal | None = Field(None, ge=0, le=1_000_000, description="金额（元）")
    reason: Str300


@router.get("/appraisal/ledger", response={200: list[LedgerRow], **_ERRORS}, summary="奖惩台账")
def ledger_list(request: HttpRequest, q: Query[LedgerQuery]) -> list[dict[str, Any]]:
    me = _me(request)
    start, end = this_month_unless(q.start, q.end)
    rows = ledger(site_ids=site_ids_for(me), start=start, end=end, people=people_in_view(me))
    return [{**r, "staff": ref(r["staff"]), "points": Decimal(str(r["points"]))} for r in rows]


@router.post("/appraisal/ledger", response={201: LedgerRow, **_ERRORS}, summary="登记奖惩")
def ledger_create(request: HttpRequest, payload: LedgerIn) -> tuple[int, dict[str, Any]]:
    me = _me(request)
    entry = services.reward_record(
        staff=by_pk(Staff.objects, payload.staff_id),
        site=by_pk(Site.objects, payload.site_id),
        day=payload.day,
        kind=payload.kind,
        points=str(payload.points),
        amount="" if payload.amount is None else str(payload.amount),
        reason=payload.reason,
        actor=me,
    )
    return 201, {"day": entry.day, "staff": ref(entry.staff), "kind": entry.kind, "points": entry.points,
                 "amount": entry.amount, "reason": entry.reason, "source": "登记"}  # fmt: skip


# --- score sheets of a result ----------------------------------------------------------------


class SheetLineOut(Schema):
    id: int = Field(description="评分项 id")
    section: str
    text: str
    max_score: int
    score: int | None = Field(description="该项得分")


class SheetOut(Schema):
    id: int
    template: Ref
    scorer: Ref
    points: int = Field(description="得分")
    max_points: int = Field(description="满分")
    score: Decimal = Field(description="百分制得分")
    submitted_at: datetime
    items: list[SheetLineOut]


class SheetIn(Schema):
    template_id: Id
    scores: dict[Str20, Points] = Field(max_length=200, description="评分项 id → 得分（0 到该项满分的整数）")


def _sheet(sheet: Sheet) -> dict[str, Any]:
    scores = sheet.scores or {}
    return {
        "id": sheet.id,
        "template": ref(sheet.template),
        "scorer": ref(sheet.scorer),
        "points": sheet.points,
        "max_points": sheet.max_points,
        "score": sheet.score,
        "submitted_at": sheet.submitted_at,
        "items": [
            {"id": i.id, "section": i.section, "text": i.text, "max_score": i.max_score, "score": scores.get(str(i.id))}
            for i in sheet.template.items.all()
        ],
    }


def _sheets(appraisal: Appraisal) -> list[Sheet]:
    return list(
        Sheet.objects.filter(appraisal=appraisal)
        .select_related("template", "scorer")
        .prefetch_related("template__items")
        .order_by("submitted_at", "id")
    )


@router.get(
    "/appraisal/results/{result_id}/sheets", response={200: list[SheetOut], **_ERRORS}, summary="考核结果的评分表"
)
def result_sheets(request: HttpRequest, result_id: Id) -> list[dict[str, Any]]:
    """The sheets scored for a result the caller may read (the same rule as the result page)."""
    appraisal = appraisal_get_for_user(staff=_me(request), pk=result_id)
    return [_sheet(s) for s in _sheets(appraisal)]


@router.post("/appraisal/results/{result_id}/sheets", response={200: SheetOut, **_ERRORS}, summary="填写评分表")
def result_sheet_submit(request: HttpRequest, result_id: Id, payload: SheetIn) -> dict[str, Any]:
    """Every item of the template scored; scoring again replaces one's own sheet. The direct
    superior or a manager of the period's sites, never oneself."""
    me = _me(request)
    appraisal = appraisal_get_for_user(staff=me, pk=result_id)
    template = by_pk(SheetTemplate.objects, payload.template_id)
    if template is None:
        raise ValidationFailed(_("评分表不存在"), field="template_id")
    try:
        sheet = services.sheet_submit(appraisal=appraisal, template=template, actor=me, scores=payload.scores)
    except DomainError as exc:
        exc.fields = {
            "template_id" if key == "template" else key.replace("item-", "scores.", 1): value
            for key, value in exc.fields.items()
        }
        raise
    return _sheet(Sheet.objects.select_related("template", "scorer").get(pk=sheet.pk))


@router.post("/appraisal/results/{result_id}/sign", response={200: ResultOut, **_ERRORS}, summary="签核考核结果")
def result_sign(request: HttpRequest, result_id: Id) -> dict[str, Any]:
    me = _me(request)
    appraisal = services.appraisal_sign(appraisal=appraisal_get_for_user(staff=me, pk=result_id), actor=me)
    return _result(appraisal)


# --- score-sheet templates -------------------------------------------------------------------


class SheetItemOut(Schema):
    id: int
    position: int = Field(description="序号")
    section: str = Field(description="类别")
    text: str = Field(description="评分项")
    max_score: int = Field(description="满分")


class SheetTemplateOut(Schema):
    id: int
    name: str
    role: str = Field(description="适用岗位；空为通用")
    is_active: bool
    in_use: bool = Field(description="已有评分记录（评分项不能再修改）")
    max_points: int = Field(description="满分合计")
    created_at: datetime
    items: list[SheetItemOut]


class SheetItemIn(Schema):
    section: Section = Field(description="类别，不超过 50 字")
    text: ItemText = Field(description="评分项，不超过 200 字")
    max_score: int = Field(ge=1, le=100, description="满分，1–100")


class SheetTemplateIn(Schema):
    name: Str100
    role: Str20 = Field(
        "",
        description="适用岗位：agent、frontdesk、technician、dept_staff、supervisor、manager、director；空为通用",
    )
    items: list[SheetItemIn] = Field(min_length=1, max_length=200, description="评分项，按顺序编号，1–200 项")


def _template(t: SheetTemplate) -> dict[str, Any]:
    items = list(t.items.all())
    return {
        "id": t.id,
        "name": t.name,
        "role": t.role,
        "is_active": t.is_active,
        "in_use": bool(getattr(t, "in_use", False)),
        "max_points": sum(i.max_score for i in items),
        "created_at": t.created_at,
        "items": [
            {"id": i.id, "position": i.position, "section": i.section, "text": i.text, "max_score": i.max_score}
            for i in items
        ],
    }


@router.get("/appraisal/sheet-templates", response={200: list[SheetTemplateOut], **_ERRORS}, summary="评分表模板")
def sheet_template_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Every template with its items; supervisors and above."""
    return [_template(t) for t in sheet_templates_for(_me(request)).prefetch_related("items")]


@router.post("/appraisal/sheet-templates", response={201: SheetTemplateOut, **_ERRORS}, summary="新增评分表模板")
def sheet_template_create(request: HttpRequest, payload: SheetTemplateIn) -> tuple[int, dict[str, Any]]:
    """Managers and directors."""
    me = _me(request)
    template = services.sheet_template_create(
        name=payload.name,
        role=payload.role,
        items=[(i.section, i.text, i.max_score) for i in payload.items],
        actor=me,
    )
    return 201, _template(sheet_templates_for(me).prefetch_related("items").get(pk=template.pk))


# --- schemes ---------------------------------------------------------------------------------


class SchemeWeights(Schema):
    """Each KPI's weight, 0–100 (at least one above 0); the weighted mean does not need them to add up to 100."""

    handled: Points = Field(description="办结量")
    on_time: Points = Field(description="办结按时率")
    satisfaction: Points = Field(description="客户满意度")
    visits_on_time: Points = Field(description="回访按时率")
    first_contact: Points = Field(description="一次解决率")


class SchemeCardPoints(Schema):
    blue: Points = Field(description="蓝牌扣分")
    yellow: Points = Field(description="黄牌扣分")
    red: Points = Field(description="红牌扣分")


class SchemeOut(Schema):
    role: str
    role_label: str
    is_default: bool = Field(description="尚未设置，按系统默认")
    weights: SchemeWeights
    handled_target: int = Field(description="办结量满分标准（张/月）")
    sheet_share: int = Field(description="评分表占比（%）")
    card_points: SchemeCardPoints
    praise_points: int = Field(description="表扬加分（每次）")
    updated_by: Ref | None
    updated_at: datetime | None


class SchemeIn(Schema):
    weights: SchemeWeights
    handled_target: int = Field(ge=1, le=services.MAX_HANDLED_TARGET, description="办结量满分标准（张/月）")
    sheet_share: Points = Field(description="评分表占比（%），0–100")
    card_points: SchemeCardPoints
    praise_points: Points = Field(description="表扬加分（每次），0–100")


def _scheme(row: dict[str, Any]) -> dict[str, Any]:
    rules, scheme = row["rules"], row["scheme"]
    return {
        "role": row["role"],
        "role_label": str(row["label"]),
        "is_default": scheme is None,
        "weights": row["weights"],
        "handled_target": rules.handled_target,
        "sheet_share": rules.sheet_share,
        "card_points": {c: rules.card_points.get(c, 0) for c in services.SCHEME_CARD_COLORS},
        "praise_points": rules.praise_points,
        "updated_by": ref(scheme.updated_by) if scheme else None,
        "updated_at": scheme.updated_at if scheme else None,
    }


@router.get("/appraisal/schemes", response={200: list[SchemeOut], **_ERRORS}, summary="考核方案")
def scheme_list(request: HttpRequest) -> list[dict[str, Any]]:
    """Each appraised role's rules in force (the defaults where none was saved); managers and directors."""
    return [_scheme(row) for row in schemes_for(_me(request))]


@router.put("/appraisal/schemes/{role}", response={200: SchemeOut, **_ERRORS}, summary="修改考核方案")
def scheme_put(request: HttpRequest, role: str, payload: SchemeIn) -> dict[str, Any]:
    """The role's scheme, whole; it applies when a period is next computed (a closed one never is)."""
    me = _me(request)
    if role not in services.APPRAISED:
        raise NotFound(_("考核方案不存在"))
    services.scheme_update(
        role=role,
        weights=payload.weights.model_dump(),
        handled_target=payload.handled_target,
        sheet_share=payload.sheet_share,
        card_points=payload.card_points.model_dump(),
        praise_points=payload.praise_points,
        actor=me,
    )
    return next(_scheme(row) for row in schemes_for(me) if row["role"] == role)

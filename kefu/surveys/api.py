"""REST endpoints of satisfaction surveys: templates, batches with their figures, paper
responses typed in by staff, and the responses of a batch. The same services, access
helpers and figures as the pages."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, Str20, Str100, Str2000, page, ref
from kefu.core.errors import PermissionDenied, ValidationFailed
from kefu.core.lookup import by_pk
from kefu.customers.models import Tag
from kefu.org.models import Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import site_ids_for

from . import services
from .models import Batch, Invitation, Questionnaire, Response
from .queries import Figures, batch_figures, batch_get_for_user, batches_for, item_figures, questionnaires_for

router = Router(tags=["满意度调查"])

_ERRORS: dict[int | str, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


def _me(request: HttpRequest, capability: str = "surveys.enter") -> Staff:
    staff: Staff = request.auth  # type: ignore[attr-defined]
    if not can(staff.role, capability):
        raise PermissionDenied(_("您没有该操作的权限"))
    return staff


# --- schemas --------------------------------------------------------------------------------


class SurveyItemOut(Schema):
    no: int = Field(description="题号")
    kind: str = Field(description="scale 满意度 / single 单选 / multiple 多选 / text 填空")
    text: str
    department: Ref | None
    weight: int
    choices: list[tuple[int, str]] = Field(description="(取值, 文字)：满意度题取值为分数 5–1，选择题为选项序号")


class SurveyTemplateOut(Schema):
    id: int
    title: str
    intro: str
    formula: str
    satisfied_min_score: int
    followup_max_score: int
    items: list[SurveyItemOut]


class SurveyFiguresOut(Schema):
    handed_out: int | None = Field(description="发放数")
    collected: int | None = Field(description="回收数")
    response_rate: float | None = Field(description="回收率 %")
    valid: int = Field(description="满意度题有效答题数")
    satisfied: int = Field(description="计为满意的答题数")
    satisfaction_rate: float | None = Field(description="满意率 %")
    weighted_score: float | None = Field(description="加权平均分（5 分制）")


class SurveyBatchOut(Schema):
    id: int
    name: str
    questionnaire: Ref
    site: Ref
    starts_on: date
    ends_on: date
    target: str
    target_note: str
    handed_out: int


class SurveyBatchPage(Schema):
    count: int
    items: list[SurveyBatchOut]


class SurveyItemFiguresOut(Schema):
    no: int
    text: str
    valid: int
    satisfied: int
    satisfaction_rate: float | None
    average: float | None
    scale: list[int] = Field(description="满意、较满意、一般、较不满意、不满意 的答题数")
    followups: int


class SurveyBatchDetailOut(SurveyBatchOut):
    formula: str
    figures: SurveyFiguresOut
    items: list[SurveyItemFiguresOut]


class SurveyBatchFilters(Schema):
    site: Id | None = Field(None, description="项目")
    limit: Limit = 20
    offset: Offset = 0


class SurveyBatchIn(Schema):
    questionnaire_id: Id
    site_id: Id
    name: Str100
    starts_on: date
    ends_on: date = Field(description="链接在该日 23:59:59 失效")
    target: Literal["building", "tag", "customers"] = Field(description="按楼栋、按客户标签、指定客户")
    buildings: list[Str20] = Field([], max_length=200, description="楼栋（target=building）")
    tag_id: Id | None = Field(None, description="客户标签（target=tag）")
    customer_ids: list[Id] = Field([], max_length=services.MAX_BATCH, description="客户（target=customers）")


class SurveyAnswerIn(Schema):
    no: int = Field(ge=1, le=1000, description="题号")
    choice: int | None = Field(None, ge=0, le=1000, description="满意度题填分数 5–1，单选题填选项序号（从 1 起）")
    choices: list[int] = Field([], max_length=50, description="多选题的选项序号")
    text: Str2000 = Field("", description="填空题的回答")


class SurveyResponseIn(Schema):
    customer_id: Id = Field(description="本批次的客户")
    answers: list[SurveyAnswerIn] = Field(max_length=200)


class SurveyAnswerOut(Schema):
    no: int
    score: int | None
    value: str
    followup_ticket: Ref | None


class SurveyResponseOut(Schema):
    id: int
    customer: Ref
    channel: str
    entered_by: Ref | None
    submitted_at: Any
    answers: list[SurveyAnswerOut]


class SurveyResponsePage(Schema):
    count: int
    items: list[SurveyResponseOut]


def _template(q: Questionnaire) -> dict[str, Any]:
    return {
        "id": q.id,
        "title": q.title,
        "intro": q.intro,
        "formula": q.formula,
        "satisfied_min_score": q.satisfied_min_score,
        "followup_max_score": q.followup_max_score,
        "items": [
            {
                "no": i.position,
                "kind": i.kind,
                "text": i.text,
                "department": ref(i.department),
                "weight": i.weight,
                "choices": i.choices,
            }
            for i in q.items.all()
        ],
    }


def _batch(b: Batch) -> dict[str, Any]:
    return {
        "id": b.id,
        "name": b.name,
        "questionnaire": {"id": b.questionnaire_id, "name": b.questionnaire.title},
        "site": ref(b.site),
        "starts_on": b.starts_on,
        "ends_on": b.ends_on,
        "target": b.target,
        "target_note": b.target_note,
        "handed_out": b.handed_out,
    }


def _figures(f: Figures) -> dict[str, Any]:
    return {
        "handed_out": f.handed_out,
        "collected": f.collected,
        "response_rate": f.response_rate,
        "valid": f.valid,
        "satisfied": f.satisfied,
        "satisfaction_rate": f.satisfaction_rate,
        "weighted_score": f.weighted_score,
    }


def _response(r: Response) -> dict[str, Any]:
    return {
        "id": r.id,
        "customer": ref(r.customer),
        "channel": r.channel,
        "entered_by": ref(r.entered_by),
        "submitted_at": r.submitted_at,
        "answers": [
            {
                "no": a.item.position,
                "score": a.score,
                "value": a.value,
                "followup_ticket": None
                if a.followup_ticket is None
                else {"id": a.followup_ticket.id, "name": a.followup_ticket.number},
            }
            for a in r.answers.all()
        ],
    }


# --- endpoints ------------------------------------------------------------------------------


@router.get("/surveys/templates", response={200: list[SurveyTemplateOut], **_ERRORS}, summary="问卷模板列表")
def template_list(request: HttpRequest) -> list[dict[str, Any]]:
    """启用的问卷模板及其题目，最近的在前（最多 100 个）。"""
    staff = _me(request)
    qs = questionnaires_for(staff).filter(is_active=True).prefetch_related("items__department").order_by("-id")
    return [_template(q) for q in qs[:100]]


@router.get("/surveys/batches", response={200: SurveyBatchPage, **_ERRORS}, summary="发放批次列表")
def batch_list(request: HttpRequest, filters: Query[SurveyBatchFilters]) -> dict[str, Any]:
    staff = _me(request)
    qs = batches_for(staff).select_related("questionnaire", "site").order_by("-starts_on", "-id")
    if filters.site is not None:
        qs = qs.filter(site_id=filters.site)
    count, rows = page(qs, filters.limit, filters.offset)
    return {"count": count, "items": [_batch(b) for b in rows]}


@router.post("/surveys/batches", response={201: SurveyBatchOut, **_ERRORS}, summary="发放问卷")
def batch_create(request: HttpRequest, payload: SurveyBatchIn) -> tuple[int, dict[str, Any]]:
    """按楼栋、客户标签或客户名单发放，每位客户生成一个一次性链接（客服主管及以上）。"""
    staff = _me(request, "surveys.manage")
    questionnaire = by_pk(Questionnaire.objects, payload.questionnaire_id)
    site = Site.objects.filter(pk=payload.site_id, is_active=True, id__in=site_ids_for(staff)).first()
    errors: dict[str, list[str]] = {}
    if questionnaire is None:
        errors["questionnaire_id"] = [_("问卷模板不存在")]
    if site is None:
        errors["site_id"] = [_("项目不存在")]
    tag = None
    if payload.target == "tag" and payload.tag_id is not None:
        tag = by_pk(Tag.objects, payload.tag_id)
        if tag is None:
            errors["tag_id"] = [_("客户标签不存在")]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    assert questionnaire is not None and site is not None
    try:
        batch = services.batch_create(
            questionnaire=questionnaire,
            site=site,
            name=payload.name,
            starts_on=payload.starts_on,
            ends_on=payload.ends_on,
            target=payload.target,
            buildings=payload.buildings,
            tag=tag,
            customer_ids=payload.customer_ids,
            actor=staff,
        )
    except ValidationFailed as exc:
        names = {"site": "site_id", "questionnaire": "questionnaire_id", "tag": "tag_id", "customers": "customer_ids"}
        exc.fields = {names.get(k, k): v for k, v in exc.fields.items()}
        raise
    return 201, _batch(batch)


@router.get(
    "/surveys/batches/{batch_id}", response={200: SurveyBatchDetailOut, **_ERRORS}, summary="发放批次详情与统计"
)
def batch_detail(request: HttpRequest, batch_id: Id) -> dict[str, Any]:
    """回收率、满意率（按问卷设置的公式）、加权平均分与各题统计。"""
    staff = _me(request)
    batch = batch_get_for_user(staff=staff, pk=batch_id)
    return {
        **_batch(batch),
        "formula": batch.questionnaire.formula,
        "figures": _figures(batch_figures(batch)),
        "items": [
            {
                "no": r["item"].position,
                "text": r["item"].text,
                "valid": r["valid"],
                "satisfied": r["satisfied"],
                "satisfaction_rate": r["rate"],
                "average": r["average"],
                "scale": r["scale"],
                "followups": r["followups"],
            }
            for r in item_figures(batch)
        ],
    }


@router.post(
    "/surveys/batches/{batch_id}/responses", response={201: SurveyResponseOut, **_ERRORS}, summary="录入纸质答卷"
)
def response_create(request: HttpRequest, batch_id: Id, payload: SurveyResponseIn) -> tuple[int, dict[str, Any]]:
    """为本批次的一位客户录入纸质问卷；每位客户只能有一份答卷。得分不高于问卷设置的答题自动生成跟进工单。"""
    staff = _me(request)
    batch = batch_get_for_user(staff=staff, pk=batch_id)
    invitation = (
        Invitation.objects.select_related("customer", "batch__questionnaire", "batch__site", "batch__created_by")
        .filter(batch=batch, customer_id=payload.customer_id)
        .first()
    )
    if invitation is None:
        raise ValidationFailed(_("该客户不在本批次的发放名单中"), field="customer_id")
    raw: dict[int, list[str]] = {}
    for answer in payload.answers:
        values = raw.setdefault(answer.no, [])
        if answer.choice is not None:
            values.append(str(answer.choice))
        values.extend(str(c) for c in answer.choices)
        if answer.text:
            values.append(answer.text)
    response = services.response_submit(invitation=invitation, answers=raw, channel=Response.Channel.PAPER, actor=staff)
    fresh = (
        Response.objects.select_related("customer", "entered_by")
        .prefetch_related("answers__item", "answers__followup_ticket")
        .get(pk=response.pk)
    )
    return 201, _response(fresh)


@router.get(
    "/surveys/batches/{batch_id}/responses", response={200: SurveyResponsePage, **_ERRORS}, summary="批次的答卷列表"
)
def response_list(request: HttpRequest, batch_id: Id, limit: Limit = 20, offset: Offset = 0) -> dict[str, Any]:
    staff = _me(request)
    batch = batch_get_for_user(staff=staff, pk=batch_id)
    qs = (
        Response.objects.filter(batch=batch)
        .select_related("customer", "entered_by")
        .prefetch_related("answers__item", "answers__followup_ticket")
        .order_by("-submitted_at", "-id")
    )
    count, rows = page(qs, limit, offset)
    return {"count": count, "items": [_response(r) for r in rows]}

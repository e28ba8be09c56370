"""REST endpoints of the time limits (时限标准) and warning rules (警告规则), calling the
same services as the settings page. A row whose ``site`` is null is the company-wide
default; a site's row overrides it for that site. ``PUT`` creates or replaces the row of
``site_id`` (null: the company row) and kind × urgency."""

from __future__ import annotations

from typing import Any

from django.db.models import F, Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from kefu.core.api import ErrorOut, Id, Ref, ref
from kefu.core.errors import NotFound, PermissionDenied, ValidationFailed
from kefu.org.models import Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import site_by_id, site_ids_for

from .api import _ERRORS, _me
from .lifecycle import Kind
from .models import SlaPolicy, Urgency, WarningRules
from .services.policies import (
    POLICY_BOUNDS,
    RULES_BOUNDS,
    sla_policy_delete,
    sla_policy_save,
    warning_rules_delete,
    warning_rules_save,
)

router = Router(tags=["时限与警告规则"])


def _bounds(name: str, bounds: dict[str, tuple[int, int]], unit: str = "分钟") -> str:
    low, high = bounds[name]
    return f"{low}–{high} {unit}"


# --- schemas --------------------------------------------------------------------------------


class PolicyFilters(Schema):
    site: Id | None = Field(None, description="只看全公司的行与该项目的行")
    kind: Kind | None = None


class RulesFilters(Schema):
    site: Id | None = Field(None, description="只看全公司的行与该项目的行")


class SlaPolicyOut(Schema):
    id: int
    site: Ref | None = Field(description="为空表示全公司默认")
    kind: str
    kind_label: str
    urgency: str
    urgency_label: str
    respond_minutes: int
    arrive_minutes: int | None
    resolve_minutes: int
    visit_minutes: int | None
    business_hours: bool


class SlaPolicyIn(Schema):
    site_id: Id | None = Field(description="项目；为 null 时修改全公司默认（仅客服总监、系统管理员）")
    kind: Kind
    urgency: Urgency
    respond_minutes: int = Field(description=f"响应时限，{_bounds('respond_minutes', POLICY_BOUNDS)}，不超过办结时限")
    resolve_minutes: int = Field(description=f"办结时限，{_bounds('resolve_minutes', POLICY_BOUNDS)}")
    arrive_minutes: int | None = Field(None, description="到场时限，仅报修，不超过办结时限")
    visit_minutes: int | None = Field(
        None, description=f"回访时限，{_bounds('visit_minutes', POLICY_BOUNDS)}；为空则按 3 天"
    )
    business_hours: bool = Field(False, description="按项目的工作时间计算，否则按自然时间")


class WarningRulesOut(Schema):
    id: int
    site: Ref | None = Field(description="为空表示全公司默认")
    blue_minutes: int
    prewarn_percent: int
    manager_after_minutes: int
    director_after_minutes: int
    red_after_minutes: int


class WarningRulesIn(Schema):
    site_id: Id | None = Field(description="项目；为 null 时修改全公司默认（仅客服总监、系统管理员）")
    blue_minutes: int = Field(description=f"交办后多久未反馈发蓝牌，{_bounds('blue_minutes', RULES_BOUNDS)}")
    prewarn_percent: int = Field(description=f"时限用去多少时预警，{_bounds('prewarn_percent', RULES_BOUNDS, '%')}")
    manager_after_minutes: int = Field(
        description=f"超时后多久升级到经理，{_bounds('manager_after_minutes', RULES_BOUNDS)}"
    )
    director_after_minutes: int = Field(
        description=f"超时后多久升级到总监，{_bounds('director_after_minutes', RULES_BOUNDS)}，不早于升级到经理"
    )
    red_after_minutes: int = Field(
        description=f"超时后多久仍未办结发红牌，{_bounds('red_after_minutes', RULES_BOUNDS)}"
    )


def _policy(p: SlaPolicy) -> dict[str, Any]:
    return {
        "id": p.id,
        "site": ref(p.site),
        "kind": p.kind,
        "kind_label": p.get_kind_display(),
        "urgency": p.urgency,
        "urgency_label": p.get_urgency_display(),
        "respond_minutes": p.respond_minutes,
        "arrive_minutes": p.arrive_minutes,
        "resolve_minutes": p.resolve_minutes,
        "visit_minutes": p.visit_minutes,
        "business_hours": p.business_hours,
    }


def _rules(r: WarningRules) -> dict[str, Any]:
    return {"id": r.id, "site": ref(r.site), **{name: getattr(r, name) for name in RULES_BOUNDS}}


def _viewer(request: HttpRequest) -> Staff:
    staff = _me(request)
    if not can(staff.role, "policies.view"):
        raise PermissionDenied(_("您没有查看时限标准与警告规则的权限"))
    return staff


def _editor(request: HttpRequest) -> Staff:
    """The caller, refused before any site or row is looked up unless their role edits
    policies at all (which sites they may edit, the service decides)."""
    staff = _me(request)
    if not can(staff.role, "policies.edit"):
        raise PermissionDenied(_("您没有修改时限标准与警告规则的权限"))
    return staff


def _visible(staff: Staff, site: int | None) -> Q:
    """The company rows and the rows of the caller's sites (of ``site`` only, when given)."""
    sites = site_ids_for(staff)
    if site is not None:
        sites = sites & {site}
    return Q(site__isnull=True) | Q(site__in=sites)


def _site(site_id: int | None) -> Site | None:
    if site_id is None:
        return None
    site = site_by_id(site_id)
    if site is None:
        raise ValidationFailed(_("项目不存在"), field="site_id")
    return site


# --- time limits ----------------------------------------------------------------------------


@router.get(
    "/sla-policies",
    response={200: list[SlaPolicyOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="时限标准列表",
)
def sla_policy_list(request: HttpRequest, filters: Query[PolicyFilters]) -> list[dict[str, Any]]:
    """全公司默认的行（`site` 为 null）与您负责项目的覆盖行。某项目某类型×紧急程度没有自己的行时按全公司的行执行；
    全公司也没有时按系统默认。"""
    staff = _viewer(request)
    qs = SlaPolicy.objects.filter(_visible(staff, filters.site)).select_related("site")
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind)
    return [_policy(p) for p in qs.order_by(F("site_id").asc(nulls_first=True), "kind", "urgency", "id")]


@router.put("/sla-policies", response={200: SlaPolicyOut, **_ERRORS}, summary="保存时限标准")
def sla_policy_put(request: HttpRequest, payload: SlaPolicyIn) -> dict[str, Any]:
    """新建或替换 `site_id` × `kind` × `urgency` 的一行。客服经理只能修改所负责项目的行。"""
    staff = _editor(request)
    policy = sla_policy_save(
        site=_site(payload.site_id),
        kind=payload.kind,
        urgency=payload.urgency,
        respond_minutes=payload.respond_minutes,
        resolve_minutes=payload.resolve_minutes,
        arrive_minutes=payload.arrive_minutes,
        visit_minutes=payload.visit_minutes,
        business_hours=payload.business_hours,
        actor=staff,
    )
    return _policy(policy)


@router.delete("/sla-policies/{policy_id}", response={204: None, **_ERRORS}, summary="删除项目时限标准")
def sla_policy_remove(request: HttpRequest, policy_id: Id) -> tuple[int, None]:
    """删除项目的覆盖行，该项目改为沿用全公司标准。全公司的行不能删除。"""
    staff = _editor(request)
    policy = SlaPolicy.objects.select_related("site").filter(_visible(staff, None), pk=policy_id).first()
    if policy is None:
        raise NotFound(_("时限标准不存在"))
    sla_policy_delete(policy=policy, actor=staff)
    return 204, None


# --- warning rules --------------------------------------------------------------------------


@router.get(
    "/warning-rules",
    response={200: list[WarningRulesOut], 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="警告规则列表",
)
def warning_rules_list(request: HttpRequest, filters: Query[RulesFilters]) -> list[dict[str, Any]]:
    """全公司的规则（`site` 为 null）与您负责项目的规则；没有行时按系统默认。"""
    staff = _viewer(request)
    qs = WarningRules.objects.filter(_visible(staff, filters.site)).select_related("site")
    return [_rules(r) for r in qs.order_by(F("site_id").asc(nulls_first=True), "id")]


@router.put("/warning-rules", response={200: WarningRulesOut, **_ERRORS}, summary="保存警告规则")
def warning_rules_put(request: HttpRequest, payload: WarningRulesIn) -> dict[str, Any]:
    """新建或替换 `site_id` 的警告规则。客服经理只能修改所负责项目的规则。"""
    staff = _editor(request)
    rules = warning_rules_save(
        site=_site(payload.site_id),
        blue_minutes=payload.blue_minutes,
        prewarn_percent=payload.prewarn_percent,
        manager_after_minutes=payload.manager_after_minutes,
        director_after_minutes=payload.director_after_minutes,
        red_after_minutes=payload.red_after_minutes,
        actor=staff,
    )
    return _rules(rules)


@router.delete("/warning-rules/{rules_id}", response={204: None, **_ERRORS}, summary="删除项目警告规则")
def warning_rules_remove(request: HttpRequest, rules_id: Id) -> tuple[int, None]:
    """删除项目自己的警告规则，该项目改为沿用全公司规则。全公司的规则不能删除。"""
    staff = _editor(request)
    rules = WarningRules.objects.select_related("site").filter(_visible(staff, None), pk=rules_id).first()
    if rules is None:
        raise NotFound(_("警告规则不存在"))
    warning_rules_delete(rules=rules, actor=staff)
    return 204, None

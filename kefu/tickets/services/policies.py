"""Writes of the time limits (时限标准, ``SlaPolicy``) and warning rules (警告规则,
``WarningRules``).

A row without a site is the company-wide default that every site falls back to; only
directors and administrators change those. A site's own rows override the default for that
site; managers keep them for the sites in their scope. Override rows may be deleted (the site
falls back to the company row again); the company rows may only be changed.

Who changed what is not recorded in the database yet (the models have no audit columns and
there is no settings log): each write returns the saved row and logs one line.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import Conflict, PermissionDenied, ValidationFailed
from kefu.org.models import Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import site_ids_for

from ..lifecycle import Kind
from ..models import SlaPolicy, Urgency, WarningRules

logger = logging.getLogger(__name__)

# Inclusive bounds of every number, in minutes (the prewarning in percent). Wide enough for
# any real service agreement, narrow enough that a typo (an extra zero or three) is caught.
POLICY_BOUNDS: dict[str, tuple[int, int]] = {
    "respond_minutes": (1, 7 * 24 * 60),
    "arrive_minutes": (1, 365 * 24 * 60),
    "resolve_minutes": (1, 365 * 24 * 60),
    "visit_minutes": (1, 30 * 24 * 60),
}
RULES_BOUNDS: dict[str, tuple[int, int]] = {
    "blue_minutes": (1, 30 * 24 * 60),
    "prewarn_percent": (1, 99),
    "manager_after_minutes": (1, 30 * 24 * 60),
    "director_after_minutes": (1, 30 * 24 * 60),
    "red_after_minutes": (1, 30 * 24 * 60),
}

CONFLICT_MESSAGE = gettext_lazy("保存失败：该设置刚被他人修改，请刷新后重试")


def field_labels() -> dict[str, str]:
    """The Chinese name of every editable number, for messages and the settings page."""
    return {
        "respond_minutes": _("响应时限"),
        "arrive_minutes": _("到场时限"),
        "resolve_minutes": _("办结时限"),
        "visit_minutes": _("回访时限"),
        "blue_minutes": _("蓝牌时间"),
        "prewarn_percent": _("预警比例"),
        "manager_after_minutes": _("升级到经理的时间"),
        "director_after_minutes": _("升级到总监的时间"),
        "red_after_minutes": _("红牌时间"),
    }


def policies_require_edit(*, site: Site | None, actor: Staff) -> None:
    """Refuse unless ``actor`` may change the rows of ``site`` (None: the company rows).
    The writes below check it themselves; forms call it first so that a refusal comes
    before any complaint about the input."""
    if not can(actor.role, "policies.edit"):
        raise PermissionDenied(_("您没有修改时限标准与警告规则的权限"))
    if site is None:
        if not can(actor.role, "policies.edit_company"):
            raise PermissionDenied(_("只有客服总监和系统管理员可以修改全公司的设置"))
    elif site.id not in site_ids_for(actor):
        raise PermissionDenied(_("无权修改该项目"))


def _check_number(errors: dict[str, list[str]], name: str, value: object, bounds: tuple[int, int]) -> bool:
    """Record an error for ``name`` unless ``value`` is an integer within ``bounds``."""
    label = field_labels()[name]
    low, high = bounds
    if isinstance(value, bool) or not isinstance(value, int):
        errors.setdefault(name, []).append(_("{label}须为整数").format(label=label))
        return False
    if not low <= value <= high:
        if name == "prewarn_percent":
            message = _("{label}须在 {low}% 到 {high}% 之间")
        else:
            message = _("{label}须在 {low} 到 {high} 分钟之间")
        errors.setdefault(name, []).append(message.format(label=label, low=low, high=high))
        return False
    return True


def _refuse(errors: dict[str, list[str]]) -> None:
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)


# --- time limits (时限标准) -------------------------------------------------------------------


def sla_policy_save(
    *,
    site: Site | None,
    kind: str,
    urgency: str,
    respond_minutes: int,
    resolve_minutes: int,
    arrive_minutes: int | None = None,
    visit_minutes: int | None = None,
    business_hours: bool = False,
    actor: Staff,
) -> SlaPolicy:
    """Create or replace the row for ``site`` (None: the company default) × kind × urgency.

    Every number is checked before anything is written, and all problems are reported at
    once, each under the model field's name."""
    policies_require_edit(site=site, actor=actor)
    errors: dict[str, list[str]] = {}
    if kind not in Kind.values:
        errors["kind"] = [_("未知的工单类型")]
    if urgency not in Urgency.values:
        errors["urgency"] = [_("未知的紧急程度")]
    respond_ok = _check_number(errors, "respond_minutes", respond_minutes, POLICY_BOUNDS["respond_minutes"])
    resolve_ok = _check_number(errors, "resolve_minutes", resolve_minutes, POLICY_BOUNDS["resolve_minutes"])
    if respond_ok and resolve_ok and respond_minutes > resolve_minutes:
        errors.setdefault("respond_minutes", []).append(_("响应时限不能超过办结时限"))
    if arrive_minutes is not None:
        if kind != Kind.REPAIR:
            errors.setdefault("arrive_minutes", []).append(_("只有报修工单有到场时限"))
        elif (
            _check_number(errors, "arrive_minutes", arrive_minutes, POLICY_BOUNDS["arrive_minutes"])
            and resolve_ok
            and arrive_minutes > resolve_minutes
        ):
            errors.setdefault("arrive_minutes", []).append(_("到场时限不能超过办结时限"))
    if visit_minutes is not None:
        _check_number(errors, "visit_minutes", visit_minutes, POLICY_BOUNDS["visit_minutes"])
    if not isinstance(business_hours, bool):
        errors.setdefault("business_hours", []).append(_("计时方式不正确"))
    _refuse(errors)

    values = {
        "respond_minutes": respond_minutes,
        "arrive_minutes": arrive_minutes,
        "resolve_minutes": resolve_minutes,
        "visit_minutes": visit_minutes,
        "business_hours": business_hours,
    }
    with transaction.atomic():
        # The row is locked so that two editors saving at once write one after the other;
        # when there is no row yet, the partial unique constraints turn the second insert
        # into an IntegrityError, reported as a conflict rather than a second row.
        policy = SlaPolicy.objects.select_for_update().filter(site=site, kind=kind, urgency=urgency).first()
        before = None if policy is None else {name: getattr(policy, name) for name in values}
        if policy is None:
            policy = SlaPolicy(site=site, kind=kind, urgency=urgency, **values)
        else:
            for name, value in values.items():
                setattr(policy, name, value)
        try:
            with transaction.atomic():
                policy.save()
        except IntegrityError:
            raise Conflict(CONFLICT_MESSAGE) from None
    logger.info(
        "SLA policy %s/%s/%s saved by staff %s: %s -> %s",
        site.id if site else "company",
        kind,
        urgency,
        actor.id,
        before,
        values,
    )
    return policy


def sla_policy_delete(*, policy: SlaPolicy, actor: Staff) -> None:
    """Remove a site's override; the site falls back to the company row again."""
    policies_require_edit(site=policy.site, actor=actor)
    if policy.site_id is None:
        raise ValidationFailed(_("全公司的时限标准不能删除，只能修改"))
    logger.info("SLA policy %s/%s/%s deleted by staff %s", policy.site_id, policy.kind, policy.urgency, actor.id)
    policy.delete()


# --- warning rules (警告规则) -----------------------------------------------------------------


def warning_rules_save(
    *,
    site: Site | None,
    blue_minutes: int,
    prewarn_percent: int,
    manager_after_minutes: int,
    director_after_minutes: int,
    red_after_minutes: int,
    actor: Staff,
) -> WarningRules:
    """Create or replace the warning rules of ``site`` (None: the company default)."""
    policies_require_edit(site=site, actor=actor)
    values = {
        "blue_minutes": blue_minutes,
        "prewarn_percent": prewarn_percent,
        "manager_after_minutes": manager_after_minutes,
        "director_after_minutes": director_after_minutes,
        "red_after_minutes": red_after_minutes,
    }
    errors: dict[str, list[str]] = {}
    valid = {name: _check_number(errors, name, value, RULES_BOUNDS[name]) for name, value in values.items()}
    # The escalation climbs from the manager to the director, never the other way round.
    if (
        valid["manager_after_minutes"]
        and valid["director_after_minutes"]
        and director_after_minutes < manager_after_minutes
    ):
        errors.setdefault("director_after_minutes", []).append(_("升级到总监的时间不能早于升级到经理的时间"))
    _refuse(errors)

    with transaction.atomic():
        # Locked for the same reason as a time limit: one editor after the other; the
        # one-row-per-site constraint catches two first saves at once.
        rules = WarningRules.objects.select_for_update().filter(site=site).first()
        before = None if rules is None else {name: getattr(rules, name) for name in values}
        if rules is None:
            rules = WarningRules(site=site, **values)
        else:
            for name, value in values.items():
                setattr(rules, name, value)
        try:
            with transaction.atomic():
                rules.save()
        except IntegrityError:
            raise Conflict(CONFLICT_MESSAGE) from None
    logger.info(
        "Warning rules of %s saved by staff %s: %s -> %s", site.id if site else "company", actor.id, before, values
    )
    return rules


def warning_rules_delete(*, rules: WarningRules, actor: Staff) -> None:
    """Remove a site's own warning rules; the site falls back to the company's."""
    policies_require_edit(site=rules.site, actor=actor)
    if rules.site_id is None:
        raise ValidationFailed(_("全公司的警告规则不能删除，只能修改"))
    logger.info("Warning rules of %s deleted by staff %s", rules.site_id, actor.id)
    rules.delete()

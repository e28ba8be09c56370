"""时限标准与警告规则: the company-wide time limits and warning rules, one site's overrides
next to them, and the forms that change them (all through ``services.policies``).

One URL: GET shows the page (``?site=`` picks the site), POST carries an ``action``
(``policy``, ``policy-delete``, ``rules``, ``rules-delete``); errors re-render the page with
the failed form open and its field errors, success redirects back with a message.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kefu.core.errors import DomainError, PermissionDenied, ValidationFailed
from kefu.org.models import Site, Staff
from kefu.org.permissions import can
from kefu.org.queries import site_by_id, sites_for
from kefu.org.web import staff_view

from ..lifecycle import Kind
from ..models import SlaPolicy, Urgency, WarningRules
from ..services.policies import (
    POLICY_BOUNDS,
    RULES_BOUNDS,
    field_labels,
    policies_require_edit,
    sla_policy_delete,
    sla_policy_save,
    warning_rules_delete,
    warning_rules_save,
)
from ..sla import Rules, default_minutes

TEMPLATE = "tickets/sla_settings.html"
# What ``SlaPolicy.visit_minutes`` left empty means (see its help text).
DEFAULT_VISIT_DAYS = 3
_INTEGER = re.compile(r"[+-]?[0-9]+")


def minutes_text(minutes: int | None, *, business: bool = False) -> str:
    """``2880 分钟（2 天）``: minutes, and in hours or days when that reads better. Business
    minutes are said in working hours only: a working day is not 24 hours long."""
    if minutes is None:
        return "—"
    if not business and minutes >= 24 * 60 and minutes % (12 * 60) == 0:
        return _("{minutes} 分钟（{days} 天）").format(minutes=minutes, days=_number(minutes / (24 * 60)))
    if minutes >= 60 and minutes % 30 == 0:
        if business:
            return _("{minutes} 分钟（{hours} 工作小时）").format(minutes=minutes, hours=_number(minutes / 60))
        return _("{minutes} 分钟（{hours} 小时）").format(minutes=minutes, hours=_number(minutes / 60))
    return _("{minutes} 分钟").format(minutes=minutes)


def _number(value: float) -> str:
    return f"{value:g}"


# --- the page -------------------------------------------------------------------------------


def _chosen_site(value: str, request: HttpRequest, sites: list[Site]) -> Site | None:
    """The site whose overrides the page shows: ``?site=``, else the switched-to site, else
    the first of the user's sites."""
    by_id = {s.id: s for s in sites}
    if value.isascii() and value.isdigit() and int(value) in by_id:
        return by_id[int(value)]
    return by_id.get(request.session.get("site_id", 0)) or (sites[0] if sites else None)


def _arrive_text(kind: str, minutes: int | None, business: bool) -> str:
    if kind != Kind.REPAIR:
        return "—"
    return minutes_text(minutes, business=business) if minutes is not None else _("未设置")


def _visit_text(minutes: int | None) -> str:
    if minutes is None:
        return _("未设置（按 {days} 天）").format(days=DEFAULT_VISIT_DAYS)
    return minutes_text(minutes)


def _shown(kind: str, urgency: str, policy: SlaPolicy | None) -> dict[str, Any]:
    """A row's values as text; the code's defaults when there is no company row."""
    if policy is None:
        respond, resolve = default_minutes(kind, urgency)
        return {
            "respond": minutes_text(respond),
            "arrive": _arrive_text(kind, None, False),
            "resolve": minutes_text(resolve),
            "visit": _visit_text(None),
            "business": False,
        }
    business = policy.business_hours
    return {
        "respond": minutes_text(policy.respond_minutes, business=business),
        "arrive": _arrive_text(kind, policy.arrive_minutes, business),
        "resolve": minutes_text(policy.resolve_minutes, business=business),
        "visit": _visit_text(policy.visit_minutes),
        "business": business,
    }


def _policy_form(kind: str, urgency: str, policy: SlaPolicy | None) -> dict[str, str]:
    """The edit form's starting values: the row, else the code's defaults."""
    if policy is None:
        respond, resolve = default_minutes(kind, urgency)
        return {"respond_minutes": str(respond), "resolve_minutes": str(resolve), "business_hours": ""}
    return {
        "respond_minutes": str(policy.respond_minutes),
        "arrive_minutes": "" if policy.arrive_minutes is None else str(policy.arrive_minutes),
        "resolve_minutes": str(policy.resolve_minutes),
        "visit_minutes": "" if policy.visit_minutes is None else str(policy.visit_minutes),
        "business_hours": "1" if policy.business_hours else "",
    }


def _rules_text(rules: WarningRules | Rules, name: str) -> str:
    value: int = getattr(rules, name)
    return f"{value}%" if name == "prewarn_percent" else minutes_text(value)


def _rules_fields(state: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules form's inputs, in order, with their values, bounds and errors."""
    labels = field_labels()
    return [
        {
            "name": name,
            "label": labels[name],
            "unit": "%" if name == "prewarn_percent" else _("分钟"),
            "min": low,
            "max": high,
            "value": state["form"].get(name, ""),
            "errors": state["errors"].get(name, []),
        }
        for name, (low, high) in RULES_BOUNDS.items()
    ]


def _context(
    me: Staff, sites: list[Site], site: Site | None, *, failed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Everything the page shows. ``failed`` is the form that was refused: its key, what was
    posted and the errors; that form is shown open with the posted values."""
    failed = failed or {}
    opened: list[str] = []

    def form_state(key: str, initial: dict[str, str]) -> dict[str, Any]:
        if failed.get("key") == key:
            opened.append(key)
            return {"key": key, "form": failed["form"], "errors": failed["errors"], "open": True}
        return {"key": key, "form": initial, "errors": {}, "open": False}

    rows = list(SlaPolicy.objects.filter(Q(site__isnull=True) | Q(site=site)))
    company = {(p.kind, p.urgency): p for p in rows if p.site_id is None}
    own = {(p.kind, p.urgency): p for p in rows if p.site_id is not None}
    company_rows, site_rows = [], []
    for kind, kind_label in Kind.choices:
        for urgency, urgency_label in Urgency.choices:
            base = {"kind": kind, "kind_label": kind_label, "urgency": urgency, "urgency_label": urgency_label}
            row = company.get((kind, urgency))
            company_rows.append(
                {
                    **base,
                    "policy": row,
                    "shown": _shown(kind, urgency, row),
                    **form_state(f"c-{kind}-{urgency}", _policy_form(kind, urgency, row)),
                }
            )
            if site is not None:
                override = own.get((kind, urgency))
                site_rows.append(
                    {
                        **base,
                        "policy": override,
                        "shown": _shown(kind, urgency, override or row),
                        "company": _shown(kind, urgency, row),
                        **form_state(f"s-{kind}-{urgency}", _policy_form(kind, urgency, override or row)),
                    }
                )

    rules_rows = {r.site_id: r for r in WarningRules.objects.filter(Q(site__isnull=True) | Q(site=site))}
    company_rules = rules_rows.get(None)
    site_rules = rules_rows.get(site.id) if site is not None else None
    company_effective: WarningRules | Rules = company_rules or Rules()
    site_effective = site_rules or company_effective
    rules_forms = {
        "company": form_state("r-c", {n: str(getattr(company_effective, n)) for n in RULES_BOUNDS}),
        "site": form_state("r-s", {n: str(getattr(site_effective, n)) for n in RULES_BOUNDS}),
    }
    for state in rules_forms.values():
        state["fields"] = _rules_fields(state)
    labels = field_labels()
    rules_table = [
        {
            "label": labels[name],
            "company": _rules_text(company_effective, name),
            "site": _rules_text(site_effective, name),
        }
        for name in RULES_BOUNDS
    ]
    return {
        "page_title": _("时限标准与警告规则"),
        "sites": sites,
        "site": site,
        "labels": field_labels(),
        "policy_bounds": POLICY_BOUNDS,
        "can_edit_company": can(me.role, "policies.edit_company"),
        "can_edit_site": site is not None and can(me.role, "policies.edit"),
        "company_rows": company_rows,
        "site_rows": site_rows,
        "company_rules": company_rules,
        "site_rules": site_rules,
        "rules_table": rules_table,
        "rules_forms": rules_forms,
        # The refused form's dialog, opened again on top of the page (only one of ours).
        "open_dialog": opened[0] if opened else "",
    }


@staff_view
@require_http_methods(["GET", "POST"])
def sla_settings(request: HttpRequest, me: Staff) -> HttpResponse:
    if not can(me.role, "policies.view"):
        raise PermissionDenied(_("您没有查看时限标准与警告规则的权限"))
    sites = list(sites_for(me))
    if request.method == "POST":
        return _post(request, me, sites)
    site = _chosen_site(request.GET.get("site", ""), request, sites)
    return render(request, TEMPLATE, _context(me, sites, site))


# --- the forms ------------------------------------------------------------------------------


def _int(value: str) -> int | None:
    value = value.strip()
    if not _INTEGER.fullmatch(value):
        return None
    try:
        return int(value)
    except ValueError:  # more digits than Python converts
        return None


def _target_site(value: str) -> Site | None:
    """The site a form is about: empty for the company rows."""
    if value == "":
        return None
    pk = _int(value)
    site = site_by_id(pk) if pk is not None else None
    if site is None:
        raise ValidationFailed(_("项目不存在"), field="site")
    return site


def _numbers(post: QueryDict, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """The posted numbers as ints (optional ones None when empty); every field that is empty
    or not a whole number is refused at once."""
    labels = field_labels()
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in (*required, *optional):
        raw = post.get(name, "").strip()
        if raw == "":
            if name in required:
                errors[name] = [_("{label}不能为空").format(label=labels[name])]
            values[name] = None
            continue
        number = _int(raw)
        if number is None:
            errors[name] = [_("{label}须为整数").format(label=labels[name])]
        values[name] = number
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], fields=errors)
    return values


def _post(request: HttpRequest, me: Staff, sites: list[Site]) -> HttpResponse:
    post = request.POST
    page_site = _chosen_site(post.get("page_site", ""), request, sites)
    action = post.get("action", "")
    key = ""
    try:
        if action == "policy":
            site = _target_site(post.get("site", ""))
            key = f"{'c' if site is None else 's'}-{post.get('kind', '')}-{post.get('urgency', '')}"
            policies_require_edit(site=site, actor=me)
            numbers = _numbers(post, ("respond_minutes", "resolve_minutes"), ("arrive_minutes", "visit_minutes"))
            sla_policy_save(
                site=site,
                kind=post.get("kind", ""),
                urgency=post.get("urgency", ""),
                business_hours=post.get("business_hours") == "1",
                actor=me,
                **numbers,
            )
            messages.success(request, _("时限标准已保存"))
        elif action == "policy-delete":
            policy = SlaPolicy.objects.select_related("site").filter(pk=_int(post.get("id", "")) or 0).first()
            if policy is None:
                raise Http404
            sla_policy_delete(policy=policy, actor=me)
            messages.success(request, _("已删除，该项目改为沿用全公司的时限标准"))
        elif action == "rules":
            site = _target_site(post.get("site", ""))
            key = "r-c" if site is None else "r-s"
            policies_require_edit(site=site, actor=me)
            warning_rules_save(site=site, actor=me, **_numbers(post, tuple(RULES_BOUNDS)))
            messages.success(request, _("警告规则已保存"))
        elif action == "rules-delete":
            rules = WarningRules.objects.select_related("site").filter(pk=_int(post.get("id", "")) or 0).first()
            if rules is None:
                raise Http404
            warning_rules_delete(rules=rules, actor=me)
            messages.success(request, _("已删除，该项目改为沿用全公司的警告规则"))
        else:
            raise Http404
    except DomainError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        messages.error(request, exc.message)
        failed = {"key": key, "form": post.dict(), "errors": exc.fields}
        return render(request, TEMPLATE, _context(me, sites, page_site, failed=failed), status=exc.status_code)
    url = reverse("tickets:sla_settings")
    return redirect(f"{url}?{urlencode({'site': page_site.id})}" if page_site is not None else url)

"""Appraisal pages: periods, the ranking, one person's result with its figures, sign-off, the
ledger, and the settings: score-sheet templates and each role's scheme."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kefu.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from kefu.core.excel import download, workbook
from kefu.core.lookup import by_pk
from kefu.core.web import paginate, parse_date, parse_id
from kefu.org.models import Role, Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import people_in_view, site_ids_for, sites_for
from kefu.org.web import staff_view
from kefu.tickets.models import WarningCard

from . import services
from .models import Appraisal, Period, RewardPenalty, Sheet, SheetTemplate
from .queries import (
    KPI_LABELS,
    SHEET_READERS,
    appraisal_get_for_user,
    ledger,
    periods_for,
    results_in_view,
    rules_applied,
    schemes_for,
    sheet_items_text,
    sheet_template_get_for_user,
    sheet_templates_for,
    this_month_unless,
)
from .scoring import KPIS


def _nav(me: Staff, tab: str) -> dict[str, Any]:
    """The appraisal pages' tabs: which one is open and which the user may reach."""
    return {"tab": tab, "nav_sheets": me.role in SHEET_READERS, "nav_schemes": me.role in services.MANAGERS}


def _attempt(request: HttpRequest, action: Callable[[], Any]) -> Any | None:
    """Run a service; a refusal becomes the error message of the next page, and None."""
    try:
        return action()
    except DomainError as exc:
        messages.error(request, exc.message)
        return None


@staff_view
def period_list(request: HttpRequest, me: Staff) -> HttpResponse:
    """考核期: the periods, and (managers) the form to set one up."""
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            sites = list(sites_for(me).filter(pk__in=[s for s in request.POST.getlist("sites") if s.isdigit()]))
            period = services.period_create(
                name=request.POST.get("name", ""), start=parse_date(request.POST.get("start")),
                end=parse_date(request.POST.get("end")), sites=sites, actor=me,
            )  # fmt: skip
            services.period_compute(period=period, actor=me)
        except DomainError as exc:
            errors = exc.fields or {"form": [exc.message]}
            messages.error(request, exc.message)
        else:
            messages.success(request, _("考核期已设立，考核结果已按数据计算"))
            return redirect("appraisal:period", pk=period.pk)
    page = paginate(request, periods_for(me))
    return render(
        request,
        "appraisal/periods.html",
        {
            "page_title": _("绩效考核"),
            "page": page,
            "rows": page.object_list,
            "sites": sites_for(me),
            "errors": errors,
            "form": request.POST if errors else {},
            "can_manage": me.role in services.MANAGERS,
            **_nav(me, "periods"),
        },
        status=422 if errors else 200,
    )


def _period_for(me: Staff, pk: int) -> Period:
    period = by_pk(periods_for(me), pk)
    if period is None:
        raise NotFound(_("考核期不存在"))
    return period


@staff_view
def period_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    """The ranking within each role; each reader sees the results they may read."""
    period = _period_for(me, pk)
    rows = (
        Appraisal.objects.filter(period=period)
        .filter(results_in_view(me))
        .select_related("staff", "staff__department", "signed_by")
        .distinct()
        .order_by("role", "rank", "staff_id")
    )
    if request.GET.get("export") == "xlsx":
        headers = [_("岗位"), _("姓名"), _("部门"), _("指标得分"), _("评分表得分"), _("奖惩加减分"), _("综合得分"),
                   _("排名"), _("签核")]  # fmt: skip
        data = [[a.get_role_display(), a.staff.name, a.staff.department.name if a.staff.department else "",
                 a.kpi_score, a.sheet_score, a.adjustments, a.total, a.rank,
                 a.signed_by.name if a.signed_by else ""] for a in rows]  # fmt: skip
        return download(workbook(str(period), headers, data), f"绩效考核_{period.name}.xlsx")
    return render(
        request,
        "appraisal/period.html",
        {"page_title": period.name, "period": period, "rows": rows, "can_manage": me.role in services.MANAGERS},
    )


@staff_view
@require_POST
def period_compute(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    period = _period_for(me, pk)
    n = _attempt(request, lambda: services.period_compute(period=period, actor=me))
    if n is not None:
        messages.success(request, _("已重新计算 {n} 人的考核结果").format(n=n))
    return redirect("appraisal:period", pk=period.pk)


@staff_view
@require_POST
def period_close(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    period = _period_for(me, pk)
    if _attempt(request, lambda: services.period_close(period=period, actor=me)) is not None:
        messages.success(request, _("考核期已结束，结果不再变动"))
    return redirect("appraisal:period", pk=period.pk)


@staff_view
def appraisal_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    """One person's result: each KPI's figure, score and weight; cards, praise, the ledger."""
    a = appraisal_get_for_user(staff=me, pk=pk)
    rules = rules_applied(a)
    k = a.kpis or {}
    scores = k.get("scores", {})
    kpis = [
        {"code": code, "label": KPI_LABELS[code], "value": k.get(code), "score": scores.get(code),
         "weight": rules.weights.get(code, 0), "unit": "" if code == "handled" else "%"}
        for code in KPI_LABELS if rules.weights.get(code)
    ]  # fmt: skip
    can_sign = services.may_judge(me, a)
    sheets = list(Sheet.objects.filter(appraisal=a).select_related("template", "scorer"))
    templates = list(SheetTemplate.objects.filter(Q(role="") | Q(role=a.role), is_active=True)) if can_sign else []
    return render(
        request,
        "appraisal/detail.html",
        {
            "page_title": _("考核结果"),
            "a": a,
            "kpis": kpis,
            "rules": rules,
            "cards": k.get("cards", {}),
            "sheets": sheets,
            "templates": templates,
            "can_sign": can_sign and a.signed_at is None and a.total is not None,
        },
    )


@staff_view
@require_POST
def appraisal_sign(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    a = appraisal_get_for_user(staff=me, pk=pk)
    if _attempt(request, lambda: services.appraisal_sign(appraisal=a, actor=me)) is not None:
        messages.success(request, _("已签核"))
    return redirect("appraisal:detail", pk=a.pk)


@staff_view
def sheet_form(request: HttpRequest, me: Staff, pk: int, template_id: int) -> HttpResponse:
    """填写评分表: every item of the template, scored 0 to its maximum."""
    a = appraisal_get_for_user(staff=me, pk=pk)
    template = SheetTemplate.objects.filter(pk=template_id, is_active=True).first()
    if template is None:
        raise NotFound(_("评分表不存在"))
    if not services.may_judge(me, a):
        raise PermissionDenied(_("只有直属上级或经理可以评分"))
    mine = Sheet.objects.filter(appraisal=a, template=template, scorer=me).first()
    values: dict[str, str] = {k: str(v) for k, v in (mine.scores if mine else {}).items()}
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        values = {k.removeprefix("item-"): str(v) for k, v in request.POST.items() if k.startswith("item-")}
        try:
            services.sheet_submit(appraisal=a, template=template, actor=me, scores=values)
        except DomainError as exc:
            errors = exc.fields or {"form": [exc.message]}
            messages.error(request, exc.message)
        else:
            messages.success(request, _("评分已保存，综合得分已更新"))
            return redirect("appraisal:detail", pk=a.pk)
    items = list(template.items.all())
    sections: dict[str, list[Any]] = {}
    for item in items:
        sections.setdefault(item.section, []).append(
            {"item": item, "value": values.get(str(item.id), ""), "errors": errors.get(f"item-{item.id}", [])}
        )
    return render(
        request,
        "appraisal/sheet.html",
        {"page_title": template.name, "a": a, "template": template, "sections": sections, "errors": errors},
        status=422 if errors else 200,
    )


@staff_view
def ledger_page(request: HttpRequest, me: Staff) -> HttpResponse:
    """奖惩台账: entries and cards of a period; supervisors and above add entries."""
    start, end = this_month_unless(parse_date(request.GET.get("start")), parse_date(request.GET.get("end")))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        data = request.POST
        try:
            services.reward_record(
                staff=Staff.objects.filter(pk=(parse_id(data.get("staff")) or 0)).first(),
                site=sites_for(me).filter(pk=(parse_id(data.get("site")) or 0)).first(),
                day=parse_date(data.get("day")), kind=data.get("kind", ""), points=data.get("points", ""),
                amount=data.get("amount", ""), reason=data.get("reason", ""), actor=me,
            )  # fmt: skip
        except DomainError as exc:
            errors = exc.fields or {"form": [exc.message]}
            messages.error(request, exc.message)
        else:
            messages.success(request, _("奖惩已登记"))
            return redirect("appraisal:ledger")
    rows = ledger(site_ids=site_ids_for(me), start=start, end=end, people=people_in_view(me))
    if request.GET.get("export") == "xlsx":
        headers = [_("日期"), _("员工"), _("类型"), _("分值"), _("金额(元)"), _("事由"), _("来源"), _("登记人")]
        keys = ("points", "amount", "reason", "source", "by")
        data_rows = [[r["day"].isoformat(), r["staff"].name, str(r["kind_label"]), *[r[k] for k in keys]] for r in rows]
        return download(workbook(str(_("奖惩台账")), headers, data_rows), f"奖惩台账_{start:%Y%m%d}-{end:%Y%m%d}.xlsx")
    return render(
        request,
        "appraisal/ledger.html",
        {
            "page_title": _("奖惩台账"),
            "rows": rows,
            "start": start,
            "end": end,
            "errors": errors,
            "form": request.POST if errors else {},
            "can_record": me.role in SUPERVISING_ROLES,
            "sites": sites_for(me),
            "staff": Staff.objects.filter(sites__in=site_ids_for(me), is_active=True).distinct().order_by("id"),
            "kinds": RewardPenalty.Kind.choices,
            "today": timezone.localdate(),
            **_nav(me, "ledger"),
        },
        status=422 if errors else 200,
    )


# --- settings: score-sheet templates ----------------------------------------------------------


@staff_view
@require_GET
def sheet_template_list(request: HttpRequest, me: Staff) -> HttpResponse:
    """评分表模板: every template with its items and total; managers add, edit and stop them."""
    page = paginate(request, sheet_templates_for(me))
    return render(
        request,
        "appraisal/sheet_templates.html",
        {
            "page_title": _("评分表模板"),
            "page": page,
            "rows": page.object_list,
            "can_edit": me.role in services.MANAGERS,
            **_nav(me, "sheets"),
        },
    )


def _sheet_template_page(request: HttpRequest, me: Staff, template: SheetTemplate | None) -> HttpResponse:
    """A template's items by section and, for managers while nobody scored with it, the form
    that changes it (or creates a new one when ``template`` is None)."""
    form = {
        "name": template.name if template else "",
        "role": template.role if template else "",
        "items": sheet_items_text(template) if template else "",
    }
    locked = template is not None and bool(template.in_use)  # type: ignore[attr-defined]
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        services.sheet_templates_require_edit(me)
        form = {k: request.POST.get(k, "") for k in form}
        line_errors: dict[str, list[str]] = {}
        try:
            items = services.parse_sheet_items(form["items"])
        except ValidationFailed as exc:  # still check the name and role, to say everything at once
            items, line_errors = [], exc.fields
        try:
            params: dict[str, Any] = {"name": form["name"], "role": form["role"], "items": items, "actor": me}
            if template is None:
                saved = services.sheet_template_create(**params)
            else:
                saved = services.sheet_template_update(template=template, **params)
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            if locked:  # that is all there is to say
                line_errors = {}
            errors = {**(exc.fields or {"form": [exc.message]}), **line_errors}
            first = next(iter(line_errors.get("items", []) or [exc.message]))
            messages.error(request, _("保存失败：{message}").format(message=first))
            status = exc.status_code
        else:
            messages.success(request, _("评分表已保存"))
            return redirect("appraisal:sheet_template", pk=saved.pk)
    shown = list(template.items.all()) if template else []
    sections: dict[str, dict[str, Any]] = {}
    for item in shown:
        section = sections.setdefault(item.section, {"items": [], "top": 0})
        section["items"].append(item)
        section["top"] += item.max_score
    return render(
        request,
        "appraisal/sheet_template.html",
        {
            "page_title": template.name if template else _("新增评分表"),
            "t": template,
            "sections": sections,
            "top": sum(i.max_score for i in shown),
            "form": form,
            "errors": errors,
            "roles": [(role, Role(role).label) for role in services.APPRAISED],
            "can_edit": me.role in services.MANAGERS,
            "locked": locked,
            **_nav(me, "sheets"),
        },
        status=status,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def sheet_template_new(request: HttpRequest, me: Staff) -> HttpResponse:
    services.sheet_templates_require_edit(me)
    return _sheet_template_page(request, me, None)


@staff_view
@require_http_methods(["GET", "POST"])
def sheet_template_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    return _sheet_template_page(request, me, sheet_template_get_for_user(staff=me, pk=pk))


@staff_view
@require_POST
def sheet_template_active(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    """停用 / 启用 (``active`` 1 or 0), back to the list or the template."""
    template = sheet_template_get_for_user(staff=me, pk=pk)
    active = request.POST.get("active") == "1"
    services.sheet_template_set_active(template=template, active=active, actor=me)
    messages.success(request, _("评分表已启用") if active else _("评分表已停用，不再用于新的评分"))
    if request.POST.get("back") == "list":
        return redirect("appraisal:sheet_templates")
    return redirect("appraisal:sheet_template", pk=template.pk)


# --- settings: schemes ------------------------------------------------------------------------


def _scheme_fields(row: dict[str, Any], posted: dict[str, str], errors: dict[str, list[str]]) -> list[dict[str, Any]]:
    """One role's form: every input with its label, bounds, value (as posted after a refusal,
    else the rules in force) and errors. Input names are the service's field names."""
    rules = row["rules"]
    fields: list[dict[str, Any]] = [
        {"name": f"weights.{code}", "label": _("{kpi}权重").format(kpi=KPI_LABELS[code]), "unit": "",
         "min": 0, "max": 100, "value": row["weights"][code]}
        for code in KPIS
    ]  # fmt: skip
    fields += [
        {"name": "handled_target", "label": _("办结量满分标准"), "unit": _("张/月"), "min": 1,
         "max": services.MAX_HANDLED_TARGET, "value": rules.handled_target},
        {"name": "sheet_share", "label": _("评分表占比"), "unit": "%", "min": 0, "max": 100,
         "value": rules.sheet_share},
    ]  # fmt: skip
    fields += [
        {"name": f"card_points.{color}", "label": _("{card}扣分").format(card=label), "unit": _("分"), "min": 0,
         "max": 100, "value": rules.card_points.get(color, 0)}
        for color, label in WarningCard.Color.choices
    ]  # fmt: skip
    fields.append(
        {"name": "praise_points", "label": _("每次表扬加分"), "unit": _("分"), "min": 0, "max": 100,
         "value": rules.praise_points}
    )  # fmt: skip
    for f in fields:
        if posted:
            f["value"] = posted.get(f["name"], "")
        f["errors"] = errors.get(f["name"], [])
    return fields


@staff_view
@require_http_methods(["GET", "POST"])
def scheme_settings(request: HttpRequest, me: Staff) -> HttpResponse:
    """考核方案: each appraised role's KPI weights, handled target, sheet share and points; a
    change applies when a period is next computed."""
    rows = schemes_for(me)
    failed: dict[str, Any] = {}
    status = 200
    if request.method == "POST":
        post = request.POST
        role = post.get("role", "")
        try:
            services.scheme_update(
                role=role,
                weights={code: post.get(f"weights.{code}", "") for code in KPIS},
                handled_target=post.get("handled_target", ""),
                sheet_share=post.get("sheet_share", ""),
                card_points={color: post.get(f"card_points.{color}", "") for color in services.SCHEME_CARD_COLORS},
                praise_points=post.get("praise_points", ""),
                actor=me,
            )
        except DomainError as exc:
            if isinstance(exc, PermissionDenied):
                raise
            messages.error(request, _("保存失败：{message}").format(message=exc.message))
            failed = {"role": role, "form": post.dict(), "errors": exc.fields}
            status = exc.status_code
        else:
            messages.success(request, _("考核方案已保存，下次计算考核期时生效"))
            return redirect("appraisal:schemes")
    for row in rows:
        mine = failed.get("role") == row["role"]
        row["open"] = mine
        row["errors"] = failed["errors"] if mine else {}
        row["fields"] = _scheme_fields(row, failed["form"] if mine else {}, row["errors"])
        row["card_values"] = [row["rules"].card_points.get(color, 0) for color in services.SCHEME_CARD_COLORS]
    return render(
        request,
        "appraisal/schemes.html",
        {
            "page_title": _("考核方案"),
            "rows": rows,
            "kpis": [(code, KPI_LABELS[code]) for code in KPIS],
            "cards": WarningCard.Color.choices,
            "open_dialog": failed.get("role", "") if any(r["open"] for r in rows) else "",
            **_nav(me, "schemes"),
        },
        status=status,
    )

"""Appraisal pages: periods, the ranking, one person's result with its figures, sign-off."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError, NotFound, PermissionDenied
from kefu.core.excel import download, workbook
from kefu.core.web import paginate, parse_date, parse_id
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import people_in_view, site_ids_for, sites_for
from kefu.org.web import staff_view

from . import services
from .models import Appraisal, Period, RewardPenalty, Sheet, SheetTemplate
from .queries import KPI_LABELS, ledger, periods_for, results_in_view, this_month_unless


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
        },
        status=422 if errors else 200,
    )


def _period_for(me: Staff, pk: int) -> Period:
    period = periods_for(me).filter(pk=pk).first()
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


def _appraisal_for(me: Staff, pk: int) -> Appraisal:
    found = (
        Appraisal.objects.filter(pk=pk, period__in=periods_for(me))
        .filter(results_in_view(me))
        .select_related("period", "staff", "signed_by")
        .first()
    )
    if found is None:
        raise NotFound(_("考核结果不存在"))
    return found


@staff_view
def appraisal_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    """One person's result: each KPI's figure, score and weight; cards, praise, the ledger."""
    a = _appraisal_for(me, pk)
    rules = services.rules_for(a.role)
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
    a = _appraisal_for(me, pk)
    if _attempt(request, lambda: services.appraisal_sign(appraisal=a, actor=me)) is not None:
        messages.success(request, _("已签核"))
    return redirect("appraisal:detail", pk=a.pk)


@staff_view
def sheet_form(request: HttpRequest, me: Staff, pk: int, template_id: int) -> HttpResponse:
    """填写评分表: every item of the template, scored 0 to its maximum."""
    a = _appraisal_for(me, pk)
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
        },
        status=422 if errors else 200,
    )

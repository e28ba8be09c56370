"""Report pages: the shared filters, an ECharts chart, the table, Excel and an A4 print
layout. Thin: the figures come from ``queries``."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook

from kefu.core.errors import DomainError, NotFound, ValidationFailed
from kefu.core.excel import download, stream, workbook
from kefu.core.web import paginate, parse_id
from kefu.org.models import Staff
from kefu.org.queries import departments, site_ids_for, sites_for
from kefu.org.web import current_site_ids, staff_view
from kefu.tickets.lifecycle import Kind
from kefu.visits.models import Visit

from . import queries, services
from .filters import ReportFilters, parse_filters
from .models import MonthlyReport

REPORT_LINKS = (
    ("reports:volume", gettext_lazy("工单量")),
    ("reports:pareto", gettext_lazy("排列图")),
    ("reports:sla", gettext_lazy("时限达成率")),
    ("reports:resolution", gettext_lazy("一次解决与重开")),
    ("reports:complaints", gettext_lazy("投诉追踪")),
    ("reports:satisfaction", gettext_lazy("满意度趋势")),
    ("reports:cards", gettext_lazy("警告卡统计")),
    ("reports:workload", gettext_lazy("工作量")),
    ("reports:monthly_list", gettext_lazy("客服月报")),
)
CATALOGUE = (
    (
        "reports:monthly_list",
        gettext_lazy("客服月报"),
        gettext_lazy("每个项目每月一份：主要指标、主要问题、时限、满意度、警告卡、重点投诉和工作小结"),
    ),
    (
        "reports:volume",
        gettext_lazy("工单量统计"),
        gettext_lazy("每天（或每月）受理的工单，按类型、来源渠道或分类分列"),
    ),
    ("reports:pareto", gettext_lazy("排列图"), gettext_lazy("按分类、楼栋、处理部门或处理人排出主要问题，附累计占比")),
    ("reports:sla", gettext_lazy("时限达成率"), gettext_lazy("响应、到场、办结的按时率，按部门或处理人")),
    (
        "reports:resolution",
        gettext_lazy("一次解决率与重开率"),
        gettext_lazy("首次接触即解决的比例，办结后又被重开的比例"),
    ),
    (
        "reports:complaints",
        gettext_lazy("投诉案件登记追踪表"),
        gettext_lazy("每件投诉的六个步骤、责任部门和责任人、处理结果、客户确认和回访结果"),
    ),
    ("reports:satisfaction", gettext_lazy("满意度趋势"), gettext_lazy("逐月的客户评分、回访满意率、调查满意率")),
    ("reports:cards", gettext_lazy("警告卡统计"), gettext_lazy("各人员的蓝、黄、红牌数，按规则分列")),
    (
        "reports:workload",
        gettext_lazy("工作量统计"),
        gettext_lazy("各处理人、各部门的在办、超期、受理、办结数和平均处理用时（工作时间）"),
    ),
    ("visits:report", gettext_lazy("回访总结报告"), gettext_lazy("回访数、按时率、满意率、不满意原因、返工率")),
    ("visits:coverage", gettext_lazy("会员回访覆盖率"), gettext_lazy("期间内回访过的会员占全部会员的比例")),
    (
        "surveys:summary",
        gettext_lazy("满意度调查结果汇总表"),
        gettext_lazy("回收率、满意率，按批次、项目、部门、月份、题目"),
    ),
    ("tickets:warnings", gettext_lazy("警告卡台账"), gettext_lazy("蓝、黄、红牌，按人员和规则")),
)


def _filters(request: HttpRequest, me: Staff) -> tuple[ReportFilters, list[str]]:
    return parse_filters(request.GET, allowed_sites=current_site_ids(request, me))


def _page(
    request: HttpRequest, me: Staff, template: str, f: ReportFilters, problems: list[str], **context: Any
) -> HttpResponse:
    return render(
        request,
        template,
        {
            "f": f,
            "problems": problems,
            "sites": sites_for(me).filter(id__in=current_site_ids(request, me)),
            "departments": departments(),
            "kinds": Kind.choices,
            "report_links": REPORT_LINKS,
            **context,
        },
    )


def _by(request: HttpRequest, choices: Any, default: str) -> str:
    """The grouping asked for, if it is one of ``choices``; else ``default``."""
    value = request.GET.get("by", default)
    return value if value in choices else default


def _excel(title: str, f: ReportFilters, headers: list[Any], rows: Any) -> HttpResponse:
    """The report as a workbook named after it and its period."""
    return download(workbook(title, [str(h) for h in headers], rows), f"{title}_{_period(f)}.xlsx")


def _bars(rows: list[Any], *series: tuple[Any, str]) -> dict[str, Any]:
    """Chart data of the first 20 rows: their labels, and one series per (name, attribute)."""
    shown = rows[:20]
    return {
        "labels": [r.label for r in shown],
        "series": [{"name": str(name), "data": [getattr(r, attr) for r in shown]} for name, attr in series],
    }


def _period(f: ReportFilters) -> str:
    return f"{f.start:%Y%m%d}-{f.end:%Y%m%d}"


@staff_view
def index(request: HttpRequest, me: Staff) -> HttpResponse:
    queries.require_reader(me)
    f, problems = _filters(request, me)
    return _page(request, me, "reports/index.html", f, problems, page_title=_("统计报表"), catalogue=CATALOGUE)


@staff_view
def volume(request: HttpRequest, me: Staff) -> HttpResponse:
    """工单量统计: received per day or month, by kind, channel or category."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    dimension = _by(request, queries.VOLUME_DIMENSIONS, "kind")
    v = queries.volume(f, dimension)
    title = _("工单量统计")
    if request.GET.get("export") == "xlsx":
        headers = [_("日期") if not v.monthly else _("月份"), *[s["name"] for s in v.series], _("合计")]
        rows: list[list[Any]] = [
            [bucket, *[s["data"][i] for s in v.series], sum(s["data"][i] for s in v.series)]
            for i, bucket in enumerate(v.buckets)
        ]
        rows.append([_("合计"), *[sum(s["data"]) for s in v.series], v.total])
        return _excel(title, f, headers, rows)
    chart = {"buckets": v.buckets, "series": v.series}
    return _page(
        request, me, "reports/volume.html", f, problems,
        page_title=title, v=v, chart=chart, by=dimension, dimensions=queries.VOLUME_DIMENSIONS,
        dimension_label=queries.VOLUME_LABELS[dimension],
    )  # fmt: skip


@staff_view
def pareto(request: HttpRequest, me: Staff) -> HttpResponse:
    """排列图: what most of the tickets are about, by category, building, department or handler."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    dimension = _by(request, queries.PARETO_DIMENSIONS, "category")
    rows = queries.pareto(f, dimension)
    title = _("排列图")
    label = str(queries.PARETO_DIMENSIONS[dimension])
    if request.GET.get("export") == "xlsx":
        headers = [label, _("件数"), _("占比%"), _("累计占比%"), _("类别")]
        data = [[r.label, r.n, r.share, r.cumulative, r.group] for r in rows]
        return download(workbook(title, headers, data), f"{title}_{label}_{_period(f)}.xlsx")
    chart = {
        "labels": [r.label for r in rows],
        "counts": [r.n for r in rows],
        "cumulative": [r.cumulative for r in rows],
        "names": {"count": str(_("件数")), "cumulative": str(_("累计占比%"))},
    }
    return _page(
        request, me, "reports/pareto.html", f, problems,
        page_title=title, rows=rows, chart=chart, by=dimension, dimensions=queries.PARETO_DIMENSIONS,
        total=sum(r.n for r in rows),
    )  # fmt: skip


@staff_view
def sla(request: HttpRequest, me: Staff) -> HttpResponse:
    """时限达成率: response, arrival and resolution on time, by department or handler."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    by = _by(request, queries.SLA_GROUPS, "department")
    figures = queries.sla_compliance(f, by)
    title = _("时限达成率")
    rows = [*figures["rows"], figures["overall"]]
    if request.GET.get("export") == "xlsx":
        headers = [
            str(queries.SLA_GROUPS[by]).removeprefix("按"),
            _("工单数"),
            _("按时响应"), _("响应超时"), _("响应按时率%"),
            _("按时到场"), _("到场超时"), _("到场按时率%"),
            _("按时办结"), _("办结超时"), _("办结按时率%"),
        ]  # fmt: skip
        data = [
            [r.label, r.tickets, r.respond_on, r.respond_late, r.respond_rate, r.arrive_on, r.arrive_late,
             r.arrive_rate, r.resolve_on, r.resolve_late, r.resolve_rate]
            for r in rows
        ]  # fmt: skip
        return _excel(title, f, headers, data)
    chart = _bars(
        figures["rows"],
        (_("响应按时率"), "respond_rate"),
        (_("到场按时率"), "arrive_rate"),
        (_("办结按时率"), "resolve_rate"),
    )
    return _page(
        request, me, "reports/sla.html", f, problems,
        page_title=title, rows=rows, chart=chart, by=by, groups=queries.SLA_GROUPS,
    )  # fmt: skip


@staff_view
def resolution(request: HttpRequest, me: Staff) -> HttpResponse:
    """一次解决率与重开率, by kind, department or first responder."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    by = _by(request, queries.RESOLUTION_GROUPS, "kind")
    figures = queries.resolution(f, by)
    rows = [*figures["rows"], figures["overall"]]
    title = _("一次解决率与重开率")
    if request.GET.get("export") == "xlsx":
        headers = [str(queries.RESOLUTION_GROUPS[by]).removeprefix("按"), _("受理数"), _("一次解决"), _("一次解决率%"),
                   _("已办结"), _("被重开"), _("重开率%")]  # fmt: skip
        data = [[r.label, r.received, r.first_contact, r.first_contact_rate, r.completed, r.reopened, r.reopen_rate]
                for r in rows]  # fmt: skip
        return _excel(title, f, headers, data)
    chart = _bars(figures["rows"], (_("一次解决率"), "first_contact_rate"), (_("重开率"), "reopen_rate"))
    return _page(
        request, me, "reports/resolution.html", f, problems,
        page_title=title, rows=rows, chart=chart, by=by, groups=queries.RESOLUTION_GROUPS,
    )  # fmt: skip


LEDGER_HEADERS = (
    gettext_lazy("工单号"),
    gettext_lazy("项目"),
    gettext_lazy("受理时间"),
    gettext_lazy("客户"),
    gettext_lazy("房屋"),
    gettext_lazy("投诉内容"),
    gettext_lazy("重大"),
    gettext_lazy("投诉分类"),
    gettext_lazy("是否成立"),
    gettext_lazy("判定时间"),
    gettext_lazy("责任部门"),
    gettext_lazy("责任人"),
    gettext_lazy("调查时间"),
    gettext_lazy("批示时间"),
    gettext_lazy("实施完成时间"),
    gettext_lazy("客户确认"),
    gettext_lazy("确认时间"),
    gettext_lazy("总结时间"),
    gettext_lazy("处理结果"),
    gettext_lazy("回访结果"),
    gettext_lazy("状态"),
)


def _ledger_row(t: Any) -> list[Any]:
    c = getattr(t, "complaint", None)
    visit = dict(Visit.Result.choices).get(t.visit_result, "") if t.visit_result else ""

    def when(value: Any) -> str:
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""

    valid = "" if c is None or c.valid is None else (_("成立") if c.valid else _("不成立"))
    return [
        t.number, t.site.name, when(t.created_at), t.customer.name if t.customer else t.contact_name,
        str(t.unit) if t.unit else "", t.content[:200], _("是") if t.is_major else "",
        (c.classification.name if c and c.classification else (t.category.name if t.category else "")), valid,
        when(c.judged_at if c else None),
        c.responsible_department.name if c and c.responsible_department else "",
        c.responsible_person.name if c and c.responsible_person else "",
        when(c.investigated_at if c else None), when(c.approved_at if c else None),
        when(c.implemented_at if c else None),
        f"{t.confirmed_by}（{t.confirm_method}）" if t.confirmed_by else "", when(t.confirmed_at),
        when(c.summarized_at if c else None), (c.implementation if c else "")[:200], str(visit),
        t.get_status_display(),
    ]  # fmt: skip


@staff_view
def complaint_ledger(request: HttpRequest, me: Staff) -> HttpResponseBase:
    """投诉案件登记追踪表: every complaint of the period and how far it got."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    title = _("投诉案件登记追踪表")
    rows = queries.complaints(f)
    if request.GET.get("export") == "xlsx":
        headers = [str(h) for h in LEDGER_HEADERS]
        # Every complaint of the period, however many: written while it is read.
        return stream(
            title,
            headers,
            (_ledger_row(t) for t in rows.iterator(chunk_size=500)),
            f"{title}_{_period(f)}.xlsx",
            widths=[18] * 21,
        )
    page = paginate(request, rows, default_size=50)
    steps = queries.complaint_steps(f)
    chart = {"labels": [s["label"] for s in steps], "counts": [s["n"] for s in steps]}
    return _page(
        request, me, "reports/complaints.html", f, problems,
        page_title=title, page=page, rows=[(t, _ledger_row(t)) for t in page.object_list],
        headers=LEDGER_HEADERS, steps=steps, chart=chart,
    )  # fmt: skip


@staff_view
def satisfaction(request: HttpRequest, me: Staff) -> HttpResponse:
    """满意度趋势: ratings, return visits and surveys month by month."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    title = _("满意度趋势")
    figures = queries.satisfaction_trend(f)
    rows = figures["rows"]
    if request.GET.get("export") == "xlsx":
        headers = [_("月份"), _("评分数"), _("平均分"), _("4–5 星占比%"), _("回访数"), _("回访满意率%"),
                   _("调查有效答题"), _("调查满意率%")]  # fmt: skip
        data = [[r["month"], r["rated"], r["rating_average"], r["rating_rate"], r["visits"], r["visit_rate"],
                 r["answers"], r["survey_rate"]] for r in rows]  # fmt: skip
        return _excel(title, f, headers, data)
    chart = {
        "labels": [r["month"] for r in rows],
        "series": [
            {"name": str(_("评分 4–5 星占比")), "data": [r["rating_rate"] for r in rows]},
            {"name": str(_("回访满意率")), "data": [r["visit_rate"] for r in rows]},
            {"name": str(_("调查满意率")), "data": [r["survey_rate"] for r in rows]},
        ],
    }
    return _page(request, me, "reports/satisfaction.html", f, problems, page_title=title, rows=rows, chart=chart)


@staff_view
def cards(request: HttpRequest, me: Staff) -> HttpResponse:
    """警告卡统计: cards per person and rule."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    title = _("警告卡统计")
    figures = queries.cards_by_person(f)
    if request.GET.get("export") == "xlsx":
        headers = [_("责任人"), _("蓝牌"), _("黄牌"), _("红牌"), _("合计"), *[label for _r, label in figures["rules"]]]
        rules = [r for r, _label in figures["rules"]]
        data = [[p["name"], p["blue"], p["yellow"], p["red"], p["total"], *[p["rules"][r] for r in rules]]
                for p in figures["rows"]]  # fmt: skip
        return _excel(title, f, headers, data)
    shown = figures["rows"][:20]
    chart = {
        "labels": [p["name"] for p in shown],
        "series": [
            {"name": str(_("蓝牌")), "color": "#409eff", "data": [p["blue"] for p in shown]},
            {"name": str(_("黄牌")), "color": "#e6a23c", "data": [p["yellow"] for p in shown]},
            {"name": str(_("红牌")), "color": "#f56c6c", "data": [p["red"] for p in shown]},
        ],
    }
    return _page(request, me, "reports/cards.html", f, problems, page_title=title, chart=chart, **figures)


@staff_view
def workload(request: HttpRequest, me: Staff) -> HttpResponse:
    """工作量统计: open, overdue, received, handled and average handling time per person or department."""
    queries.require_reader(me)
    f, problems = _filters(request, me)
    by = _by(request, queries.WORKLOAD_GROUPS, "person")
    rows = queries.workload(f, by)
    title = _("工作量统计")
    if request.GET.get("export") == "xlsx":
        headers = [str(queries.WORKLOAD_GROUPS[by]).removeprefix("按"), _("当前在办"), _("当前超期"), _("期间受理"),
                   _("期间办结"), _("平均处理用时(工作小时)")]  # fmt: skip
        data = [[w.label, w.open_now, w.overdue_now, w.received, w.handled, w.average_hours] for w in rows]
        return _excel(title, f, headers, data)
    # Two bars and, on the right axis, the average handling time as a line (the template).
    chart = _bars(
        rows, (_("期间办结"), "handled"), (_("当前在办"), "open_now"), (_("平均处理用时(工作小时)"), "average_hours")
    )
    return _page(
        request, me, "reports/workload.html", f, problems,
        page_title=title, rows=rows, chart=chart, by=by, groups=queries.WORKLOAD_GROUPS,
    )  # fmt: skip


@staff_view
def dashboard(request: HttpRequest, me: Staff) -> HttpResponse:
    """数据看板: the key figures of the period against the period before, for the reader's scope."""
    f, problems = _filters(request, me)
    f, scope = queries.dashboard_scope(me, f)
    figures = queries.dashboard(f)
    v = queries.volume(f, "kind")
    context: dict[str, Any] = {
        "page_title": _("数据看板"), "scope": scope, "figures": figures, "previous": f.previous(),
        "chart": {"buckets": v.buckets, "series": v.series},
    }  # fmt: skip
    if f.people is None:
        loads = {w.label: w for w in queries.workload(f, "department")}
        context["by_department"] = [(r, loads.get(r.label)) for r in queries.sla_compliance(f, "department")["rows"]]
    return _page(request, me, "reports/dashboard.html", f, problems, **context)


# --- the monthly report ---------------------------------------------------------------------


def _month(value: Any) -> date | None:
    try:
        return date.fromisoformat(f"{value}-01") if value else None
    except ValueError:
        return None


@staff_view
def monthly_list(request: HttpRequest, me: Staff) -> HttpResponse:
    """客服月报: the months kept per site, and the form to generate one."""
    queries.require_reader(me)
    sites = sites_for(me).filter(id__in=current_site_ids(request, me))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        site = sites.filter(pk=(parse_id(request.POST.get("site")) or 0)).first()
        try:
            if site is None:
                raise ValidationFailed(_("请选择项目"), field="site")
            report = services.monthly_report_request(site=site, month=_month(request.POST.get("month")), actor=me)
        except DomainError as exc:
            errors = exc.fields or {"form": [exc.message]}
            messages.error(request, exc.message)
        else:
            messages.success(request, _("月报已开始生成，稍候刷新即可查看"))
            return redirect("reports:monthly", pk=report.pk)
    page = paginate(request, MonthlyReport.objects.filter(site__in=sites).select_related("site"))
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)
    return render(
        request,
        "reports/monthly_list.html",
        {
            "page_title": _("客服月报"),
            "page": page,
            "rows": page.object_list,
            "sites": sites,
            "errors": errors,
            "can_write": me.role in services.WRITERS,
            "default_month": last_month,
        },
        status=422 if errors else 200,
    )


@staff_view
def monthly_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    queries.require_reader(me)
    report = (
        MonthlyReport.objects.select_related("site", "summary_by").filter(pk=pk, site_id__in=site_ids_for(me)).first()
    )
    if report is None:
        raise NotFound(_("月报不存在"))
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            services.monthly_report_summary_update(
                report=report,
                actor=me,
                version=(parse_id(request.POST.get("version")) or 0),
                summary=request.POST.get("summary", ""),
            )
        except DomainError as exc:
            errors = exc.fields or {"summary": [exc.message]}
            messages.error(request, exc.message)
        else:
            messages.success(request, _("工作小结已保存"))
            return redirect("reports:monthly", pk=report.pk)
    if request.GET.get("export") == "xlsx" and report.status == MonthlyReport.Status.READY:
        return download(monthly_workbook(report), f"客服月报_{report.site.name}_{report.month:%Y-%m}.xlsx")
    g = report.figures or {}
    chart = {
        "kinds": [{"name": r["label"], "value": r["n"]} for r in g.get("volume", {}).get("rows", [])],
        "categories": [r["label"] for r in g.get("top_categories", [])],
        "counts": [r["n"] for r in g.get("top_categories", [])],
        "cumulative": [r["cumulative"] for r in g.get("top_categories", [])],
    }
    return render(
        request,
        "reports/monthly_detail.html",
        {
            "page_title": _("客服月报"),
            "report": report,
            "g": g,
            "chart": chart,
            "errors": errors,
            "can_write": me.role in services.WRITERS,
        },
        status=422 if errors else 200,
    )


def monthly_workbook(report: MonthlyReport) -> bytes:
    """The month in Excel: one sheet per part, figures as numbers."""
    g = report.figures
    s = g.get("satisfaction") or {}
    sla_rows = [*g["sla"]["rows"], g["sla"]["overall"]]
    sheets: list[tuple[str, list[str], list[list[Any]]]] = [
        (
            _("概况"),
            [_("指标"), _("本月"), _("上月"), _("变化")],
            [[k["label"] + (" (%)" if k["unit"] == "%" else ""), k["value"], k["previous"], k["change"]]
             for k in g["kpis"]] + [[_("工作小结"), report.summary, None, None]],
        ),
        (
            _("工单量"),
            [_("类型"), _("件数"), _("占比%")],
            [[r["label"], r["n"], r["share"]] for r in g["volume"]["rows"]] + [[_("合计"), g["volume"]["total"], 100]],
        ),
        (
            _("主要问题"),
            [_("分类"), _("件数"), _("占比%"), _("累计占比%"), _("类别")],
            [[r["label"], r["n"], r["share"], r["cumulative"], r["group"]] for r in g["top_categories"]],
        ),
        (
            _("时限"),
            [_("部门"), _("工单数"), _("响应按时率%"), _("到场按时率%"), _("办结按时率%")],
            [[r["label"], r["tickets"], r["respond_rate"], r["arrive_rate"], r["resolve_rate"]] for r in sla_rows],
        ),
        (
            _("满意度"),
            [_("指标"), _("数值")],
            [[_("评分数"), s.get("rated")], [_("平均分"), s.get("rating_average")],
             [_("4–5 星占比%"), s.get("rating_rate")], [_("回访满意率%"), s.get("visit_rate")],
             [_("调查满意率%"), s.get("survey_rate")]],
        ),
        (
            _("警告卡"),
            [_("责任人"), _("蓝牌"), _("黄牌"), _("红牌"), _("合计")],
            [[p["name"], p["blue"], p["yellow"], p["red"], p["total"]] for p in g["cards"]["top"]],
        ),
        (
            _("投诉"),
            [_("工单号"), _("内容"), _("状态"), _("重大"), _("责任部门")],
            [[c["number"], c["content"], c["status"], _("是") if c["major"] else "", c["department"]]
             for c in g["complaints"]["notable"]],
        ),
    ]  # fmt: skip
    wb = Workbook(write_only=True)
    for title, headers, rows in sheets:
        ws = wb.create_sheet(title=str(title)[:31])
        ws.append([str(h) for h in headers])
        for row in rows:
            ws.append(list(row))
    out = BytesIO()
    wb.save(out)
    return out.getvalue()

"""Report pages: the shared filters, an ECharts chart, the table, Excel and an A4 print
layout. Thin: the figures come from ``queries``."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kefu.core.errors import PermissionDenied
from kefu.core.excel import download, workbook
from kefu.org.models import Staff
from kefu.org.permissions import SUPERVISING_ROLES
from kefu.org.queries import departments, sites_for
from kefu.org.web import current_site_ids, staff_view
from kefu.tickets.lifecycle import Kind

from . import queries
from .filters import ReportFilters, parse_filters

REPORT_LINKS = (
    ("reports:volume", gettext_lazy("工单量")),
    ("reports:pareto", gettext_lazy("排列图")),
    ("reports:sla", gettext_lazy("时限达成率")),
)
CATALOGUE = (
    (
        "reports:volume",
        gettext_lazy("工单量统计"),
        gettext_lazy("每天（或每月）受理的工单，按类型、来源渠道或分类分列"),
    ),
    ("reports:pareto", gettext_lazy("排列图"), gettext_lazy("按分类、楼栋、处理部门或处理人排出主要问题，附累计占比")),
    ("reports:sla", gettext_lazy("时限达成率"), gettext_lazy("响应、到场、办结的按时率，按部门或处理人")),
    ("visits:report", gettext_lazy("回访总结报告"), gettext_lazy("回访数、按时率、满意率、不满意原因、返工率")),
    ("visits:coverage", gettext_lazy("会员回访覆盖率"), gettext_lazy("期间内回访过的会员占全部会员的比例")),
    (
        "surveys:summary",
        gettext_lazy("满意度调查结果汇总表"),
        gettext_lazy("回收率、满意率，按批次、项目、部门、月份、题目"),
    ),
    ("tickets:warnings", gettext_lazy("警告卡台账"), gettext_lazy("蓝、黄、红牌，按人员和规则")),
)


def _reader(me: Staff) -> None:
    if me.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以查看统计报表"))


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


def _period(f: ReportFilters) -> str:
    return f"{f.start:%Y%m%d}-{f.end:%Y%m%d}"


@staff_view
def index(request: HttpRequest, me: Staff) -> HttpResponse:
    _reader(me)
    f, problems = _filters(request, me)
    return _page(request, me, "reports/index.html", f, problems, page_title=_("统计报表"), catalogue=CATALOGUE)


@staff_view
def volume(request: HttpRequest, me: Staff) -> HttpResponse:
    """工单量统计: received per day or month, by kind, channel or category."""
    _reader(me)
    f, problems = _filters(request, me)
    dimension = request.GET.get("by", "kind")
    if dimension not in queries.VOLUME_DIMENSIONS:
        dimension = "kind"
    v = queries.volume(f, dimension)
    title = _("工单量统计")
    if request.GET.get("export") == "xlsx":
        headers = [_("日期") if not v.monthly else _("月份"), *[s["name"] for s in v.series], _("合计")]
        rows: list[list[Any]] = [
            [bucket, *[s["data"][i] for s in v.series], sum(s["data"][i] for s in v.series)]
            for i, bucket in enumerate(v.buckets)
        ]
        rows.append([_("合计"), *[sum(s["data"]) for s in v.series], v.total])
        return download(workbook(title, headers, rows), f"{title}_{_period(f)}.xlsx")
    chart = {"buckets": v.buckets, "series": v.series}
    return _page(
        request, me, "reports/volume.html", f, problems,
        page_title=title, v=v, chart=chart, by=dimension, dimensions=queries.VOLUME_DIMENSIONS,
        dimension_label=queries.VOLUME_LABELS[dimension],
    )  # fmt: skip


@staff_view
def pareto(request: HttpRequest, me: Staff) -> HttpResponse:
    """排列图: what most of the tickets are about, by category, building, department or handler."""
    _reader(me)
    f, problems = _filters(request, me)
    dimension = request.GET.get("by", "category")
    if dimension not in queries.PARETO_DIMENSIONS:
        dimension = "category"
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
    _reader(me)
    f, problems = _filters(request, me)
    by = request.GET.get("by", "department")
    if by not in queries.SLA_GROUPS:
        by = "department"
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
        return download(workbook(title, headers, data), f"{title}_{_period(f)}.xlsx")
    shown = figures["rows"][:20]
    chart = {
        "labels": [r.label for r in shown],
        "series": [
            {"name": str(_("响应按时率")), "data": [r.respond_rate for r in shown]},
            {"name": str(_("到场按时率")), "data": [r.arrive_rate for r in shown]},
            {"name": str(_("办结按时率")), "data": [r.resolve_rate for r in shown]},
        ],
    }
    return _page(
        request, me, "reports/sla.html", f, problems,
        page_title=title, rows=rows, chart=chart, by=by, groups=queries.SLA_GROUPS,
    )  # fmt: skip

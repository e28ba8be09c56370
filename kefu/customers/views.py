"""Customer record pages (客户档案): list, detail, create/edit, Excel import and export."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import uuid4

from django.contrib import messages
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db.models import Count, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core.errors import Conflict, DomainError, PermissionDenied, ValidationFailed
from kefu.core.excel import download, stream
from kefu.core.phones import mask
from kefu.core.web import PAGE_SIZES, is_partial, paginate
from kefu.org.models import Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES, can
from kefu.org.queries import sites_for, staff_in_scope
from kefu.org.web import current_site_ids, staff_view

from . import services
from .forms import CustomerForm
from .imports import ImportResult, customers_import, error_report, import_template
from .models import Customer, CustomerEvent, Tag
from .queries import customer_get_for_user, customers_for, first_contact_overdue, search_customers, with_list_columns
from .services import clean_customer_data, customer_create, customer_update

EXPORT_LIMIT = 50_000
ERRORS_SHOWN = 200
REPORT_SESSION_KEY = "customers_import_report"
REPORT_DIR = "customer-imports"


def _require(me: Staff, capability: str, message: str) -> None:
    if not can(me.role, capability):
        raise PermissionDenied(message)


def _filtered(request: HttpRequest, me: Staff) -> QuerySet[Customer]:
    """The list's rows: the user's data scope, the site switched to, then the search form."""
    qs = customers_for(me).filter(site_id__in=current_site_ids(request, me))
    return search_customers(qs, request.GET)


def _page_numbers(number: int, last: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20 — ``None`` marks a gap."""
    shown = sorted({1, last, *range(max(1, number - 2), min(last, number + 2) + 1)})
    out: list[int | None] = []
    previous = 0
    for n in shown:
        if previous and n - previous > 1:
            out.append(None)
        out.append(n)
        previous = n
    return out


# --- list and export ------------------------------------------------------------------------


@staff_view
def customer_list(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "customers.view", "您没有查看客户档案的权限")
    page = paginate(request, with_list_columns(_filtered(request, me)))
    site_ids = current_site_ids(request, me)
    context = {
        "page_title": "客户档案",
        "page": page,
        "page_numbers": _page_numbers(page.number, page.paginator.num_pages),
        "page_sizes": PAGE_SIZES,
        "f": {name: request.GET.get(name, "") for name in ("q", "site", "tag", "kind")},
        "sites": [s for s in sites_for(me) if s.id in site_ids],
        "tags": Tag.objects.all(),
        "kinds": Customer.Kind.choices,
        "see_phone": can(me.role, "customers.see_phone"),
        "can_edit": can(me.role, "customers.edit"),
        "can_import": can(me.role, "customers.import"),
        "can_export": can(me.role, "customers.export"),
    }
    template = "customers/list.html#results" if is_partial(request) else "customers/list.html"
    return render(request, template, context)


EXPORT_HEADERS = [
    "项目",
    "类型",
    "姓名/单位名称",
    "性别",
    "联系人",
    "电话",
    "房屋",
    "标签",
    "邮箱",
    "来源",
    "备注",
    "建档时间",
]


@staff_view
def customer_export(request: HttpRequest, me: Staff) -> HttpResponseBase:
    """导出: the filtered list as .xlsx; phone numbers masked unless the role may see them."""
    _require(me, "customers.export", "您没有导出客户档案的权限")
    qs = _filtered(request, me)
    total = qs.count()
    if total > EXPORT_LIMIT:
        messages.warning(request, f"导出失败：共 {total} 条，超过单次导出上限 {EXPORT_LIMIT} 条，请缩小查询范围后重试")
        return redirect(f"{reverse('customers:list')}?{request.GET.urlencode()}")
    see_phone = can(me.role, "customers.see_phone")

    def rows() -> Any:
        # iterator() with chunk_size keeps the prefetches and memory flat on large exports.
        for c in with_list_columns(qs).iterator(chunk_size=2000):
            phones = [p.number if see_phone else mask(p.number) for p in c.phones.all()]
            units = [f"{link.unit.label}({link.get_relation_display()})" for link in c.unit_links.all()]
            yield [
                c.site.name,
                c.get_kind_display(),
                c.name,
                c.get_gender_display() if c.gender else "",
                c.contact_person,
                "、".join(phones),
                "、".join(units),
                "、".join(t.name for t in c.tags.all()),
                c.email,
                c.get_source_display(),
                c.note,
                timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
            ]

    return stream(
        "客户档案",
        EXPORT_HEADERS,
        rows(),
        f"客户档案_{timezone.localdate():%Y%m%d}.xlsx",
        widths=[16, 8, 16, 6, 10, 28, 28, 16, 20, 10, 30, 17],
    )


# --- detail -----------------------------------------------------------------------------------

EVENT_LABELS = {"created": "建档", "updated": "修改", "imported": "导入"}
FIELD_LABELS = {
    "kind": "类型",
    "name": "姓名/单位名称",
    "gender": "性别",
    "contact_person": "联系人",
    "phones": "电话",
    "units": "房屋",
    "tags": "标签",
    "email": "邮箱",
    "source": "来源",
    "note": "备注",
}
_CHOICE_LABELS: dict[str, dict[str, Any]] = {
    "kind": dict(Customer.Kind.choices),
    "gender": {**dict(Customer.Gender.choices), "": ""},
    "source": dict(Customer.Source.choices),
}


def _shown(name: str, value: Any, see_phone: bool) -> str:
    """A history value as the page shows it; phone numbers masked like everywhere else."""
    if value in (None, "", []):
        return ""
    if name == "phones":
        value = [v if see_phone else mask(str(v)) for v in value]
    if isinstance(value, list):
        return "、".join(str(v) for v in value)
    if name in _CHOICE_LABELS:
        return str(_CHOICE_LABELS[name].get(value, value))
    return str(value)


def history_entries(events: list[CustomerEvent], see_phone: bool) -> list[dict[str, Any]]:
    """变更记录: who, when, what kind of change, and each field's before → after."""
    entries = []
    for event in events:
        data = event.data or {}
        if event.type == "updated":
            pairs = [(k, v[0], v[1]) for k, v in (data.get("changes") or {}).items()]
        else:
            # 建档 and 导入 store the first snapshot: everything is new.
            pairs = [(k, None, v) for k, v in data.items() if k in FIELD_LABELS]
        order = list(FIELD_LABELS)
        pairs.sort(key=lambda p: order.index(p[0]) if p[0] in order else len(order))
        changes = [
            {
                "label": FIELD_LABELS.get(name, name),
                "before": _shown(name, before, see_phone),
                "after": _shown(name, after, see_phone),
            }
            for name, before, after in pairs
            if _shown(name, before, see_phone) or _shown(name, after, see_phone)
        ]
        entries.append(
            {
                "at": event.at,
                "actor": event.actor.name if event.actor else "系统",
                "type": EVENT_LABELS.get(event.type, event.type),
                "is_update": event.type == "updated",
                "changes": changes,
            }
        )
    return entries


@staff_view
def customer_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    customer = customer_get_for_user(staff=me, pk=pk)
    see_phone = can(me.role, "customers.see_phone")
    phones = list(customer.phones.all())
    links = list(customer.unit_links.select_related("unit").order_by("id"))
    events = list(customer.events.select_related("actor").order_by("-at", "-id")[:100])
    context = {
        "page_title": customer.name,
        "customer": customer,
        "phones": phones,
        "units": links,
        "tags": list(customer.tags.all()),
        "history": history_entries(events, see_phone),
        "see_phone": see_phone,
        "can_edit": can(me.role, "customers.edit"),
        "can_intake": can(me.role, "tickets.intake"),
        "can_assign": me.role in SUPERVISING_ROLES,
        "can_contact": me.id == customer.owner_id or me.role in SUPERVISING_ROLES,
        "contact_channels": services.CONTACT_CHANNELS,
        "owners": owner_candidates(customer.site_id) if me.role in SUPERVISING_ROLES else [],
        "now": timezone.now(),
        **_tickets_of(me, customer),
    }
    return render(request, "customers/detail.html", context)


def owner_candidates(site_id: int) -> list[Staff]:
    return list(
        Staff.objects.filter(
            is_active=True, user__is_active=True, role__in=services.OWNER_ROLES, sites=site_id
        ).order_by("role", "id")
    )


@staff_view
@require_POST
def customer_assign_view(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    customer = customer_get_for_user(staff=me, pk=pk)
    to = Staff.objects.filter(pk=_int(request.POST.get("to"))).first() if request.POST.get("to") else None
    try:
        services.customer_assign(customers=[customer], actor=me, to=to)
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
    else:
        customer.refresh_from_db()
        owner = customer.owner.name if customer.owner else ""
        messages.success(request, _("已分配给 {name}，请在 7 天内首次联系").format(name=owner))
    return redirect("customers:detail", pk=customer.pk)


@staff_view
@require_POST
def customer_contact_view(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    customer = customer_get_for_user(staff=me, pk=pk)
    try:
        services.customer_contact_record(
            customer=customer, actor=me, channel=request.POST.get("channel", ""), note=request.POST.get("note", "")
        )
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
    else:
        messages.success(request, _("联系记录已保存"))
    return redirect("customers:detail", pk=customer.pk)


@staff_view
def ownership(request: HttpRequest, me: Staff) -> HttpResponse:
    """客户分配: give the filtered customers out (to one agent, or balanced), move every
    customer of a leaving agent, and the list of overdue first contacts."""
    if me.role not in SUPERVISING_ROLES:
        raise PermissionDenied(_("只有主管及以上可以分配客户"))
    qs = _filtered(request, me)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "reassign":
                leaver = staff_in_scope(me).filter(pk=_int(request.POST.get("from"))).first()
                if leaver is None:
                    raise DomainError(_("请选择离职或调岗的客户专员"), field="from")
                to = staff_in_scope(me).filter(pk=_int(request.POST.get("to"))).first()
                count = services.customers_reassign_from(from_staff=leaver, actor=me, to=to)
            else:
                to = staff_in_scope(me).filter(pk=_int(request.POST.get("to"))).first()
                chosen = list(qs.prefetch_related("tags").select_related("owner")[:ASSIGN_LIMIT])
                count = services.customer_assign(customers=chosen, actor=me, to=to)
        except DomainError as exc:
            messages.error(request, _("操作失败：{message}").format(message=exc.message))
        else:
            messages.success(request, _("已分配 {n} 位客户").format(n=count))
        return redirect(f"{request.path}?{request.GET.urlencode()}")
    now = timezone.now()
    site_ids = current_site_ids(request, me)
    people = Staff.objects.filter(is_active=True, role__in=services.OWNER_ROLES, sites__in=site_ids).distinct()
    loads = dict(
        Customer.objects.filter(site_id__in=site_ids, is_active=True, owner__isnull=False)
        .values_list("owner")
        .annotate(n=Count("id"))
        .values_list("owner", "n")
    )
    return render(
        request,
        "customers/ownership.html",
        {
            "page_title": _("客户分配"),
            "matched": qs.count(),
            "limit": ASSIGN_LIMIT,
            "f": request.GET,
            "people": [(p, loads.get(p.id, 0)) for p in people.order_by("id")],
            "owners": Staff.objects.filter(owned_customers__site_id__in=site_ids).distinct().order_by("id"),
            "overdue": list(first_contact_overdue(customers_for(me).filter(site_id__in=site_ids), now)[:200]),
            "tags": Tag.objects.order_by("id"),
            "now": now,
        },
    )


ASSIGN_LIMIT = 2000


def _int(value: Any) -> int:
    try:
        return int(str(value))
    except (TypeError, ValueError):
        return 0


def _tickets_of(me: Staff, customer: Customer) -> dict[str, Any]:
    """The customer's latest tickets the user may see.

    Tickets sit above customers (tickets → customers), so the import is local to this view and
    narrowed by the tickets app's own scope rule; the full list is the ticket list's
    ``?customer=`` filter.
    """
    from kefu.tickets.queries import tickets_for

    qs = tickets_for(me).filter(customer=customer)
    return {
        "tickets": list(qs.select_related("site").order_by("-created_at", "-id")[:20]),
        "ticket_total": qs.count(),
    }


# --- create and edit ------------------------------------------------------------------------


def _form_page(
    request: HttpRequest, form: CustomerForm, *, customer: Customer | None, sites: list[Site], status: int = 200
) -> HttpResponse:
    context = {
        "page_title": f"编辑客户：{customer.name}" if customer else "新增客户",
        "form": form,
        "customer": customer,
        "sites": sites,
    }
    return render(request, "customers/form.html", context, status=status)


@staff_view
@require_http_methods(["GET", "POST"])
def customer_new(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "customers.edit", "您没有新增客户档案的权限")
    sites = list(sites_for(me))
    if request.method != "POST":
        chosen = current_site_ids(request, me)
        form = CustomerForm(site=str(next(iter(chosen))) if len(chosen) == 1 else "")
        return _form_page(request, form, customer=None, sites=sites)
    form = CustomerForm.from_post(request.POST)
    site = next((s for s in sites if str(s.id) == form.site), None)
    if site is None:
        form.add_error("site", "请选择项目")
    try:
        # Checked here as well so that a missing site and bad fields are reported together.
        clean_customer_data(form.to_data())
        if site is not None:
            customer = customer_create(site=site, data=form.to_data(), actor=me)
    except ValidationFailed as exc:
        for name, errors in exc.fields.items():
            for message in errors:
                form.add_error(name, message)
    if form.errors:
        form.message = "请检查填写的内容"
        return _form_page(request, form, customer=None, sites=sites, status=422)
    messages.success(request, "新增成功")
    return redirect("customers:detail", customer.pk)


@staff_view
@require_http_methods(["GET", "POST"])
def customer_edit(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    customer = customer_get_for_user(staff=me, pk=pk)
    _require(me, "customers.edit", "您没有编辑客户档案的权限")
    if request.method != "POST":
        return _form_page(request, CustomerForm.from_customer(customer), customer=customer, sites=[])
    form = CustomerForm.from_post(request.POST)
    try:
        version = int(form.version)
    except ValueError:
        version = 0  # a tampered or missing version can only be a conflict
    try:
        customer_update(customer=customer, data=form.to_data(), actor=me, version=version)
    except ValidationFailed as exc:
        form.errors = {name: list(errs) for name, errs in exc.fields.items()}
        form.message = "请检查填写的内容"
        return _form_page(request, form, customer=customer, sites=[], status=422)
    except Conflict as exc:
        # Keep what the user typed (and the old version): they compare with the latest record
        # and decide, rather than overwrite a colleague's change unseen.
        form.message = exc.message
        form.conflict = True
        return _form_page(request, form, customer=customer, sites=[], status=409)
    messages.success(request, "保存成功")
    return redirect("customers:detail", customer.pk)


# --- import ---------------------------------------------------------------------------------


@staff_view
def customer_import_template(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "customers.import", "您没有导入客户档案的权限")
    return download(import_template(me), "客户档案导入模板.xlsx")


@staff_view
@require_http_methods(["GET", "POST"])
def customer_import(request: HttpRequest, me: Staff) -> HttpResponse:
    """导入: upload, validate every row; all rows or none."""
    _require(me, "customers.import", "您没有导入客户档案的权限")
    context: dict[str, Any] = {"page_title": "导入客户档案", "errors_shown": ERRORS_SHOWN}
    if request.method != "POST":
        return render(request, "customers/import.html", context)
    upload = request.FILES.get("file")
    if upload is None:
        context["file_error"] = "请选择要导入的 Excel 文件"
        return render(request, "customers/import.html", context, status=422)
    try:
        result = customers_import(file=upload, actor=me)
    except ValidationFailed as exc:
        context["file_error"] = exc.message
        return render(request, "customers/import.html", context, status=422)
    if result.errors:
        _keep_report(request, result)
        context.update(result=result, errors=result.errors[:ERRORS_SHOWN], filename=upload.name)
        return render(request, "customers/import.html", context, status=422)
    _forget_report(request)
    messages.success(request, f"导入成功，共导入 {result.created} 条客户档案")
    return redirect("customers:list")


def _keep_report(request: HttpRequest, result: ImportResult) -> None:
    """Store the error report for the download link; only this session can fetch it.

    The file name is random and kept in the session only; reports a day old are swept here, so
    the folder never grows with abandoned imports.
    """
    _forget_report(request)
    cutoff = timezone.now() - timedelta(days=1)
    try:
        _, names = default_storage.listdir(REPORT_DIR)
    except FileNotFoundError:
        names = []
    for name in names:
        path = f"{REPORT_DIR}/{name}"
        if default_storage.get_modified_time(path) < cutoff:
            default_storage.delete(path)
    name = default_storage.save(f"{REPORT_DIR}/{uuid4().hex}.xlsx", ContentFile(error_report(result)))
    request.session[REPORT_SESSION_KEY] = name


def _forget_report(request: HttpRequest) -> None:
    name = request.session.pop(REPORT_SESSION_KEY, None)
    if name:
        default_storage.delete(name)


@staff_view
def customer_import_errors(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "customers.import", "您没有导入客户档案的权限")
    name = request.session.get(REPORT_SESSION_KEY)
    if not name or not default_storage.exists(name):
        raise Http404("错误报告已过期，请重新导入")
    with default_storage.open(name, "rb") as fh:
        content = fh.read()
    return download(content, f"客户导入错误报告_{timezone.localdate():%Y%m%d}.xlsx")

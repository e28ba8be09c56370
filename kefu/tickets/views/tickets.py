"""Ticket pages: workbench, list, intake, detail with one URL per action, phone page."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.db.models import Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import Conflict, DomainError, PermissionDenied
from kefu.core.excel import stream
from kefu.core.phones import mask
from kefu.core.web import is_partial, paginate
from kefu.customers.models import Customer
from kefu.customers.queries import customer_with_units, customers_for, search_customers, unit_for
from kefu.customers.queries import with_list_columns as customer_columns
from kefu.org.models import Role, Site, Staff
from kefu.org.permissions import SUPERVISING_ROLES, can
from kefu.org.queries import department_by_id, departments, site_ids_for
from kefu.org.web import current_site_ids, staff_view

from .. import services
from ..forms import CompleteForm, IntakeForm
from ..lifecycle import ACTIONS, DONE_FOR_SLA, ENDED, Kind, Status
from ..models import Attachment, Category, Channel, Ticket, TicketQuerySet, Urgency
from ..queries import (
    allowed_actions,
    categories_for,
    handover_candidates,
    my_work,
    numbered,
    page_rows,
    scope_sites,
    search_tickets,
    ticket_get_for_user,
    tickets_for,
    with_list_columns,
)
from ..search import parse
from ..services.cards import REVOKE_ROLES
from .complaints import COMPLAINT_VIEW_ACTIONS, STEP_ACTIONS, complaint_context, complaint_step, parse_local

# An export holds at most this many tickets; a last row says so. 100,000 rows take ~8 s of CPU
# and make a 16 MB file (bench/export.py), written while it downloads; past it one narrows the
# filter. Excel's own limit is 1,048,575 rows.
EXPORT_LIMIT = 200_000
EXPORT_COLUMNS = (
    "number", "site__name", "kind", "channel", "category__name", "urgency", "status", "contact_name",
    "contact_phone", "content", "first_responder__name", "department__name", "assignee__name", "created_at",
    "resolve_due",
)  # fmt: skip


def scoped(request: HttpRequest, me: Staff) -> TicketQuerySet:
    """Tickets in the user's data scope, narrowed to the site switched to."""
    return tickets_for(me, sites=current_site_ids(request, me))


# --- workbench ----------------------------------------------------------------------------


@staff_view
def home(request: HttpRequest, me: Staff) -> HttpResponse:
    """首页: my open tickets, due soon, overdue and today's intake."""
    qs = scoped(request, me)
    now = timezone.now()
    mine = my_work(qs, me)
    counts = {
        "mine": mine.count(),
        "due_soon": qs.due_soon(now).count(),
        "overdue": qs.overdue(now).count(),
        "today": qs.filter(created_at__gte=timezone.localtime(now).replace(hour=0, minute=0, second=0)).count(),
    }
    context = {
        "page_title": _("首页"),
        "counts": counts,
        "mine_list": list(with_list_columns(mine).order_by("resolve_due", "id")[:10]),
        "overdue_list": list(with_list_columns(qs.overdue(now)).order_by("resolve_due", "id")[:10]),
        "now": now,
    }
    return render(request, "tickets/home.html", context)


# --- list and export ----------------------------------------------------------------------

SORTS = {"due": ("resolve_due", "id"), "-created": ("-created_at", "-id"), "created": ("created_at", "id")}
# A search counts its hits up to this many ("共 1,000+ 条", 50 pages): an exact total of a
# common word over a million tickets costs more than the page itself, and past 50 pages one
# narrows the search rather than reads on.
SEARCH_COUNT_CAP = 1_000
# The list counts up to this many ("共 10,000+ 条", 200 pages of 50; UI.md): the exact total
# of a director's million tickets took ~1 s on its own, and the pages offered stay within
# what an index walk reaches in milliseconds.
LIST_COUNT_CAP = 10_000


def _searching(request: HttpRequest) -> bool:
    return bool((request.GET.get("q") or "").strip())


def _filtered(request: HttpRequest, me: Staff) -> TicketQuerySet:
    sites = current_site_ids(request, me)
    qs = search_tickets(tickets_for(me, sites=sites), request.GET.dict(), sites=scope_sites(me, sites))
    if request.GET.get("mine") == "1":
        qs = my_work(qs, me)
    # A search is sorted by relevance unless the user chose an order.
    sort = request.GET.get("sort", "")
    if _searching(request) and sort in ("", "rank"):
        return qs  # search_tickets ordered it
    return qs.order_by(*SORTS.get(sort, SORTS["-created"]))


@staff_view
def ticket_list(request: HttpRequest, me: Staff) -> HttpResponse:
    searching = _searching(request)
    page = paginate(request, _filtered(request, me), cap=SEARCH_COUNT_CAP if searching else LIST_COUNT_CAP)
    page.object_list = page_rows(cast(TicketQuerySet, page.object_list), searched=searching)
    context = {
        "page_title": _("工单列表"),
        "page": page,
        "tickets": page.object_list,
        "now": timezone.now(),
        "kinds": Kind.choices,
        "statuses": Status.choices,
        "channels": Channel.choices,
        "urgencies": Urgency.choices,
        "departments": departments(),
        "f": request.GET,
        "can_export": can(me.role, "tickets.export"),
        "query": request.GET.copy(),
        "search": parse(request.GET.get("q") or ""),
    }
    template = "tickets/list.html#results" if is_partial(request) else "tickets/list.html"
    return render(request, template, context)


@staff_view
def ticket_export(request: HttpRequest, me: Staff) -> HttpResponseBase:
    """导出: the filtered list, in its order, as an .xlsx written while the rows are read
    (``kefu.core.excel.stream``): plain values, no model instances, no query per row."""
    if not can(me.role, "tickets.export"):
        raise PermissionDenied(_("您没有导出工单的权限"))
    qs = _filtered(request, me).values_list(*EXPORT_COLUMNS)[: EXPORT_LIMIT + 1]
    see_phone = can(me.role, "customers.see_phone")
    headers = [
        _("工单号"),
        _("项目"),
        _("类型"),
        _("渠道"),
        _("分类"),
        _("紧急程度"),
        _("状态"),
        _("客户/联系人"),
        _("联系电话"),
        _("内容"),
        _("首问责任人"),
        _("处理部门"),
        _("处理人"),
        _("受理时间"),
        _("办结期限"),
        _("是否超时"),
    ]
    now = timezone.now()
    # Labels looked up once: get_FOO_display() translates every choice of the field on each call.
    kinds, channels, urgencies, statuses = (
        {value: str(label) for value, label in choices}
        for choices in (Kind.choices, Channel.choices, Urgency.choices, Status.choices)
    )
    yes, no = _("是"), _("否")

    zone = timezone.get_current_timezone()  # once, not per cell as timezone.localtime()

    def when(value: Any) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    def rows() -> Any:
        for count, row in enumerate(qs.iterator(chunk_size=2000), 1):
            if count > EXPORT_LIMIT:
                yield [_("仅导出前 {limit} 条，请缩小筛选范围后分批导出").format(limit=f"{EXPORT_LIMIT:,}")]
                return
            (number, site, kind, channel, category, urgency, status, contact, phone, content, responder,
             department, assignee, created_at, resolve_due) = row  # fmt: skip
            overdue = resolve_due is not None and status not in DONE_FOR_SLA and resolve_due < now
            yield [
                number,
                site,
                kinds.get(kind, kind),
                channels.get(channel, channel),
                category or "",
                urgencies.get(urgency, urgency),
                statuses.get(status, status),
                contact,
                phone if see_phone else mask(phone),
                content[:500],
                responder,
                department or "",
                assignee or "",
                when(created_at),
                when(resolve_due),
                yes if overdue else no,
            ]

    return stream(
        _("工单"),
        headers,
        rows(),
        _("工单_{date}.xlsx").format(date=f"{timezone.localdate():%Y%m%d}"),
        widths=[20, 14, 8, 8, 14, 8, 8, 12, 14, 40, 10, 10, 10, 17, 17, 8],
    )


# --- intake -------------------------------------------------------------------------------


@staff_view
def intake(request: HttpRequest, me: Staff) -> HttpResponse:
    """业务受理: find or pick the customer, then take the ticket in one form."""
    if not can(me.role, "tickets.intake"):
        raise PermissionDenied(_("您没有受理工单的权限"))
    sites = list(Site.objects.filter(id__in=site_ids_for(me)).order_by("id"))
    errors: dict[str, list[str]] = {}
    data: dict[str, Any] = {
        "kind": request.GET.get("kind", Kind.REPAIR),
        "channel": Channel.PHONE,
        "urgency": Urgency.LOW,
        "auto_dispatch": True,
    }
    customer = None
    if request.GET.get("customer"):
        customer = customers_for(me).filter(pk=_int0(request.GET["customer"])).first()
    if request.method == "POST":
        form = IntakeForm(request.POST)
        data = dict(request.POST.dict())
        data["auto_dispatch"] = "auto_dispatch" in request.POST
        if form.is_valid():
            try:
                ticket = _create_from_form(me, form.cleaned_data, request)
            except DomainError as exc:
                errors = exc.fields or {"__all__": [exc.message]}
            else:
                messages.success(request, _created_message(ticket))
                return redirect("tickets:detail", pk=ticket.pk)
        else:
            errors = {k: [str(e) for e in v] for k, v in form.errors.items()}
        if data.get("customer"):
            customer = customers_for(me).filter(pk=_int0(data["customer"])).first()
    default_site = (
        (customer.site_id if customer else None) or request.session.get("site_id") or (sites[0].id if sites else None)
    )
    data.setdefault("site", default_site)
    context = {
        "page_title": _("业务受理"),
        "sites": sites,
        "kinds": Kind.choices,
        "channels": Channel.choices,
        "urgencies": Urgency.choices,
        "categories": categories_for(),
        "customer": customer,
        "customer_units": list(customer.unit_links.select_related("unit")) if customer else [],
        "data": data,
        "errors": errors,
        "first_error": next(iter(errors.values()))[0] if errors else "",
    }
    return render(request, "tickets/intake.html", context, status=422 if errors else 200)


def _create_from_form(me: Staff, cd: dict[str, Any], request: HttpRequest) -> Ticket:
    site = Site.objects.filter(pk=cd["site"], id__in=site_ids_for(me)).first()
    if site is None:
        raise DomainError(_("请选择项目"), field="site")
    category = Category.objects.filter(pk=cd["category"]).first() if cd.get("category") else None
    customer = customer_with_units(me, cd["customer"]) if cd.get("customer") else None
    unit = unit_for(me, cd["unit"], customer=customer) if cd.get("unit") else None
    if cd.get("category") and category is None:
        raise DomainError(_("分类不存在"), field="category")
    if cd.get("customer") and customer is None:
        raise DomainError(_("客户不存在"), field="customer")
    if cd.get("unit") and unit is None:
        raise DomainError(_("房屋不存在"), field="unit")
    if customer is None and cd.get("new_customer"):
        return services.ticket_create_with_new_customer(
            site=site,
            actor=me,
            contact_name=cd.get("contact_name") or "",
            contact_phone=cd.get("contact_phone") or "",
            room=cd.get("room") or "",
            kind=cd["kind"],
            channel=cd["channel"],
            urgency=cd["urgency"],
            category=category,
            content=cd["content"],
            auto_dispatch=bool(cd.get("auto_dispatch")),
            major=bool(cd.get("major")),
            photos=request.FILES.getlist("photos"),
        )
    return services.ticket_create(
        site=site,
        kind=cd["kind"],
        channel=cd["channel"],
        urgency=cd["urgency"],
        category=category,
        customer=customer,
        unit=unit,
        contact_name=cd.get("contact_name") or "",
        contact_phone=cd.get("contact_phone") or "",
        content=cd["content"],
        answer=cd.get("answer") or "",
        auto_dispatch=bool(cd.get("auto_dispatch")),
        major=bool(cd.get("major")),
        photos=request.FILES.getlist("photos"),
        actor=me,
    )


def _created_message(ticket: Ticket) -> str:
    if ticket.status == Status.CLOSED:
        return _("受理成功：{number} 已当场答复办结").format(number=ticket.number)
    if ticket.status == Status.DISPATCHED:
        who = ticket.assignee.name if ticket.assignee else (ticket.department.name if ticket.department else "")
        return _("受理成功：{number} 已自动派单给 {who}").format(number=ticket.number, who=who)
    return _("受理成功：{number}").format(number=ticket.number)


@staff_view
def intake_lookup(request: HttpRequest, me: Staff) -> HttpResponse:
    """The intake search box: phone, last four digits, room (1-2-301), name or ticket number."""
    q = (request.GET.get("q") or "").strip()
    customers: list[Customer] = []
    tickets: list[Ticket] = []
    if len(q) >= 2:
        base = customers_for(me).filter(site_id__in=current_site_ids(request, me))
        customers = list(customer_columns(search_customers(base, {"q": q})).order_by("id")[:10])
        tickets = list(with_list_columns(numbered(scoped(request, me), q))[:5])
        open_by_customer: dict[int, list[Ticket]] = {}
        if customers:
            for t in scoped(request, me).open().filter(customer__in=customers).order_by("-created_at")[:50]:
                open_by_customer.setdefault(t.customer_id or 0, []).append(t)
        for c in customers:
            c.open_tickets = open_by_customer.get(c.id, [])  # type: ignore[attr-defined]
    return render(request, "tickets/intake.html#lookup", {"customers": customers, "tickets": tickets, "q": q})


# --- detail and actions -------------------------------------------------------------------


def _detail_context(me: Staff, ticket: Ticket) -> dict[str, Any]:
    actions = allowed_actions(me, ticket)
    events = list(ticket.events.select_related("actor").prefetch_related("attachments"))
    assignees = (
        Staff.objects.filter(
            is_active=True,
            sites=ticket.site_id,
            role__in=[Role.TECHNICIAN, Role.DEPT_STAFF, Role.AGENT, Role.SUPERVISOR],
        )
        .select_related("department")
        .order_by("department_id", "id")
    )
    complaint: dict[str, Any] = {}
    bar = actions
    if ticket.kind == Kind.COMPLAINT:
        complaint = complaint_context(me, ticket, actions)
        bar = [a for a in actions if a not in STEP_ACTIONS]
    return {
        **complaint,
        "page_title": _("工单详情 {number}").format(number=ticket.number),
        "t": ticket,
        "actions": actions,
        "action_specs": {code: ACTIONS[code] for code in bar},
        "events": events,
        "assignments": list(
            ticket.assignments.select_related("from_department", "from_assignee", "to_department", "to_assignee", "by")
        ),
        "attachments": list(ticket.attachments.all()),
        "departments": departments(),
        "assignees": assignees,
        "now": timezone.now(),
        "can_note": me.role not in (Role.ADMIN,),
        "confirm_methods": services.CONFIRM_METHODS,
        "cards": list(ticket.warning_cards.select_related("staff", "issued_by", "revoked_by").order_by("issued_at")),
        "handovers": list(ticket.handovers.select_related("from_staff", "to_staff", "by")),
        "followups": list(ticket.followups.order_by("id")),
        "can_hand_over": (me.id == ticket.first_responder_id or me.role in SUPERVISING_ROLES)
        and ticket.status not in ENDED,
        "handover_candidates": handover_candidates(ticket) if ticket.status not in ENDED else [],
        "can_revoke": me.role in REVOKE_ROLES,
        "can_serious": me.role in SUPERVISING_ROLES and ticket.status not in ENDED,
        "see_phone": can(me.role, "customers.see_phone"),
    }


@staff_view
def ticket_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    ticket = ticket_get_for_user(staff=me, pk=pk)
    return render(request, "tickets/detail.html", _detail_context(me, ticket))


@staff_view
def attachment(request: HttpRequest, me: Staff, pk: int, attachment_id: int) -> FileResponse:
    ticket = ticket_get_for_user(staff=me, pk=pk)
    item = Attachment.objects.filter(pk=attachment_id, ticket=ticket).first()
    if item is None:
        raise Http404(_("附件不存在"))
    return FileResponse(item.file.open("rb"), filename=f"{ticket.number}-{item.id}.{item.extension}")


def _version(request: HttpRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        raise Conflict(services.CONFLICT_MESSAGE) from None


def _done(request: HttpRequest, ticket: Ticket, text: str, *, mobile: bool = False) -> HttpResponse:
    messages.success(request, text)
    if mobile or request.POST.get("from") == "mobile":
        return redirect("tickets:mobile_detail", pk=ticket.pk)
    return redirect("tickets:detail", pk=ticket.pk)


def _failed(request: HttpRequest, me: Staff, ticket: Ticket, exc: DomainError) -> HttpResponse:
    """Show the refusal on the page the user came from; nothing was changed."""
    failed = _("操作失败")
    messages.error(
        request,
        exc.message if exc.message.startswith(failed) else _("操作失败：{message}").format(message=exc.message),
    )
    fresh = ticket_get_for_user(staff=me, pk=ticket.pk)
    status = exc.status_code if exc.status_code in (409, 422, 403) else 400
    if request.POST.get("from") == "mobile":
        return render(request, "tickets/mobile_detail.html", _detail_context(me, fresh), status=status)
    return render(request, "tickets/detail.html", _detail_context(me, fresh), status=status)


@staff_view
@require_POST
def ticket_action(request: HttpRequest, me: Staff, pk: int, action: str) -> HttpResponse:
    """One URL per action (tickets/<id>/<action>/), all through the same services."""
    ticket = ticket_get_for_user(staff=me, pk=pk)
    post = request.POST
    try:
        version = _version(request)
        if action in COMPLAINT_VIEW_ACTIONS or (action == "reject" and ticket.kind == Kind.COMPLAINT):
            return _done(request, ticket, complaint_step(me, ticket, action, version, post, request.FILES))
        if action in ("dispatch", "transfer"):
            department = department_by_id(_int0(post.get("department")))
            assignee = Staff.objects.filter(pk=_int0(post.get("assignee"))).first()
            if action == "dispatch":
                services.ticket_dispatch(
                    ticket=ticket,
                    actor=me,
                    version=version,
                    department=department,
                    assignee=assignee,
                    reason=post.get("reason", ""),
                )
            else:
                services.ticket_transfer(
                    ticket=ticket,
                    actor=me,
                    version=version,
                    department=department,
                    assignee=assignee,
                    reason=post.get("reason", ""),
                )
            who = ticket.assignee.name if ticket.assignee else (ticket.department.name if ticket.department else "")
            return _done(request, ticket, _("{action}成功：已交给 {who}").format(action=ACTIONS[action].label, who=who))
        if action == "complete":
            form = CompleteForm(post)
            cd = form.cleaned_data if form.is_valid() else {}
            if not form.is_valid():
                raise DomainError(_("填写内容过长或格式不正确"))
            services.ticket_complete(
                ticket=ticket,
                actor=me,
                version=version,
                note=cd.get("note", ""),
                work_notes=cd.get("work_notes", ""),
                materials=cd.get("materials", ""),
                work_hours=cd.get("work_hours"),
                is_paid=cd.get("is_paid", False),
                fee=cd.get("fee"),
                photos=request.FILES.getlist("photos"),
            )
        elif action == "confirm":
            services.ticket_confirm(
                ticket=ticket,
                actor=me,
                version=version,
                confirmed_by=post.get("confirmed_by", ""),
                method=post.get("method", ""),
                note=post.get("note", ""),
                at=parse_local(post.get("at"), "at"),
            )
        elif action in ACTIONS:
            services.ticket_transition(
                ticket=ticket, action=action, actor=me, version=version, note=post.get("note", "")
            )
        else:
            raise Http404(_("不支持的操作"))
    except DomainError as exc:
        return _failed(request, me, ticket, exc)
    return _done(request, ticket, _("{action}成功").format(action=ACTIONS[action].label))


@staff_view
@require_POST
def ticket_note(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    ticket = ticket_get_for_user(staff=me, pk=pk)
    public = request.POST.get("public") == "1"
    try:
        services.ticket_add_note(ticket=ticket, actor=me, text=request.POST.get("text", ""), public=public)
    except DomainError as exc:
        return _failed(request, me, ticket, exc)
    return _done(request, ticket, _("已答复客户") if public else _("备注已保存"))


@staff_view
def assignee_options(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    """The 处理人 choices of a department at the ticket's site, for the dispatch dialog."""
    ticket = ticket_get_for_user(staff=me, pk=pk)
    staff = Staff.objects.filter(
        is_active=True,
        sites=ticket.site_id,
        # The dispatch dialogs send ``department``; the complaint investigation form its own name.
        department_id=_int0(request.GET.get("department") or request.GET.get("responsible_department")),
    )
    return render(request, "tickets/detail.html#assignee-options", {"assignees": staff.order_by("id")[:200]})


# --- phone page for technicians and department staff --------------------------------------


@staff_view
def mobile(request: HttpRequest, me: Staff) -> HttpResponse:
    tab = request.GET.get("tab", "todo")
    qs = tickets_for(me)
    if tab == "done":
        qs = qs.filter(Q(assignee=me), status__in=[Status.PENDING_CONFIRM, Status.RESOLVED, Status.CLOSED])
        qs = qs.order_by("-completed_at", "-id")
    else:
        qs = my_work(qs, me).exclude(status=Status.PENDING_CONFIRM).order_by("resolve_due", "id")
    tickets = list(qs.select_related("site", "category", "unit", "customer")[:50])
    return render(request, "tickets/mobile.html", {"tickets": tickets, "tab": tab, "now": timezone.now()})


@staff_view
def mobile_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    ticket = ticket_get_for_user(staff=me, pk=pk)
    return render(request, "tickets/mobile_detail.html", _detail_context(me, ticket))


# --- categories ---------------------------------------------------------------------------


@staff_view
def category_tree(request: HttpRequest, me: Staff) -> HttpResponse:
    if not can(me.role, "settings.edit"):
        raise PermissionDenied(_("您没有查看系统设置的权限"))
    nodes = list(Category.objects.select_related("department", "skill", "parent").order_by("sort", "id"))
    children: dict[int | None, list[Category]] = {}
    for node in nodes:
        children.setdefault(node.parent_id, []).append(node)
    rows: list[tuple[int, Category]] = []

    def walk(parent: int | None, depth: int) -> None:
        for node in children.get(parent, []):
            rows.append((depth, node))
            walk(node.id, depth + 1)

    walk(None, 0)
    kinds = dict(Kind.choices)
    return render(request, "tickets/categories.html", {"page_title": _("报事分类"), "rows": rows, "kinds": kinds})


def _int0(value: Any) -> int:
    """An id from user input; 0 (which matches nothing) when it is not a number."""
    return _int(value) or 0


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None

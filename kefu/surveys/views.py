"""Survey pages: templates, batches, the batch page with its figures and links, paper entry,
the results summary (with Excel and print), and the customer's phone page behind a link."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from kefu.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from kefu.core.excel import download, workbook
from kefu.core.web import paginate, parse_date
from kefu.customers.models import CustomerPhone, Tag
from kefu.org.models import Staff
from kefu.org.permissions import can
from kefu.org.queries import sites_for
from kefu.org.web import current_site_ids, staff_view

from . import services
from .models import Answer, Batch, Invitation, Item, Questionnaire, Response
from .queries import (
    Figures,
    batch_figures,
    batch_get_for_user,
    batches_for,
    has_responses,
    invitation_get,
    item_figures,
    questionnaire_get_for_user,
    questionnaires_for,
    summary,
)

# Customer links: at most this many submissions (and unknown tokens) per address and window.
RATE_LIMIT = 30
RATE_WINDOW = 10 * 60


def _require(me: Staff, capability: str) -> None:
    if not can(me.role, capability):
        if capability == "surveys.enter":
            raise NotFound(_("页面不存在"))
        raise PermissionDenied(_("只有客服主管及以上可以管理问卷与发放"))


def _int(value: str | None, default: int) -> int:
    """A small number from a form; blank → ``default``; anything else → -1 (refused later)."""
    text = (value or "").strip()
    if not text:
        return default
    return int(text) if re.fullmatch(r"[0-9]{1,2}", text) else -1


def _posted_answers(request: HttpRequest, items: list[Item]) -> dict[int, list[str]]:
    return {item.position: request.POST.getlist(f"q{item.position}") for item in items}


# --- templates ------------------------------------------------------------------------------


@staff_view
def template_list(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "surveys.enter")
    qs = questionnaires_for(me).annotate(
        n_items=Count("items", distinct=True), n_batches=Count("batches", distinct=True)
    )
    page = paginate(request, qs.order_by("-id"))
    return render(
        request,
        "surveys/templates.html",
        {"page_title": _("问卷模板"), "page": page, "rows": page.object_list, "manage": can(me.role, "surveys.manage")},
    )


def _template_form(request: HttpRequest, me: Staff, questionnaire: Questionnaire | None) -> HttpResponse:
    locked = questionnaire is not None and has_responses(questionnaire)
    form: dict[str, Any] = {
        "title": questionnaire.title if questionnaire else "",
        "intro": questionnaire.intro if questionnaire else "",
        "items": services.items_as_text(questionnaire) if questionnaire else "",
        "satisfied_min_score": questionnaire.satisfied_min_score if questionnaire else 4,
        "followup_max_score": questionnaire.followup_max_score if questionnaire else 2,
    }
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        _require(me, "surveys.manage")
        form = {k: request.POST.get(k, "") for k in form}
        try:
            items = services.parse_items(form["items"])
            params: dict[str, Any] = {
                "title": form["title"],
                "intro": form["intro"],
                "items": items,
                "actor": me,
                "satisfied_min_score": _int(form["satisfied_min_score"], 4),
                "followup_max_score": _int(form["followup_max_score"], 2),
            }
            if questionnaire is None:
                saved = services.questionnaire_create(**params)
            else:
                saved = services.questionnaire_update(questionnaire=questionnaire, **params)
        except DomainError as exc:
            errors = exc.fields or {"form": [exc.message]}
            messages.error(request, _("保存失败：{message}").format(message=exc.message))
            status = exc.status_code if exc.status_code in (403, 409, 422) else 400
        else:
            messages.success(request, _("问卷模板已保存"))
            return redirect("surveys:template", pk=saved.pk)
    shown = list(questionnaire.items.select_related("department").order_by("position")) if questionnaire else []
    return render(
        request,
        "surveys/template_form.html",
        {
            "page_title": questionnaire.title if questionnaire else _("新建问卷模板"),
            "q": questionnaire,
            "items": shown,
            "form": form,
            "errors": errors,
            "locked": locked,
            "manage": can(me.role, "surveys.manage"),
            "scores": [5, 4, 3, 2, 1],
        },
        status=status,
    )


@staff_view
@require_http_methods(["GET", "POST"])
def template_new(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "surveys.manage")
    return _template_form(request, me, None)


@staff_view
@require_http_methods(["GET", "POST"])
def template_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    _require(me, "surveys.enter")
    return _template_form(request, me, questionnaire_get_for_user(staff=me, pk=pk))


@staff_view
@require_POST
def template_copy(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    _require(me, "surveys.manage")
    copy = services.questionnaire_copy(questionnaire=questionnaire_get_for_user(staff=me, pk=pk), actor=me)
    messages.success(request, _("已复制为新模板，可以修改题目"))
    return redirect("surveys:template", pk=copy.pk)


@staff_view
@require_POST
def template_active(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    questionnaire = questionnaire_get_for_user(staff=me, pk=pk)
    active = request.POST.get("active") == "1"
    services.questionnaire_set_active(questionnaire=questionnaire, active=active, actor=me)
    messages.success(request, _("问卷模板已启用") if active else _("问卷模板已停用，不能再用于新的发放"))
    return redirect("surveys:template", pk=questionnaire.pk)


# --- batches --------------------------------------------------------------------------------


@staff_view
def batch_list(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "surveys.enter")
    qs = (
        batches_for(me)
        .filter(site_id__in=current_site_ids(request, me))
        .select_related("site", "questionnaire")
        .annotate(collected=Count("responses"))
        .order_by("-starts_on", "-id")
    )
    page = paginate(request, qs)
    return render(
        request,
        "surveys/batches.html",
        {
            "page_title": _("满意度调查"),
            "page": page,
            "rows": page.object_list,
            "manage": can(me.role, "surveys.manage"),
        },
    )


def _customer_ids_from_phones(text: str, site_id: int) -> list[int]:
    numbers = sorted({n.strip() for n in re.split(r"[\s,，;；]+", text or "") if n.strip()})
    if not numbers:
        return []
    if len(numbers) > services.MAX_BATCH:
        raise ValidationFailed(_("一次最多发放 {n} 位客户").format(n=services.MAX_BATCH), field="customers")
    found = dict(
        CustomerPhone.objects.filter(number__in=numbers, customer__site_id=site_id).values_list("number", "customer_id")
    )
    missing = [n for n in numbers if n not in found]
    if missing:
        shown = "、".join(n[:20] for n in missing[:5])
        raise ValidationFailed(_("以下电话在该项目查不到客户：{numbers}").format(numbers=shown), field="customers")
    return sorted(set(found.values()))


@staff_view
@require_http_methods(["GET", "POST"])
def batch_new(request: HttpRequest, me: Staff) -> HttpResponse:
    _require(me, "surveys.manage")
    sites = list(sites_for(me))
    templates = list(Questionnaire.objects.filter(is_active=True).order_by("-id")[:200])
    tags = list(Tag.objects.order_by("id")[:200])
    today = timezone.localdate()
    keys = ("questionnaire", "site", "name", "starts_on", "ends_on", "target", "buildings", "tag", "phones")
    form: dict[str, str] = dict.fromkeys(keys, "")
    form.update({"starts_on": today.isoformat(), "target": "building"})
    errors: dict[str, list[str]] = {}
    status = 200
    if request.method == "POST":
        form = {k: request.POST.get(k, "") for k in keys}
        try:
            questionnaire = next((q for q in templates if str(q.pk) == form["questionnaire"]), None)
            site = next((s for s in sites if str(s.pk) == form["site"]), None)
            problems: dict[str, list[str]] = {}
            if questionnaire is None:
                problems["questionnaire"] = [_("请选择问卷模板")]
            if site is None:
                problems["site"] = [_("请选择项目")]
            starts_on, ends_on = parse_date(form["starts_on"]), parse_date(form["ends_on"])
            if starts_on is None:
                problems["starts_on"] = [_("请填写正确的开始日期")]
            if ends_on is None:
                problems["ends_on"] = [_("请填写正确的结束日期")]
            if problems:
                raise ValidationFailed(next(iter(problems.values()))[0], fields=problems)
            assert questionnaire is not None and site is not None and starts_on and ends_on
            customer_ids = _customer_ids_from_phones(form["phones"], site.pk) if form["target"] == "customers" else []
            batch = services.batch_create(
                questionnaire=questionnaire,
                site=site,
                name=form["name"],
                starts_on=starts_on,
                ends_on=ends_on,
                target=form["target"],
                buildings=re.split(r"[\s,，、;；]+", form["buildings"]),
                tag=next((t for t in tags if str(t.pk) == form["tag"]), None),
                customer_ids=customer_ids,
                actor=me,
            )
        except DomainError as exc:
            errors = exc.fields or {"form": [exc.message]}
            messages.error(request, _("发放失败：{message}").format(message=exc.message))
            status = exc.status_code if exc.status_code in (403, 409, 422) else 400
        else:
            messages.success(request, _("已发放 {n} 份问卷").format(n=batch.handed_out))
            return redirect("surveys:batch", pk=batch.pk)
    return render(
        request,
        "surveys/batch_form.html",
        {
            "page_title": _("发放问卷"),
            "form": form,
            "errors": errors,
            "sites": sites,
            "templates": templates,
            "tags": tags,
            "targets": Batch.Target.choices,
        },
        status=status,
    )


@staff_view
def batch_detail(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    _require(me, "surveys.enter")
    batch = batch_get_for_user(staff=me, pk=pk)
    invitations = (
        Invitation.objects.filter(batch=batch).select_related("customer", "response__entered_by").order_by("id")
    )
    page = paginate(request, invitations, default_size=50)
    followups = list(
        Answer.objects.filter(response__batch=batch, followup_ticket__isnull=False)
        .select_related("item", "followup_ticket", "response__customer")
        .order_by("response__submitted_at", "item__position")[:200]
    )
    supervising = can(me.role, "surveys.manage")
    base = request.build_absolute_uri("/")[:-1]
    return render(
        request,
        "surveys/batch_detail.html",
        {
            "page_title": batch.name,
            "b": batch,
            "figures": batch_figures(batch),
            "items": item_figures(batch),
            "page": page,
            "rows": [
                {
                    "inv": inv,
                    "link": base + reverse("surveys:answer", args=[inv.token]) if supervising else "",
                    "expired": inv.used_at is None and inv.expires_at <= timezone.now(),
                }
                for inv in page.object_list
            ],
            "followups": followups,
            "supervising": supervising,
            "formula": batch.questionnaire.formula,
        },
    )


def _entry_context(batch: Batch, invitation: Invitation, items: list[Item], **extra: Any) -> dict[str, Any]:
    return {
        "page_title": _("录入纸质问卷 · {name}").format(name=invitation.customer.name),
        "b": batch,
        "inv": invitation,
        "q": batch.questionnaire,
        "items": items,
        "posted": {},
        "errors": {},
        **extra,
    }


@staff_view
@require_http_methods(["GET", "POST"])
def entry(request: HttpRequest, me: Staff, pk: int, invitation_pk: int) -> HttpResponse:
    """Type in a paper form for one customer of the batch; blanks are allowed."""
    _require(me, "surveys.enter")
    batch = batch_get_for_user(staff=me, pk=pk)
    invitation = invitation_get(batch=batch, pk=invitation_pk)
    items = list(batch.questionnaire.items.order_by("position"))
    if request.method == "POST":
        posted = _posted_answers(request, items)
        try:
            services.response_submit(invitation=invitation, answers=posted, channel=Response.Channel.PAPER, actor=me)
        except DomainError as exc:
            messages.error(request, _("录入失败：{message}").format(message=exc.message))
            status = exc.status_code if exc.status_code in (403, 409, 422) else 400
            context = _entry_context(batch, invitation, items, posted=posted, errors=exc.fields)
            return render(request, "surveys/entry.html", context, status=status)
        messages.success(request, _("答卷已录入"))
        return redirect("surveys:batch", pk=batch.pk)
    return render(request, "surveys/entry.html", _entry_context(batch, invitation, items))


# --- summary --------------------------------------------------------------------------------

TABLES = (
    ("batch", gettext_lazy("按批次")),
    ("site", gettext_lazy("按项目")),
    ("department", gettext_lazy("按部门")),
    ("month", gettext_lazy("按月份")),
    ("item", gettext_lazy("按题目")),
)


def summary_charts(tables: dict[str, list[Figures]]) -> dict[str, Any]:
    """What the summary's ECharts draw: the satisfaction trend by month (with the number of
    valid answers behind each point) and the satisfaction rate of each item and department."""

    def rated(rows: list[Figures]) -> list[Figures]:
        return [f for f in rows if f.satisfaction_rate is not None]

    months, items, departments = rated(tables["month"]), rated(tables["item"]), rated(tables["department"])
    return {
        "months": [f.label for f in months],
        "month_rate": [f.satisfaction_rate for f in months],
        "month_valid": [f.valid for f in months],
        # "问卷 · 1. 题目" → "1. 题目": the bars are narrow; the table keeps the questionnaire.
        "items": [f.label.rsplit(" · ", 1)[-1] for f in items],
        "item_rate": [f.satisfaction_rate for f in items],
        "departments": [f.label for f in departments],
        "department_rate": [f.satisfaction_rate for f in departments],
        "labels": {"rate": str(_("满意率(%)")), "valid": str(_("有效答题"))},
    }


@staff_view
def summary_view(request: HttpRequest, me: Staff) -> HttpResponse:
    """结果汇总表: per batch, site, department, month and item, with Excel and print."""
    _require(me, "surveys.enter")
    start, end = parse_date(request.GET.get("start")), parse_date(request.GET.get("end"))
    tables = summary(site_ids=current_site_ids(request, me), start=start, end=end)
    if request.GET.get("export") == "xlsx":
        headers = ["分组", "名称", "发放数", "回收数", "回收率%", "有效答题", "满意答题", "满意率%", "加权平均分"]
        rows = [
            [
                str(label),
                f.label,
                f.handed_out,
                f.collected,
                f.response_rate,
                f.valid,
                f.satisfied,
                f.satisfaction_rate,
                f.weighted_score,
            ]
            for key, label in TABLES
            for f in tables[key]
        ]
        content = workbook("满意度调查结果汇总表", headers, rows, widths=[10, 40, 10, 10, 10, 10, 10, 10, 12])
        return download(content, f"满意度调查结果汇总表-{timezone.localdate():%Y%m%d}.xlsx")
    template = "surveys/summary_print.html" if request.GET.get("print") == "1" else "surveys/summary.html"
    return render(
        request,
        template,
        {
            "page_title": _("满意度调查结果汇总表"),
            "tables": [(key, label, tables[key]) for key, label in TABLES],
            "start": start,
            "end": end,
            "formula": _("满意率 = 计为满意的答题数 / 该题有效答卷数（各问卷按其设置，默认 满意+较满意）"),
            "charts": summary_charts(tables),
            "company": settings.KEFU_COMPANY_NAME,
            "now": timezone.now(),
        },
    )


# --- the customer's page --------------------------------------------------------------------


def _client_ip(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))[:64]


def _over_limit(request: HttpRequest) -> bool:
    """Count one hit for this address; True once it passed the limit in the window."""
    key = f"surveys:link:{_client_ip(request)}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, RATE_WINDOW)
        hits = 1
    return hits > RATE_LIMIT


def _gone(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "surveys/public_message.html", {"message": message, "title": _("满意度调查")}, status=status)


@require_http_methods(["GET", "POST"])
def answer(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's questionnaire: no login, one submission, then thanks."""
    if request.method == "POST" and _over_limit(request):
        return _gone(request, _("提交过于频繁，请稍后再试"), 429)
    try:
        invitation = services.invitation_for_token(token)
    except services.LinkGone as exc:
        return _gone(request, exc.message, 410)
    except NotFound:
        if request.method == "GET" and _over_limit(request):
            return _gone(request, _("访问过于频繁，请稍后再试"), 429)
        return _gone(request, _("链接无效或已失效，如有疑问请联系物业服务中心"), 404)
    batch = invitation.batch
    items = list(batch.questionnaire.items.order_by("position"))
    context: dict[str, Any] = {"b": batch, "q": batch.questionnaire, "items": items, "posted": {}, "errors": {}}
    if request.method == "POST":
        posted = _posted_answers(request, items)
        try:
            services.response_submit(invitation=invitation, answers=posted, channel=Response.Channel.LINK)
        except services.LinkGone as exc:
            return _gone(request, exc.message, 410)
        except DomainError as exc:
            if exc.status_code == 409:
                return _gone(request, _("该问卷已提交，感谢您的参与"), 410)
            context.update(posted=posted, errors=exc.fields, message=exc.message)
            return render(request, "surveys/public_form.html", context, status=422)
        return render(request, "surveys/public_message.html", {"title": _("提交成功"), "thanks": True, "b": batch})
    return render(request, "surveys/public_form.html", context)

"""The customer's confirmation page (no login) and the staff action that makes its link."""

from __future__ import annotations

from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.errors import DomainError, NotFound
from kefu.org.models import Staff
from kefu.org.web import staff_view

from ..queries import ticket_get_for_user
from ..services.confirm_link import LinkGone, confirm_link_get, confirm_link_issue, ticket_confirm_by_customer

# Guessing tokens is hopeless (192 bits), but a page open to the world still gets a limit.
RATE_LIMIT, RATE_WINDOW = 30, 600


@staff_view
@require_POST
def confirm_link_new(request: HttpRequest, me: Staff, pk: int) -> HttpResponse:
    ticket = ticket_get_for_user(staff=me, pk=pk)
    try:
        token = confirm_link_issue(ticket=ticket, actor=me)
    except DomainError as exc:
        messages.error(request, _("操作失败：{message}").format(message=exc.message))
    else:
        url = request.build_absolute_uri(reverse("confirm_link", args=[token]))
        messages.success(request, _("确认链接（7 天内有效，只显示这一次，请发给客户）：{url}").format(url=url))
    return redirect("tickets:detail", pk=ticket.pk)


def _limited(request: HttpRequest) -> bool:
    key = f"confirm-link:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, RATE_WINDOW)
    try:
        count = cache.incr(key)
    except ValueError:
        cache.set(key, 1, RATE_WINDOW)
        count = 1
    return count > RATE_LIMIT


def customer_confirm(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: what was done, confirm or not solved, 1–5 stars and a comment."""
    if _limited(request):
        return render(request, "tickets/confirm_link.html", {"gone": _("访问过于频繁，请稍后再试")}, status=429)
    try:
        link = confirm_link_get(token)
    except LinkGone as exc:
        return render(request, "tickets/confirm_link.html", {"gone": exc.message}, status=410)
    except NotFound:
        return render(request, "tickets/confirm_link.html", {"gone": _("链接无效，如有疑问请联系服务中心")}, status=404)
    ticket = link.ticket
    context = {"t": ticket, "stars": range(5, 0, -1), "form": {}, "errors": {}}
    if request.method == "POST":
        post = request.POST
        try:
            ticket_confirm_by_customer(
                token=token,
                solved=post.get("solved") != "0",
                rating=post.get("rating"),
                comment=post.get("comment", ""),
            )
        except LinkGone as exc:
            return render(request, "tickets/confirm_link.html", {"gone": exc.message}, status=410)
        except DomainError as exc:
            context.update(form=post, errors=exc.fields or {"": [exc.message]})
            return render(request, "tickets/confirm_link.html", context, status=422)
        return render(request, "tickets/confirm_link.html", {"thanks": True})
    return render(request, "tickets/confirm_link.html", context)

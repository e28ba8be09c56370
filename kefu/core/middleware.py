"""Request guards shared by the web UI and the API."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _


class RejectNulMiddleware:
    """Refuse any query or form value containing a NUL character.

    PostgreSQL cannot store NUL in text, so such a value would otherwise fail deep inside a
    write with a 500. Here it gets a clear 400 before any view runs.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        api = request.path.startswith("/api/")
        values = [*request.GET.values(), request.path]
        # The API parses and checks its own bodies (JSON or form); the web UI's forms are
        # checked here. A body that cannot be parsed at all is refused the same way.
        if request.method == "POST" and not api:
            try:
                values.extend(v for v in request.POST.values() if isinstance(v, str))
            except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, UnicodeDecodeError):
                return HttpResponseBadRequest(_("提交的内容无法解析"), content_type="text/plain; charset=utf-8")
        if any("\x00" in value for value in values):
            message = _("提交的内容包含非法字符")
            if api:
                return JsonResponse({"detail": message, "errors": {}}, status=400)
            return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

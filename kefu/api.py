"""The REST API under /api/v1/: one NinjaAPI, with a router per app (``<app>/api.py``).

Every error answer has the same JSON shape, ``{"detail": <Chinese sentence>, "errors":
{field: [messages]}}``, whatever raised it: a domain rule, input validation, a bad token, an
unknown URL or a body that is not JSON. Authentication is a bearer token (``POST
/auth/token``); the documentation page works offline from the Swagger UI files that ship
inside the ninja package.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Any

import ninja
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.urls import URLPattern, URLResolver, path, re_path, reverse
from django.utils import timezone
from django.utils.html import escape
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from ninja.openapi.docs import DocsBase
from ninja.renderers import JSONRenderer
from ninja.security import HttpBearer

from kefu.appraisal.api import router as appraisal_router
from kefu.core.errors import DomainError
from kefu.customers.api import router as customers_router
from kefu.notify.api import router as notify_router
from kefu.org.api import router as org_router
from kefu.org.models import ApiToken, Staff
from kefu.org.queries import token_holder
from kefu.org.services import token_digest
from kefu.reports.api import router as reports_router
from kefu.surveys.api import router as surveys_router
from kefu.tickets.api import router as tickets_router
from kefu.tickets.api_complaints import router as complaints_router
from kefu.tickets.api_first_response import router as first_response_router
from kefu.tickets.api_policies import router as policies_router
from kefu.tickets.api_warnings import router as warnings_router
from kefu.visits.api import router as visits_router

logger = logging.getLogger(__name__)

# A token used again within this interval does not rewrite last_used_at: reads stay reads.
LAST_USED_GRANULARITY = timedelta(minutes=1)


class TokenAuth(HttpBearer):
    """``Authorization: Bearer <token>``. Only the token's SHA-256 is stored, so a leaked
    database does not leak working tokens. The caller is the token's Staff."""

    def authenticate(self, request: HttpRequest, token: str) -> Staff | None:
        token = token.strip()
        if not token or len(token) > 200:
            return None
        found = token_holder(token_digest(token))
        now = timezone.now()
        if found is None or found.token.expires_at <= now:
            return None
        api_token = found.token
        if not found.holder.is_active or not found.holder.user.is_active:
            return None
        if api_token.last_used_at is None or now - api_token.last_used_at >= LAST_USED_GRANULARITY:
            # The kept row is shared: two threads may both write the minute; either is right.
            ApiToken.objects.filter(pk=api_token.pk).update(last_used_at=now)
            api_token.last_used_at = now
        staff = found.staff()
        request.api_token = api_token  # type: ignore[attr-defined]
        request.user = staff.user
        return staff


class Utf8JSONRenderer(JSONRenderer):
    """JSON with Chinese as characters, not \\u escapes."""

    json_dumps_params = {"ensure_ascii": False}


# --- documentation without a CDN ----------------------------------------------------------

# ninja renders its CDN template unless "ninja" is in INSTALLED_APPS; these files ship in
# the package, so the docs page serves them itself and needs no network and no collectstatic.
_NINJA_STATIC = Path(ninja.__file__).parent / "static" / "ninja"
DOCS_ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-init.js", "favicon.png", "favicon.svg"})

_SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{css}">
<link rel="icon" href="{favicon}" type="image/png">
</head>
<body data-csrf-token="" data-api-csrf="">
<script type="application/json" id="swagger-settings">{settings}</script>
<div id="swagger-ui"></div>
<script src="{bundle}"></script>
<script src="{init}"></script>
</body>
</html>
"""


class OfflineSwagger(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        def asset(name: str) -> str:
            return reverse(f"{api.urls_namespace}:docs-asset", kwargs={**kwargs, "name": name})

        # validatorUrl None: Swagger UI would otherwise fetch a badge from validator.swagger.io.
        settings = {
            "url": self.get_openapi_url(api, kwargs),
            "layout": "BaseLayout",
            "deepLinking": True,
            "validatorUrl": None,
        }
        html = _SWAGGER_PAGE.format(
            title=escape(api.title),
            css=asset("swagger-ui.css"),
            favicon=asset("favicon.png"),
            bundle=asset("swagger-ui-bundle.js"),
            init=asset("swagger-ui-init.js"),
            # "<" escaped so that no value can close the <script> element.
            settings=json.dumps(settings).replace("<", "\\u003c"),
        )
        return HttpResponse(html)


def docs_asset(request: HttpRequest, name: str) -> HttpResponse | FileResponse:
    if name not in DOCS_ASSETS:
        return _json(404, "资源不存在")
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse((_NINJA_STATIC / name).open("rb"), content_type=content_type)
    response["Cache-Control"] = "public, max-age=86400"
    return response


# --- the API ------------------------------------------------------------------------------


class KefuAPI(NinjaAPI):
    """NinjaAPI plus the docs assets, a JSON root and a JSON 404 for unknown URLs under
    /api/v1/ (instead of Django's HTML page)."""

    def _get_urls(self) -> list[URLResolver | URLPattern]:
        urls = [u for u in super()._get_urls() if getattr(u, "name", None) != "api-root"]
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = _json_405(url.callback)
        return [
            path("docs/assets/<str:name>", docs_asset, name="docs-asset"),
            *urls,
            path("", self._root, name="api-root"),
            re_path(r"^", _not_found),
        ]

    def _root(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        base = request.path
        body = {"name": self.title, "version": self.version, "docs": f"{base}docs", "openapi": f"{base}openapi.json"}
        return HttpResponse(json.dumps(body, ensure_ascii=False), content_type="application/json; charset=utf-8")


def _json(status: int, detail: str, errors: dict[str, list[str]] | None = None) -> HttpResponse:
    body = {"detail": detail, "errors": errors or {}}
    return HttpResponse(
        json.dumps(body, ensure_ascii=False), status=status, content_type="application/json; charset=utf-8"
    )


def _json_405(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """ninja answers an undeclared method with a plain-text 405; say it in JSON like the rest."""

    @wraps(view)  # keeps csrf_exempt and the other flags ninja set on the view
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405:
            allowed = response.get("Allow", "")
            response = _json(405, f"不支持 {request.method} 方法，可用：{allowed}")
            response["Allow"] = allowed
        return response

    return wrapper


def _not_found(request: HttpRequest) -> HttpResponse:
    return _json(404, "接口不存在，请查看 /api/v1/docs")


api = KefuAPI(
    title="Kefu 客服 API",
    version="1.0.0",
    description=(
        "客服中心管理系统接口。先用 `POST /api/v1/auth/token` 换取令牌，之后每个请求带上 "
        "`Authorization: Bearer <token>`。出错时返回 `{detail, errors}`：detail 为中文说明，"
        "errors 为各字段的错误信息。修改类操作需携带记录的 `version`，版本过期返回 409。"
    ),
    urls_namespace="api",
    auth=TokenAuth(),
    renderer=Utf8JSONRenderer(),
    docs=OfflineSwagger(),
)
api.add_router("/", org_router)
api.add_router("/", customers_router)
api.add_router("/", tickets_router)
api.add_router("/", notify_router)
api.add_router("/", complaints_router)
api.add_router("/", first_response_router)
api.add_router("/", policies_router)
api.add_router("/", warnings_router)
api.add_router("/", surveys_router)
api.add_router("/", visits_router)
api.add_router("/", reports_router)
api.add_router("/", appraisal_router)


# --- errors -------------------------------------------------------------------------------


def _respond(
    request: HttpRequest, status: int, detail: str, errors: dict[str, list[str]] | None = None
) -> HttpResponse:
    return api.create_response(request, {"detail": detail, "errors": errors or {}}, status=status)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return _respond(request, exc.status_code, exc.message, exc.fields)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _respond(request, 401, "未登录或令牌无效")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(AuthorizationError)
def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(request, 403, "没有权限执行该操作")


@api.exception_handler(DjangoPermissionDenied)
def _django_forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(request, 403, "没有权限执行该操作")


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    return _respond(request, 429, "请求过于频繁，请稍后再试")


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # ninja raises HttpError(400) for a body that is not JSON.
    messages = {400: "请求体不是有效的 JSON", 404: "资源不存在", 405: "不支持该请求方法", 413: "请求体过大"}
    return _respond(request, exc.status_code, messages.get(exc.status_code, "请求无法处理"))


@api.exception_handler(Http404)
def _not_found_error(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _respond(request, 404, "资源不存在")


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(request, 413, "请求体过大")


@api.exception_handler(SuspiciousOperation)
def _suspicious(request: HttpRequest, exc: Exception) -> HttpResponse:
    return _respond(request, 400, "请求无法处理")


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API error on %s %s", request.method, request.path, exc_info=exc)
    return _respond(request, 500, "服务器内部错误，请稍后重试")


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        errors.setdefault(field_path(error.get("loc", ())), []).append(chinese_message(error))
    return _respond(request, 422, "请求参数不正确", errors)


def field_path(loc: Any) -> str:
    """("body", "payload", "units", 0, "room") → "units.0.room"; ("query", "limit") → "limit"."""
    parts = list(loc or ())
    if parts and parts[0] in ("body", "query", "path", "header", "cookie", "form", "file"):
        source = parts.pop(0)
        # A body is read as one named parameter (``payload``), whose name the client never sees.
        if source == "body" and parts and parts[0] == "payload":
            parts.pop(0)
        if not parts:
            return source
    return ".".join(str(p) for p in parts) or "__all__"


def chinese_message(error: dict[str, Any]) -> str:
    """pydantic's error for one field, said in Chinese."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind == "value_error" and ctx.get("error"):
        return str(ctx["error"])
    if kind in ("literal_error", "enum"):
        # pydantic says "'person' or 'company'"; list the choices the Chinese way.
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        return "取值不正确，可选：" + "、".join(c or '""' for c in choices)
    if kind in _MESSAGES:
        return _MESSAGES[kind].format(**{k: _fmt(v) for k, v in ctx.items()})
    for prefix, message in _PREFIXES:
        if kind.startswith(prefix):
            return message
    return "格式不正确"


def _fmt(value: Any) -> str:
    return str(value).replace("'", "")


_MESSAGES = {
    "missing": "必填",
    "json_invalid": "请求体不是有效的 JSON",
    "extra_forbidden": "不支持的字段",
    "string_type": "应为文本",
    "string_too_long": "不能超过 {max_length} 个字符",
    "string_too_short": "至少 {min_length} 个字符",
    "string_unicode": "包含无效的字符",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing_size": "数值过大",
    "float_type": "应为数字",
    "float_parsing": "应为数字",
    "decimal_type": "应为数字",
    "decimal_parsing": "应为数字",
    "finite_number": "应为有限的数字",
    "decimal_max_digits": "数字位数过多",
    "decimal_max_places": "小数位数过多",
    "bool_type": "应为 true 或 false",
    "bool_parsing": "应为 true 或 false",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "不能小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "不能大于 {le}",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期格式应为 YYYY-MM-DD",
    "datetime_type": "时间格式不正确",
    "datetime_parsing": "时间格式不正确",
    "list_type": "应为列表",
    "too_long": "最多 {max_length} 项",
    "too_short": "至少 {min_length} 项",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
}
_PREFIXES = (("int", "应为整数"), ("date", "日期格式不正确"), ("string", "应为文本"), ("bool", "应为 true 或 false"))

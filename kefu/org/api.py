"""REST endpoints of the organisation: tokens, the caller, sites, departments, colleagues."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.core.cache import cache
from django.db.models import Q
from django.http import HttpRequest
from ninja import Query, Router, Schema

from kefu.core.api import ErrorOut, Id, Limit, Offset, Ref, Str50, Str128, Str150, page, ref
from kefu.core.errors import DomainError, PermissionDenied
from kefu.org.models import ApiToken, Role, Staff
from kefu.org.permissions import CAPABILITIES, can
from kefu.org.queries import departments, sites_for, staff_in_scope
from kefu.org.services import api_token_issue

router = Router()

# Failed logins per username + address before the endpoint refuses for a while.
LOGIN_MAX_FAILURES = 10
LOGIN_LOCK_SECONDS = 15 * 60


def me(request: HttpRequest) -> Staff:
    """The authenticated caller (set by the bearer-token auth)."""
    return request.auth  # type: ignore[attr-defined,no-any-return]


class Unauthorized(DomainError):
    status_code = 401


class TooManyAttempts(DomainError):
    status_code = 429


# --- tokens -------------------------------------------------------------------------------


class LoginIn(Schema):
    username: Str150
    password: Str128


class TokenOut(Schema):
    token: str
    expires_at: datetime


def _failure_key(request: HttpRequest, username: str) -> str:
    who = f"{username.strip().lower()}|{request.META.get('REMOTE_ADDR', '')}"
    return "kefu:api-login-failures:" + hashlib.sha256(who.encode("utf-8", "replace")).hexdigest()


@router.post(
    "/auth/token",
    auth=None,
    response={201: TokenOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    tags=["认证"],
    summary="用用户名和密码换取令牌",
)
def token_create(request: HttpRequest, payload: LoginIn) -> tuple[int, dict[str, Any]]:
    key = _failure_key(request, payload.username)
    if (cache.get(key) or 0) >= LOGIN_MAX_FAILURES:
        raise TooManyAttempts(f"登录失败次数过多，请 {LOGIN_LOCK_SECONDS // 60} 分钟后再试")
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        if not cache.add(key, 1, LOGIN_LOCK_SECONDS):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.set(key, 1, LOGIN_LOCK_SECONDS)
        raise Unauthorized("用户名或密码错误")
    cache.delete(key)
    staff = Staff.objects.filter(user=user).first()
    if staff is None:
        raise PermissionDenied("该账号没有员工档案，不能使用接口")
    if not staff.is_active:
        raise PermissionDenied("该员工已停用，不能使用接口")
    token, expires_at = api_token_issue(staff=staff)
    return 201, {"token": token, "expires_at": expires_at}


@router.delete("/auth/token", response={204: None, 401: ErrorOut}, tags=["认证"], summary="注销当前令牌")
def token_delete(request: HttpRequest) -> tuple[int, None]:
    ApiToken.objects.filter(pk=request.api_token.pk).delete()  # type: ignore[attr-defined]
    return 204, None


# --- the caller and the organisation ------------------------------------------------------


class SiteOut(Schema):
    id: int
    name: str
    code: str
    kind: str
    kind_label: str
    address: str
    phone: str


class DepartmentOut(Schema):
    id: int
    name: str
    kind: str
    kind_label: str


class MeOut(Schema):
    id: int
    username: str
    name: str
    employee_no: str
    role: str
    role_label: str
    department: Ref | None
    sites: list[SiteOut]
    capabilities: list[str]


class StaffOut(Schema):
    id: int
    name: str
    employee_no: str
    role: str
    role_label: str
    department: Ref | None


class StaffPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[StaffOut]


class StaffFilters(Schema):
    q: Str50 = ""
    department: Id | None = None
    role: Role | None = None
    limit: Limit = 20
    offset: Offset = 0


def _site(site: Any) -> dict[str, Any]:
    return {
        "id": site.id,
        "name": site.name,
        "code": site.code,
        "kind": site.kind,
        "kind_label": site.get_kind_display(),
        "address": site.address,
        "phone": site.phone,
    }


def _staff(staff: Staff) -> dict[str, Any]:
    return {
        "id": staff.id,
        "name": staff.name,
        "employee_no": staff.employee_no,
        "role": staff.role,
        "role_label": staff.get_role_display(),
        "department": ref(staff.department),
    }


@router.get("/me", response={200: MeOut, 401: ErrorOut}, tags=["组织"], summary="当前用户")
def me_detail(request: HttpRequest) -> dict[str, Any]:
    staff = me(request)
    return {
        **_staff(staff),
        "username": staff.user.get_username(),
        "sites": [_site(s) for s in sites_for(staff)],
        "capabilities": [name for name in CAPABILITIES if can(staff.role, name)],
    }


@router.get("/sites", response={200: list[SiteOut], 401: ErrorOut}, tags=["组织"], summary="我负责的项目")
def site_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [_site(s) for s in sites_for(me(request))]


@router.get("/departments", response={200: list[DepartmentOut], 401: ErrorOut}, tags=["组织"], summary="部门")
def department_list(request: HttpRequest) -> list[dict[str, Any]]:
    return [{"id": d.id, "name": d.name, "kind": d.kind, "kind_label": d.get_kind_display()} for d in departments()]


@router.get("/staff", response={200: StaffPage, 401: ErrorOut, 422: ErrorOut}, tags=["组织"], summary="同项目的员工")
def staff_list(request: HttpRequest, filters: Query[StaffFilters]) -> dict[str, Any]:
    qs = staff_in_scope(me(request))
    q = filters.q.strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(employee_no__iexact=q))
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    if filters.role:
        qs = qs.filter(role=filters.role)
    count, rows = page(qs, filters.limit, filters.offset)
    return {"count": count, "limit": filters.limit, "offset": filters.offset, "items": [_staff(s) for s in rows]}

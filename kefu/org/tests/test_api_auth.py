"""The API's front door: tokens, the error format, docs, and the organisation endpoints."""

import hashlib
import json
import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from kefu.api import api
from kefu.org.api import LOGIN_MAX_FAILURES
from kefu.org.models import ApiToken, Department, Role
from kefu.testing import PASSWORD, api_auth, make_site, make_staff

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client():
    return Client()


def login(client, username, password=PASSWORD, **extra):
    body = json.dumps({"username": username, "password": password})
    return client.post("/api/v1/auth/token", body, content_type="application/json", **extra)


def bearer(token):
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


# --- tokens -------------------------------------------------------------------------------


def test_login_returns_token_that_authenticates(client, settings):
    settings.KEFU_API_TOKEN_DAYS = 7
    agent = make_staff(Role.AGENT, sites=[make_site()])
    response = login(client, agent.user.username)
    assert response.status_code == 201
    body = response.json()
    assert len(body["token"]) >= 40
    stored = ApiToken.objects.get(staff=agent)
    assert stored.digest == hashlib.sha256(body["token"].encode()).hexdigest()
    assert body["token"] not in stored.digest
    assert abs(stored.expires_at - (timezone.now() + timedelta(days=7))) < timedelta(minutes=1)
    me = client.get("/api/v1/me", **bearer(body["token"]))
    assert me.status_code == 200
    assert me.json()["id"] == agent.id


def test_token_endpoints_need_no_csrf_token():
    agent = make_staff(Role.AGENT)
    strict = Client(enforce_csrf_checks=True)
    response = login(strict, agent.user.username)
    assert response.status_code == 201
    assert strict.delete("/api/v1/auth/token", **bearer(response.json()["token"])).status_code == 204


def test_wrong_password_is_401_in_chinese(client):
    agent = make_staff(Role.AGENT)
    response = login(client, agent.user.username, "wrong-password")
    assert response.status_code == 401
    assert response.json()["detail"] == "用户名或密码错误"
    assert login(client, "nobody-here").status_code == 401
    assert not ApiToken.objects.exists()


def test_user_without_staff_profile_is_403(client):
    get_user_model().objects.create_user(username="plain", password=PASSWORD)
    response = login(client, "plain")
    assert response.status_code == 403
    assert "员工档案" in response.json()["detail"]


def test_inactive_staff_gets_no_token_and_loses_existing_ones(client):
    agent = make_staff(Role.AGENT)
    headers = api_auth(agent)
    agent.is_active = False
    agent.save()
    assert login(client, agent.user.username).status_code == 403
    assert client.get("/api/v1/me", **headers).status_code == 401


def test_inactive_user_is_refused(client):
    agent = make_staff(Role.AGENT)
    headers = api_auth(agent)
    agent.user.is_active = False
    agent.user.save()
    assert login(client, agent.user.username).status_code == 401
    assert client.get("/api/v1/me", **headers).status_code == 401


def test_expired_token_is_refused(client):
    agent = make_staff(Role.AGENT)
    headers = api_auth(agent)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = client.get("/api/v1/me", **headers)
    assert response.status_code == 401
    assert response.json()["detail"] == "未登录或令牌无效"
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    [None, "", "Bearer", "Bearer ", "Bearer nonsense", "Basic dXNlcjpwYXNz", "Token abc", "Bearer " + "x" * 5000],
)
def test_missing_or_bad_token_is_401_json(client, header):
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header}
    response = client.get("/api/v1/me", **extra)
    assert response.status_code == 401
    assert response.json() == {"detail": "未登录或令牌无效", "errors": {}}


def test_last_used_is_written_at_most_once_a_minute(client):
    agent = make_staff(Role.AGENT)
    headers = api_auth(agent)
    with time_machine.travel("2026-03-02 09:00:00 +0800", tick=False):
        client.get("/api/v1/me", **headers)
        first = ApiToken.objects.get().last_used_at
        assert first is not None
    with time_machine.travel("2026-03-02 09:00:30 +0800", tick=False):
        client.get("/api/v1/me", **headers)
        assert ApiToken.objects.get().last_used_at == first
    with time_machine.travel("2026-03-02 09:01:05 +0800", tick=False):
        client.get("/api/v1/me", **headers)
        assert ApiToken.objects.get().last_used_at > first


def test_delete_revokes_only_the_current_token(client):
    agent = make_staff(Role.AGENT)
    first, second = api_auth(agent), api_auth(agent)
    assert client.delete("/api/v1/auth/token", **first).status_code == 204
    assert client.get("/api/v1/me", **first).status_code == 401
    assert client.get("/api/v1/me", **second).status_code == 200
    assert client.delete("/api/v1/auth/token").status_code == 401


def test_repeated_failures_lock_the_username_from_that_address(client):
    agent = make_staff(Role.AGENT)
    for _ in range(LOGIN_MAX_FAILURES):
        assert login(client, agent.user.username, "bad-password").status_code == 401
    locked = login(client, agent.user.username)
    assert locked.status_code == 429
    assert "分钟后再试" in locked.json()["detail"]
    assert login(client, agent.user.username, REMOTE_ADDR="10.0.0.9").status_code == 201


def test_success_resets_the_failure_count(client):
    agent = make_staff(Role.AGENT)
    for _ in range(LOGIN_MAX_FAILURES - 1):
        login(client, agent.user.username, "bad-password")
    assert login(client, agent.user.username).status_code == 201
    for _ in range(LOGIN_MAX_FAILURES - 1):
        login(client, agent.user.username, "bad-password")
    assert login(client, agent.user.username).status_code == 201


# --- the error format ---------------------------------------------------------------------


def test_validation_errors_are_chinese_and_per_field(client):
    response = client.post(
        "/api/v1/auth/token", json.dumps({"username": 5, "password": "x" * 500}), content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"] == "请求参数不正确"
    assert body["errors"] == {"username": ["应为文本"], "password": ["不能超过 128 个字符"]}
    missing = client.post("/api/v1/auth/token", "{}", content_type="application/json").json()
    assert missing["errors"] == {"username": ["必填"], "password": ["必填"]}


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/auth/token", '{"username": ', content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "请求体不是有效的 JSON", "errors": {}}


def test_body_that_is_not_an_object_is_422(client):
    response = client.post("/api/v1/auth/token", "[1, 2]", content_type="application/json")
    assert response.status_code == 422
    assert response.json()["detail"] == "请求参数不正确"


def test_unknown_url_under_the_api_is_json_404(client):
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_undeclared_method_is_json_405(client):
    response = client.patch("/api/v1/me")
    assert response.status_code == 405
    assert response.json()["detail"] == "不支持 PATCH 方法，可用：GET"
    assert response["Allow"] == "GET"


def test_api_root_points_at_docs(client):
    body = client.get("/api/v1/").json()
    assert body["docs"] == "/api/v1/docs"
    assert body["openapi"] == "/api/v1/openapi.json"


def test_answers_are_utf8_not_escaped(client):
    response = client.get("/api/v1/me")
    assert "未登录".encode() in response.content


# --- documentation ------------------------------------------------------------------------


def test_openapi_schema_declares_bearer_auth(client):
    schema = client.get("/api/v1/openapi.json").json()
    assert schema["info"]["title"] == "Kefu 客服 API"
    schemes = schema["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    assert "/api/v1/tickets/{ticket_id}/dispatch" in schema["paths"]
    token_op = schema["paths"]["/api/v1/auth/token"]["post"]
    assert not token_op.get("security")


def test_docs_page_loads_nothing_from_other_hosts(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    urls = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert urls and all(u.startswith("/api/v1/docs/assets/") for u in urls)
    assert "cdn" not in html.lower() and "http" not in html
    assert '"validatorUrl": null' in html
    for url in urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert b"".join(asset.streaming_content)


def test_docs_assets_are_a_fixed_list(client):
    assert client.get("/api/v1/docs/assets/..%2F__init__.py").status_code == 404
    assert client.get("/api/v1/docs/assets/redoc.standalone.js.map").status_code == 404


# --- the organisation ---------------------------------------------------------------------


def test_me_lists_sites_and_capabilities(client):
    site = make_site()
    eng = Department.objects.create(name="工程部")
    tech = make_staff(Role.TECHNICIAN, sites=[site], department=eng)
    body = client.get("/api/v1/me", **api_auth(tech)).json()
    assert body["role"] == "technician" and body["role_label"] == "维修工"
    assert body["department"] == {"id": eng.id, "name": "工程部"}
    assert [s["id"] for s in body["sites"]] == [site.id]
    assert "customers.see_phone" not in body["capabilities"]


def test_sites_are_the_callers_scope(client):
    mine, other = make_site(), make_site()
    agent = make_staff(Role.AGENT, sites=[mine])
    director = make_staff(Role.DIRECTOR)
    assert [s["id"] for s in client.get("/api/v1/sites", **api_auth(agent)).json()] == [mine.id]
    assert {s["id"] for s in client.get("/api/v1/sites", **api_auth(director)).json()} == {mine.id, other.id}


def test_departments_list_active_ones(client):
    Department.objects.create(name="工程部")
    Department.objects.create(name="旧部门", is_active=False)
    names = [d["name"] for d in client.get("/api/v1/departments", **api_auth(make_staff())).json()]
    assert "工程部" in names and "旧部门" not in names


def test_staff_list_is_scoped_and_filtered(client):
    mine, other = make_site(), make_site()
    eng = Department.objects.create(name="工程部")
    agent = make_staff(Role.AGENT, sites=[mine], name="张三")
    tech = make_staff(Role.TECHNICIAN, sites=[mine], department=eng, name="李师傅")
    outsider = make_staff(Role.TECHNICIAN, sites=[other], department=eng, name="王师傅")
    headers = api_auth(agent)
    body = client.get("/api/v1/staff", **headers).json()
    ids = {s["id"] for s in body["items"]}
    assert ids == {agent.id, tech.id} and body["count"] == 2
    assert outsider.id not in ids
    only_tech = client.get("/api/v1/staff", {"role": "technician"}, **headers).json()["items"]
    assert [s["id"] for s in only_tech] == [tech.id]
    by_department = client.get("/api/v1/staff", {"department": eng.id}, **headers).json()["items"]
    assert [s["id"] for s in by_department] == [tech.id]
    by_name = client.get("/api/v1/staff", {"q": "李"}, **headers).json()["items"]
    assert [s["name"] for s in by_name] == ["李师傅"]
    bad = client.get("/api/v1/staff", {"role": "king", "limit": 1000}, **headers)
    assert bad.status_code == 422
    assert set(bad.json()["errors"]) == {"role", "limit"}


def test_every_operation_but_login_requires_a_token():
    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method, path) == ("post", "/api/v1/auth/token"):
                assert not operation.get("security")
            else:
                assert operation.get("security"), f"{method} {path} has no auth"

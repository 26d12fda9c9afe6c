"""Liveness, readiness, the OpenAPI document, the local docs UI and the security headers."""

from __future__ import annotations

import re

import httpx
import pytest

from domain.errors import ErrorCode
from domain.users import PASSWORD_MIN_LENGTH
from entrypoints.container import StartupError
from entrypoints.http import create_api_asgi, create_app
from tests.e2e.http.conftest import Account, Api, ApiFactory

pytestmark = [pytest.mark.e2e]

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


async def test_health_is_alive_without_a_token(api: Api) -> None:
    r = await api.client.get("/api/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_ready_tells_anonymous_callers_the_status_only(api: Api, alice: Account) -> None:
    for headers in ({}, alice.headers, {"Authorization": "Bearer not-a-token"}):
        r = await api.client.get("/api/ready", headers=headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"status": "ready"}


async def test_ready_details_need_the_metrics_token(make_api: ApiFactory) -> None:
    async with make_api(metrics_token=METRICS_TOKEN) as started:
        r = await started.client.get("/api/ready", headers=METRICS_AUTH)
    assert r.json()["checks"]["database"]["backend"] == "sqlite"


async def test_ready_when_database_is_migrated_and_model_loaded(api: Api, admin: Account) -> None:
    r = await api.client.get("/api/ready", headers=admin.headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"]["migrations"] == "head"
    assert body["checks"]["model"] == {
        "ok": True,
        "version": "tiny-test-1",
        "providers": ["CPUExecutionProvider"],
    }


async def test_ready_is_503_naming_the_missing_model(make_api: ApiFactory, tmp_path) -> None:
    missing = tmp_path / "nowhere" / "breast-cnn.onnx"
    async with make_api(model_path=missing, fail_fast=False) as started:
        r = await started.client.get(
            "/api/ready", headers=(await started.account(admin=True)).headers
        )
    assert r.status_code == 503
    body = r.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"]["ok"] is True
    assert str(missing) in body["reasons"][0]
    assert "make train" in body["reasons"][0]


async def test_ready_is_503_when_the_database_is_down(make_api: ApiFactory) -> None:
    down = "postgresql+asyncpg://postgres@127.0.0.1:9/breastscan"  # port 9: nothing listens
    async with make_api(database_url=down, migrate=False, metrics_token=METRICS_TOKEN) as started:
        r = await started.client.get("/api/ready", headers=METRICS_AUTH)
        assert (await started.client.get("/api/health")).status_code == 200
        assert (await started.client.get("/api/ready")).json() == {"status": "not_ready"}
    assert r.status_code == 503
    body = r.json()
    assert body["reasons"] == ["database unreachable"]
    assert body["checks"]["model"]["ok"] is True


async def test_ready_is_503_when_migrations_are_missing(make_api: ApiFactory) -> None:
    async with make_api(migrate=False, metrics_token=METRICS_TOKEN) as started:
        r = await started.client.get("/api/ready", headers=METRICS_AUTH)
    assert r.status_code == 503
    assert "breastscan migrate" in r.json()["reasons"][0]


async def test_a_database_outage_is_503_not_a_stack_trace(make_api: ApiFactory) -> None:
    down = "postgresql+asyncpg://postgres@127.0.0.1:9/breastscan"
    async with make_api(database_url=down, migrate=False) as started:
        r = await started.client.post(
            "/api/auth/login", json={"email": "a@example.org", "password": "whatever12"}
        )
    assert r.status_code == 503
    assert r.json()["error"] == "database_unavailable"
    assert "Traceback" not in r.text


async def test_start_up_fails_clearly_when_the_model_is_missing(
    make_api: ApiFactory, tmp_path
) -> None:
    missing = tmp_path / "breast-cnn.onnx"
    with pytest.raises((StartupError, BaseExceptionGroup)) as caught:
        async with make_api(model_path=missing):
            pass
    errors = [caught.value]
    while isinstance(errors[-1], BaseExceptionGroup):
        errors.append(errors[-1].exceptions[0])
    assert isinstance(errors[-1], StartupError)
    assert str(missing) in str(errors[-1])
    assert "make train" in str(errors[-1])


async def test_openapi_document_is_served_with_servers_and_bearer_scheme(api: Api) -> None:
    r = await api.client.get("/api/schema/openapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"][0]["url"] == "/api"
    assert doc["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    paths = doc["paths"]
    for path in (
        "/auth/register",
        "/auth/login",
        "/auth/logout",
        "/auth/me",
        "/predict",
        "/predictions",
        "/predictions/export.csv",
        "/predictions/{prediction_id}",
        "/predictions/{prediction_id}/image",
        "/predictions/{prediction_id}/heatmap",
        "/predictions/{prediction_id}/review",
        "/stats",
        "/model",
        "/admin/users",
        "/admin/users/{user_id}",
        "/admin/audit",
        "/health",
        "/ready",
    ):
        assert path in paths, path
    assert paths["/predictions"]["get"]["security"] == [{"BearerToken": []}]
    assert "security" not in paths["/health"]["get"]


async def test_openapi_documents_every_error_code(api: Api) -> None:
    doc = (await api.client.get("/api/schema/openapi.json")).json()
    for code in ErrorCode:
        assert f"`{code}`" in doc["info"]["description"], code
    body = doc["components"]["schemas"]["ErrorBody"]["properties"]
    assert {"error", "code", "params", "detail"} <= set(body)


async def test_error_bodies_carry_the_code_and_its_params(api: Api) -> None:
    r = await api.client.post(
        "/api/auth/register", json={"email": "short@example.org", "password": "short"}
    )
    assert r.status_code == 422
    body = r.json()
    assert (body["error"], body["code"]) == ("invalid_input", "password_too_short")
    assert body["params"] == {"count": PASSWORD_MIN_LENGTH}


async def test_docs_page_and_its_assets_are_all_local(api: Api) -> None:
    r = await api.client.get("/api/schema")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    assert "swagger-ui" in html
    assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", html), "external asset in docs"
    assert "script-src 'self'" in r.headers["content-security-policy"]
    assets = re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", html)
    assert len(assets) >= 4
    for asset in assets:
        assert asset.startswith("/api/static/"), asset
        fetched = await api.client.get(asset)
        assert fetched.status_code == 200, asset
        assert len(fetched.content) > 0


async def test_security_headers_and_no_caching_on_api_responses(api: Api) -> None:
    r = await api.client.get("/api/health")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["cache-control"] == "no-store"
    assert r.headers["content-security-policy"].startswith("default-src 'none'")


async def test_unknown_route_is_a_json_404(api: Api) -> None:
    r = await api.client.get("/api/nope")
    assert r.status_code == 404
    assert r.json()["error"] == "not_found"


async def test_api_only_server_serves_the_same_urls_under_api(api: Api) -> None:
    """create_api_asgi (used by `breastscan serve --api-only`) mounts the app at /api."""
    asgi = create_api_asgi(create_app(api.container))
    transport = httpx.ASGITransport(app=asgi)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
        assert (await client.get("/api/health")).json() == {"status": "ok"}
        outside = await client.get("/health")
        assert outside.status_code == 404
        assert outside.json()["error"] == "not_found"
        doc = (await client.get("/api/schema/openapi.json")).json()
        assert doc["servers"][0]["url"] == "/api"
        docs_page = await client.get("/api/schema")
        for asset in re.findall(r"(?:src|href)=[\"']([^\"']+)[\"']", docs_page.text):
            assert (await client.get(asset)).status_code == 200, asset


async def test_cors_is_off_by_default_and_allows_configured_origins(
    api: Api, make_api: ApiFactory
) -> None:
    preflight = {
        "Origin": "https://portal.example",
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }
    closed = await api.client.options("/api/predictions", headers=preflight)
    assert "access-control-allow-origin" not in closed.headers
    async with make_api(cors_origins=("https://portal.example",)) as started:
        r = await started.client.options("/api/predictions", headers=preflight)
        assert r.status_code in (200, 204), r.text
        assert r.headers["access-control-allow-origin"] == "https://portal.example"
        other = await started.client.options(
            "/api/predictions", headers={**preflight, "Origin": "https://evil.example"}
        )
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"

"""GET /api/metrics, JSON request logs and request ids, through the real app and adapters."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient
from prometheus_client.parser import text_string_to_metric_families

from adapters.persistence.migrate import upgrade_to_head
from entrypoints.container import build_container
from entrypoints.http import create_app
from entrypoints.http.logs import configure_logging, redact
from entrypoints.settings import PREFIX, Settings, SettingsError
from tests.e2e.http.images import bright, dark
from tests.e2e.http.tiny_model import VERSION, build_tiny_model

pytestmark = [pytest.mark.ops, pytest.mark.e2e]

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "observability horse battery"
METRICS_TOKEN = "scrape-" + "m" * 32
METRICS_TOKEN_ENV = PREFIX + "METRICS_TOKEN"


@dataclass
class Observed:
    client: AsyncTestClient[Any]
    log: io.StringIO

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.getvalue().splitlines() if line.strip()]

    def requests(self) -> list[dict[str, Any]]:
        return [line for line in self.lines() if line["message"] == "request"]

    async def scrape(self) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
        r = await self.client.get(
            "/api/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
        )
        assert r.status_code == 200, r.text
        return samples(r.text)

    async def sign_in(self) -> tuple[str, dict[str, str]]:
        email = f"obs-{uuid4().hex[:10]}@example.org"
        r = await self.client.post(
            "/api/auth/register", json={"email": email, "password": PASSWORD}
        )
        assert r.status_code == 202, r.text
        r = await self.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        body = r.json()
        return body["user"]["id"], {"Authorization": f"Bearer {body['access_token']}"}


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(scraped: dict[Any, float], name: str, **labels: str) -> float:
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny.onnx")


@pytest.fixture
def log_level() -> str:
    return "info"


@pytest_asyncio.fixture(loop_scope="session")
async def observed(tmp_path: Path, tiny_model: Path, log_level: str) -> AsyncIterator[Observed]:
    settings = Settings(
        data_dir=tmp_path,
        model_path=tiny_model,
        jwt_secret="observability-secret-" + "s" * 40,
        argon2_memory_kib=64,
        argon2_time_cost=1,
        log_level=log_level,
        metrics_token=METRICS_TOKEN,
    )
    await upgrade_to_head(settings.resolved_database_url)
    app = create_app(build_container(settings))
    log = io.StringIO()
    handler = configure_logging(log_level, stream=log)
    try:
        async with AsyncTestClient(app, root_path="/api") as client:
            yield Observed(client=client, log=log)
    finally:
        handler.stream = None  # type: ignore[attr-defined]


# --- /api/metrics ---------------------------------------------------------------------------


async def test_metrics_need_the_bearer_token(observed: Observed) -> None:
    assert (await observed.client.get("/api/metrics")).status_code == 401
    wrong = {"Authorization": "Bearer " + "x" * len(METRICS_TOKEN)}
    assert (await observed.client.get("/api/metrics", headers=wrong)).status_code == 401
    r = await observed.client.get(
        "/api/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "breastscan_http_requests_total" in r.text


async def test_metrics_are_disabled_without_a_configured_token(
    tmp_path: Path, tiny_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(METRICS_TOKEN_ENV, METRICS_TOKEN)  # the environment is not read here
    settings = Settings(data_dir=tmp_path, model_path=tiny_model, jwt_secret="k" * 48)
    app = create_app(build_container(settings), fail_fast=False)
    async with AsyncTestClient(app, root_path="/api") as client:
        r = await client.get("/api/metrics", headers={"Authorization": "Bearer anything"})
    assert r.status_code == 404


def test_a_short_metrics_token_is_a_configuration_error() -> None:
    with pytest.raises(SettingsError, match=METRICS_TOKEN_ENV) as caught:
        Settings.from_env({METRICS_TOKEN_ENV: "short-secret"})
    assert "at least 16 characters" in str(caught.value)
    assert "short-secret" not in str(caught.value), "the token is never echoed"
    assert Settings.from_env({METRICS_TOKEN_ENV: "  "}).metrics_token is None
    configured = Settings.from_env({METRICS_TOKEN_ENV: METRICS_TOKEN})
    assert configured.metrics_token == METRICS_TOKEN
    assert METRICS_TOKEN not in repr(configured)


async def test_requests_are_counted_by_route_template_and_status(observed: Observed) -> None:
    _, headers = await observed.sign_in()
    before = await observed.scrape()
    r = await observed.client.post(
        "/api/predictions", files=[("file", ("a.png", bright(), "image/png"))], headers=headers
    )
    assert r.status_code == 201, r.text
    prediction_id = r.json()["results"][0]["prediction"]["id"]
    assert (
        await observed.client.get(f"/api/predictions/{prediction_id}", headers=headers)
    ).is_success
    assert (
        await observed.client.get(f"/api/predictions/{uuid4()}", headers=headers)
    ).status_code == 404
    assert (await observed.client.get(f"/api/no-such-thing/{uuid4()}")).status_code == 404
    after = await observed.scrape()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    one = "/api/predictions/{prediction_id}"
    counted = "breastscan_http_requests_total"
    assert delta(counted, method="POST", route="/api/predictions", status="201") == 1
    assert delta(counted, method="GET", route=one, status="200") == 1
    assert delta(counted, method="GET", route=one, status="404") == 1
    # Unknown paths share one label value: no unbounded label cardinality.
    assert delta(counted, method="GET", route="unmatched", status="404") == 1
    latency = "breastscan_http_request_duration_seconds_count"
    assert delta(latency, method="GET", route=one) == 2
    assert not any(prediction_id in str(key) for key in after)


async def test_inference_batches_labels_and_model_version_are_measured(
    observed: Observed,
) -> None:
    _, headers = await observed.sign_in()
    before = await observed.scrape()
    files = [
        ("file", ("b1.png", bright(), "image/png")),
        ("file", ("b2.png", bright(), "image/png")),
        ("file", ("d1.png", dark(), "image/png")),
    ]
    r = await observed.client.post("/api/predictions", files=files, headers=headers)
    assert r.status_code == 201, r.text
    r = await observed.client.post(
        "/api/predict", files=[("file", ("d2.png", dark(), "image/png"))], headers=headers
    )
    assert r.status_code == 200, r.text
    after = await observed.scrape()

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("breastscan_predictions_total", label="malignant") == 2
    assert delta("breastscan_predictions_total", label="benign") == 2
    calls = delta("breastscan_inference_duration_seconds_count")
    assert calls >= 2  # the batch may run as one call or one per image, plus /predict
    assert delta("breastscan_inference_batch_size_sum") == 4
    assert delta("breastscan_inference_duration_seconds_sum") > 0
    info = [k for k in after if k[0] == "breastscan_model_info"]
    assert info
    assert dict(info[0][1])["version"] == VERSION
    assert dict(info[0][1])["threshold"] == "0.5"


async def test_login_failures_are_counted(observed: Observed) -> None:
    before = await observed.scrape()
    for _ in range(2):
        r = await observed.client.post(
            "/api/auth/login", json={"email": "nobody@example.org", "password": "wrong-password"}
        )
        assert r.status_code == 401
    after = await observed.scrape()
    name = "breastscan_login_failures_total"
    assert (
        value(after, name, reason="invalid_credentials")
        - value(before, name, reason="invalid_credentials")
        == 2
    )


def test_metrics_add_up_across_worker_processes(tmp_path: Path) -> None:
    """Several workers write to PROMETHEUS_MULTIPROC_DIR; one scrape reports the total."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prom")}
    worker = (
        "from entrypoints.container import build_container\n"
        "m = build_container().metrics()\n"
        "m.requests.labels(method='GET', route='/api/x', status='200').inc(3)\n"
        "m.inference_batch.observe(8)\n"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], env=env, cwd=ROOT, check=True, timeout=60)
    scrape = (
        "from entrypoints.container import build_container\n"
        "print(build_container().metrics().exposition().decode())"
    )
    out = subprocess.run(
        [sys.executable, "-c", scrape],
        env=env,
        cwd=ROOT,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    ).stdout
    scraped = samples(out)
    assert (
        value(scraped, "breastscan_http_requests_total", method="GET", route="/api/x", status="200")
        == 6
    )
    assert value(scraped, "breastscan_inference_batch_size_count") == 2


# --- logs -----------------------------------------------------------------------------------


async def test_one_json_line_per_request_with_the_request_fields(observed: Observed) -> None:
    user_id, headers = await observed.sign_in()
    mark = len(observed.requests())
    r = await observed.client.get(
        "/api/predictions", headers={**headers, "X-Request-ID": "trace-abc.123"}
    )
    assert r.status_code == 200
    assert r.headers["x-request-id"] == "trace-abc.123"
    (line,) = observed.requests()[mark:]
    assert line["method"] == "GET"
    assert line["route"] == "/api/predictions"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert line["request_id"] == "trace-abc.123"
    assert line["user_id"] == user_id
    assert line["level"] == "info"
    assert line["logger"] == "breastscan.access"


async def test_a_request_id_is_generated_when_missing_or_malformed(observed: Observed) -> None:
    mark = len(observed.requests())
    first = await observed.client.get("/api/model")
    second = await observed.client.get("/api/model", headers={"X-Request-ID": "bad id\n<script>"})
    generated = [first.headers["x-request-id"], second.headers["x-request-id"]]
    assert all(len(rid) == 32 and int(rid, 16) >= 0 for rid in generated)
    assert generated[0] != generated[1]
    lines = observed.requests()[mark:]
    assert [line["request_id"] for line in lines] == generated
    assert [line["status"] for line in lines] == [401, 401]
    assert [line["user_id"] for line in lines] == [None, None]


async def test_passwords_tokens_and_image_bytes_never_reach_the_log(observed: Observed) -> None:
    _, headers = await observed.sign_in()
    token = headers["Authorization"].removeprefix("Bearer ")
    await observed.client.post(
        "/api/auth/login", json={"email": "someone@example.org", "password": "hunter2-secret-pw"}
    )
    await observed.client.post(
        "/api/predictions",
        files=[("file", ("x.png", b"\x89PNG" + b"Z" * 64, "image/png"))],
        headers=headers,
    )
    await observed.client.get("/api/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    text = observed.log.getvalue()
    assert text
    for secret in (PASSWORD, "hunter2-secret-pw", token, METRICS_TOKEN, "ZZZZZZZZ"):
        assert secret not in text


@pytest.mark.parametrize("log_level", ["warning"])
async def test_the_log_level_silences_request_lines(observed: Observed, log_level: str) -> None:
    assert (await observed.client.get("/api/health")).status_code == 200
    assert (await observed.client.get("/api/model")).status_code == 401
    assert observed.requests() == []


async def test_probes_are_logged_at_debug_only(observed: Observed) -> None:
    mark = len(observed.requests())
    assert (await observed.client.get("/api/health")).status_code == 200
    assert observed.requests()[mark:] == []


def test_redact_masks_token_shaped_strings() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXNpZw"
    text = redact(f'auth Bearer abc.def-123 token={jwt} body {{"password": "pw123"}}')
    assert jwt not in text
    assert "abc.def-123" not in text
    assert "pw123" not in text
    assert "[redacted" in text

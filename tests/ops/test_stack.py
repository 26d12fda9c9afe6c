"""The API is stateless: real processes (migrate, two API replicas, the UI) over one PostgreSQL
database and one image-store directory, driven over HTTP (scripts/stack.py)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import pytest_asyncio
from prometheus_client.parser import text_string_to_metric_families

from scripts.stack import Stack
from tests.conftest import PostgresServer
from tests.e2e.http.images import bright, dark, flat
from tests.e2e.http.tiny_model import build_tiny_model

pytestmark = [pytest.mark.ops, pytest.mark.postgres, pytest.mark.slow]

PASSWORD = "stack horse battery staple"
ROOT = Path(__file__).resolve().parents[2]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def stack_database(postgres_server: PostgresServer) -> AsyncIterator[str]:
    """A database of its own: the stack migrates it from empty."""
    url = await postgres_server.create_database("breastscan_stack")
    yield url
    await postgres_server.drop_database(url)


@pytest.fixture(scope="module")
def stack(stack_database: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("stack")
    model = build_tiny_model(root / "tiny.onnx")
    # Replica B runs two workers: its metrics must add up across them.
    running = Stack(database_url=stack_database, data_dir=root, model_path=model, api_workers=2)
    with running:
        yield running


@pytest.fixture(scope="module")
def clients(stack: Stack) -> Iterator[dict[str, httpx.Client]]:
    opened = {
        name: httpx.Client(base_url=role.url, timeout=30) for name, role in stack.roles.items()
    }
    yield opened
    for client in opened.values():
        client.close()


@pytest.fixture(scope="module")
def account(clients: dict[str, httpx.Client]) -> dict[str, Any]:
    """Registered and signed in through replica A."""
    email = f"stack-{uuid4().hex[:8]}@example.org"
    a = clients["api-a"]
    r = a.post("/api/auth/register", json={"email": email, "password": PASSWORD})
    assert r.status_code == 202, r.text
    r = a.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    body = r.json()
    return {
        "id": body["user"]["id"],
        "headers": {"Authorization": f"Bearer {body['access_token']}"},
    }


def check_store(stack: Stack) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "scripts/check_image_store.py",
            "--list",
            "--database-url",
            stack.database_url,
            "--image-dir",
            str(stack.data_dir / "shared" / "images"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def upload(client: httpx.Client, headers: dict[str, str], data: bytes, name: str) -> httpx.Response:
    return client.post(
        "/api/predictions", files=[("file", (name, data, "image/png"))], headers=headers
    )


def test_every_role_is_ready_on_one_migrated_database(stack: Stack) -> None:
    assert set(stack.roles) == {"api-a", "api-b", "ui"}
    for name, role in stack.roles.items():
        auth = {"Authorization": f"Bearer {stack.metrics_token}"}
        r = httpx.get(f"{role.url}/api/ready", headers=auth, timeout=10)
        assert r.status_code == 200, (name, r.text)
        assert r.json()["checks"]["database"]["migrations"] == "head"
    assert "Database migrated" in (stack.log_dir / "migrate.log").read_text()


def test_a_token_issued_by_replica_a_is_accepted_by_replica_b(
    clients: dict[str, httpx.Client], account: dict[str, Any]
) -> None:
    r = clients["api-b"].get("/api/auth/me", headers=account["headers"])
    assert r.status_code == 200, r.text
    assert r.json()["id"] == account["id"]
    forged = {"Authorization": account["headers"]["Authorization"][:-4] + "AAAA"}
    assert clients["api-b"].get("/api/auth/me", headers=forged).status_code == 401


def test_failed_sign_ins_spread_over_replicas_share_one_budget(
    clients: dict[str, httpx.Client],
) -> None:
    """Five wrong passwords, three through A and two through B's two workers, lock the
    account on every replica: the throttle counts in the database, not per process."""
    email = f"guess-{uuid4().hex[:8]}@example.org"
    a, b = clients["api-a"], clients["api-b"]
    assert a.post("/api/auth/register", json={"email": email, "password": PASSWORD}).is_success
    wrong = {"email": email, "password": "not the password"}
    statuses = [c.post("/api/auth/login", json=wrong).status_code for c in (a, b, a, b, a)]
    assert statuses == [401] * 5
    for client in (a, b):
        r = client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 429, r.text
        assert int(r.headers["retry-after"]) >= 1


def test_a_prediction_stored_through_a_is_listed_fetched_and_deleted_through_b(
    clients: dict[str, httpx.Client], account: dict[str, Any], stack: Stack
) -> None:
    a, b, headers = clients["api-a"], clients["api-b"], account["headers"]
    r = upload(a, headers, bright(), "via-a.png")
    assert r.status_code == 201, r.text
    stored = r.json()["results"][0]["prediction"]
    listed = b.get("/api/predictions", headers=headers, params={"q": "via-a"})
    assert listed.status_code == 200, listed.text
    assert stored["id"] in [item["id"] for item in listed.json()["items"]]
    one = b.get(f"/api/predictions/{stored['id']}", headers=headers)
    assert one.status_code == 200
    assert one.json()["label"] == "malignant"
    image = b.get(f"/api/predictions/{stored['id']}/image", headers=headers)
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert hashlib.sha256(image.content).hexdigest() == stored["image_sha256"]
    heatmap = b.get(f"/api/predictions/{stored['id']}/heatmap", headers=headers)
    assert heatmap.status_code == 200

    assert b.delete(f"/api/predictions/{stored['id']}", headers=headers).status_code == 204
    assert a.get(f"/api/predictions/{stored['id']}", headers=headers).status_code == 404
    assert a.get(f"/api/predictions/{stored['id']}/image", headers=headers).status_code == 404
    leftovers = [
        p for p in (stack.data_dir / "shared").rglob("*") if stored["image_sha256"] in p.name
    ]
    assert leftovers == []


def test_the_ui_process_serves_pages_and_shares_the_data(
    clients: dict[str, httpx.Client], account: dict[str, Any]
) -> None:
    ui = clients["ui"]
    assert ui.get("/api/health").status_code == 200
    r = ui.get("/api/auth/me", headers=account["headers"])
    assert r.status_code == 200
    assert r.json()["id"] == account["id"]


def _scrape(
    client: httpx.Client, token: str
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    r = client.get("/api/metrics", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200, r.text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(r.text)
        for s in family.samples
    }


def test_metrics_of_a_two_worker_replica_add_up(stack: Stack) -> None:
    role = stack.roles["api-b"]
    key = (
        "breastscan_http_requests_total",
        (("method", "GET"), ("route", "/api/health"), ("status", "200")),
    )
    with httpx.Client(base_url=role.url, timeout=10) as scraper:
        before = _scrape(scraper, stack.metrics_token).get(key, 0.0)
    for _ in range(12):  # a new connection each time, so both workers get some
        assert httpx.get(f"{role.url}/api/health", headers={"Connection": "close"}).is_success
    with httpx.Client(base_url=role.url, timeout=10) as scraper:
        after = _scrape(scraper, stack.metrics_token).get(key, 0.0)
    assert after - before == 12


def test_killing_a_replica_mid_burst_loses_no_acknowledged_prediction(
    clients: dict[str, httpx.Client], account: dict[str, Any], stack: Stack
) -> None:
    a_url, headers = stack.roles["api-a"].url, account["headers"]
    acknowledged: list[dict[str, Any]] = []
    failures: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def burst(worker: int) -> None:
        with httpx.Client(base_url=a_url, timeout=20) as client:
            for n in range(200):
                if stop.is_set():
                    return
                data = flat(40 + (worker * 50 + n) % 200)  # distinct images, distinct digests
                try:
                    r = upload(client, headers, data, f"burst-{worker}-{n}.png")
                except httpx.HTTPError as error:
                    with lock:
                        failures.append(type(error).__name__)
                    return
                if r.is_success:
                    with lock:
                        acknowledged.extend(
                            res["prediction"] for res in r.json()["results"] if res["stored"]
                        )

    threads = [threading.Thread(target=burst, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 60
    while len(acknowledged) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    stack.kill("api-a")
    stop.set()
    for thread in threads:
        thread.join(30)
    assert len(acknowledged) >= 8
    assert failures  # the kill really interrupted requests in flight

    b = clients["api-b"]
    for prediction in acknowledged:
        r = b.get(f"/api/predictions/{prediction['id']}", headers=headers)
        assert r.status_code == 200, (prediction["id"], r.text)
        image = b.get(f"/api/predictions/{prediction['id']}/image", headers=headers)
        assert image.status_code == 200
        assert hashlib.sha256(image.content).hexdigest() == prediction["image_sha256"]
    # Nothing half-written either: every stored record still has its image.
    listed = b.get("/api/predictions", headers=headers, params={"q": "burst-", "limit": 100})
    assert listed.status_code == 200
    for item in listed.json()["items"]:
        assert b.get(f"/api/predictions/{item['id']}/image", headers=headers).status_code == 200

    # ... and the restore check agrees (scripts/check_image_store.py).
    assert check_store(stack).returncode == 0

    # The replica comes back with no state to recover.
    stack.restart("api-a")
    with httpx.Client(base_url=a_url, timeout=20) as client:
        r = upload(client, headers, dark(), "after-restart.png")
        assert r.status_code == 201, r.text
        assert client.get("/api/auth/me", headers=headers).status_code == 200


def test_the_store_check_reports_an_image_lost_from_the_store(
    clients: dict[str, httpx.Client], account: dict[str, Any], stack: Stack
) -> None:
    r = upload(clients["api-b"], account["headers"], flat(123, size=(97, 89)), "lost.png")
    assert r.status_code == 201, r.text
    digest = r.json()["results"][0]["prediction"]["image_sha256"]
    (path,) = (stack.data_dir / "shared" / "images").rglob(f"{digest}.png")
    path.unlink()
    result = check_store(stack)
    assert result.returncode == 1
    assert "missing 1" in result.stdout
    assert f"missing {digest}" in result.stdout

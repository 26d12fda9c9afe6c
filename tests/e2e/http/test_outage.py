"""PostgreSQL outages: every request answers 503 with Retry-After while the database refuses
connections or drops them, service is back within a second after, and no acknowledged
prediction is lost. Works in a throwaway database of the test server only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio
from sqlalchemy.engine import make_url

from adapters.persistence.migrate import upgrade_to_head
from tests.conftest import PostgresServer
from tests.e2e.http.conftest import Account, Api, ApiFactory
from tests.e2e.http.images import bright, dark

pytestmark = [pytest.mark.e2e, pytest.mark.postgres]
STRONG = "violet lantern under rain"


class Outage:
    """Switches one database's connections off and on, and kills its backends."""

    def __init__(self, admin_dsn: str, database: str) -> None:
        self._admin_dsn = admin_dsn
        self._database = database

    async def _run(self, *statements: str) -> None:
        connection = await asyncpg.connect(self._admin_dsn, timeout=10)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    async def kill_backends(self) -> None:
        await self._run(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{self._database}' AND pid <> pg_backend_pid()"
        )

    async def refuse(self) -> None:
        await self._run(f'ALTER DATABASE "{self._database}" WITH ALLOW_CONNECTIONS false')
        await self.kill_backends()

    async def allow(self) -> None:
        await self._run(f'ALTER DATABASE "{self._database}" WITH ALLOW_CONNECTIONS true')


@pytest_asyncio.fixture(loop_scope="session")
async def on_postgres(
    postgres_server: PostgresServer, make_api: ApiFactory
) -> AsyncIterator[tuple[Api, Outage]]:
    url = await postgres_server.create_database("breastscan_outage")
    outage = Outage(postgres_server.admin_dsn, str(make_url(url).database))
    try:
        await upgrade_to_head(url)
        async with make_api(database_url=url, migrate=False) as api:
            yield api, outage
    finally:
        await outage.allow()
        await postgres_server.drop_database(url)


async def store(api: Api, account: Account, name: str) -> str:
    image = bright() if len(name) % 2 else dark()
    r = await api.client.post(
        "/api/predictions", files=[("file", (name, image, "image/png"))], headers=account.headers
    )
    assert r.status_code == 201, r.text
    return str(r.json()["results"][0]["prediction"]["id"])


async def test_refused_connections_are_503_then_service_resumes_within_a_second(
    on_postgres: tuple[Api, Outage],
) -> None:
    api, outage = on_postgres
    account = await api.account()
    acknowledged = [await store(api, account, f"before-{i}.png") for i in range(3)]

    await outage.refuse()
    requests = [
        ("GET", "/api/predictions", {}),
        ("GET", "/api/auth/me", {}),
        ("GET", "/api/stats", {}),
        ("POST", "/api/predictions", {"files": [("file", ("x.png", bright(), "image/png"))]}),
        ("POST", "/api/auth/login", {"json": {"email": account.email, "password": "whatever"}}),
        ("POST", "/api/auth/register", {"json": {"email": "n@example.org", "password": STRONG}}),
    ]
    for method, path, options in requests:
        r = await api.client.request(method, path, headers=account.headers, **options)
        assert r.status_code == 503, (path, r.text)
        assert r.json()["error"] == "database_unavailable", path
        assert int(r.headers["retry-after"]) > 0
    ready = await api.client.get("/api/ready")
    assert (ready.status_code, ready.json()) == (503, {"status": "not_ready"})

    await outage.allow()
    started = time.monotonic()
    r = await api.client.get("/api/predictions", headers=account.headers)
    while r.status_code != 200 and time.monotonic() - started < 1.0:
        r = await api.client.get("/api/predictions", headers=account.headers)
    assert r.status_code == 200, r.text
    assert time.monotonic() - started < 1.0
    acknowledged.append(await store(api, account, "after.png"))
    listed = await api.client.get("/api/predictions", headers=account.headers)
    assert {item["id"] for item in listed.json()["items"]} == set(acknowledged)


async def test_killed_backends_are_replaced_without_an_error(
    on_postgres: tuple[Api, Outage],
) -> None:
    api, outage = on_postgres
    account = await api.account()
    acknowledged = [await store(api, account, "one.png")]
    for round_ in range(3):
        await outage.kill_backends()
        acknowledged.append(await store(api, account, f"after-kill-{round_}.png"))
        r = await api.client.get("/api/predictions", headers=account.headers)
        assert r.status_code == 200, r.text
    assert {item["id"] for item in r.json()["items"]} == set(acknowledged)

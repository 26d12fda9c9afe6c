"""The HTTP API end to end: Litestar's AsyncTestClient over the real container.

Real adapters throughout: a migrated SQLite file, Argon2 (cheap profile), HS256 JWTs, the
Pillow decoder, the filesystem image store and ONNX Runtime running a tiny real model built
with onnx.helper (tests/e2e/http/tiny_model.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
import pytest_asyncio
from litestar.testing import AsyncTestClient

from adapters.persistence.migrate import upgrade_to_head
from application.commands import RegisterUser
from domain.users import Role
from entrypoints.container import Container, build_container
from entrypoints.http import create_app
from entrypoints.settings import Settings
from tests.e2e.http.tiny_model import build_tiny_model

pytestmark = [pytest.mark.e2e]

PASSWORD = "correct horse battery staple"
JWT_SECRET = "e2e-test-secret-" + "x" * 48


@dataclasses.dataclass
class Api:
    client: AsyncTestClient[Any]
    container: Container
    settings: Settings

    async def account(self, *, admin: bool = False, email: str | None = None) -> Account:
        """A new account signed in through POST /api/auth/login."""
        email = email or f"user-{uuid4().hex[:10]}@example.org"
        if admin:
            await self.container.register_user()(
                RegisterUser(email=email, password=PASSWORD, role=Role.ADMIN, trusted=True)
            )
        else:
            r = await self.client.post(
                "/api/auth/register", json={"email": email, "password": PASSWORD}
            )
            assert r.status_code == 202, r.text
        r = await self.client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        body = r.json()
        return Account(
            email=email,
            id=body["user"]["id"],
            token=body["access_token"],
            headers={"Authorization": f"Bearer {body['access_token']}"},
        )


@dataclasses.dataclass
class Account:
    email: str
    id: str
    token: str
    headers: dict[str, str]


def settings_for(data_dir: Path, **overrides: Any) -> Settings:
    base = Settings(
        data_dir=data_dir,
        jwt_secret=JWT_SECRET,
        argon2_memory_kib=64,
        argon2_time_cost=1,
        argon2_parallelism=1,
        max_upload_bytes=2 * 1024 * 1024,
        max_files_per_request=8,
    )
    return dataclasses.replace(base, **overrides)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_model(tmp_path_factory.mktemp("model") / "tiny.onnx")


ApiFactory = Callable[..., AbstractAsyncContextManager[Api]]


@pytest.fixture(scope="session")
def make_api(tmp_path_factory: pytest.TempPathFactory, tiny_model: Path) -> ApiFactory:
    """Start an app over a fresh, migrated data directory; keyword arguments override settings."""

    @asynccontextmanager
    async def start(
        *, migrate: bool = True, fail_fast: bool = True, **overrides: Any
    ) -> AsyncIterator[Api]:
        data_dir = tmp_path_factory.mktemp("data")
        settings = settings_for(data_dir, **{"model_path": tiny_model, **overrides})
        container = build_container(settings)
        if migrate:
            await upgrade_to_head(settings.resolved_database_url)
        app = create_app(container, fail_fast=fail_fast)
        async with AsyncTestClient(app, root_path="/api", raise_server_exceptions=False) as client:
            yield Api(client=client, container=container, settings=settings)

    return start


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def api(make_api: ApiFactory) -> AsyncIterator[Api]:
    """One app shared by the tests that do not need their own (each uses fresh accounts)."""
    async with make_api() as started:
        yield started


@pytest_asyncio.fixture(loop_scope="session")
async def alice(api: Api) -> Account:
    return await api.account()


@pytest_asyncio.fixture(loop_scope="session")
async def bob(api: Api) -> Account:
    return await api.account()


@pytest_asyncio.fixture(loop_scope="session")
async def admin(api: Api) -> Account:
    return await api.account(admin=True)

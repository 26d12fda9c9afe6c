"""The web UI driven through NiceGUI's simulated `User` (no browser), over fakes.

Each test gets fresh NiceGUI globals, fresh server-side storage and a fresh core: the real
composition root (`Container`) with every adapter overridden by its fake from tests/fakes.py,
handed to `register_ui` exactly as `breastscan serve` hands it the unmodified container.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
from dependency_injector import providers
from nicegui import app as nicegui_app
from nicegui import ui
from nicegui.functions.download import download
from nicegui.functions.navigate import Navigate
from nicegui.functions.notify import notify
from nicegui.storage import Storage
from nicegui.testing import User
from nicegui.testing.general import nicegui_reset_globals, prepare_simulation

from application.commands import PredictAndStore, Upload
from domain.predictions import Prediction
from domain.users import Role
from domain.users import User as Account
from entrypoints.container import Container
from entrypoints.settings import Settings
from entrypoints.web.app import register_ui
from entrypoints.web.deps import WebOptions
from tests.fakes import (
    FakeClock,
    FakeDatabase,
    FakeHeatmapRenderer,
    FakeImageDecoder,
    FakeImageStore,
    FakeLesionRenderer,
    FakeLoginThrottle,
    FakePasswordHasher,
    FakePerformanceReader,
    FakeReportRenderer,
    FakeStatisticsReader,
    FakeTokenService,
    FakeTumorClassifier,
    FakeUnitOfWork,
    fake_image,
)

pytestmark = [pytest.mark.e2e]

PASSWORD = "correct horse battery"


@dataclass
class FakeCore:
    """The real container with every adapter replaced by its fake: pages get the same
    use-case factories (`core.register_user()`, ...) as under `breastscan serve`."""

    db: FakeDatabase = field(default_factory=FakeDatabase)
    clock: FakeClock = field(default_factory=FakeClock)
    classifier: FakeTumorClassifier = field(default_factory=FakeTumorClassifier)

    def __post_init__(self) -> None:
        self.hasher = FakePasswordHasher()
        self.images = FakeImageStore()
        self.reports = FakeReportRenderer()
        self.container = Container(
            settings=Settings(data_dir=Path("unused-by-fakes"), max_upload_bytes=64 * 1024)
        )
        for name, fake in {
            "clock": self.clock,
            "uow": FakeUnitOfWork(self.db),
            "hasher": self.hasher,
            "tokens": FakeTokenService(self.clock),
            "throttle": FakeLoginThrottle(self.clock, max_failures=3),
            "decoder": FakeImageDecoder(max_bytes=64 * 1024),
            "heatmap_renderer": FakeHeatmapRenderer(),
            "lesion_renderer": FakeLesionRenderer(),
            "classifier": self.classifier,
            "statistics": FakeStatisticsReader(self.db),
            "performance": FakePerformanceReader(self.db),
            "report_renderer": self.reports,
            "image_store": self.images,
        }.items():
            getattr(self.container, name).override(providers.Object(fake))

    def __getattr__(self, name: str) -> Callable[[], Any]:
        if name.startswith("_") or name in {"container", "hasher", "images", "reports"}:
            raise AttributeError(name)
        factory: Callable[[], Any] = getattr(self.container, name)
        return factory

    async def account(self, email: str, role: Role = Role.CLINICIAN) -> Account:
        """Seed a committed account directly."""
        user = Account(
            id=uuid4(),
            email=email,
            password_hash=await self.hasher.hash(PASSWORD),
            role=role,
            is_active=True,
            created_at=self.clock.now(),
        )
        self.db.users[user.id] = user
        return user

    async def stored(self, owner: Account, name: str, level: int) -> Prediction:
        """Store one analysis through the use case (level/255 is the fake model's output)."""
        [outcome] = await self.predict_and_store()(
            PredictAndStore(actor=owner, uploads=(Upload(name, fake_image(name, level)),))
        )
        assert outcome.prediction is not None
        return outcome.prediction


@pytest.fixture
def core() -> FakeCore:
    return FakeCore()


@pytest.fixture
def model_card(tmp_path: Path) -> Path:
    card = tmp_path / "MODEL_CARD.md"
    card.write_text("# Breast CNN\n\nValidation AUC 0.90 (95% CI 0.85-0.94).\n", encoding="utf-8")
    return card


@asynccontextmanager
async def simulated_user(register: Callable[[], None], storage_dir: Path) -> AsyncIterator[User]:
    """Like nicegui.testing's user_simulation, but with pages registered by `register`."""
    with nicegui_reset_globals():
        os.environ["NICEGUI_USER_SIMULATION"] = "true"
        try:
            Storage.path = storage_dir
            nicegui_app.storage = Storage()
            prepare_simulation()
            register()
            ui.run(storage_secret="simulated secret")
            async with nicegui_app.router.lifespan_context(nicegui_app):
                transport = httpx.ASGITransport(nicegui_app)
                async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
                    yield User(client)
        finally:
            os.environ.pop("NICEGUI_USER_SIMULATION", None)
            ui.navigate = Navigate()
            ui.notify = notify
            ui.download = download


@pytest.fixture
async def user(
    core: FakeCore, model_card: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[User]:
    options = WebOptions(model_card=model_card, page_size=5)
    storage = tmp_path / "ui-storage"
    async with simulated_user(lambda: register_ui(core.container, options), storage) as simulated:
        yield simulated
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, f"unexpected ERROR logs: {[r.getMessage() for r in errors]}"


async def sign_in(user: User, email: str, password: str = PASSWORD) -> None:
    await user.open("/login")
    user.find(marker="email").type(email)
    user.find(marker="password").type(password)
    user.find(marker="sign-in").click()

"""The web UI driven through NiceGUI's simulated `User` (no browser), over fakes.

Each test gets fresh NiceGUI globals, fresh server-side storage and a fresh in-memory core
(every use case wired to tests/fakes.py), registered through `register_ui` exactly as
`breastscan serve` registers it over the real container.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from nicegui import app as nicegui_app
from nicegui import ui
from nicegui.functions.download import download
from nicegui.functions.navigate import Navigate
from nicegui.functions.notify import notify
from nicegui.storage import Storage
from nicegui.testing import User
from nicegui.testing.general import nicegui_reset_globals, prepare_simulation

from application.commands import PredictAndStore, Upload
from application.use_cases import (
    AuthenticateUseCase,
    ChangeRoleUseCase,
    DeletePredictionUseCase,
    DescribeModelUseCase,
    ExportPredictionsUseCase,
    GetPredictionImageUseCase,
    GetPredictionUseCase,
    GetStatisticsUseCase,
    ListAuditLogUseCase,
    ListPredictionsUseCase,
    ListUsersUseCase,
    LogoutUseCase,
    PredictAndStoreUseCase,
    RegisterUserUseCase,
    ResolveCurrentUserUseCase,
    ReviewPredictionUseCase,
    SetUserActiveUseCase,
    load_common_passwords,
)
from domain.predictions import Prediction
from domain.users import Role
from domain.users import User as Account
from entrypoints.web.app import register_ui
from entrypoints.web.deps import WebOptions
from tests.fakes import (
    FakeClock,
    FakeDatabase,
    FakeHeatmapRenderer,
    FakeImageDecoder,
    FakeImageStore,
    FakeLoginThrottle,
    FakePasswordHasher,
    FakeTokenService,
    FakeTumorClassifier,
    FakeUnitOfWork,
    fake_image,
)

pytestmark = [pytest.mark.e2e]

PASSWORD = "correct horse battery"
COMMON_PASSWORDS = load_common_passwords()


@dataclass
class FakeCore:
    """Every use case over fakes, exposed by the same factory names as the container."""

    db: FakeDatabase = field(default_factory=FakeDatabase)
    clock: FakeClock = field(default_factory=FakeClock)
    classifier: FakeTumorClassifier = field(default_factory=FakeTumorClassifier)

    def __post_init__(self) -> None:
        uow, clock = FakeUnitOfWork(self.db), self.clock
        self.hasher = FakePasswordHasher()
        self.tokens = FakeTokenService(clock)
        self.throttle = FakeLoginThrottle(clock, max_failures=3)
        self.images = FakeImageStore()
        self.decoder = FakeImageDecoder(max_bytes=64 * 1024)
        self._cases: dict[str, object] = {
            "register_user": RegisterUserUseCase(uow, self.hasher, clock, COMMON_PASSWORDS),
            "authenticate": AuthenticateUseCase(
                uow, self.hasher, self.tokens, self.throttle, clock
            ),
            "resolve_current_user": ResolveCurrentUserUseCase(uow, self.tokens),
            "logout": LogoutUseCase(uow, clock),
            "predict_and_store": PredictAndStoreUseCase(
                uow, self.decoder, self.classifier, self.images, clock
            ),
            "list_predictions": ListPredictionsUseCase(uow),
            "export_predictions": ExportPredictionsUseCase(uow, clock),
            "get_prediction": GetPredictionUseCase(uow, clock),
            "get_prediction_image": GetPredictionImageUseCase(
                uow, self.images, FakeHeatmapRenderer()
            ),
            "review_prediction": ReviewPredictionUseCase(uow, clock),
            "delete_prediction": DeletePredictionUseCase(uow, self.images, clock),
            "get_statistics": GetStatisticsUseCase(uow),
            "describe_model": DescribeModelUseCase(self.classifier),
            "list_users": ListUsersUseCase(uow),
            "change_role": ChangeRoleUseCase(uow, clock),
            "set_user_active": SetUserActiveUseCase(uow, clock),
            "list_audit_log": ListAuditLogUseCase(uow),
        }

    def __getattr__(self, name: str) -> Callable[[], object]:
        try:
            case = self.__dict__["_cases"][name]
        except KeyError:
            raise AttributeError(name) from None
        return lambda: case

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
    options = WebOptions(max_upload_bytes=64 * 1024, model_card=model_card, page_size=5)
    storage = tmp_path / "ui-storage"
    async with simulated_user(lambda: register_ui(core, options), storage) as simulated:
        yield simulated
    errors = [r for r in caplog.get_records("call") if r.levelno >= logging.ERROR]
    assert not errors, f"unexpected ERROR logs: {[r.getMessage() for r in errors]}"


async def sign_in(user: User, email: str, password: str = PASSWORD) -> None:
    await user.open("/login")
    user.find(marker="email").type(email)
    user.find(marker="password").type(password)
    user.find(marker="sign-in").click()

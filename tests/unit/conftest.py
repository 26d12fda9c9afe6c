"""Every use case wired to the in-memory fakes, plus helpers to seed users."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import uuid4

import pytest

from application.commands import PredictAndStore, Upload
from application.use_cases import (
    AuthenticateUseCase,
    ChangePasswordUseCase,
    DeletePredictionUseCase,
    DescribeModelUseCase,
    ExportPredictionsUseCase,
    GetLesionOverlayUseCase,
    GetPredictionImageUseCase,
    GetPredictionUseCase,
    GetStatisticsUseCase,
    ListAuditLogUseCase,
    ListPredictionsUseCase,
    ListUsersUseCase,
    LogoutUseCase,
    PredictAndStoreUseCase,
    PredictUseCase,
    RegisterUserUseCase,
    ResolveCurrentUserUseCase,
    ReviewPredictionUseCase,
    UpdateUserUseCase,
    load_common_passwords,
)
from domain.predictions import Prediction
from domain.users import Role, User
from tests.fakes import (
    FakeClock,
    FakeDatabase,
    FakeHeatmapRenderer,
    FakeImageDecoder,
    FakeImageStore,
    FakeLesionRenderer,
    FakeLoginThrottle,
    FakePasswordHasher,
    FakePasswordStrength,
    FakeStatisticsReader,
    FakeTokenService,
    FakeTumorClassifier,
    FakeUnitOfWork,
    fake_image,
)

COMMON_PASSWORDS = load_common_passwords()
PASSWORD = "correct horse battery"


@dataclass
class App:
    """The application core on fakes: ports to inspect, use cases to drive."""

    db: FakeDatabase
    uow: FakeUnitOfWork
    clock: FakeClock
    hasher: FakePasswordHasher
    tokens: FakeTokenService
    throttle: FakeLoginThrottle
    decoder: FakeImageDecoder
    classifier: FakeTumorClassifier
    images: FakeImageStore
    renderer: FakeHeatmapRenderer
    lesion_renderer: FakeLesionRenderer

    def __post_init__(self) -> None:
        uow, clock = self.uow, self.clock
        strength = FakePasswordStrength()
        self.register = RegisterUserUseCase(uow, self.hasher, clock, COMMON_PASSWORDS, strength)
        self.change_password = ChangePasswordUseCase(
            uow, self.hasher, self.tokens, self.throttle, clock, COMMON_PASSWORDS, strength
        )
        self.authenticate = AuthenticateUseCase(uow, self.hasher, self.tokens, self.throttle, clock)
        self.resolve = ResolveCurrentUserUseCase(uow, self.tokens)
        self.logout = LogoutUseCase(uow, clock)
        self.predict = PredictUseCase(self.decoder, self.classifier)
        self.predict_and_store = PredictAndStoreUseCase(
            uow, self.decoder, self.classifier, self.images, clock
        )
        self.list_predictions = ListPredictionsUseCase(uow)
        self.export = ExportPredictionsUseCase(uow, clock)
        self.get_prediction = GetPredictionUseCase(uow, clock)
        self.get_image = GetPredictionImageUseCase(uow, self.images, self.renderer)
        self.get_lesion = GetLesionOverlayUseCase(uow, self.images, self.lesion_renderer)
        self.review = ReviewPredictionUseCase(uow, clock)
        self.delete = DeletePredictionUseCase(uow, self.images, clock)
        self.statistics = GetStatisticsUseCase(FakeStatisticsReader(self.db))
        self.describe_model = DescribeModelUseCase(self.classifier)
        self.list_users = ListUsersUseCase(uow)
        self.update_user = UpdateUserUseCase(uow, clock)
        self.audit_log = ListAuditLogUseCase(uow)

    async def user(
        self, email: str | None = None, role: Role = Role.CLINICIAN, password: str = PASSWORD
    ) -> User:
        """Seed a committed account directly (no use case, no audit entry)."""
        user = User(
            id=uuid4(),
            email=email or f"user-{uuid4().hex[:8]}@example.org",
            password_hash=await self.hasher.hash(password),
            role=role,
            is_active=True,
            created_at=self.clock.now(),
        )
        self.db.users[user.id] = user
        return user

    async def stored(self, actor: User, seed: str = "a", level: int = 128) -> Prediction:
        """Store one prediction through the use case and return it."""
        [outcome] = await self.predict_and_store(
            PredictAndStore(actor=actor, uploads=(Upload(f"{seed}.png", fake_image(seed, level)),))
        )
        assert outcome.prediction is not None
        return outcome.prediction

    def actions(self) -> list[str]:
        """Committed audit actions, oldest first."""
        return [entry.action for entry in self.db.audit]


@pytest.fixture
def app() -> App:
    db = FakeDatabase()
    clock = FakeClock()
    return App(
        db=db,
        uow=FakeUnitOfWork(db),
        clock=clock,
        hasher=FakePasswordHasher(),
        tokens=FakeTokenService(clock),
        throttle=FakeLoginThrottle(clock),
        decoder=FakeImageDecoder(),
        classifier=FakeTumorClassifier(),
        images=FakeImageStore(),
        renderer=FakeHeatmapRenderer(),
        lesion_renderer=FakeLesionRenderer(),
    )

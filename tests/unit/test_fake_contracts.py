"""The port contract suites, run against the in-memory fakes the unit tests rely on."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from application.ports import (
    HealthProbe,
    ImageDecoder,
    ImageFindings,
    PacsInstance,
    PacsStudy,
    TumorClassifier,
    UnitOfWork,
)
from domain.errors import DatabaseUnavailable, ModelUnavailable
from tests.contracts.audit_log_contract import AuditLogContract
from tests.contracts.clock_contract import ClockContract
from tests.contracts.health_probe_contract import HealthProbeContract
from tests.contracts.heatmap_renderer_contract import HeatmapRendererContract
from tests.contracts.image_decoder_contract import ImageDecoderContract
from tests.contracts.image_store_contract import ImageStoreContract
from tests.contracts.lesion_renderer_contract import LesionRendererContract
from tests.contracts.login_throttle_contract import LoginThrottleContract
from tests.contracts.pacs_client_contract import ACCESSION, PATIENT, PacsClientContract, SeededStudy
from tests.contracts.password_hasher_contract import PasswordHasherContract
from tests.contracts.password_strength_contract import PasswordStrengthContract
from tests.contracts.performance_reader_contract import PerformanceReaderContract
from tests.contracts.prediction_outcome_contract import PredictionOutcomeContract
from tests.contracts.prediction_repository_contract import PredictionRepositoryContract
from tests.contracts.statistics_reader_contract import StatisticsReaderContract
from tests.contracts.token_service_contract import TokenServiceContract
from tests.contracts.tumor_classifier_contract import TumorClassifierContract
from tests.contracts.unit_of_work_contract import UnitOfWorkContract
from tests.contracts.user_repository_contract import UowFactory, UserRepositoryContract
from tests.fakes import (
    FakeClock,
    FakeDatabase,
    FakeHealthProbe,
    FakeHeatmapRenderer,
    FakeImageDecoder,
    FakeImageStore,
    FakeLesionRenderer,
    FakeLoginThrottle,
    FakePacsClient,
    FakePasswordHasher,
    FakePasswordStrength,
    FakePerformanceReader,
    FakeResultDocumentBuilder,
    FakeStatisticsReader,
    FakeTokenService,
    FakeTumorClassifier,
    FakeUnitOfWork,
    fake_image,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def fake_db() -> FakeDatabase:
    return FakeDatabase()


@pytest.fixture
def uow_factory(fake_db: FakeDatabase) -> UowFactory:
    return lambda: FakeUnitOfWork(fake_db)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class TestFakeUserRepository(UserRepositoryContract):
    pass


class TestFakePredictionRepository(PredictionRepositoryContract):
    pass


class TestFakePredictionOutcomes(PredictionOutcomeContract):
    pass


class TestFakeAuditLog(AuditLogContract):
    pass


class TestFakePerformanceReader(PerformanceReaderContract):
    @pytest.fixture
    def performance_reader(self, fake_db: FakeDatabase) -> FakePerformanceReader:
        return FakePerformanceReader(fake_db)


class TestFakeStatisticsReader(StatisticsReaderContract):
    @pytest.fixture
    def statistics_reader(self, fake_db: FakeDatabase) -> FakeStatisticsReader:
        return FakeStatisticsReader(fake_db)


class TestFakeUnitOfWork(UnitOfWorkContract):
    pass


class TestFakeClock(ClockContract):
    pass


class TestFakePasswordHasher(PasswordHasherContract):
    @pytest.fixture
    def password_hasher(self) -> FakePasswordHasher:
        return FakePasswordHasher()


class TestFakePasswordStrength(PasswordStrengthContract):
    @pytest.fixture
    def password_strength(self) -> FakePasswordStrength:
        return FakePasswordStrength()


class TestFakeTokenService(TokenServiceContract):
    @pytest.fixture
    def token_service(self, clock: FakeClock) -> FakeTokenService:
        return FakeTokenService(clock)


class TestFakeLoginThrottle(LoginThrottleContract):
    @pytest.fixture
    def login_throttle(self, clock: FakeClock) -> FakeLoginThrottle:
        return FakeLoginThrottle(clock)


class TestFakeImageDecoder(ImageDecoderContract):
    @pytest.fixture
    def image_decoder(self) -> FakeImageDecoder:
        return FakeImageDecoder()

    @pytest.fixture
    def valid_image(self) -> bytes:
        return fake_image("contract", width=256, height=192)


class TestFakeImageStore(ImageStoreContract):
    @pytest.fixture
    def image_store(self) -> FakeImageStore:
        return FakeImageStore()


class TestFakeHeatmapRenderer(HeatmapRendererContract):
    @pytest.fixture
    def heatmap_renderer(self) -> FakeHeatmapRenderer:
        return FakeHeatmapRenderer()


class TestFakeLesionRenderer(LesionRendererContract):
    @pytest.fixture
    def lesion_renderer(self) -> FakeLesionRenderer:
        return FakeLesionRenderer()


@pytest.mark.parametrize(
    ("fake", "port"),
    [
        (lambda: FakeTumorClassifier(), TumorClassifier),
        (lambda: FakeHealthProbe(), HealthProbe),
        (lambda: FakeImageDecoder(), ImageDecoder),
        (lambda: FakeUnitOfWork(), UnitOfWork),
    ],
)
def test_every_fake_is_its_port(fake: Callable[[], object], port: type) -> None:
    assert isinstance(fake(), port)


async def test_fake_classifier_is_deterministic_and_can_be_unavailable() -> None:
    classifier, decoder = FakeTumorClassifier(), FakeImageDecoder()
    bright = await decoder.decode(fake_image("x", level=255), "x.png")
    dark = await decoder.decode(fake_image("y", level=0), "y.png")
    first = await classifier.classify([bright, dark])
    assert [r.p_malignant for r in first] == [1.0, 0.0]
    assert first == await classifier.classify([bright, dark])
    assert all(v >= 0 for row in first[0].cam for v in row)
    classifier.available = False
    with pytest.raises(ModelUnavailable):
        await classifier.classify([bright])


async def test_fake_health_probe_reports_like_the_real_one() -> None:
    probe = FakeHealthProbe()
    assert (await probe.check()).at_head is True
    probe.at_head = False
    assert (await probe.check()).migrations == "behind"
    probe.reachable = False
    with pytest.raises(DatabaseUnavailable):
        await probe.check()


class TestFakeTumorClassifier(TumorClassifierContract):
    @pytest.fixture
    def tumor_classifier(self) -> FakeTumorClassifier:
        return FakeTumorClassifier()


class TestFakeTumorClassifierWithoutLesionOutput(TumorClassifierContract):
    @pytest.fixture
    def tumor_classifier(self) -> FakeTumorClassifier:
        return FakeTumorClassifier(lesion=False)


class TestFakeHealthProbe(HealthProbeContract):
    @pytest.fixture
    def health_probe(self) -> FakeHealthProbe:
        return FakeHealthProbe()


class TestFakePacsClient(PacsClientContract):
    STUDY = "1.2.826.0.1.3680043.7"

    @pytest.fixture
    def pacs(self) -> FakePacsClient:
        return FakePacsClient()

    @pytest.fixture
    def seeded(self, pacs: FakePacsClient) -> SeededStudy:
        us, sr = "1.2.840.10008.5.1.4.1.1.6.1", "1.2.840.10008.5.1.4.1.1.88.33"
        held = [
            PacsInstance(us, f"{self.STUDY}.{n}", f"{self.STUDY}.0", fake_image(f"{n}"))
            for n in (1, 2)
        ]
        held.append(PacsInstance(sr, f"{self.STUDY}.9", f"{self.STUDY}.8", b"a report"))
        pacs.hold(PacsStudy(self.STUDY, PATIENT, ACCESSION, None, None, ("US", "SR"), 3), held)
        builder = FakeResultDocumentBuilder(self.STUDY)

        async def report() -> bytes:
            previous = await pacs.find_results(self.STUDY, builder.manufacturer)
            findings: list[ImageFindings] = []
            return (await builder.build(findings, previous)).report

        return SeededStudy(
            self.STUDY,
            (f"{self.STUDY}.1", f"{self.STUDY}.2"),
            (f"{self.STUDY}.9",),
            report,
            builder.manufacturer,
            identify=lambda data: data.split()[-1].decode(),
        )

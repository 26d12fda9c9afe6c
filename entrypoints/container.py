"""Composition root: the only place adapters are constructed and wired into use cases.

Entrypoints ask the container for use cases by the snake_case name of their command
(`container.predict_and_store()`, `container.list_predictions()`, ...): the HTTP API provides
every use case the container holds (`use_case_providers`) as a Litestar dependency, the web UI
calls the same providers. Decorators are composed here too (the classifier the use cases get is
the ONNX adapter wrapped in its metrics decorator), and process-wide objects (the engine, the
model session, the metrics registry) are singletons built from Settings. Nothing connects or
loads at import time: the engine and the model are created on first use, and
`init_resources` / `shutdown` bracket the life of a server process.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from dependency_injector import containers, providers

from adapters.clock import SystemClock
from adapters.imaging.any_decoder import FormatSniffingDecoder
from adapters.imaging.dicom_decoder import PydicomImageDecoder
from adapters.imaging.heatmap import PillowHeatmapRenderer, css_gradient
from adapters.imaging.lesion_overlay import PillowLesionRenderer
from adapters.imaging.pillow_decoder import PillowImageDecoder
from adapters.inference.instrumented import InstrumentedTumorClassifier
from adapters.inference.onnx_classifier import OnnxTumorClassifier
from adapters.metrics import PrometheusMetrics
from adapters.persistence.engine import create_engine
from adapters.persistence.health import SqlAlchemyHealthProbe
from adapters.persistence.login_throttle import SqlAlchemyLoginThrottle
from adapters.persistence.performance import SqlAlchemyPerformanceReader
from adapters.persistence.statistics import SqlAlchemyStatisticsReader
from adapters.persistence.unit_of_work import SqlAlchemyUnitOfWork
from adapters.security.argon2_hasher import Argon2PasswordHasher, Argon2Profile
from adapters.security.jwt_tokens import JwtTokenService
from adapters.security.password_strength import ZxcvbnPasswordStrength
from adapters.security.secrets import load_or_create_secret
from adapters.storage.filesystem_store import FilesystemImageStore
from application import use_cases as uc
from application.ports import PacsClient, ReportRenderer, ResultDocumentBuilder
from domain.errors import ErrorCode, ModelUnavailable
from entrypoints.settings import Settings, StartupError
from entrypoints.web.i18n import CATALOGUES

MODEL_HELP = (
    "Train and export it with `make train` (see ml/README.md), or point "
    "BREASTSCAN_MODEL_PATH at an existing .onnx file."
)


def _jwt_secret(settings: Settings) -> bytes | str:
    return settings.jwt_secret or load_or_create_secret(settings.jwt_secret_file)


# The PDF, DICOMweb and DICOM-SR libraries (fpdf2, dicomweb-client, highdicom) cost about a
# second of start-up and 20 MiB together: they are imported when first used, not by every worker.
def _report_renderer() -> ReportRenderer:
    from adapters.reporting.fpdf_report import FpdfReportRenderer

    return FpdfReportRenderer(CATALOGUES)


def _pacs_client(settings: Settings) -> PacsClient:
    from adapters.pacs.dicomweb import DicomwebPacsClient

    return DicomwebPacsClient(
        settings.pacs_dicomweb_url,
        timeout_s=settings.pacs_timeout_seconds,
        attempts=settings.pacs_attempts,
        username=settings.pacs_username,
        password=settings.pacs_password,
    )


def _result_builder() -> ResultDocumentBuilder:
    from adapters.pacs.results import HighdicomResultDocumentBuilder

    return HighdicomResultDocumentBuilder()


def _classifier(settings: Settings) -> OnnxTumorClassifier:
    if not settings.model_path.is_file():
        raise ModelUnavailable(
            f"Model file not found: {settings.model_path}. {MODEL_HELP}",
            ErrorCode.MODEL_MISSING,
            path=str(settings.model_path),
        )
    # Unless configured, each API worker gets half its share of the cores per inference
    # (decoding runs beside it, and idle ORT threads spin and steal from it: on two cores one
    # thread per run does far more images per second than two) and enough concurrent runs
    # to keep its whole share busy. See benchmarks/bench.py.
    share = max(1, (os.cpu_count() or 1) // settings.workers)
    threads = settings.ort_threads or max(1, share // 2)
    concurrency = settings.inference_concurrency or max(1, share // threads)
    return OnnxTumorClassifier(
        settings.model_path,
        providers=settings.ort_providers,
        intra_op_threads=threads,
        max_concurrency=concurrency,
        max_batch=settings.inference_max_batch,
        max_wait_s=settings.inference_max_wait_ms / 1000,
    )


class Container(containers.DeclarativeContainer):
    """Adapters as singletons (one engine, one ONNX session per process), then use cases."""

    settings = providers.Dependency(instance_of=Settings)

    # --- adapters ----------------------------------------------------------------------
    clock = providers.Singleton(SystemClock)
    engine = providers.Singleton(create_engine, settings.provided.resolved_database_url)
    uow = providers.Singleton(SqlAlchemyUnitOfWork, engine)
    health_probe = providers.Singleton(SqlAlchemyHealthProbe, engine)
    hasher = providers.Singleton(
        Argon2PasswordHasher,
        profile=providers.Factory(
            Argon2Profile,
            memory_kib=settings.provided.argon2_memory_kib,
            time_cost=settings.provided.argon2_time_cost,
            parallelism=settings.provided.argon2_parallelism,
        ),
        max_concurrency=settings.provided.argon2_max_concurrency,
    )
    tokens = providers.Singleton(
        JwtTokenService,
        secret=providers.Callable(_jwt_secret, settings),
        issuer=settings.provided.jwt_issuer,
        audience=settings.provided.jwt_audience,
        ttl=providers.Callable(
            lambda minutes: timedelta(minutes=minutes), settings.provided.token_ttl_minutes
        ),
        clock=clock,
    )
    throttle = providers.Singleton(  # in the database: one budget across all replicas
        SqlAlchemyLoginThrottle,
        engine,
        clock=clock,
        max_failures=settings.provided.login_max_failures,
        base_lockout=providers.Callable(
            lambda seconds: timedelta(seconds=seconds), settings.provided.login_lockout_seconds
        ),
    )
    # One limiter each: a burst of DICOM files and one of pictures decode side by side.
    decoder = providers.Singleton(
        FormatSniffingDecoder,
        pictures=providers.Singleton(
            PillowImageDecoder,
            max_bytes=settings.provided.max_upload_bytes,
            max_pixels=settings.provided.max_pixels,
            max_concurrency=settings.provided.decode_concurrency,
        ),
        dicom=providers.Singleton(
            PydicomImageDecoder,
            max_bytes=settings.provided.max_upload_bytes,
            max_pixels=settings.provided.max_pixels,
            max_concurrency=settings.provided.decode_concurrency,
        ),
    )
    heatmap_renderer = providers.Singleton(PillowHeatmapRenderer)
    heatmap_legend = providers.Singleton(css_gradient)  # the renderer's colours, for the UI
    lesion_renderer = providers.Singleton(PillowLesionRenderer)
    report_renderer = providers.Singleton(_report_renderer)
    metrics = providers.Singleton(PrometheusMetrics, settings.provided.prometheus_multiproc_dir)
    onnx_classifier = providers.Singleton(_classifier, settings)
    classifier = providers.Singleton(InstrumentedTumorClassifier, onnx_classifier, metrics)
    statistics = providers.Singleton(SqlAlchemyStatisticsReader, engine)
    performance = providers.Singleton(SqlAlchemyPerformanceReader, engine)
    image_store = providers.Singleton(
        FilesystemImageStore, providers.Callable(Path, settings.provided.image_dir)
    )
    common_passwords = providers.Singleton(uc.load_common_passwords)
    password_strength = providers.Singleton(ZxcvbnPasswordStrength)

    # --- use cases, one per command ---------------------------------------------------
    register_user = providers.Singleton(
        uc.RegisterUserUseCase,
        uow,
        hasher,
        clock,
        common_passwords,
        password_strength,
        registration_open=settings.provided.registration_open,
    )
    change_password = providers.Singleton(
        uc.ChangePasswordUseCase,
        uow,
        hasher,
        tokens,
        throttle,
        clock,
        common_passwords,
        password_strength,
    )
    authenticate = providers.Singleton(uc.AuthenticateUseCase, uow, hasher, tokens, throttle, clock)
    resolve_current_user = providers.Singleton(uc.ResolveCurrentUserUseCase, uow, tokens)
    logout = providers.Singleton(uc.LogoutUseCase, uow, clock)
    list_users = providers.Singleton(uc.ListUsersUseCase, uow)
    update_user = providers.Singleton(uc.UpdateUserUseCase, uow, clock)
    list_audit_log = providers.Singleton(uc.ListAuditLogUseCase, uow)
    predict = providers.Singleton(uc.PredictUseCase, decoder, classifier)
    infer_tensors = providers.Singleton(
        uc.InferTensorsUseCase, classifier, max_batch=settings.provided.max_files_per_request
    )
    predict_and_store = providers.Singleton(
        uc.PredictAndStoreUseCase,
        uow,
        decoder,
        classifier,
        image_store,
        clock,
        max_batch=settings.provided.max_files_per_request,
    )
    list_predictions = providers.Singleton(uc.ListPredictionsUseCase, uow)
    create_study = providers.Singleton(uc.CreateStudyUseCase, uow, clock)
    update_study = providers.Singleton(uc.UpdateStudyUseCase, uow, clock)
    list_studies = providers.Singleton(uc.ListStudiesUseCase, uow, clock)
    get_study = providers.Singleton(uc.GetStudyUseCase, uow, clock)
    place_study_image = providers.Singleton(uc.PlaceStudyImageUseCase, uow, clock)
    delete_study = providers.Singleton(uc.DeleteStudyUseCase, uow, image_store, clock)
    get_study_report = providers.Singleton(
        uc.GetStudyReportUseCase,
        uow,
        image_store,
        heatmap_renderer,
        lesion_renderer,
        report_renderer,
        clock,
    )
    add_images_to_study = providers.Singleton(
        uc.AddImagesToStudyUseCase, uow, predict_and_store, clock
    )
    pacs = providers.Singleton(_pacs_client, settings)
    result_builder = providers.Singleton(_result_builder)
    search_pacs = providers.Singleton(uc.SearchPacsUseCase, pacs, uow, clock)
    # A PACS study is imported in one transaction, so its bound is its own, not the upload's.
    import_study_from_pacs = providers.Singleton(
        uc.ImportStudyFromPacsUseCase,
        pacs,
        providers.Singleton(
            uc.AddImagesToStudyUseCase,
            uow,
            providers.Singleton(
                uc.PredictAndStoreUseCase,
                uow,
                decoder,
                classifier,
                image_store,
                clock,
                max_batch=settings.provided.pacs_max_study_images,
            ),
            clock,
        ),
        uow,
        clock,
    )
    send_results_to_pacs = providers.Singleton(
        uc.SendResultsToPacsUseCase, uow, pacs, result_builder, decoder, image_store, clock
    )
    receive_pacs_images = providers.Singleton(uc.ReceivePacsImagesUseCase, uow, add_images_to_study)
    export_predictions = providers.Singleton(uc.ExportPredictionsUseCase, uow, clock)
    get_prediction = providers.Singleton(uc.GetPredictionUseCase, uow, clock)
    get_prediction_image = providers.Singleton(
        uc.GetPredictionImageUseCase, uow, image_store, heatmap_renderer
    )
    get_prediction_dicom = providers.Singleton(
        uc.GetPredictionDicomUseCase, uow, image_store, clock
    )
    get_lesion_overlay = providers.Singleton(
        uc.GetLesionOverlayUseCase, uow, image_store, lesion_renderer
    )
    review_prediction = providers.Singleton(uc.ReviewPredictionUseCase, uow, clock)
    record_outcome = providers.Singleton(uc.RecordOutcomeUseCase, uow, clock)
    withdraw_outcome = providers.Singleton(uc.WithdrawOutcomeUseCase, uow, clock)
    delete_prediction = providers.Singleton(uc.DeletePredictionUseCase, uow, image_store, clock)
    sweep_images = providers.Singleton(uc.SweepImagesUseCase, uow, image_store, clock)
    get_statistics = providers.Singleton(uc.GetStatisticsUseCase, statistics)
    get_performance = providers.Singleton(uc.GetPerformanceUseCase, performance, classifier)
    describe_model = providers.Singleton(uc.DescribeModelUseCase, classifier)
    check_readiness = providers.Singleton(
        uc.CheckReadinessUseCase, health_probe, classifier.provider
    )


USE_CASE_TYPES = frozenset(getattr(uc, name) for name in uc.__all__ if name.endswith("UseCase"))


def use_case_providers(container: Container) -> dict[str, providers.Provider[object]]:
    """Every use case the container holds, by provider name: the one list entrypoints use."""
    return {
        name: provider
        for name, provider in container.providers.items()
        if getattr(provider, "provides", None) in USE_CASE_TYPES
    }


def build_container(settings: Settings | None = None) -> Container:
    """A container for the given settings (default: read from the environment)."""
    return Container(settings=settings or Settings.from_env())


def check_model_file(settings: Settings) -> None:
    """Fail fast, before any server starts, when the model file is absent."""
    if not settings.model_path.is_file():
        raise StartupError(f"Model file not found: {settings.model_path}\n{MODEL_HELP}")


async def init_resources(container: Container, *, load_model: bool = True) -> None:
    """Create the long-lived resources up front so the first request pays nothing.

    With `load_model`, a missing or broken model stops start-up with a clear message;
    without it the service starts and /api/ready reports the model as the reason.
    """
    container.engine()
    if not load_model:
        return
    try:
        container.classifier()
    except ModelUnavailable as error:
        raise StartupError(error.message) from error


async def shutdown(container: Container) -> None:
    """Release the database connections (the ONNX session goes with the process)."""
    await container.engine().dispose()  # cheap when the engine never connected

"""Configuration: environment variables with the one prefix BREASTSCAN_, validated once.

Every value has a safe default for the embedded, single-machine mode; nothing secret is
hard-coded (the JWT secret is configured or generated once and kept in the data directory).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

PREFIX = "BREASTSCAN_"
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL_PATH = PACKAGE_ROOT / "models" / "breast-cnn.onnx"
MIN_JWT_SECRET_BYTES = 32
MIN_METRICS_TOKEN_CHARS = 16
HIDDEN_VARIABLES = frozenset({"JWT_SECRET", "METRICS_TOKEN"})  # never echoed in errors
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")

T = TypeVar("T")


class SettingsError(ValueError):
    """One or more BREASTSCAN_ variables are invalid; the message lists every problem."""


class StartupError(SettingsError):
    """The service cannot start: the configuration names something missing or unusable (the
    model file); the message says what and how to fix it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the composition root needs, read from the environment."""

    data_dir: Path = Path("data")
    database_url: str = ""  # empty: SQLite file under data_dir
    model_path: Path = DEFAULT_MODEL_PATH
    ort_providers: tuple[str, ...] = ("CPUExecutionProvider",)
    ort_threads: int | None = None  # None: half of each API worker's share of the cores
    inference_concurrency: int | None = None  # None: enough runs at once to use the share
    decode_concurrency: int = 2
    jwt_secret: str | None = field(default=None, repr=False)
    token_ttl_minutes: int = 30
    jwt_issuer: str = "breastscan"
    jwt_audience: str = "breastscan-api"
    argon2_memory_kib: int = 19_456
    argon2_time_cost: int = 2
    argon2_parallelism: int = 1
    argon2_max_concurrency: int = 2
    login_max_failures: int = 5
    login_lockout_seconds: int = 300
    max_upload_bytes: int = 10 * 1024 * 1024
    max_pixels: int = 4096 * 4096
    max_files_per_request: int = 10
    registration_open: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    log_level: str = "info"
    cors_origins: tuple[str, ...] = ()
    metrics_token: str | None = field(default=None, repr=False)  # None: /api/metrics is off

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'breastscan.db'}"

    @property
    def jwt_secret_file(self) -> Path:
        return self.data_dir / "jwt-secret"

    @property
    def image_dir(self) -> Path:
        return self.data_dir / "images"

    @property
    def max_request_bytes(self) -> int:
        """Largest multipart body accepted: every file at the limit plus form overhead."""
        return self.max_upload_bytes * self.max_files_per_request + 64 * 1024

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read and validate every BREASTSCAN_ variable; raise SettingsError listing all faults."""
        env = _Reader(os.environ if environ is None else environ)
        data_dir = env.get("DATA_DIR", _path, Path("data")).expanduser().resolve()
        settings = cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL", str, ""),
            model_path=env.get("MODEL_PATH", _path, DEFAULT_MODEL_PATH).expanduser().resolve(),
            ort_providers=env.get("ORT_PROVIDERS", _csv, ("CPUExecutionProvider",)),
            ort_threads=env.get("ORT_THREADS", _positive_int, None),
            inference_concurrency=env.get("INFERENCE_CONCURRENCY", _positive_int, None),
            decode_concurrency=env.get("DECODE_CONCURRENCY", _positive_int, 2),
            jwt_secret=env.get("JWT_SECRET", _jwt_secret, None),
            token_ttl_minutes=env.get("TOKEN_TTL_MINUTES", _positive_int, 30),
            jwt_issuer=env.get("JWT_ISSUER", _non_empty, "breastscan"),
            jwt_audience=env.get("JWT_AUDIENCE", _non_empty, "breastscan-api"),
            argon2_memory_kib=env.get("ARGON2_MEMORY_KIB", _positive_int, 19_456),
            argon2_time_cost=env.get("ARGON2_TIME_COST", _positive_int, 2),
            argon2_parallelism=env.get("ARGON2_PARALLELISM", _positive_int, 1),
            argon2_max_concurrency=env.get("ARGON2_MAX_CONCURRENCY", _positive_int, 2),
            login_max_failures=env.get("LOGIN_MAX_FAILURES", _positive_int, 5),
            login_lockout_seconds=env.get("LOGIN_LOCKOUT_SECONDS", _positive_int, 300),
            max_upload_bytes=env.get("MAX_UPLOAD_BYTES", _positive_int, 10 * 1024 * 1024),
            max_pixels=env.get("MAX_PIXELS", _positive_int, 4096 * 4096),
            max_files_per_request=env.get("MAX_FILES_PER_REQUEST", _positive_int, 10),
            registration_open=env.get("REGISTRATION_OPEN", _bool, True),
            host=env.get("HOST", _non_empty, "127.0.0.1"),
            port=env.get("PORT", _port, 8000),
            workers=env.get("WORKERS", _positive_int, 1),
            log_level=env.get("LOG_LEVEL", _log_level, "info"),
            cors_origins=env.get("CORS_ORIGINS", _csv, ()),
            metrics_token=env.get("METRICS_TOKEN", _metrics_token, None),
        )
        if settings.database_url and "://" not in settings.database_url:
            env.errors.append(
                f"{PREFIX}DATABASE_URL: expected a SQLAlchemy URL such as "
                "postgresql+asyncpg://user:password@host/db"
            )
        if settings.argon2_memory_kib < 8 * settings.argon2_parallelism:
            env.errors.append(f"{PREFIX}ARGON2_MEMORY_KIB: must be at least 8 x parallelism")
        if env.errors:
            raise SettingsError("Invalid configuration:\n  " + "\n  ".join(env.errors))
        return settings


class _Reader:
    def __init__(self, environ: Mapping[str, str]) -> None:
        self._environ = environ
        self.errors: list[str] = []

    def get(self, name: str, parse: Callable[[str], T], default: T) -> T:
        raw = self._environ.get(PREFIX + name)
        if raw is None or raw.strip() == "":
            return default
        try:
            return parse(raw.strip())
        except ValueError as exc:
            shown = "<hidden>" if name in HIDDEN_VARIABLES else repr(raw)
            self.errors.append(f"{PREFIX}{name}={shown}: {exc}")
            return default


def _path(raw: str) -> Path:
    return Path(raw)


def _non_empty(raw: str) -> str:
    if not raw:
        raise ValueError("must not be empty")
    return raw


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ValueError("expected a whole number") from None
    if value < 1:
        raise ValueError("must be at least 1")
    return value


def _port(raw: str) -> int:
    value = _positive_int(raw)
    if value > 65535:
        raise ValueError("must be a TCP port (1-65535)")
    return value


def _bool(raw: str) -> bool:
    lowered = raw.lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _csv(raw: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in raw.split(",") if part.strip())


def _log_level(raw: str) -> str:
    if raw.lower() not in LOG_LEVELS:
        raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
    return raw.lower()


def _jwt_secret(raw: str) -> str:
    if len(raw.encode()) < MIN_JWT_SECRET_BYTES:
        raise ValueError(
            f"must be at least {MIN_JWT_SECRET_BYTES} bytes (256 bits); "
            'generate one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
        )
    return raw


def _metrics_token(raw: str) -> str:
    if len(raw) < MIN_METRICS_TOKEN_CHARS:
        raise ValueError(
            f"must be at least {MIN_METRICS_TOKEN_CHARS} characters, or unset to disable "
            '/api/metrics; generate one with: python -c "import secrets; '
            'print(secrets.token_urlsafe(32))"'
        )
    return raw

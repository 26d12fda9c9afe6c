"""Configuration: environment variables with the one prefix BREASTSCAN_, validated once.

Every value has a safe default for the embedded, single-machine mode; nothing secret is
hard-coded (the JWT secret is configured or generated once and kept in the data directory).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

PREFIX = "BREASTSCAN_"
API_PREFIX = "/api"  # where the HTTP API is served, in both modes
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
    inference_max_batch: int = 1  # images that concurrent requests may share in one run
    inference_max_wait_ms: float = 0.0  # how long a request may wait for others to join it
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
    # Peers whose X-Forwarded-For/-Proto is believed (IPs or CIDR networks; "*" = any): the
    # reverse proxy. Empty: nobody's, the client address is the TCP peer's.
    trusted_proxies: tuple[str, ...] = ()
    metrics_token: str | None = field(default=None, repr=False)  # None: /api/metrics is off
    # The clinic's PACS: its DICOMweb root (QIDO/WADO/STOW-RS); empty: no PACS configured.
    pacs_dicomweb_url: str = ""
    pacs_username: str = ""  # HTTP Basic credentials for the PACS; empty: none sent
    pacs_password: str | None = field(default=None, repr=False)
    pacs_timeout_seconds: int = 20
    pacs_attempts: int = 3  # tries per request on connection errors and 5xx, backing off
    # The most images of one PACS study analysed in one import (one transaction: all or nothing)
    pacs_max_study_images: int = 64
    # The C-STORE listener (`breastscan dicom-listen`): its AE title and port, the calling AE
    # titles it accepts (empty: any), and the account it files received images under.
    dicom_ae_title: str = "BREASTSCAN"
    dicom_port: int = 11112
    dicom_accepted_aets: tuple[str, ...] = ()
    dicom_service_account: str = ""
    # Not a BREASTSCAN_ variable: prometheus-client's own, read by it in every worker too.
    prometheus_multiproc_dir: Path | None = None

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.data_dir / 'breastscan.db'}"

    @property
    def proxy_options(self) -> dict[str, Any]:
        """uvicorn's options for forwarded headers: honoured from the trusted proxies only."""
        return {
            "proxy_headers": bool(self.trusted_proxies),
            "forwarded_allow_ips": ",".join(self.trusted_proxies),
        }

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
        """Read and validate every BREASTSCAN_ variable; raise SettingsError listing all faults.

        Each field is read from BREASTSCAN_<FIELD NAME>; an unset or blank variable keeps the
        field's default, written once, in the class above."""
        source = os.environ if environ is None else environ
        env = _Reader(source)
        defaults = cls()
        values = {
            name: env.get(name.upper(), parse, getattr(defaults, name))
            for name, parse in _PARSERS.items()
        }
        for name in ("data_dir", "model_path"):
            values[name] = Path(str(values[name])).expanduser().resolve()
        multiproc = source.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
        values["prometheus_multiproc_dir"] = Path(multiproc) if multiproc else None
        settings = replace(defaults, **values)
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


def _milliseconds(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ValueError("expected a number of milliseconds") from None
    if not 0.0 <= value <= 1000.0:
        raise ValueError("must be between 0 and 1000")
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


def _ae_title(raw: str) -> str:
    """A DICOM AE title: 1 to 16 printable ASCII characters, no backslash (PS3.5 AE)."""
    title = raw.strip()
    if not 1 <= len(title) <= 16 or not all(" " <= c <= "~" and c != "\\" for c in title):
        raise ValueError("must be a DICOM AE title (1-16 printable ASCII characters, no \\)")
    return title


def _ae_titles(raw: str) -> tuple[str, ...]:
    return tuple(_ae_title(part) for part in _csv(raw))


def _proxies(raw: str) -> tuple[str, ...]:
    found = _csv(raw)
    for entry in found:
        if entry != "*":
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
    return found


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


# How each field is parsed from its BREASTSCAN_<FIELD NAME> variable.
_PARSERS: dict[str, Callable[[str], object]] = {
    "data_dir": _path,
    "database_url": str,
    "model_path": _path,
    "ort_providers": _csv,
    "ort_threads": _positive_int,
    "inference_concurrency": _positive_int,
    "inference_max_batch": _positive_int,
    "inference_max_wait_ms": _milliseconds,
    "decode_concurrency": _positive_int,
    "jwt_secret": _jwt_secret,
    "token_ttl_minutes": _positive_int,
    "jwt_issuer": _non_empty,
    "jwt_audience": _non_empty,
    "argon2_memory_kib": _positive_int,
    "argon2_time_cost": _positive_int,
    "argon2_parallelism": _positive_int,
    "argon2_max_concurrency": _positive_int,
    "login_max_failures": _positive_int,
    "login_lockout_seconds": _positive_int,
    "max_upload_bytes": _positive_int,
    "max_pixels": _positive_int,
    "max_files_per_request": _positive_int,
    "registration_open": _bool,
    "host": _non_empty,
    "port": _port,
    "workers": _positive_int,
    "log_level": _log_level,
    "cors_origins": _csv,
    "trusted_proxies": _proxies,
    "metrics_token": _metrics_token,
    "pacs_dicomweb_url": str,
    "pacs_username": str,
    "pacs_password": str,
    "pacs_timeout_seconds": _positive_int,
    "pacs_attempts": _positive_int,
    "pacs_max_study_images": _positive_int,
    "dicom_ae_title": _ae_title,
    "dicom_port": _port,
    "dicom_accepted_aets": _ae_titles,
    "dicom_service_account": str,
}

"""BREASTSCAN_* configuration: defaults, parsing and one clear error listing every fault."""

from __future__ import annotations

from pathlib import Path

import pytest

from entrypoints.settings import DEFAULT_MODEL_PATH, Settings, SettingsError

pytestmark = [pytest.mark.e2e]


def test_defaults_are_safe_for_the_embedded_mode(tmp_path: Path) -> None:
    s = Settings.from_env({"BREASTSCAN_DATA_DIR": str(tmp_path)})
    assert s.data_dir == tmp_path
    assert s.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'breastscan.db'}"
    assert s.model_path == DEFAULT_MODEL_PATH
    assert s.ort_providers == ("CPUExecutionProvider",)
    assert s.jwt_secret is None
    assert s.token_ttl_minutes == 30
    assert s.max_upload_bytes == 10 * 1024 * 1024
    assert s.max_pixels == 4096 * 4096
    assert s.registration_open is True
    assert s.host == "127.0.0.1"
    assert s.argon2_memory_kib >= 19_456


def test_values_are_parsed(tmp_path: Path) -> None:
    s = Settings.from_env(
        {
            "BREASTSCAN_DATA_DIR": str(tmp_path),
            "BREASTSCAN_DATABASE_URL": "postgresql+asyncpg://app@db/breastscan",
            "BREASTSCAN_ORT_PROVIDERS": "CUDAExecutionProvider, CPUExecutionProvider",
            "BREASTSCAN_ORT_THREADS": "2",
            "BREASTSCAN_REGISTRATION_OPEN": "false",
            "BREASTSCAN_CORS_ORIGINS": "https://a.example, https://b.example",
            "BREASTSCAN_LOG_LEVEL": "DEBUG",
            "BREASTSCAN_PORT": "9000",
        }
    )
    assert s.resolved_database_url == "postgresql+asyncpg://app@db/breastscan"
    assert s.ort_providers == ("CUDAExecutionProvider", "CPUExecutionProvider")
    assert s.ort_threads == 2
    assert s.registration_open is False
    assert s.cors_origins == ("https://a.example", "https://b.example")
    assert s.log_level == "debug"
    assert s.port == 9000


def test_every_fault_is_reported_at_once_without_echoing_secrets() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "BREASTSCAN_PORT": "99999",
                "BREASTSCAN_WORKERS": "0",
                "BREASTSCAN_REGISTRATION_OPEN": "maybe",
                "BREASTSCAN_JWT_SECRET": "hunter2",
                "BREASTSCAN_DATABASE_URL": "not a url",
                "BREASTSCAN_LOG_LEVEL": "loud",
            }
        )
    message = str(caught.value)
    for name in ("PORT", "WORKERS", "REGISTRATION_OPEN", "JWT_SECRET", "DATABASE_URL", "LOG_LEVEL"):
        assert f"BREASTSCAN_{name}" in message
    assert "hunter2" not in message


def test_forwarded_headers_are_believed_only_from_trusted_proxies() -> None:
    assert Settings.from_env({}).proxy_options == {
        "proxy_headers": False,
        "forwarded_allow_ips": "",
    }
    trusted = Settings.from_env({"BREASTSCAN_TRUSTED_PROXIES": "172.31.250.0/24, 10.0.0.7"})
    assert trusted.proxy_options == {
        "proxy_headers": True,
        "forwarded_allow_ips": "172.31.250.0/24,10.0.0.7",
    }
    with pytest.raises(SettingsError, match="TRUSTED_PROXIES"):
        Settings.from_env({"BREASTSCAN_TRUSTED_PROXIES": "proxy.local"})


def test_micro_batching_settings_are_parsed_and_bounded() -> None:
    s = Settings.from_env(
        {"BREASTSCAN_INFERENCE_MAX_BATCH": "16", "BREASTSCAN_INFERENCE_MAX_WAIT_MS": "2.5"}
    )
    assert (s.inference_max_batch, s.inference_max_wait_ms) == (16, 2.5)
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {"BREASTSCAN_INFERENCE_MAX_BATCH": "0", "BREASTSCAN_INFERENCE_MAX_WAIT_MS": "-1"}
        )
    assert "INFERENCE_MAX_BATCH" in str(caught.value)
    assert "INFERENCE_MAX_WAIT_MS" in str(caught.value)


def test_pacs_and_listener_settings_are_parsed_and_checked() -> None:
    s = Settings.from_env(
        {
            "BREASTSCAN_PACS_DICOMWEB_URL": "http://orthanc:8042/dicom-web",
            "BREASTSCAN_PACS_ATTEMPTS": "5",
            "BREASTSCAN_DICOM_AE_TITLE": "BSCAN",
            "BREASTSCAN_DICOM_PORT": "104",
            "BREASTSCAN_DICOM_ACCEPTED_AETS": "ORTHANC, US-ROOM-2",
            "BREASTSCAN_DICOM_SERVICE_ACCOUNT": "pacs@clinic.example",
        }
    )
    assert (s.pacs_dicomweb_url, s.pacs_attempts, s.pacs_timeout_seconds) == (
        "http://orthanc:8042/dicom-web",
        5,
        20,
    )
    assert (s.dicom_ae_title, s.dicom_port) == ("BSCAN", 104)
    assert s.dicom_accepted_aets == ("ORTHANC", "US-ROOM-2")
    with pytest.raises(SettingsError) as caught:
        Settings.from_env(
            {
                "BREASTSCAN_DICOM_AE_TITLE": "A-TITLE-LONGER-THAN-16",
                "BREASTSCAN_DICOM_ACCEPTED_AETS": "OK,BAD\\TITLE",
                "BREASTSCAN_DICOM_PORT": "70000",
            }
        )
    for name in ("DICOM_AE_TITLE", "DICOM_ACCEPTED_AETS", "DICOM_PORT"):
        assert name in str(caught.value)

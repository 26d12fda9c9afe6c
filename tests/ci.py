"""One rule for a missing prerequisite: it fails under CI and skips elsewhere, with the reason."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def in_ci() -> bool:
    return truthy(os.environ.get("CI"))


def unavailable(reason: str, *, module_level: bool = False) -> NoReturn:
    """A prerequisite (PostgreSQL, Chromium, data, model, ML extra) is missing."""
    if in_ci():
        pytest.fail(reason, pytrace=False)
    pytest.skip(reason, allow_module_level=module_level)

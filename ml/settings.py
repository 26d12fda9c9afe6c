"""Loads ml/config.yaml and applies dotted CLI overrides (e.g. train.epochs=2)."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "ml" / "config.yaml"
DATA_DIR_ENV = "BREASTSCAN_DATA_DIR"
SHARED_DIR_ENV = "BREASTSCAN_SHARED_DIR"


def load_config(
    path: str | Path | None = None, overrides: list[str] | None = None
) -> dict[str, Any]:
    with open(path or DEFAULT_CONFIG, encoding="utf-8") as handle:
        cfg: dict[str, Any] = yaml.safe_load(handle)
    cfg = copy.deepcopy(cfg)
    for item in overrides or []:
        key, _, raw = item.partition("=")
        if not _:
            raise ValueError(f"override {item!r} is not key=value")
        node = cfg
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(raw)
    return cfg


def resolve(path: str | Path) -> Path:
    """A path from the config, relative to the repository root unless absolute."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else (REPO_ROOT / candidate).resolve()


def dataset_path(cfg: dict[str, Any]) -> Path:
    """The npz: BREASTSCAN_DATA_DIR/<file> if set, else the configured path with a leading
    ../shared replaced by BREASTSCAN_SHARED_DIR if set, else the configured path."""
    configured = Path(cfg["data"]["npz"])
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override) / configured.name
    shared = os.environ.get(SHARED_DIR_ENV)
    if shared and configured.parts[:2] == ("..", "shared"):
        return Path(shared).joinpath(*configured.parts[2:])
    return resolve(configured)

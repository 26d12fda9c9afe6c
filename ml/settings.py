"""Loads ml/config.yaml into a typed Config and applies dotted CLI overrides (train.epochs=2).

Unknown keys and wrongly typed values are refused with the key's path (msgspec validation).
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import msgspec
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "ml" / "config.yaml"
DATA_DIR_ENV = "BREASTSCAN_ML_DATA_DIR"  # not BREASTSCAN_DATA_DIR: that is the service's
SHARED_DIR_ENV = "BREASTSCAN_SHARED_DIR"


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    pass


class DataConfig(_Section, frozen=True):
    busi_npz: str
    busi_masks: str
    busbra_npz: str
    malignant_label: int = 0
    dedup_hamming: int = 4
    busbra_val_folds: int = 7


class ModelConfig(_Section, frozen=True):
    filters: list[int]
    decoder: list[int]
    global_share: float = 0.3
    feature_dropout: float = 0.0
    l2: float = 0.0
    bn_momentum: float = 0.9
    birads_head: bool = False


class TrainConfig(_Section, frozen=True):
    epochs: int
    samples_per_site: int
    batch_size: int
    learning_rate: float
    min_learning_rate: float
    warmup_epochs: float = 0.0
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    class_weight: str | None = "balanced"
    seg_weight: float = 1.0
    cam_weight: float = 0.0
    birads_weight: float = 0.0
    ema: float = 0.0


class AugmentConfig(_Section, frozen=True):
    hflip: bool = False
    rotation_deg: float = 0.0
    zoom: float = 0.0
    translate: float = 0.0
    depth_crop: float = 0.0
    depth_crop_p: float = 0.0
    gain: float = 0.0
    contrast: float = 0.0
    gamma: float = 0.0
    speckle: float = 0.0
    speckle_p: float = 0.0
    blur_p: float = 0.0
    lowres_p: float = 0.0
    noise: float = 0.0


class ThresholdConfig(_Section, frozen=True):
    min_sensitivity: float = 0.9


class EvalConfig(_Section, frozen=True):
    bootstrap: int = 2000


class Config(_Section, frozen=True):
    seed: int
    model_version: str
    data: DataConfig
    model: ModelConfig
    train: TrainConfig
    augment: AugmentConfig
    calibration: str = "temperature"
    threshold: ThresholdConfig = msgspec.field(default_factory=ThresholdConfig)
    bands: list[float] = msgspec.field(default_factory=lambda: [0.02, 0.10, 0.50, 0.95])
    lesion_threshold: float = 0.5
    cam_grid: int = 8  # the exported CAM's grid: 8 (the encoder's), 16 or 32 (finer, same logit)
    eval: EvalConfig = msgspec.field(default_factory=EvalConfig)
    output_dir: str = "ml/runs/default"

    def as_dict(self) -> dict[str, Any]:
        built: dict[str, Any] = msgspec.to_builtins(self)
        return built


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Validate a plain mapping (the YAML, or a run's summary.json) into a Config."""
    try:
        return msgspec.convert(raw, Config)
    except msgspec.ValidationError as exc:
        raise ValueError(f"invalid training configuration: {exc}") from exc


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    with open(path or DEFAULT_CONFIG, encoding="utf-8") as handle:
        cfg: dict[str, Any] = copy.deepcopy(yaml.safe_load(handle))
    for item in overrides or []:
        key, _, raw = item.partition("=")
        if not _:
            raise ValueError(f"override {item!r} is not key=value")
        node = cfg
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(raw)
    return config_from_dict(cfg)


def resolve(path: str | Path) -> Path:
    """A path from the config, relative to the repository root unless absolute."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else (REPO_ROOT / candidate).resolve()


def data_path(cfg: Config, key: str = "busi_npz") -> Path:
    """A dataset file: BREASTSCAN_ML_DATA_DIR/<file> if set, else the configured path with a
    leading ../shared replaced by BREASTSCAN_SHARED_DIR if set, else the configured path."""
    configured = Path(getattr(cfg.data, key))
    override = os.environ.get(DATA_DIR_ENV)
    if override:
        return Path(override) / configured.name
    shared = os.environ.get(SHARED_DIR_ENV)
    if shared and configured.parts[:2] == ("..", "shared"):
        return Path(shared).joinpath(*configured.parts[2:])
    return resolve(configured)


def dataset_path(cfg: Config) -> Path:
    """The BUSI (BreastMNIST) npz."""
    return data_path(cfg, "busi_npz")

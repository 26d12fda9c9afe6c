"""Training augmentation: anatomically sane geometric and intensity jitter, seeded."""

from __future__ import annotations

from typing import Any

import keras
from keras import layers


def build_augmenter(aug: dict[str, Any], seed: int) -> keras.Sequential:
    steps: list[layers.Layer] = []
    if aug.get("hflip"):
        steps.append(layers.RandomFlip("horizontal", seed=seed))
    if aug.get("rotation"):
        steps.append(layers.RandomRotation(aug["rotation"], fill_mode="constant", seed=seed + 1))
    if aug.get("zoom"):
        steps.append(layers.RandomZoom(aug["zoom"], fill_mode="constant", seed=seed + 2))
    if aug.get("translate"):
        t = aug["translate"]
        steps.append(layers.RandomTranslation(t, t, fill_mode="constant", seed=seed + 3))
    if aug.get("brightness"):
        steps.append(
            layers.RandomBrightness(aug["brightness"], value_range=(0, 255), seed=seed + 4)
        )
    if aug.get("contrast"):
        steps.append(layers.RandomContrast(aug["contrast"], value_range=(0, 255), seed=seed + 5))
    if aug.get("noise"):  # additive Gaussian noise, std as a fraction of the 0-255 range
        steps.append(layers.Rescaling(1.0 / 255.0))
        steps.append(layers.GaussianNoise(aug["noise"], seed=seed + 6))
        steps.append(layers.Rescaling(255.0))
    return keras.Sequential(steps, name="augment")

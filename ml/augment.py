"""Training augmentation for image and lesion mask together, modelling scanner differences.

Geometry (flip, rotation, zoom, shift, a depth crop toward the skin line) moves image and mask
alike. Appearance changes what differs between scanners and sites: gain, contrast and gamma
curves, multiplicative speckle, blur, a lower acquisition resolution, additive noise.
Each sample draws its own parameters from a seeded TF generator.
"""

from __future__ import annotations

import math

import tensorflow as tf

from ml.settings import AugmentConfig


def _uniform(rng: tf.random.Generator, n: tf.Tensor, low: float, high: float) -> tf.Tensor:
    return rng.uniform([n], low, high)


def _chance(rng: tf.random.Generator, n: tf.Tensor, p: float) -> tf.Tensor:
    return tf.cast(rng.uniform([n]) < p, tf.float32)


def _affine(rng: tf.random.Generator, n: tf.Tensor, size: int, aug: AugmentConfig) -> tf.Tensor:
    """Per-sample output->input projective transforms [n,8]: flip, rotate, zoom, shift, depth."""
    c = size / 2.0
    flip = tf.where(_chance(rng, n, 0.5 if aug.hflip else 0.0) > 0, -1.0, 1.0)
    angle = _uniform(rng, n, -1.0, 1.0) * aug.rotation_deg * math.pi / 180.0
    zoom = tf.exp(_uniform(rng, n, -1.0, 1.0) * math.log(1.0 + aug.zoom))
    tx = _uniform(rng, n, -1.0, 1.0) * aug.translate * size
    ty = _uniform(rng, n, -1.0, 1.0) * aug.translate * size
    # Depth crop: keep the top (near the probe) and magnify, as a shallower depth setting does.
    depth = _chance(rng, n, aug.depth_crop_p) * _uniform(rng, n, 0.0, aug.depth_crop)
    zoom = zoom * (1.0 - depth)
    ty = ty - depth * c
    cos, sin = tf.cos(angle) * zoom, tf.sin(angle) * zoom
    a0, a1 = cos * flip, -sin
    b0, b1 = sin * flip, cos
    a2 = c - a0 * c - a1 * c + tx
    b2 = c - b0 * c - b1 * c + ty
    zeros = tf.zeros_like(a0)
    return tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)


def _warp(images: tf.Tensor, transforms: tf.Tensor, interpolation: str) -> tf.Tensor:
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation=interpolation,
        fill_mode="CONSTANT",
    )


def _blur(x: tf.Tensor, sigma: float) -> tf.Tensor:
    radius = 2
    taps = tf.exp(-(tf.range(-radius, radius + 1, dtype=tf.float32) ** 2) / (2.0 * sigma**2))
    taps = taps / tf.reduce_sum(taps)
    kernel = tf.reshape(taps[:, None] * taps[None, :], [2 * radius + 1, 2 * radius + 1, 1, 1])
    return tf.nn.conv2d(x, kernel, strides=1, padding="SAME")


def _per_sample(v: tf.Tensor) -> tf.Tensor:
    return v[:, None, None, None]


def augment_batch(
    images: tf.Tensor, masks: tf.Tensor, rng: tf.random.Generator, aug: AugmentConfig
) -> tuple[tf.Tensor, tf.Tensor]:
    """images float32 0-255 [N,S,S,3] (grey replicated), masks float32 [N,S,S] -> same shapes."""
    n = tf.shape(images)[0]
    size = int(images.shape[1])
    gray = images[..., :1] / 255.0
    transforms = _affine(rng, n, size, aug)
    gray = _warp(gray, transforms, "BILINEAR")
    masks = _warp(masks[..., None], transforms, "BILINEAR")[..., 0]

    # Lower acquisition resolution: down and up again, for a random share of the batch.
    low = tf.image.resize(
        tf.image.resize(gray, [size // 2, size // 2], antialias=True), [size, size]
    )
    gray = gray + _per_sample(_chance(rng, n, aug.lowres_p)) * (low - gray)
    # Blur of a random strength (mix with a sigma-1.2 blur).
    blur_mix = _chance(rng, n, aug.blur_p) * _uniform(rng, n, 0.3, 1.0)
    gray = gray + _per_sample(blur_mix) * (_blur(gray, 1.2) - gray)
    # Speckle: multiplicative grains at half resolution.
    grains = tf.image.resize(rng.normal([n, size // 2, size // 2, 1]), [size, size])
    speckle = _chance(rng, n, aug.speckle_p) * _uniform(rng, n, 0.0, aug.speckle)
    gray = gray * (1.0 + _per_sample(speckle) * grains)
    # Gain, contrast around the image mean, gamma curve, and additive noise.
    gain = tf.exp(_uniform(rng, n, -1.0, 1.0) * aug.gain)
    contrast = tf.exp(_uniform(rng, n, -1.0, 1.0) * aug.contrast)
    gamma = tf.exp(_uniform(rng, n, -1.0, 1.0) * aug.gamma)
    mean = tf.reduce_mean(gray, axis=[1, 2, 3], keepdims=True)
    gray = (gray - mean) * _per_sample(contrast) + mean
    gray = tf.clip_by_value(gray * _per_sample(gain), 0.0, 1.0) ** _per_sample(gamma)
    gray = gray + aug.noise * rng.normal(tf.shape(gray))
    gray = tf.clip_by_value(gray, 0.0, 1.0) * 255.0
    return tf.tile(gray, [1, 1, 1, 3]), tf.clip_by_value(masks, 0.0, 1.0)

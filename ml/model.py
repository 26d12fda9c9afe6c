"""Model 2.0: a residual encoder, a lesion-segmentation decoder and a lesion-weighted CAM head.

One pass gives three things from shared features:
- `lesion`: a small U-Net decoder (skips from the encoder) predicts the lesion mask;
- `cam`: per-location malignancy logits s[h,w] on the last encoder grid, weighted by where the
  network sees the lesion: weight = share/(h*w) + (1-share) * m / sum(m), m = lesion
  probability pooled to the grid (gradient stopped). The weighted map *is* the logit's
  decomposition over locations (logit = sum(cam) + bias), so the heatmap shows exactly the
  evidence the classifier used, concentrated on the lesion by construction;
- `logit`: sum(cam) + bias (calibrated and squashed to P(malignant) at export).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import layers

from ml.settings import ModelConfig


def _conv_bn(
    x: Any, filters: int, stride: int, name: str, reg: Any, momentum: float, relu: bool = True
) -> Any:
    x = layers.Conv2D(
        filters,
        3,
        strides=stride,
        padding="same",
        use_bias=False,
        kernel_regularizer=reg,
        name=f"{name}_conv",
    )(x)
    x = layers.BatchNormalization(momentum=momentum, name=f"{name}_bn")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _stage(x: Any, filters: int, stride: int, name: str, reg: Any, momentum: float) -> Any:
    """A strided conv, then a residual unit of two convs."""
    x = _conv_bn(x, filters, stride, f"{name}a", reg, momentum)
    y = _conv_bn(x, filters, 1, f"{name}b", reg, momentum)
    y = _conv_bn(y, filters, 1, f"{name}c", reg, momentum, relu=False)
    return layers.ReLU(name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, y]))


@keras.saving.register_keras_serializable(package="breastscan")
class LesionWeightedCam(layers.Layer):
    """cam = s * (share/(h*w) + (1-share) * m/sum(m)); logit = sum(cam) + bias."""

    def __init__(self, global_share: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.global_share = float(global_share)

    def build(self, input_shape: Any) -> None:
        self.bias = self.add_weight(name="bias", shape=(), initializer="zeros")

    def call(self, inputs: list[Any]) -> tuple[Any, Any]:
        scores, mask = inputs  # [N,h,w], [N,h,w] lesion probability on the same grid
        mask = tf.stop_gradient(mask)
        cells = tf.cast(tf.shape(scores)[1] * tf.shape(scores)[2], scores.dtype)
        focus = mask / (tf.reduce_sum(mask, axis=[1, 2], keepdims=True) + 1e-3)
        weight = self.global_share / cells + (1.0 - self.global_share) * focus
        cam = scores * weight
        logit = tf.reduce_sum(cam, axis=[1, 2]) + self.bias
        return logit, cam

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "global_share": self.global_share}


def build_model(cfg: ModelConfig, input_size: int = 128) -> keras.Model:
    """float32 0-255 [N,S,S,3] -> logit [N], cam [N,h,w], lesion_logit [N,S,S] (+ BI-RADS
    logits [N,4] when `birads_head`, for training only)."""
    reg = keras.regularizers.l2(cfg.l2) if cfg.l2 else None
    momentum = cfg.bn_momentum
    widths = list(cfg.filters)
    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0, name="scale")(inputs)
    skips = []
    for i, width in enumerate(widths):
        x = _stage(x, width, 2, f"enc{i + 1}", reg, momentum)
        skips.append(x)
    features = layers.Dropout(cfg.feature_dropout, name="features_drop")(x)

    # Decoder: upsample, concatenate the encoder skip, conv; lesion logits at 1/2 resolution.
    y = x
    for i, width in enumerate(cfg.decoder):
        y = layers.UpSampling2D(2, interpolation="bilinear", name=f"dec{i + 1}_up")(y)
        y = layers.Concatenate(name=f"dec{i + 1}_cat")([y, skips[-2 - i]])
        y = _conv_bn(y, width, 1, f"dec{i + 1}", reg, momentum)
    half = layers.Conv2D(1, 1, name="lesion_head")(y)  # [N,S/2,S/2,1]
    factor = input_size // half.shape[1]
    lesion_logit = layers.UpSampling2D(factor, interpolation="bilinear", name="lesion_up")(half)
    lesion_logit = layers.Reshape((input_size, input_size), name="lesion_logit")(lesion_logit)

    grid = features.shape[1]
    pooled = layers.AveragePooling2D(half.shape[1] // grid, name="lesion_pool")(
        layers.Activation("sigmoid", name="lesion_half_prob")(half)
    )
    pooled = layers.Reshape((grid, grid), name="lesion_grid")(pooled)
    scores = layers.Conv2D(1, 1, kernel_regularizer=reg, name="score")(features)
    scores = layers.Reshape((grid, grid), name="scores")(scores)
    logit, cam = LesionWeightedCam(cfg.global_share, name="cam_head")([scores, pooled])
    logit = layers.Identity(name="logit")(logit)
    cam = layers.Identity(name="cam")(cam)
    outputs = [logit, cam, lesion_logit]
    if cfg.birads_head:  # auxiliary training target; not exported
        pooled_features = layers.GlobalAveragePooling2D(name="gap")(features)
        outputs.append(layers.Dense(4, name="birads_logits")(pooled_features))
    return keras.Model(inputs, outputs, name="breast_cnn_v2")


def fine_cam(scores: Any, lesion_half: Any, global_share: float, grid: int) -> Any:
    """The same logit decomposition on a finer grid: scores repeated to `grid`, weighted by the
    lesion probability pooled to `grid` (sums, cell by cell, to the 8x8 CAM exactly)."""
    coarse = int(scores.shape[1])
    up, pool = grid // coarse, int(lesion_half.shape[1]) // grid
    mask = tf.nn.avg_pool2d(lesion_half, pool, pool, "VALID")[..., 0]  # [N,g,g]
    repeated = tf.tile(scores[:, :, None, :, None], [1, 1, up, 1, up])
    repeated = tf.reshape(repeated, [-1, grid, grid])
    focus = mask / (tf.reduce_sum(mask, axis=[1, 2], keepdims=True) + 1e-3 * up * up)
    return repeated * (global_share / (grid * grid) + (1.0 - global_share) * focus)


def serving_parts(model: keras.Model) -> keras.Model:
    """Same weights: logit, lesion logits, 8x8 scores and the half-resolution lesion map."""
    names = ("logit", "lesion_logit", "scores", "lesion_half_prob")
    return keras.Model(model.inputs, [model.get_layer(n).output for n in names])

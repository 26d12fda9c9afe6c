"""The client's network: three convolutional blocks with Dropout and a GAP head (exact CAMs)."""

from __future__ import annotations

from typing import Any

import keras
from keras import layers

FEATURES_LAYER = "features"
LOGIT_LAYER = "logit"


def build_cnn(model_cfg: dict[str, Any], input_size: int = 128) -> keras.Model:
    """Input float32 0-255 [N,S,S,3] -> P(malignant) [N,1]; scaling is the first layer."""
    reg = keras.regularizers.l2(model_cfg["l2"]) if model_cfg.get("l2") else None
    inputs = keras.Input((input_size, input_size, 3), name="image")
    x = layers.Rescaling(1.0 / 255.0, name="scale")(inputs)
    filters = list(model_cfg["filters"])
    for block, width in enumerate(filters, start=1):
        for conv in range(model_cfg["convs_per_block"]):
            stride = model_cfg.get("stem_stride", 1) if (block == 1 and conv == 0) else 1
            x = layers.Conv2D(
                width,
                3,
                strides=stride,
                padding="same",
                use_bias=False,
                kernel_regularizer=reg,
                name=f"b{block}_conv{conv + 1}",
            )(x)
            x = layers.BatchNormalization(
                momentum=model_cfg.get("bn_momentum", 0.9), name=f"b{block}_bn{conv + 1}"
            )(x)
            last = block == len(filters) and conv == model_cfg["convs_per_block"] - 1
            x = layers.ReLU(name=FEATURES_LAYER if last else f"b{block}_relu{conv + 1}")(x)
        if block < len(filters):
            x = layers.MaxPooling2D(2, name=f"b{block}_pool")(x)
            x = layers.Dropout(model_cfg["block_dropout"], name=f"b{block}_drop")(x)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    x = layers.Dropout(model_cfg["head_dropout"], name="head_drop")(x)
    logit = layers.Dense(1, kernel_regularizer=reg, name=LOGIT_LAYER)(x)
    prob = layers.Activation("sigmoid", name="p_malignant")(logit)
    return keras.Model(inputs, prob, name="breast_cnn")


def feature_model(model: keras.Model) -> keras.Model:
    """Same weights, outputs the last-conv feature maps [N,h,w,C] (inference only)."""
    return keras.Model(model.inputs, model.get_layer(FEATURES_LAYER).output)


def head_weights(model: keras.Model) -> tuple[Any, Any]:
    """(kernel [C,1], bias [1]) of the Dense head that sits on the GAP of the features."""
    kernel, bias = model.get_layer(LOGIT_LAYER).get_weights()
    return kernel, bias

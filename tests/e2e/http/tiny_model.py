"""A tiny but real ONNX model honouring the service's model contract, built with onnx.helper.

P(malignant) is the image's mean brightness (0..1), so a white image is "malignant" and a
black one "benign"; the CAM is the 4x4 grid of block means; the lesion map (model 2.0's
`lesion` output, left out with `lesion=False` like model 1.x) is each pixel's brightness, so a
bright shape on a dark image is outlined as the lesion. Input `image` uint8 [N,128,128,3];
outputs `p_malignant` float32 [N], `cam` float32 [N,4,4] and `lesion` float32 [N,128,128];
metadata_props model_version, threshold, positive_class (and lesion_threshold).
"""

from __future__ import annotations

from pathlib import Path

import onnx
from onnx import TensorProto, helper

VERSION = "tiny-test-1"
THRESHOLD = 0.5
LESION_THRESHOLD = 0.5


def build_tiny_model(
    path: Path, version: str = VERSION, threshold: float = THRESHOLD, lesion: bool = True
) -> Path:
    nodes = [
        helper.make_node("Cast", ["image"], ["as_float"], to=TensorProto.FLOAT),
        helper.make_node("Transpose", ["as_float"], ["nchw"], perm=[0, 3, 1, 2]),
        helper.make_node(
            "AveragePool", ["nchw"], ["pooled"], kernel_shape=[32, 32], strides=[32, 32]
        ),
        helper.make_node("ReduceMean", ["pooled"], ["grid"], axes=[1], keepdims=0),
        helper.make_node("Div", ["grid", "scale"], ["cam"]),
        helper.make_node("ReduceMean", ["cam"], ["p_malignant"], axes=[1, 2], keepdims=0),
    ]
    outputs = [
        helper.make_tensor_value_info("p_malignant", TensorProto.FLOAT, ["batch"]),
        helper.make_tensor_value_info("cam", TensorProto.FLOAT, ["batch", 4, 4]),
    ]
    props = {
        "model_version": version,
        "threshold": str(threshold),
        "positive_class": "malignant",
        "input_contract": "uint8 [batch,128,128,3] RGB 0-255",
    }
    if lesion:
        nodes += [
            helper.make_node("ReduceMean", ["as_float"], ["brightness"], axes=[3], keepdims=0),
            helper.make_node("Div", ["brightness", "scale"], ["lesion"]),
        ]
        outputs.append(
            helper.make_tensor_value_info("lesion", TensorProto.FLOAT, ["batch", 128, 128])
        )
        props["lesion_threshold"] = str(LESION_THRESHOLD)
    graph = helper.make_graph(
        nodes,
        "tiny-breastscan",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["batch", 128, 128, 3])],
        outputs,
        initializer=[helper.make_tensor("scale", TensorProto.FLOAT, [], [255.0])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, props)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(model, str(path))
    return path

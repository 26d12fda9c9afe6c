"""Export the trained network to models/breast-cnn.onnx (+ the int8 variant and MODEL_CARD.md).

The graph: uint8 image -> the one network (one pass) -> p_malignant = sigmoid(logit / T),
cam = ReLU(lesion-weighted CAM) / T, lesion = sigmoid(lesion logits). The temperature T is
fitted on validation (both sources pooled, NLL); the threshold is the highest that keeps
sensitivity >= the floor on *each* validation source; the likelihood bands are cut-points on
the calibrated probability with their validation counts and observed malignancy rates.
Parity with Keras is checked on the validation images (fails above 1e-4). The int8 QDQ variant
is static, per-channel, calibrated on training images of both sites.

Usage: python -m ml.export [--run ml/runs/default] [--output models/breast-cnn.onnx]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import datetime as dt
import json
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from adapters.inference.onnx_classifier import OnnxTumorClassifier
from ml.benchmark import baseline_model, compare_latency
from ml.card import write_model_card
from ml.data import DATA_KEYS, Source, load_sources, sha256_file
from ml.evaluate import evaluate_model, evaluate_outputs, run_onnx
from ml.metrics import select_threshold
from ml.model import fine_cam, serving_parts
from ml.settings import config_from_dict, data_path, resolve
from ml.train import predict

OPSET = 17
PARITY_TOLERANCE = 1e-4
OUTPUTS = ("p_malignant", "cam", "lesion")
INPUT_CONTRACT = {
    "name": "image",
    "dtype": "uint8",
    "shape": ["batch", MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3],
    "range": "RGB 0-255, scaled inside the graph",
    "preprocessing": "grayscale -> centre square crop -> Pillow BILINEAR resize to 128 -> "
    "3 channels (adapters.imaging.preprocessing.preprocess)",
}


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """Temperature minimising the binary NLL of sigmoid(logit / T) (log-spaced search)."""
    z = np.asarray(logits, np.float64)
    y = np.asarray(targets, np.float64)

    def nll(t: float) -> float:
        s = z / t
        return float(np.mean(np.logaddexp(0.0, s) - y * s))

    grid = np.exp(np.linspace(np.log(0.2), np.log(5.0), 161))
    best = float(grid[np.argmin([nll(t) for t in grid])])
    fine = best * np.exp(np.linspace(-0.03, 0.03, 61))
    return float(fine[np.argmin([nll(t) for t in fine])])


def likelihood_bands(cuts: list[float], y: np.ndarray, p: np.ndarray) -> list[dict[str, Any]]:
    """Bands [lower, upper) on the calibrated probability with validation counts and rates."""
    edges = [0.0, *cuts, 1.0]
    names = ["very low", "low", "intermediate", "high", "very high"]
    if len(edges) - 1 != len(names):
        names = [f"band {i + 1}" for i in range(len(edges) - 1)]
    bands = []
    for i, name in enumerate(names):
        lower, upper = edges[i], edges[i + 1]
        inside = (p >= lower) & ((p < upper) if i < len(names) - 1 else (p <= upper))
        n = int(inside.sum())
        bands.append(
            {
                "name": name,
                "lower": lower,
                "upper": upper,
                "n_val": n,
                "malignancy_rate": round(float(y[inside].mean()), 4) if n else None,
            }
        )
    return bands


def build_serving_function(
    model: keras.Model, temperature: float, global_share: float, cam_grid: int
) -> Any:
    spec = tf.TensorSpec([None, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3], tf.uint8, name="image")
    parts = serving_parts(model)

    @tf.function(input_signature=[spec])
    def serve(image: tf.Tensor) -> dict[str, tf.Tensor]:
        inv_t = tf.constant(1.0 / temperature, tf.float32)  # embedded, not a captured input
        logit, lesion_logit, scores, half = parts(tf.cast(image, tf.float32), training=False)
        cam = fine_cam(scores, half, global_share, cam_grid)
        return {
            "p_malignant": tf.identity(tf.sigmoid(logit * inv_t), name="p_malignant"),
            "cam": tf.identity(tf.nn.relu(cam) * inv_t, name="cam"),
            "lesion": tf.identity(tf.sigmoid(lesion_logit), name="lesion"),
        }

    return serve


def convert(
    model: keras.Model, temperature: float, global_share: float, cam_grid: int
) -> onnx.ModelProto:
    serve = build_serving_function(model, temperature, global_share, cam_grid)
    proto, _ = tf2onnx.convert.from_function(
        serve, input_signature=serve.input_signature, opset=OPSET
    )
    graph = proto.graph
    for output in graph.output:  # tf2onnx may suffix names (e.g. ":0"); pin the contract names
        base = output.name.split(":")[0]
        for target in OUTPUTS:
            if base.endswith(target) and output.name != target:
                old = output.name
                for node in graph.node:
                    node.output[:] = [target if o == old else o for o in node.output]
                    node.input[:] = [target if i == old else i for i in node.input]
                output.name = target
    for value in [*graph.input, *graph.output]:  # name the dynamic batch axis
        dim = value.type.tensor_type.shape.dim
        if dim and not dim[0].HasField("dim_value"):
            dim[0].dim_param = "batch"
    names = {o.name for o in graph.output}
    if names != set(OUTPUTS) or [i.name for i in graph.input] != ["image"]:
        raise RuntimeError(f"unexpected graph IO: in={[i.name for i in graph.input]} out={names}")
    return proto


def set_metadata(proto: onnx.ModelProto, props: dict[str, str]) -> None:
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value


def logit_heads(model: onnx.ModelProto) -> list[str]:
    """The 1x1 convs with one output channel (malignancy scores, lesion logits): kept in fp32."""
    weights = {w.name: w for w in model.graph.initializer}
    return [
        node.name
        for node in model.graph.node
        if node.op_type == "Conv"
        and node.input[1] in weights
        and weights[node.input[1]].dims[0] == 1
    ]


def quantize_int8(fp32: Path, output: Path, calibration: np.ndarray) -> None:
    """Static QDQ int8, calibrated on training images: u8 activations x s8 per-channel weights
    (ONNX Runtime's fast x86 path) with 7-bit weight range, which avoids the u8s8 saturation
    of CPUs without VNNI; the two logit heads stay fp32."""
    from onnxruntime.quantization import (
        CalibrationDataReader,
        QuantFormat,
        QuantType,
        quantize_static,
    )
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.batches = iter(
                [{"image": calibration[i : i + 16]} for i in range(0, len(calibration), 16)]
            )

        def get_next(self) -> dict[str, np.ndarray] | None:
            return next(self.batches, None)

    with tempfile.TemporaryDirectory() as tmp:
        prepared = Path(tmp) / "prepared.onnx"
        quant_pre_process(str(fp32), str(prepared), skip_symbolic_shape=True)
        heads = logit_heads(onnx.load(str(prepared)))
        quantize_static(
            str(prepared),
            str(output),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            reduce_range=True,
            nodes_to_exclude=heads,
            extra_options={"ActivationSymmetric": False, "WeightSymmetric": True},
        )


def calibration_images(train: dict[str, Source], per_source: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = [
        s.images[rng.choice(len(s), min(per_source, len(s)), replace=False)] for s in train.values()
    ]
    return np.concatenate(picks)


def _compact(results: dict[str, Any]) -> dict[str, Any]:
    """Per-source metrics for metadata_props: point values, intervals for the AUC."""
    out: dict[str, Any] = {}
    for name, m in results["sources"].items():
        out[name] = {
            k: (v["value"] if isinstance(v, dict) and "value" in v else v)
            for k, v in m.items()
            if k not in ("confusion", "threshold")
        }
        out[name]["auc_ci95"] = m["auc"]["ci95"]
        out[name]["confusion"] = m["confusion"]
    return out


def run(
    run_dir: Path,
    output: Path,
    card: Path | None,
    n_boot: int | None = None,
    int8: bool = True,
    bench_seconds: float = 3.0,
) -> dict[str, Any]:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    cfg = config_from_dict(summary["config"])
    for key in DATA_KEYS:
        if sha256_file(data_path(cfg, key)) != summary["data"][key]["sha256"]:
            raise RuntimeError(
                f"{data_path(cfg, key)} differs from the data the run was trained on"
            )
    sources = load_sources(cfg)
    val = sources["val"]
    model = keras.models.load_model(run_dir / "model.keras")
    boot = n_boot if n_boot is not None else cfg.eval.bootstrap

    keras_out = {name: predict(model, s.images) for name, s in val.items()}
    logits = np.concatenate([keras_out[n][0] for n in val])
    targets = np.concatenate([s.malignant for s in val.values()])
    temperature = fit_temperature(logits, targets) if cfg.calibration == "temperature" else 1.0

    proto = convert(model, temperature, cfg.model.global_share, cfg.cam_grid)
    set_metadata(
        proto,
        {"model_version": cfg.model_version, "threshold": "0.5", "positive_class": "malignant"},
    )
    onnx.checker.check_model(proto)
    output.parent.mkdir(parents=True, exist_ok=True)
    onnx.save(proto, str(output))

    onnx_out = {name: run_onnx(output, s.images) for name, s in val.items()}
    max_delta = 0.0
    for name in val:
        p_keras = 1.0 / (1.0 + np.exp(-keras_out[name][0] / temperature))
        max_delta = max(max_delta, float(np.max(np.abs(onnx_out[name]["p_malignant"] - p_keras))))
        max_delta = max(
            max_delta, float(np.max(np.abs(onnx_out[name]["lesion"] - keras_out[name][2])))
        )
    print(f"parity on {len(targets)} validation images: max |d| = {max_delta:.2e}")
    if max_delta > PARITY_TOLERANCE:
        output.unlink()
        raise SystemExit(f"parity check failed: {max_delta:.2e} > {PARITY_TOLERANCE}")

    floor = cfg.threshold.min_sensitivity
    per_source_thr = {
        name: select_threshold(s.malignant, onnx_out[name]["p_malignant"], floor)
        for name, s in val.items()
    }
    threshold = round(min(per_source_thr.values()), 6)
    p_all = np.concatenate([onnx_out[n]["p_malignant"] for n in val])
    bands = likelihood_bands(list(cfg.bands), targets, p_all)

    props = {
        "model_version": cfg.model_version,
        "threshold": f"{threshold:.6f}",
        "threshold_goal": f"highest threshold with sensitivity >= {floor:.2f} on each validation "
        f"source (per source: {json.dumps({k: round(v, 6) for k, v in per_source_thr.items()})})",
        "positive_class": "malignant",
        "label_mapping": "p_malignant = P(malignant); dataset label 0 = malignant (BUSI, BUS-BRA)",
        "input_contract": json.dumps(INPUT_CONTRACT),
        "outputs": json.dumps(
            {
                "p_malignant": "float32 [batch], calibrated probability of malignancy "
                "(temperature)",
                "cam": "float32 [batch,h,w], non-negative lesion-weighted CAM on the last "
                "encoder grid: "
                "each cell's share of the malignancy logit",
                "lesion": f"float32 [batch,{MODEL_INPUT_SIZE},{MODEL_INPUT_SIZE}], "
                "per-pixel lesion probability",
            }
        ),
        "calibration": json.dumps(
            {"method": cfg.calibration, "temperature": round(temperature, 6)}
        ),
        "likelihood_bands": json.dumps(bands),
        "lesion_threshold": str(cfg.lesion_threshold),
        "training_data_sha256": json.dumps({k: summary["data"][k]["sha256"] for k in DATA_KEYS}),
        "training_data": json.dumps(summary["counts"]),
        "passes_per_image": "1",
        "seed": str(summary["seed"]),
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "framework": f"tensorflow {tf.__version__}, keras {keras.__version__}, "
        f"tf2onnx {tf2onnx.__version__}, opset {OPSET}",
    }
    fp32 = evaluate_outputs(
        val, onnx_out, threshold, cfg.lesion_threshold, run_dir / "evaluate", boot, cfg.seed
    )
    props["validation_metrics"] = json.dumps(_compact(fp32))
    set_metadata(proto, props)
    onnx.save(proto, str(output))
    OnnxTumorClassifier(output)  # the service's adapter accepts the final file

    result: dict[str, Any] = {
        "output": str(output),
        "size_bytes": output.stat().st_size,
        "parity_max_abs": max_delta,
        "temperature": temperature,
        "threshold": threshold,
        "threshold_per_source": per_source_thr,
        "bands": bands,
        "validation": fp32["sources"],
        "train_wall_seconds": summary["wall_seconds"],
        "params": summary["params"],
        "counts": summary["counts"],
        "metadata": props,
    }
    models = {"fp32": output}
    if int8:
        int8_path = output.with_suffix(".int8.onnx")
        quantize_int8(output, int8_path, calibration_images(sources["train"], 128, cfg.seed))
        q = onnx.load(str(int8_path))
        set_metadata(
            q,
            {
                **props,
                "variant": "int8 static QDQ (u8 activations, s8 per-channel 7-bit weights, "
                "logit heads fp32), calibrated on 256 training images",
            },
        )
        onnx.save(q, str(int8_path))
        q8 = evaluate_model(int8_path, val, run_dir / "evaluate_int8", boot, cfg.seed)
        result["int8"] = {
            "output": str(int8_path),
            "size_bytes": int8_path.stat().st_size,
            "validation": q8["sources"],
        }
        models["int8"] = int8_path
    with tempfile.TemporaryDirectory() as tmp:
        try:  # the model this one replaces, read from git history, for the side-by-side latency
            models = {"1.1.0": baseline_model(Path(tmp)), **models}
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"latency: model 1.1.0 not compared ({exc})")
        result["latency"] = compare_latency(models, seconds=bench_seconds)
    (run_dir / "export.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    if card is not None:
        figures = card.parent / "figures"  # the card's plots: ROC, reliability, outline montages
        figures.mkdir(parents=True, exist_ok=True)
        for plot in sorted((run_dir / "evaluate").glob("*.png")):
            shutil.copy(plot, figures / plot.name)
        write_model_card(card, result, summary)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", default="ml/runs/default", help="training run directory")
    parser.add_argument("--output", default="models/breast-cnn.onnx")
    parser.add_argument("--card", default="models/MODEL_CARD.md", help="'' to skip the card")
    parser.add_argument("--bootstrap", type=int, default=None, help="bootstrap resamples")
    parser.add_argument("--no-int8", action="store_true", help="skip the int8 variant")
    args = parser.parse_args(argv)
    result = run(
        resolve(args.run),
        resolve(args.output),
        resolve(args.card) if args.card else None,
        args.bootstrap,
        int8=not args.no_int8,
    )
    from ml.evaluate import format_table

    print(
        json.dumps(
            {k: result[k] for k in ("output", "size_bytes", "temperature", "threshold")}, indent=2
        )
    )
    print(format_table({"sources": result["validation"]}))
    if "int8" in result:
        print("int8:")
        print(format_table({"sources": result["int8"]["validation"]}))
    print(json.dumps(result["latency"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Export the trained ensemble to models/breast-cnn.onnx (the service contract) + MODEL_CARD.md.

The graph: uint8 image -> float -> [image, mirrored image] -> every fold member -> P(malignant)
and signed CAM per member -> averaged over mirrors and members -> p_malignant [N], cam = ReLU
[N,h,w]. Parity with Keras is checked on the real validation images through the service's own
adapter (fails above 1e-4). The threshold is chosen on validation for the configured goal.

Usage: python -m ml.export [--run ml/runs/default] [--output models/breast-cnn.onnx]
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_DETERMINISTIC_OPS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse
import datetime as dt
import json
from pathlib import Path
from typing import Any

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

from adapters.imaging.preprocessing import MODEL_INPUT_SIZE
from adapters.inference.onnx_classifier import OnnxTumorClassifier
from ml.card import write_model_card
from ml.data import load_npz_splits, sha256_file
from ml.metrics import confusion, select_threshold, summarize
from ml.model import feature_model, head_weights
from ml.settings import REPO_ROOT, dataset_path, resolve

OPSET = 17
PARITY_TOLERANCE = 1e-4
INPUT_CONTRACT = {
    "name": "image",
    "dtype": "uint8",
    "shape": ["batch", MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3],
    "range": "RGB 0-255, scaled inside the graph",
    "preprocessing": "grayscale -> centre square crop -> Pillow BILINEAR resize to 128 -> "
    "3 channels "
    "(adapters.imaging.preprocessing.preprocess)",
}


def load_members(run_dir: Path) -> list[keras.Model]:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return [
        keras.models.load_model(run_dir / f"member_{m['member']}" / "model.keras")
        for m in summary["members"]
    ]


def keras_predict(members: list[keras.Model], images: np.ndarray, batch: int = 64) -> np.ndarray:
    """Reference P(malignant): Keras forward of image and mirror, averaged over all members."""
    probs = []
    for model in members:
        for flip in (False, True):
            x = images[:, :, ::-1, :] if flip else images
            out = [
                np.asarray(model(x[i : i + batch].astype(np.float32), training=False)).reshape(-1)
                for i in range(0, len(x), batch)
            ]
            probs.append(np.concatenate(out))
    return np.mean(probs, axis=0)


def build_serving_function(members: list[keras.Model]) -> tf.types.experimental.GenericFunction:
    parts = []
    for model in members:
        kernel, bias = head_weights(model)
        parts.append((feature_model(model), np.asarray(kernel[:, 0]), np.asarray(bias[0])))

    spec = tf.TensorSpec([None, MODEL_INPUT_SIZE, MODEL_INPUT_SIZE, 3], tf.uint8, name="image")

    @tf.function(input_signature=[spec])
    def serve(image: tf.Tensor) -> dict[str, tf.Tensor]:
        n = tf.shape(image)[0]
        x = tf.cast(image, tf.float32)
        both = tf.concat([x, tf.reverse(x, axis=[2])], axis=0)
        probs, cams = [], []
        for features, kernel_np, bias_np in parts:
            kernel, bias = tf.constant(kernel_np), tf.constant(bias_np)  # embedded, not captured
            fmap = features(both, training=False)  # [2N, h, w, C]
            signed = tf.tensordot(fmap, kernel, axes=[[3], [0]])  # per-location logit share
            logit = tf.reduce_mean(fmap, axis=[1, 2])
            logit = tf.tensordot(logit, kernel, axes=[[1], [0]]) + bias  # GAP -> Dense
            p = tf.sigmoid(logit)
            probs.append((p[:n] + p[n:]) / 2.0)
            cams.append((signed[:n] + tf.reverse(signed[n:], axis=[2])) / 2.0)
        p_malignant = tf.identity(tf.add_n(probs) / len(parts), name="p_malignant")
        cam = tf.identity(tf.nn.relu(tf.add_n(cams) / len(parts)), name="cam")
        return {"p_malignant": p_malignant, "cam": cam}

    return serve


def convert(members: list[keras.Model]) -> onnx.ModelProto:
    serve = build_serving_function(members)
    proto, _ = tf2onnx.convert.from_function(
        serve, input_signature=serve.input_signature, opset=OPSET
    )
    graph = proto.graph
    wanted = {"p_malignant", "cam"}
    for output in graph.output:  # tf2onnx may suffix names (e.g. ":0"); pin the contract names
        base = output.name.split(":")[0]
        for target in wanted:
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
    if names != wanted or [i.name for i in graph.input] != ["image"]:
        raise RuntimeError(f"unexpected graph IO: in={[i.name for i in graph.input]} out={names}")
    return proto


def oof_operating_point(
    run_dir: Path, npz: Path, cfg: dict[str, Any], threshold: float
) -> dict[str, float] | None:
    """Sensitivity/specificity at the threshold on the out-of-fold training predictions."""
    if not (run_dir / "oof.npy").exists():
        return None
    oof = np.load(run_dir / "oof.npy")
    y = load_npz_splits(npz, cfg["data"]["malignant_label"])["train"].malignant
    done = ~np.isnan(oof)
    cm = confusion(y[done], oof[done], threshold)
    return {
        "n": int(done.sum()),
        "sensitivity": round(cm.sensitivity, 4),
        "specificity": round(cm.specificity, 4),
    }


def benchmark(output: Path) -> dict[str, Any]:
    from ml.benchmark import throughput

    threads = min(2, os.cpu_count() or 1)
    classifier = OnnxTumorClassifier(output, intra_op_threads=threads)
    rate = throughput(classifier, batch=1, seconds=3.0)
    return {
        "images_per_s_batch1": round(rate, 1),
        "intra_op_threads": threads,
        "cpu_count": os.cpu_count(),
    }


def set_metadata(proto: onnx.ModelProto, props: dict[str, str]) -> None:
    del proto.metadata_props[:]
    for key, value in props.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value


def run(
    run_dir: Path, output: Path, card: Path | None, n_boot: int | None = None
) -> dict[str, Any]:
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    cfg = summary["config"]
    npz = dataset_path(cfg)
    if sha256_file(npz) != summary["data"]["sha256"]:
        raise RuntimeError(f"{npz} differs from the data the run was trained on")
    val = load_npz_splits(npz, cfg["data"]["malignant_label"])["val"]
    members = load_members(run_dir)

    proto = convert(members)
    output.parent.mkdir(parents=True, exist_ok=True)
    provisional = {
        "model_version": cfg["model_version"],
        "threshold": "0.5",
        "positive_class": "malignant",
    }
    set_metadata(proto, provisional)
    onnx.checker.check_model(proto)
    onnx.save(proto, str(output))

    # Parity on the real validation images, through the service adapter.
    classifier = OnnxTumorClassifier(output)
    p_onnx, cam = classifier.run(val.images)
    p_keras = keras_predict(members, val.images)
    max_delta = float(np.max(np.abs(p_onnx - p_keras)))
    print(f"parity on {len(val)} validation images: max |dp| = {max_delta:.2e}")
    if max_delta > PARITY_TOLERANCE:
        output.unlink()
        raise SystemExit(f"parity check failed: {max_delta:.2e} > {PARITY_TOLERANCE}")

    tcfg = cfg["threshold"]
    y_thr, p_thr = val.malignant, p_onnx
    if tcfg.get("source") == "oof+val" and (run_dir / "oof.npy").exists():
        train = load_npz_splits(npz, cfg["data"]["malignant_label"])["train"]
        y_thr = np.concatenate([train.malignant, val.malignant])
        p_thr = np.concatenate([np.load(run_dir / "oof.npy"), p_onnx])
    threshold = round(select_threshold(y_thr, p_thr, tcfg["min_sensitivity"]), 6)
    boot = n_boot if n_boot is not None else int(cfg["eval"]["bootstrap"])
    metrics = summarize(val.malignant, p_onnx, threshold, n_boot=boot, seed=int(cfg["seed"]))
    at_half = confusion(val.malignant, p_onnx, 0.5)
    metrics["at_0.5"] = {
        "accuracy": round(at_half.accuracy, 4),
        "sensitivity": round(at_half.sensitivity, 4),
        "specificity": round(at_half.specificity, 4),
    }
    oof_point = oof_operating_point(run_dir, npz, cfg, threshold)
    if oof_point:
        metrics["oof_at_threshold"] = oof_point
    goal = (
        f"highest specificity at sensitivity >= {tcfg['min_sensitivity']:.2f} "
        f"on {tcfg.get('source', 'val')}"
    )
    props = {
        "model_version": cfg["model_version"],
        "threshold": f"{threshold:.6f}",
        "threshold_goal": goal,
        "positive_class": "malignant",
        "label_mapping": "p_malignant = P(BUSI malignant); MedMNIST label 0 = malignant, "
        "1 = normal/benign",
        "input_contract": json.dumps(INPUT_CONTRACT),
        "outputs": json.dumps(
            {
                "p_malignant": "float32 [batch], probability of malignancy",
                "cam": f"float32 [batch,{cam.shape[1]},{cam.shape[2]}], non-negative CAM for "
                "malignancy on the last conv grid (flip- and member-averaged)",
            }
        ),
        "training_data_sha256": summary["data"]["sha256"],
        "training_data": f"{Path(summary['data']['path']).name} train={summary['data']['train']} "
        f"val={summary['data']['val']}",
        "validation_metrics": json.dumps(metrics),
        "cv_oof_auc": f"{summary.get('cv_oof_auc', float('nan')):.4f}",
        "ensemble": f"{len(members)} fold members x horizontal-flip TTA, probabilities averaged",
        "seed": str(summary["seed"]),
        "created": dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        "framework": f"tensorflow {tf.__version__}, keras {keras.__version__}, "
        f"tf2onnx {tf2onnx.__version__}, opset {OPSET}",
    }
    set_metadata(proto, props)
    onnx.save(proto, str(output))
    OnnxTumorClassifier(output)  # re-validate the final file against the contract

    result = {
        "output": str(output),
        "size_bytes": output.stat().st_size,
        "parity_max_dp": max_delta,
        "threshold": threshold,
        "validation": metrics,
        "cv_oof_auc": summary.get("cv_oof_auc"),
        "train_wall_seconds": summary["wall_seconds"],
        "cam_shape": list(cam.shape[1:]),
        "members": summary["members"],
        "metadata": props,
    }
    result["throughput"] = benchmark(output)
    (run_dir / "export.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    if card is not None:
        write_model_card(card, result, summary)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--run", default="ml/runs/default", help="training run directory")
    parser.add_argument("--output", default="models/breast-cnn.onnx")
    parser.add_argument("--card", default="models/MODEL_CARD.md", help="'' to skip the card")
    parser.add_argument("--bootstrap", type=int, default=None, help="bootstrap resamples")
    args = parser.parse_args(argv)
    result = run(
        resolve(args.run),
        resolve(args.output),
        resolve(args.card) if args.card else None,
        args.bootstrap,
    )
    v = result["validation"]
    print(
        json.dumps(
            {
                "output": result["output"],
                "size_bytes": result["size_bytes"],
                "threshold": result["threshold"],
                "auc": v["auc"],
                "accuracy": v["accuracy"],
                "sensitivity": v["sensitivity"],
                "specificity": v["specificity"],
                "cv_oof_auc": result["cv_oof_auc"],
            },
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

_ = REPO_ROOT

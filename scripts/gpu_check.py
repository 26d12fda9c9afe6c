"""Check Breastscan's GPU option on a machine with an NVIDIA GPU.

    python scripts/gpu_check.py [--install] [--model models/breast-cnn.onnx | --synthetic]

1. Makes sure ONNX Runtime's CUDA execution provider is there (with --install it swaps the
   CPU wheel for `onnxruntime-gpu[cuda,cudnn]`, the project's `.[gpu]` extra, and restarts).
2. Proves CUDA really runs the graph: the session must list CUDAExecutionProvider first
   (ORT silently falls back to CPU when CUDA fails to initialise) and ORT's profile must show
   the model's nodes executed by CUDAExecutionProvider.
3. Compares GPU outputs with the CPU provider's on the same images (tolerance below).
4. Prints images/s on GPU and CPU at batch 1, 32 and 256.

Exit status: 0 all good; 2 CUDA not available; 3 CUDA listed but not used; 4 outputs differ;
5 the model is missing. The service then runs on GPU with
BREASTSCAN_ORT_PROVIDERS=CUDAExecutionProvider,CPUExecutionProvider.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "breast-cnn.onnx"
GPU_REQUIREMENT = "onnxruntime-gpu[cuda,cudnn]>=1.32,<1.33"
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"
BATCHES = (1, 32, 256)
P_TOLERANCE = 1e-3  # absolute, on probabilities
CAM_TOLERANCE = 1e-2  # relative to the CAM's range
EXIT_NO_CUDA, EXIT_NOT_USED, EXIT_MISMATCH, EXIT_NO_MODEL = 2, 3, 4, 5
INPUT_SIZE = 128


def log(message: str) -> None:
    print(message, flush=True)


def has_nvidia_gpu() -> str | None:
    """The GPU's name per nvidia-smi, or None."""
    if shutil.which("nvidia-smi") is None:
        return None
    result = subprocess.run(
        ["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
        capture_output=True,
        text=True,
        check=False,
    )
    return (
        result.stdout.strip().splitlines()[0] if result.returncode == 0 and result.stdout else None
    )


def install_gpu_runtime() -> None:
    """Replace the CPU wheel with onnxruntime-gpu (both install the module `onnxruntime`)."""
    pip = [sys.executable, "-m", "pip"]
    log(f"Installing {GPU_REQUIREMENT} (replaces onnxruntime) ...")
    subprocess.run([*pip, "uninstall", "-y", "-q", "onnxruntime"], check=False)
    subprocess.run([*pip, "install", "-q", GPU_REQUIREMENT], check=True)


def synthetic_model(path: Path) -> Path:
    """A conv net the size of the trained one (3 blocks 32/64/128, GAP head), random weights,
    honouring the model contract; for checking a GPU when the real model is not at hand."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes: list[Any] = [
        helper.make_node("Cast", ["image"], ["f"], to=TensorProto.FLOAT),
        helper.make_node("Div", ["f", "k255"], ["scaled"]),
        helper.make_node("Transpose", ["scaled"], ["x0"], perm=[0, 3, 1, 2]),
    ]
    inits = [numpy_helper.from_array(np.array(255.0, np.float32), "k255")]
    channels, current = 3, "x0"
    for block, width in enumerate((32, 64, 128)):
        for conv in range(2):
            name = f"b{block}c{conv}"
            weight = rng.normal(0, np.sqrt(2 / (9 * channels)), (width, channels, 3, 3))
            inits += [
                numpy_helper.from_array(weight.astype(np.float32), f"{name}_w"),
                numpy_helper.from_array(np.zeros(width, np.float32), f"{name}_b"),
            ]
            nodes += [
                helper.make_node(
                    "Conv", [current, f"{name}_w", f"{name}_b"], [f"{name}_z"], pads=[1, 1, 1, 1]
                ),
                helper.make_node("Relu", [f"{name}_z"], [f"{name}_r"]),
            ]
            channels, current = width, f"{name}_r"
        if block < 2:
            nodes.append(
                helper.make_node(
                    "MaxPool", [current], [f"b{block}_p"], kernel_shape=[2, 2], strides=[2, 2]
                )
            )
            current = f"b{block}_p"
    head = rng.normal(0, 0.05, (1, channels)).astype(np.float32)
    nodes += [
        # CAM: head weights applied per position; p: sigmoid of the pooled logit.
        helper.make_node("Conv", [current, "head_w4"], ["cam4"]),
        helper.make_node("Relu", ["cam4"], ["cam_r"]),
        helper.make_node("Squeeze", ["cam_r", "axis1"], ["cam"]),
        helper.make_node("GlobalAveragePool", [current], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("MatMul", ["flat", "head_t"], ["logit"]),
        helper.make_node("Sigmoid", ["logit"], ["p2"]),
        helper.make_node("Squeeze", ["p2", "axis1"], ["p_malignant"]),
    ]
    inits += [
        numpy_helper.from_array(head.reshape(1, channels, 1, 1), "head_w4"),
        numpy_helper.from_array(head.T.copy(), "head_t"),
        numpy_helper.from_array(np.array([1], np.int64), "axis1"),
    ]
    graph = helper.make_graph(
        nodes,
        "synthetic-breastscan",
        [helper.make_tensor_value_info("image", TensorProto.UINT8, ["batch", 128, 128, 3])],
        [
            helper.make_tensor_value_info("p_malignant", TensorProto.FLOAT, ["batch"]),
            helper.make_tensor_value_info("cam", TensorProto.FLOAT, ["batch", 32, 32]),
        ],
        initializer=inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    for key, value in {
        "model_version": "synthetic",
        "threshold": "0.5",
        "positive_class": "malignant",
    }.items():
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def session(model: Path, provider: str, profile_dir: Path | None = None) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.log_severity_level = 3
    if profile_dir is not None:
        options.enable_profiling = True
        options.profile_file_prefix = str(profile_dir / "ort")
    providers = [provider] if provider == CPU else [provider, CPU]
    return ort.InferenceSession(str(model), sess_options=options, providers=providers)


def nodes_by_provider(profile_path: str) -> dict[str, int]:
    events = json.loads(Path(profile_path).read_text())
    counts: dict[str, int] = {}
    for event in events:
        provider = event.get("args", {}).get("provider")
        if event.get("cat") == "Node" and provider:
            counts[provider] = counts.get(provider, 0) + 1
    return counts


def images_per_second(sess: Any, batch: int, seconds: float) -> float:
    data = np.random.default_rng(batch).integers(
        0, 256, (batch, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8
    )
    for _ in range(3):  # warm-up: CUDA kernels, cuDNN algorithm search, memory arena
        sess.run(None, {"image": data})
    runs, started = 0, time.perf_counter()
    while True:
        sess.run(None, {"image": data})
        runs += 1
        elapsed = time.perf_counter() - started
        if elapsed >= seconds and runs >= 3:
            return runs * batch / elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument(
        "--synthetic",
        action="store_true",
        help="use a synthetic conv net of the same size (needs the onnx package)",
    )
    parser.add_argument(
        "--install",
        action="store_true",
        help=f"pip install {GPU_REQUIREMENT} when CUDA is missing, then re-run",
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="timing per measurement")
    args = parser.parse_args(argv)

    import onnxruntime as ort

    gpu = has_nvidia_gpu()
    available = ort.get_available_providers()
    log(f"onnxruntime {ort.__version__}; providers available: {', '.join(available)}")
    log(f"GPU: {gpu or 'none found (no nvidia-smi or no device)'}")
    if CUDA not in available:
        if args.install and gpu and not os.environ.get("BREASTSCAN_GPU_CHECK_REEXEC"):
            install_gpu_runtime()
            env = {**os.environ, "BREASTSCAN_GPU_CHECK_REEXEC": "1"}
            argv_rest = [
                a for a in (argv if argv is not None else sys.argv[1:]) if a != "--install"
            ]
            return subprocess.run(
                [sys.executable, __file__, *argv_rest], env=env, check=False
            ).returncode
        log(
            "CUDA not available: CUDAExecutionProvider is not in this onnxruntime build"
            + ("" if gpu else " and no NVIDIA GPU was found")
            + f". On a CUDA machine run with --install (or pip install '{GPU_REQUIREMENT}')."
        )
        return EXIT_NO_CUDA
    if hasattr(ort, "preload_dlls"):
        ort.preload_dlls()  # the CUDA/cuDNN libraries installed as nvidia-* wheels

    with tempfile.TemporaryDirectory(prefix="breastscan-gpu-") as scratch:
        work = Path(scratch)
        model = synthetic_model(work / "synthetic.onnx") if args.synthetic else args.model
        if not model.is_file():
            log(f"Model not found: {model} (train it, pass --model, or use --synthetic)")
            return EXIT_NO_MODEL
        log(f"model: {model}")

        gpu_sess = session(model, CUDA, profile_dir=work)
        active = gpu_sess.get_providers()
        log(f"session providers: {', '.join(active)}")
        if active[0] != CUDA:
            log(
                "CUDA listed but NOT used: the session fell back to CPU (see ORT warnings: "
                "CUDA/cuDNN libraries or driver mismatch)."
            )
            return EXIT_NOT_USED
        probe = np.random.default_rng(7).integers(
            0, 256, (32, INPUT_SIZE, INPUT_SIZE, 3), dtype=np.uint8
        )
        gpu_out = gpu_sess.run(["p_malignant", "cam"], {"image": probe})
        counts = nodes_by_provider(gpu_sess.end_profiling())
        log(f"nodes executed per provider (profiled run): {counts}")
        if counts.get(CUDA, 0) == 0 or counts.get(CUDA, 0) < counts.get(CPU, 0):
            log("CUDA is not running the model's nodes (most ran on CPU).")
            return EXIT_NOT_USED

        cpu_sess = session(model, CPU)
        cpu_out = cpu_sess.run(["p_malignant", "cam"], {"image": probe})
        p_diff = float(np.max(np.abs(gpu_out[0].ravel() - cpu_out[0].ravel())))
        cam_range = float(np.ptp(cpu_out[1])) or 1.0
        cam_diff = float(np.max(np.abs(gpu_out[1] - cpu_out[1]))) / cam_range
        same_labels = bool(np.all((gpu_out[0] >= 0.5) == (cpu_out[0] >= 0.5)))
        log(
            f"GPU vs CPU: max |dp| = {p_diff:.2e} (tolerance {P_TOLERANCE:g}), "
            f"max |dcam|/range = {cam_diff:.2e} (tolerance {CAM_TOLERANCE:g}), "
            f"labels identical: {same_labels}"
        )
        if p_diff > P_TOLERANCE or cam_diff > CAM_TOLERANCE:
            return EXIT_MISMATCH

        gpu_bench = session(model, CUDA)
        log(f"\n{'batch':>6} {'GPU img/s':>12} {'CPU img/s':>12} {'speed-up':>9}")
        for batch in BATCHES:
            on_gpu = images_per_second(gpu_bench, batch, args.seconds)
            on_cpu = images_per_second(cpu_sess, batch, args.seconds)
            log(f"{batch:>6} {on_gpu:>12.0f} {on_cpu:>12.0f} {on_gpu / on_cpu:>8.1f}x")
    log("\nOK: CUDA runs the model and matches the CPU provider.")
    return 0


if __name__ == "__main__":
    sys.exit(main())

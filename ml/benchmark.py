"""Single-image latency of ONNX models side by side, on one core, in one run.

Each round runs every model in turn for a short burst (order rotated each round), so background
load hits all of them alike; the report gives the median per-image latency and the speed-up of
each model against the first one. By default: model 1.1.0 (read from git history, the
10-pass ensemble it replaces), the committed fp32 model and its int8 variant.

Usage: python -m ml.benchmark [--models name=path ...] [--threads 1] [--seconds 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ml.evaluate import onnx_session
from ml.settings import REPO_ROOT

BASELINE_COMMIT = "9ad4530"  # "models: breast-cnn 1.1.0" - the model 2.0 replaces
DEFAULT_MODELS = {
    "fp32": REPO_ROOT / "models" / "breast-cnn.onnx",
    "int8": REPO_ROOT / "models" / "breast-cnn.int8.onnx",
}


def baseline_model(directory: Path) -> Path:
    """models/breast-cnn.onnx of model 1.1.0, written from git history into directory."""
    blob = subprocess.run(
        ["git", "-C", str(REPO_ROOT), "show", f"{BASELINE_COMMIT}:models/breast-cnn.onnx"],
        check=True,
        capture_output=True,
    ).stdout
    path = directory / "breast-cnn-1.1.0.onnx"
    path.write_bytes(blob)
    return path


def compare_latency(
    models: dict[str, Path], seconds: float = 6.0, threads: int = 1, rounds: int = 6
) -> dict[str, Any]:
    """Median ms per single image for each model, interleaved rounds; speed-up vs the first."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (1, 128, 128, 3), dtype=np.uint8)
    sessions = {name: onnx_session(path, threads) for name, path in models.items()}
    for session in sessions.values():  # warm-up
        for _ in range(5):
            session.run(None, {"image": image})
    samples: dict[str, list[float]] = {name: [] for name in sessions}
    names = list(sessions)
    burst = seconds / (rounds * len(names))
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            started = time.perf_counter()
            while time.perf_counter() - started < burst:
                t0 = time.perf_counter()
                sessions[name].run(None, {"image": image})
                samples[name].append(time.perf_counter() - t0)
    first = names[0]
    median = {name: float(np.median(v)) * 1000 for name, v in samples.items()}
    return {
        "intra_op_threads": threads,
        "cpu_count": os.cpu_count(),
        "ms_per_image_median": {k: round(v, 3) for k, v in median.items()},
        "ms_per_image_p95": {
            k: round(float(np.quantile(v, 0.95)) * 1000, 3) for k, v in samples.items()
        },
        f"speedup_vs_{first}": {k: round(median[first] / v, 2) for k, v in median.items()},
        "calls": {k: len(v) for k, v in samples.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--models", nargs="*", default=None, metavar="NAME=PATH")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        if args.models:
            models = {k: Path(v) for k, _, v in (m.partition("=") for m in args.models)}
        else:
            models = {"1.1.0": baseline_model(Path(tmp)), **DEFAULT_MODELS}
            models = {k: v for k, v in models.items() if v.is_file()}
        result = compare_latency(models, args.seconds, args.threads)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Inference throughput of the exported model through the service adapter (ONNX Runtime, CPU).

Usage: python -m ml.benchmark [--model models/breast-cnn.onnx] [--threads 2] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

from adapters.inference.onnx_classifier import OnnxTumorClassifier
from ml.settings import resolve


def throughput(classifier: OnnxTumorClassifier, batch: int, seconds: float) -> float:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (batch, 128, 128, 3), dtype=np.uint8)
    classifier.run(images)  # warm-up
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        classifier.run(images)
        done += batch
    return done / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="models/breast-cnn.onnx")
    parser.add_argument("--threads", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--batches", default="1,8")
    args = parser.parse_args(argv)
    classifier = OnnxTumorClassifier(resolve(args.model), intra_op_threads=args.threads)
    results = {
        "model": args.model,
        "version": classifier.model.version,
        "providers": list(classifier.providers),
        "intra_op_threads": args.threads,
        "cpu_count": os.cpu_count(),
    }
    for batch in (int(b) for b in args.batches.split(",")):
        rate = throughput(classifier, batch, args.seconds)
        results[f"images_per_s_batch{batch}"] = round(rate, 1)
        results[f"ms_per_call_batch{batch}"] = round(1000 * batch / rate, 2)
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

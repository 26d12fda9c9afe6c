"""Prometheus metrics of the service: one registry per process, shared by the adapters that
report (the instrumented classifier) and the HTTP layer that exposes and counts requests."""

from __future__ import annotations

import os
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector


class PrometheusMetrics:
    """The service's metrics. With `multiprocess_dir` (prometheus-client's
    PROMETHEUS_MULTIPROC_DIR, which must be set before the workers start) values live in files
    shared by every worker and an exposition reports their sum; without it, in this object."""

    def __init__(self, multiprocess_dir: Path | None = None) -> None:
        self.multiprocess_dir = multiprocess_dir
        if multiprocess_dir is not None:
            os.makedirs(multiprocess_dir, exist_ok=True)
            self.registry: CollectorRegistry | None = None
        else:
            self.registry = CollectorRegistry()
            ProcessCollector(registry=self.registry)
        registry = self.registry
        self.requests = Counter(
            "breastscan_http_requests",
            "HTTP API requests by method, route template and status code.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "breastscan_http_request_duration_seconds",
            "HTTP API request latency by method and route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=registry,
        )
        self.inference_seconds = Histogram(
            "breastscan_inference_duration_seconds",
            "Time of one classifier call (a batch of images).",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=registry,
        )
        self.inference_batch = Histogram(
            "breastscan_inference_batch_size",
            "Images per classifier call.",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=registry,
        )
        self.inference_errors = Counter(
            "breastscan_inference_errors",
            "Classifier calls that raised.",
            registry=registry,
        )
        self.predictions = Counter(
            "breastscan_predictions",
            "Images classified, by the label the model's threshold gives.",
            ["label"],
            registry=registry,
        )
        self.login_failures = Counter(
            "breastscan_login_failures",
            "Refused sign-ins: wrong credentials or throttled.",
            ["reason"],
            registry=registry,
        )
        # An "info" metric as a gauge: prometheus-client's Info does not work multiprocess.
        self.model_info = Gauge(
            "breastscan_model_info",
            "The loaded model (always 1; the labels carry the facts).",
            ["version", "threshold", "providers"],
            multiprocess_mode="max",
            registry=registry,
        )

    def observe_request(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method=method, route=route, status=str(status)).inc()
        self.request_seconds.labels(method=method, route=route).observe(seconds)

    def refused_sign_in(self, reason: str) -> None:
        """A refused sign-in: "invalid_credentials" or "throttled"."""
        self.login_failures.labels(reason=reason).inc()

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric (summed over workers when shared)."""
        if self.registry is not None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # type: ignore[no-untyped-call]
        return generate_latest(registry)

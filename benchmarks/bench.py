"""Breastscan benchmark: in-process ceiling vs the authenticated HTTP path, on this machine.

Prints, in one run:
1. in-process decode + preprocess + inference, images/s, for a 512x512 JPEG and a
   1024x1024 PNG (made from real validation images when the shared dataset is present),
   through the same adapters the service uses (PillowImageDecoder + OnnxTumorClassifier);
2. end-to-end `POST /api/predictions` (authenticated, stored) requests/s and p50/p95
   latency at concurrency 1, 4 and 16 against `breastscan serve --api-only` started on
   loopback with a fresh embedded (SQLite) database;
3. the ratio of (2) to (1), also as CPU efficiency (in-process CPU time per image over the
   server's CPU time per request), and paired: the ceiling and HTTP at concurrency 4 measured
   alternately, round after round, so background load hits both sides of each ratio alike.
   Target: HTTP at concurrency 4 >= 70 % of the in-process ceiling.

The load generator runs on the same machine as the server and competes for its cores; it is a
lean keep-alive client with the request bytes built once, to keep its share small.

    python benchmarks/bench.py [--seconds 8] [--workers 1] [--ort-threads N] [--model FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.imaging.pillow_decoder import PillowImageDecoder  # noqa: E402
from adapters.inference.onnx_classifier import OnnxTumorClassifier  # noqa: E402

DATASET = (
    Path(os.environ.get("BREASTSCAN_SHARED_DIR", ROOT.parent / "shared"))
    / "datasets/breastmnist128/breastmnist_128_trainval.npz"
)
PASSWORD = "bench-" + secrets.token_urlsafe(12)
TARGET = 0.70


# --- inputs ------------------------------------------------------------------------------


def source_image() -> tuple[Image.Image, str]:
    """A real validation ultrasound image when available, else a synthetic speckle pattern."""
    if DATASET.is_file():
        with np.load(DATASET) as data:
            return Image.fromarray(data["val_images"][0]), f"real ({DATASET.name}, val[0])"
    rng = np.random.default_rng(0)
    pixels = (rng.gamma(2.0, 40.0, (128, 128))).clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels), "synthetic (dataset not found)"


def encode(image: Image.Image, side: int, fmt: str) -> bytes:
    buffer = io.BytesIO()
    big = image.resize((side, side), Image.Resampling.BICUBIC)
    big.save(buffer, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def model_path(given: str | None) -> tuple[Path, str]:
    path = Path(given or os.environ.get("BREASTSCAN_MODEL_PATH", ROOT / "models/breast-cnn.onnx"))
    if path.is_file():
        return path, str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    from tests.e2e.http.tiny_model import build_tiny_model

    tiny = build_tiny_model(Path(tempfile.mkdtemp(prefix="bench-model-")) / "tiny.onnx")
    return tiny, f"TINY STAND-IN ({path} is missing: figures are not representative)"


# --- 1. in-process ------------------------------------------------------------------------


async def run_for(
    seconds: float, concurrency: int, one: Callable[[], Awaitable[None]]
) -> list[float]:
    """Run `one` from `concurrency` loops for `seconds`; return each call's latency."""
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        while time.perf_counter() < deadline:
            start = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    return latencies


@dataclass
class Ceiling:
    rate: float  # images/s
    cpu_ms: float  # CPU time per image
    one: Callable[[], Awaitable[None]]  # one image through the best configuration
    concurrency: int


async def in_process(
    model: Path, payloads: dict[str, bytes], seconds: float, threads: int | None
) -> dict[str, Ceiling]:
    """Best images/s over ONNX Runtime thread counts and concurrency: the ceiling."""
    decoder = PillowImageDecoder()
    cores = os.cpu_count() or 1
    thread_options = [threads] if threads else sorted({cores, max(1, cores // 2), 1}, reverse=True)
    # Each thread count runs as many inferences at once as the cores allow.
    classifiers = {
        t: OnnxTumorClassifier(model, intra_op_threads=t, max_concurrency=max(1, cores // t))
        for t in thread_options
    }
    results: dict[str, Ceiling] = {}
    for name, data in payloads.items():
        best = Ceiling(0.0, 0.0, lambda: asyncio.sleep(0), 1)
        for ort_threads, classifier in classifiers.items():

            async def one(data: bytes = data, name: str = name, c=classifier) -> None:
                image = await decoder.decode(data, name)
                await c.classify([image])

            await run_for(1.0, 2, one)  # warm-up
            for concurrency in (1, 2, 4):
                cpu_before, start = own_cpu_seconds(), time.perf_counter()
                latencies = await run_for(seconds, concurrency, one)
                rate = len(latencies) / (time.perf_counter() - start)
                cpu_ms = 1000 * (own_cpu_seconds() - cpu_before) / len(latencies)
                print(
                    f"  {name:<14} ORT {ort_threads} thread(s) x {max(1, cores // ort_threads)} "
                    f"run(s), concurrency {concurrency}: "
                    f"{rate:7.1f} images/s   CPU {cpu_ms:5.1f} ms/image"
                )
                if rate > best.rate:
                    best = Ceiling(rate, cpu_ms, one, concurrency)
        results[name] = best
    return results


def own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- 2. HTTP -------------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: str
    env: dict[str, str]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def breastscan(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
        cwd=ROOT,
    )


def start_server(model: Path, data_dir: Path, workers: int, extra: dict[str, str]) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "BREASTSCAN_DATA_DIR": str(data_dir),
        "BREASTSCAN_MODEL_PATH": str(model),
        "BREASTSCAN_LOG_LEVEL": "warning",
        **extra,
    }
    breastscan("migrate", env=env)
    breastscan("users", "create", "bench@example.org", "--password-stdin", env=env, stdin=PASSWORD)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "entrypoints.cli",
            "serve",
            "--api-only",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {process.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{base}/api/ready", timeout=1).status_code == 200:
                return Server(process, base, env)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not become ready within 60 s")


def multipart(filename: str, data: bytes) -> tuple[bytes, str]:
    boundary = secrets.token_hex(16)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


class Connection:
    """A lean HTTP/1.1 keep-alive client: the request bytes are built once, the response is
    read by Content-Length. It keeps the load generator's share of the CPUs small (httpx
    costs about 2 ms of CPU per request here, as much as a third of the server's overhead)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        return cls(*await asyncio.open_connection(host, port))

    async def send(self, request: bytes) -> int:
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()


def post_request(host: str, path: str, token: str, body: bytes, content_type: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process and its children (the uvicorn workers)."""
    total = 0.0
    for one in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        children = (task / "children").read_text().split() if (task / "children").exists() else []
        for child in map(int, children):
            found += [child, *_children(child)]
    return found


@dataclass
class Level:
    rate: float
    p50: float
    p95: float
    failures: int
    server_cpu_ms: float  # server CPU time per request


async def http_level(server: Server, request: bytes, concurrency: int, seconds: float) -> Level:
    host, port = server.base.removeprefix("http://").split(":")
    connections = [await Connection.open(host, int(port)) for _ in range(concurrency)]
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in connections:
        pool.put_nowait(connection)
    failures = 0

    async def one() -> None:
        nonlocal failures
        connection = await pool.get()
        try:
            if await connection.send(request) != 201:
                failures += 1
        finally:
            pool.put_nowait(connection)

    await run_for(min(1.0, seconds), concurrency, one)  # warm connections and caches
    cpu_before = process_cpu_seconds(server.process.pid)
    start = time.perf_counter()
    latencies = await run_for(seconds, concurrency, one)
    elapsed = time.perf_counter() - start
    server_cpu = process_cpu_seconds(server.process.pid) - cpu_before
    for connection in connections:
        await connection.close()
    latencies.sort()
    return Level(
        rate=len(latencies) / elapsed,
        p50=statistics.median(latencies),
        p95=latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))],
        failures=failures,
        server_cpu_ms=1000 * server_cpu / len(latencies),
    )


@asynccontextmanager
async def running_server(
    model: Path, payload: tuple[str, bytes], workers: int, extra: dict[str, str]
) -> AsyncIterator[tuple[Server, bytes]]:
    """A fresh server with one account, and the authenticated upload request to send it."""
    with tempfile.TemporaryDirectory(prefix="bench-data-") as data_dir:
        server = start_server(model, Path(data_dir), workers, extra)
        try:
            async with httpx.AsyncClient(base_url=server.base, timeout=30) as client:
                login = await client.post(
                    "/api/auth/login", json={"email": "bench@example.org", "password": PASSWORD}
                )
            login.raise_for_status()
            body, content_type = multipart(*payload)
            host = server.base.removeprefix("http://")
            token = login.json()["access_token"]
            yield server, post_request(host, "/api/predictions", token, body, content_type)
        finally:
            server.process.terminate()
            try:
                server.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.process.kill()


async def over_http(server: Server, request: bytes, seconds: float) -> dict[int, Level]:
    levels: dict[int, Level] = {}
    for concurrency in (1, 4, 16):
        level = await http_level(server, request, concurrency, seconds)
        levels[concurrency] = level
        note = f"  ({level.failures} non-201)" if level.failures else ""
        print(
            f"  concurrency {concurrency:>2}: {level.rate:7.1f} requests/s   "
            f"p50 {level.p50 * 1000:7.1f} ms   p95 {level.p95 * 1000:7.1f} ms   "
            f"server CPU {level.server_cpu_ms:5.1f} ms/request{note}"
        )
    return levels


async def paired(
    server: Server, request: bytes, ceiling: Ceiling, seconds: float, rounds: int
) -> list[float]:
    """HTTP at concurrency 4 right after the in-process ceiling, round after round, so both
    sides of each ratio see the same background load."""
    ratios = []
    for number in range(1, rounds + 1):
        start = time.perf_counter()
        done = len(await run_for(seconds, ceiling.concurrency, ceiling.one))
        inside = done / (time.perf_counter() - start)
        level = await http_level(server, request, 4, seconds)
        ratios.append(level.rate / inside)
        print(
            f"  round {number}: in-process {inside:6.1f} images/s, HTTP {level.rate:6.1f} "
            f"requests/s -> {ratios[-1]:6.1%}"
        )
    return ratios


# --- main --------------------------------------------------------------------------------


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="measuring time per level")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes (default 1)")
    parser.add_argument("--ort-threads", type=int, default=None, help="ONNX Runtime threads")
    parser.add_argument("--model", help="ONNX model (default: the committed one)")
    parser.add_argument("--rounds", type=int, default=3, help="paired ceiling/HTTP rounds")
    args = parser.parse_args(argv)

    model, model_note = model_path(args.model)
    image, origin = source_image()
    payloads = {
        "512x512 JPEG": encode(image, 512, "JPEG"),
        "1024x1024 PNG": encode(image, 1024, "PNG"),
    }
    print(f"Breastscan benchmark on {os.cpu_count()} CPUs; model {model_note}")
    print(
        f"Images: {origin}, upscaled; "
        + ", ".join(f"{name} {len(data) / 1024:.0f} KiB" for name, data in payloads.items())
    )
    extra = {}
    if args.ort_threads:
        extra["BREASTSCAN_ORT_THREADS"] = str(args.ort_threads)

    print("\n1. In-process decode + preprocess + inference (the ceiling is the best line)")
    ceiling = await in_process(model, payloads, args.seconds, args.ort_threads)

    jpeg = ceiling["512x512 JPEG"]
    payload = ("bench.jpg", payloads["512x512 JPEG"])
    async with running_server(model, payload, args.workers, extra) as (server, request):
        print(
            f"\n2. HTTP POST /api/predictions, authenticated and stored, 512x512 JPEG "
            f"({args.workers} worker{'s' if args.workers > 1 else ''}, SQLite)"
        )
        levels = await over_http(server, request, args.seconds)

        print(
            f"\n3. HTTP / in-process (512x512 JPEG; ceiling {jpeg.rate:.1f} images/s at "
            f"{jpeg.cpu_ms:.1f} ms CPU per image)"
        )
        for concurrency, level in levels.items():
            print(
                f"  concurrency {concurrency:>2}: throughput {level.rate / jpeg.rate:6.1%}   "
                f"CPU efficiency {jpeg.cpu_ms / level.server_cpu_ms:6.1%} "
                "(in-process CPU per image / server CPU per request)"
            )
        print("  paired, concurrency 4 (alternating, against the same background load):")
        ratios = await paired(server, request, jpeg, args.seconds, args.rounds)

    ratio = statistics.median(ratios)
    verdict = "meets" if ratio >= TARGET else "BELOW"
    print(
        f"\nHTTP at concurrency 4 reaches {ratio:.0%} of the in-process ceiling (median of "
        f"{len(ratios)} paired rounds): {verdict} the {TARGET:.0%} target."
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

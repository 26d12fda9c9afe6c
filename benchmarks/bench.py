"""Breastscan against the seed-style service it replaces, side by side, in one run.

Prints, in one run, on this machine:
1. the in-process ceiling: decode + preprocess + inference (+ lesion finding), images/s,
   through the adapters the service uses, for a 512x512 JPEG;
2. where one request's time goes: decode, preprocess, inference, lesion finding + CAM, the
   stored copy (JPEG metadata strip; the PNG re-encode it replaced is shown aside), image store
   + database (the real SQLite unit of work), and HTTP (the server's CPU
   per request at concurrency 1 minus all of these);
3. Breastscan's authenticated, stored `POST /api/predictions` and the seed-style peer
   (benchmarks/seed_style.py: FastAPI + Keras `model.predict` per request), both started here,
   their cold start (process start to ready) and resident memory; then requests/s and
   p50/p95/p99 at concurrency 1, 4 and 16, the two sides alternated round after round (the
   order flipped each round) so background load hits both alike, and the ratio (median of the
   paired rounds). Target: >= 10x the peer at concurrency 4, p95 < 50 ms at concurrency 1.

The load generator runs on the same cores as the servers; it is a lean keep-alive client with
the request bytes built once, so its share stays small and is the same for both sides.

    python benchmarks/bench.py [--seconds 4] [--rounds 3] [--workers 1] [--model FILE]
        [--env BREASTSCAN_X=1 ...]       # settings for Breastscan's server
        [--against BREASTSCAN_X=2 ...]   # instead of the seed peer: Breastscan with these
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from adapters.imaging import pillow_decoder  # noqa: E402
from adapters.imaging.preprocessing import preprocess  # noqa: E402
from adapters.inference import onnx_classifier  # noqa: E402
from adapters.inference.onnx_classifier import OnnxTumorClassifier  # noqa: E402

DATASET = (
    Path(os.environ.get("BREASTSCAN_SHARED_DIR", ROOT.parent / "shared"))
    / "datasets/breastmnist128/breastmnist_128_trainval.npz"
)
PASSWORD = "bench-" + secrets.token_urlsafe(12)
TARGET_RATIO = 10.0
TARGET_P95_MS = 50.0
LEVELS = (1, 4, 16)


# --- inputs ------------------------------------------------------------------------------


def source_image() -> tuple[Image.Image, str]:
    """A real validation ultrasound image when available, else a synthetic speckle pattern."""
    if DATASET.is_file():
        with np.load(DATASET) as data:
            return Image.fromarray(data["val_images"][0]), f"real ({DATASET.name}, val[0])"
    rng = np.random.default_rng(0)
    pixels = (rng.gamma(2.0, 40.0, (128, 128))).clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels), "synthetic (dataset not found)"


def encode_jpeg(image: Image.Image, side: int) -> bytes:
    buffer = io.BytesIO()
    image.resize((side, side), Image.Resampling.BICUBIC).save(buffer, format="JPEG", quality=90)
    return buffer.getvalue()


def model_path(given: str | None) -> tuple[Path, str]:
    path = Path(given or os.environ.get("BREASTSCAN_MODEL_PATH", ROOT / "models/breast-cnn.onnx"))
    if path.is_file():
        return path, str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    from tests.e2e.http.tiny_model import build_tiny_model

    tiny = build_tiny_model(Path(tempfile.mkdtemp(prefix="bench-model-")) / "tiny.onnx")
    return tiny, f"TINY STAND-IN ({path} is missing: figures are not representative)"


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


# --- 1. in-process ceiling ----------------------------------------------------------------


async def ceiling(model: Path, jpeg: bytes, seconds: float) -> float:
    """Best images/s of decode + inference over ONNX Runtime thread layouts."""
    decoder = pillow_decoder.PillowImageDecoder()
    cores = os.cpu_count() or 1
    best = 0.0
    for threads in sorted({1, cores}):
        runs = max(1, cores // threads)
        classifier = OnnxTumorClassifier(model, intra_op_threads=threads, max_concurrency=runs)

        async def one(c: OnnxTumorClassifier = classifier) -> None:
            await c.classify([await decoder.decode(jpeg, "bench.jpg")])

        await run_for(0.5, 2 * runs, one)  # warm-up
        start = time.perf_counter()
        done = len(await run_for(seconds, 2 * runs, one))
        rate = done / (time.perf_counter() - start)
        best = max(best, rate)
        print(f"  ORT {threads} thread(s) x {runs} run(s) at once: {rate:7.1f} images/s")
    return best


# --- 2. where a request's time goes --------------------------------------------------------


def median_ms(function: Callable[[], object], repeat: int = 30) -> float:
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


async def breakdown(model: Path, jpeg: bytes) -> dict[str, float]:
    """Milliseconds per request for each step, one image, in this thread."""
    classifier = OnnxTumorClassifier(model, intra_op_threads=1)
    steps: dict[str, float] = {}

    def decode() -> Image.Image:
        with Image.open(io.BytesIO(jpeg), formats=["JPEG"]) as image:
            image.draft(None, (1024, 1024))
            image.load()
            oriented = pillow_decoder._apply_orientation(image)
        return pillow_decoder._for_storage(pillow_decoder._normalise_mode(oriented), 1024)

    stored = decode()
    batch = preprocess(stored)[np.newaxis]
    steps["decode (JPEG, orientation, storage size)"] = median_ms(decode)
    steps["preprocess (grey, crop, resize)"] = median_ms(lambda: preprocess(stored))
    steps["inference (ONNX Runtime, 1 thread)"] = median_ms(lambda: classifier.run(batch))
    image = pillow_decoder.PillowImageDecoder().decode_sync(jpeg, "bench.jpg")
    _, cam, lesion = classifier.run(batch)
    steps["lesion finding + CAM grid"] = median_ms(
        lambda: (
            None if lesion is None else classifier._finding(lesion[0], image),
            onnx_classifier._to_grid(cam[0]),
        )
    )
    # What the decoder keeps: an upright JPEG as it came, metadata segments stripped (a PNG
    # re-encode before; still the path for rotated, scaled or non-JPEG uploads).
    steps["stored copy: JPEG metadata strip + SHA-256"] = median_ms(
        lambda: hashlib.sha256(pillow_decoder.strip_jpeg_metadata(jpeg) or b"").digest()
    )
    print(
        "  (for comparison, off this path: PNG re-encode + SHA-256 "
        f"{median_ms(lambda: hashlib.sha256(pillow_decoder._encode_png(stored, 1)).digest()):.2f}"
        " ms)"
    )
    steps["image store + database (SQLite)"] = await _store_ms(image, image.stored_image)
    return steps


async def _store_ms(image: object, png: bytes) -> float:
    """The use case with decoding and inference already done: image file + one transaction."""
    from application.commands import PredictAndStore, RegisterUser, Upload
    from application.ports import Classification
    from application.use_cases import PredictAndStoreUseCase
    from entrypoints.container import build_container
    from entrypoints.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-store-") as data_dir:
        env = {"BREASTSCAN_DATA_DIR": data_dir, "BREASTSCAN_LOG_LEVEL": "warning"}
        breastscan("migrate", env={**os.environ, **env})
        container = build_container(Settings.from_env(env))
        register = container.register_user()
        user = await register(RegisterUser(email="store@example.org", password=PASSWORD))
        classification = Classification(p_malignant=0.5, cam=((0.0,) * 16,) * 16)

        class Ready:
            async def decode(self, data: bytes, filename: str, frame: int | None = None) -> object:
                return image

        class Known:
            model = container.onnx_classifier().model

            async def classify(self, images: Sequence[object]) -> list[Classification]:
                return [classification] * len(images)

        use_case = PredictAndStoreUseCase(
            container.uow(), Ready(), Known(), container.image_store(), container.clock()
        )  # type: ignore[arg-type]
        command = PredictAndStore(actor=user, uploads=(Upload("b.jpg", png),))
        times = []
        for _ in range(40):
            start = time.perf_counter()
            await use_case(command)
            times.append(time.perf_counter() - start)
        await container.engine().dispose()
        return 1000 * statistics.median(times[5:])


# --- 3. servers side by side ---------------------------------------------------------------


@dataclass
class Side:
    name: str
    process: subprocess.Popen[bytes]
    request: bytes
    status: int  # what a successful request answers
    cold_start_s: float
    host: str
    port: int
    rates: dict[int, list[float]] = field(default_factory=dict)
    latencies: dict[int, list[float]] = field(default_factory=dict)
    server_cpu_ms: dict[int, float] = field(default_factory=dict)


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


def wait_ready(process: subprocess.Popen[bytes], url: str, started: float) -> float:
    deadline = time.time() + 120
    while time.time() < deadline:
        if process.poll() is not None:
            error = process.stderr.read().decode()[-2000:] if process.stderr else ""
            raise RuntimeError(f"server exited: {error}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"{url} did not answer within 120 s")


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


def post_request(host: str, path: str, body: bytes, content_type: str, token: str = "") -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{auth}"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@contextmanager
def breastscan_side(
    name: str, model: Path, jpeg: bytes, workers: int, extra: dict[str, str]
) -> Iterator[Side]:
    """`breastscan serve --api-only` on a fresh embedded database with one account."""
    with tempfile.TemporaryDirectory(prefix="bench-data-") as data_dir:
        port = free_port()
        env = {
            **os.environ,
            "BREASTSCAN_DATA_DIR": data_dir,
            "BREASTSCAN_MODEL_PATH": str(model),
            "BREASTSCAN_LOG_LEVEL": "warning",
            **extra,
        }
        breastscan("migrate", env=env)
        breastscan(
            "users", "create", "bench@example.org", "--password-stdin", env=env, stdin=PASSWORD
        )
        command = [sys.executable, "-m", "entrypoints.cli", "serve", "--api-only"]
        workers = int(extra.get("BREASTSCAN_WORKERS", workers))
        command += ["--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        try:
            base = f"http://127.0.0.1:{port}"
            cold = wait_ready(process, f"{base}/api/ready", started)
            login = httpx.post(
                f"{base}/api/auth/login",
                json={"email": "bench@example.org", "password": PASSWORD},
                timeout=30,
            )
            login.raise_for_status()
            body, content_type = multipart("bench.jpg", jpeg)
            token = login.json()["access_token"]
            request = post_request(
                f"127.0.0.1:{port}", "/api/predictions", body, content_type, token
            )
            yield Side(name, process, request, 201, cold, "127.0.0.1", port)
        finally:
            stop(process)


@contextmanager
def seed_side(jpeg: bytes) -> Iterator[Side]:
    """benchmarks/seed_style.py in this interpreter (the venv has the `ml` extra)."""
    port = free_port()
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "benchmarks/seed_style.py"), "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        cold = wait_ready(process, f"http://127.0.0.1:{port}/health", started)
        body, content_type = multipart("bench.jpg", jpeg)
        request = post_request(f"127.0.0.1:{port}", "/predict", body, content_type)
        yield Side("seed-style", process, request, 200, cold, "127.0.0.1", port)
    finally:
        stop(process)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


class Connection:
    """A lean HTTP/1.1 keep-alive client: the request bytes are built once, the response is
    read by Content-Length (httpx costs about 2 ms of CPU per request here)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

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


def pids(pid: int) -> list[int]:
    """A process and its descendants (uvicorn's workers)."""
    found = [pid]
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += pids(child)
    return found


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for one in pids(pid):
        try:
            fields = Path(f"/proc/{one}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_mib(pid: int, key: str = "VmRSS") -> dict[int, float]:
    """Resident memory (or its peak, VmHWM) per process of the tree, MiB."""
    sizes = {}
    for one in pids(pid):
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith(key + ":"):
                    sizes[one] = int(line.split()[1]) / 1024
        except OSError:
            continue
    return sizes


async def measure(side: Side, concurrency: int, seconds: float) -> None:
    connections = [
        Connection(*await asyncio.open_connection(side.host, side.port)) for _ in range(concurrency)
    ]
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for connection in connections:
        pool.put_nowait(connection)
    failures = 0

    async def one() -> None:
        nonlocal failures
        connection = await pool.get()
        try:
            if await connection.send(side.request) != side.status:
                failures += 1
        finally:
            pool.put_nowait(connection)

    await run_for(min(0.5, seconds), concurrency, one)  # warm connections and caches
    cpu_before = cpu_seconds(side.process.pid)
    start = time.perf_counter()
    latencies = await run_for(seconds, concurrency, one)
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(side.process.pid) - cpu_before
    for connection in connections:
        await connection.close()
    if failures:
        raise RuntimeError(f"{side.name}: {failures} requests failed at concurrency {concurrency}")
    side.rates.setdefault(concurrency, []).append(len(latencies) / elapsed)
    side.latencies.setdefault(concurrency, []).extend(latencies)
    side.server_cpu_ms[concurrency] = 1000 * cpu / len(latencies)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def side_by_side(
    ours: Side, peer: Side, seconds: float, rounds: int, levels: Sequence[int]
) -> dict[int, float]:
    ratios: dict[int, float] = {}
    for concurrency in levels:
        paired = []
        for number in range(rounds):
            order = (peer, ours) if number % 2 == 0 else (ours, peer)
            for side in order:
                await measure(side, concurrency, seconds)
            paired.append(ours.rates[concurrency][-1] / peer.rates[concurrency][-1])
        ratios[concurrency] = statistics.median(paired)
        print(f"  concurrency {concurrency}:")
        for side in (peer, ours):
            lat = side.latencies[concurrency]
            print(
                f"    {side.name:<12} {statistics.median(side.rates[concurrency]):7.1f} req/s   "
                f"p50 {1000 * percentile(lat, 0.50):7.1f}  p95 {1000 * percentile(lat, 0.95):7.1f}"
                f"  p99 {1000 * percentile(lat, 0.99):7.1f} ms   "
                f"server CPU {side.server_cpu_ms[concurrency]:5.1f} ms/request"
            )
        rounds_text = ", ".join(f"{r:.1f}x" for r in paired)
        print(f"    ratio {ratios[concurrency]:.1f}x (paired rounds: {rounds_text})")
    return ratios


# --- main --------------------------------------------------------------------------------


def settings_pairs(values: list[str]) -> dict[str, str]:
    pairs = {}
    for value in values:
        key, sep, setting = value.partition("=")
        if not sep or not key.startswith("BREASTSCAN_"):
            raise SystemExit(f"expected BREASTSCAN_NAME=value, got {value!r}")
        pairs[key] = setting
    return pairs


def print_memory(side: Side, note: str) -> None:
    sizes = rss_mib(side.process.pid)
    peaks = rss_mib(side.process.pid, "VmHWM")
    shown = ", ".join(f"{sizes[p]:.0f} MiB (peak {peaks.get(p, 0):.0f})" for p in sizes)
    print(f"  {side.name:<12} RSS {note}: {shown}")


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="measuring time per round")
    parser.add_argument("--rounds", type=int, default=3, help="paired rounds per level")
    parser.add_argument("--workers", type=int, default=1, help="API worker processes")
    parser.add_argument("--model", help="ONNX model (default: the committed one)")
    parser.add_argument("--env", action="append", default=[], help="BREASTSCAN_X=value")
    parser.add_argument(
        "--against", action="append", help="compare with Breastscan under these settings"
    )
    parser.add_argument("--levels", default="1,4,16", help="concurrency levels")
    parser.add_argument(
        "--http-only", action="store_true", help="skip the ceiling and the breakdown"
    )
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]

    model, model_note = model_path(args.model)
    image, origin = source_image()
    jpeg = encode_jpeg(image, 512)
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg())
    print(
        f"Breastscan benchmark on {os.cpu_count()} CPUs (load average {load}); model {model_note}"
    )
    print(f"Image: {origin}, upscaled to a 512x512 JPEG of {len(jpeg) / 1024:.0f} KiB")

    steps: dict[str, float] = {}
    if not args.http_only:
        print("\n1. In-process ceiling: decode + preprocess + inference + lesion finding")
        best = await ceiling(model, jpeg, args.seconds)
        print(f"  ceiling {best:.1f} images/s")
        print("\n2. Where one request's time goes (median ms, one thread)")
        steps = await breakdown(model, jpeg)
        for step, ms in steps.items():
            print(f"  {step:<44} {ms:6.2f} ms")

    extra = settings_pairs(args.env)
    ours_cm = breastscan_side("Breastscan", model, jpeg, args.workers, extra)
    if args.against is None:
        peer_cm = seed_side(jpeg)
    else:
        peer_cm = breastscan_side(
            "Breastscan'", model, jpeg, args.workers, {**extra, **settings_pairs(args.against)}
        )
    print("\n3. Side by side: 512x512 JPEG, Breastscan authenticated + stored (SQLite)")
    with ours_cm as ours, peer_cm as peer:
        for side in (peer, ours):
            print(
                f"  {side.name:<12} cold start {side.cold_start_s:5.2f} s (process start to ready)"
            )
            print_memory(side, "when ready")
        ratios = await side_by_side(ours, peer, args.seconds, args.rounds, levels)
        for side in (peer, ours):
            print_memory(side, "after the run")
        http_ms = ours.server_cpu_ms.get(1, 0.0) - sum(steps.values())
        print(
            f"  HTTP, auth, JSON and the rest: {http_ms:.1f} ms of server CPU per request "
            f"(server CPU at concurrency 1, {ours.server_cpu_ms.get(1, 0.0):.1f} ms, "
            "minus section 2)"
        )

    p95 = 1000 * percentile(ours.latencies.get(1, [0.0]), 0.95)
    ratio = ratios.get(4, 0.0)
    print(
        f"\nAt concurrency 4 Breastscan serves {ratio:.1f}x the requests/s of {peer.name} "
        f"({'meets' if ratio >= TARGET_RATIO else 'BELOW'} the {TARGET_RATIO:.0f}x target); "
        f"ratios {', '.join(f'c={c}: {r:.1f}x' for c, r in ratios.items())}; p95 at "
        f"concurrency 1 {p95:.1f} ms ({'meets' if p95 < TARGET_P95_MS else 'ABOVE'} "
        f"the {TARGET_P95_MS:.0f} ms target); cold start {ours.cold_start_s:.2f} s."
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))

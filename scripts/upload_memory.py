"""RSS of the API under concurrent large uploads (issue 9's memory figure).

Starts `breastscan serve --api-only` (one worker, SQLite, the tiny test model) from the
source tree given (default: this checkout), sends CONCURRENT requests of FILES x ~10 MiB PNGs
at once, and samples the server's resident memory: before, at the peak, and after settling.

    .venv/bin/python scripts/upload_memory.py [SOURCE_TREE]
"""

from __future__ import annotations

import concurrent.futures
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from PIL import Image

HERE = Path(__file__).resolve().parents[1]
CONCURRENT, FILES, SIDE = 4, 10, 1800  # 1800x1800 RGB noise: about 9.3 MiB as PNG
PASSWORD = "violet lantern under rain"


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def noise_png(seed: int) -> bytes:
    rng = random.Random(seed)
    buffer = io.BytesIO()
    Image.frombytes("RGB", (SIDE, SIDE), rng.randbytes(SIDE * SIDE * 3)).save(
        buffer, format="PNG", compress_level=1
    )
    return buffer.getvalue()


def main() -> None:
    tree = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else HERE
    sys.path.insert(0, str(HERE))
    from tests.e2e.http.tiny_model import build_tiny_model

    tmp = Path(tempfile.mkdtemp(prefix="bs-mem-"))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BREASTSCAN_")} | {
        "BREASTSCAN_DATA_DIR": str(tmp / "data"),
        "BREASTSCAN_MODEL_PATH": str(build_tiny_model(tmp / "tiny.onnx")),
        "BREASTSCAN_PORT": str(port),
        "BREASTSCAN_LOG_LEVEL": "error",
        "BREASTSCAN_MAX_UPLOAD_BYTES": str(10 * 1024 * 1024),
        "BREASTSCAN_MAX_FILES_PER_REQUEST": str(FILES),
        "PYTHONPATH": str(tree),
    }
    cli = [sys.executable, "-m", "entrypoints.cli"]
    subprocess.run([*cli, "migrate"], cwd=tree, env=env, check=True, capture_output=True)
    server = subprocess.Popen([*cli, "serve", "--api-only"], cwd=tree, env=env)
    base = f"http://127.0.0.1:{port}/api"
    try:
        for _ in range(200):
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        httpx.post(f"{base}/auth/register", json={"email": "m@example.org", "password": PASSWORD})
        login = {"email": "m@example.org", "password": PASSWORD}
        token = httpx.post(f"{base}/auth/login", json=login).json()["access_token"]
        images = [noise_png(seed) for seed in range(CONCURRENT * FILES)]
        print(f"{len(images)} images, {sum(map(len, images)) / 2**20:.0f} MiB in all")
        time.sleep(2)
        before = rss_mib(server.pid)
        peak, stop = [before], threading.Event()

        def sample() -> None:
            while not stop.is_set():
                peak.append(rss_mib(server.pid))
                time.sleep(0.05)

        def send(index: int) -> int:
            batch = images[index * FILES : (index + 1) * FILES]
            files = [
                ("file", (f"{index}-{i}.png", data, "image/png")) for i, data in enumerate(batch)
            ]
            r = httpx.post(
                f"{base}/predictions",
                files=files,
                headers={"Authorization": f"Bearer {token}"},
                timeout=600,
            )
            return r.status_code

        sampler = threading.Thread(target=sample)
        sampler.start()
        with concurrent.futures.ThreadPoolExecutor(CONCURRENT) as pool:
            statuses = list(pool.map(send, range(CONCURRENT)))
        time.sleep(5)
        stop.set()
        sampler.join()
        after = rss_mib(server.pid)
        print(f"statuses {statuses}")
        print(f"RSS before {before:.0f} MiB, peak {max(peak):.0f} MiB, after {after:.0f} MiB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

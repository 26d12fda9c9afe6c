"""Run Breastscan's deployment roles as local processes, to prove the API is stateless.

    python scripts/stack.py --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/stack

does what docker-compose's "scale" profile and the Kubernetes manifests do, without
containers: `breastscan migrate` once, two API-only replicas (`breastscan serve --api-only`)
on two loopback ports, and the UI process (`breastscan serve`). Every role gets the same
database, the same JWT secret (via the environment) and the same image-store directory, and
nothing else: whatever one replica stores, the other must be able to serve.

It waits until every role answers GET /api/ready, prints the URLs (and each process's
resident memory), and runs until Ctrl-C. tests/ops/test_stack.py drives the same class.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_MODEL = ROOT / "models" / "breast-cnn.onnx"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def rss_mib(pid: int) -> list[float]:
    """Resident memory (MiB) of a process, then of each of its children (uvicorn workers)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(child) for child in children]
    sizes = []
    for one in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sizes


@dataclass
class Role:
    """One server process of the stack (its own process group, so workers die with it)."""

    name: str
    port: int
    args: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, cwd: Path) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "entrypoints.cli", *self.args],
            cwd=cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def signal(self, signum: int) -> None:
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signum)

    def stop(self, timeout: float = 15) -> None:
        if self.process is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.process.wait(5)
        # Workers of a killed parent may outlive it: sweep the whole group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/ready", timeout=2) as response:
                return bool(response.status == 200)
        except (OSError, urllib.error.URLError):
            return False

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class Stack:
    """migrate once, then API replicas and the UI process over one database and image store."""

    database_url: str
    data_dir: Path
    model_path: Path = DEFAULT_MODEL
    api_ports: tuple[int, ...] = ()
    ui_port: int | None = None
    with_ui: bool = True
    api_workers: int = 1
    jwt_secret: str = field(default_factory=lambda: secrets.token_urlsafe(48), repr=False)
    metrics_token: str = field(default_factory=lambda: secrets.token_urlsafe(24), repr=False)
    extra_env: dict[str, str] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.model_path = Path(self.model_path).resolve()
        self.log_dir = self.data_dir / "logs"
        if not self.api_ports:
            self.api_ports = (free_port(), free_port())

    def env(self, role: str) -> dict[str, str]:
        # Nothing of the caller's own configuration leaks in (nor pytest's markers, which
        # make NiceGUI believe it runs inside a test).
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BREASTSCAN_", "PYTEST_", "NICEGUI_"))
        }
        inherited.pop("PROMETHEUS_MULTIPROC_DIR", None)
        pythonpath = os.pathsep.join(p for p in (str(ROOT), inherited.get("PYTHONPATH")) if p)
        return {
            **inherited,
            "PYTHONPATH": pythonpath,
            "PYTHONUNBUFFERED": "1",
            "BREASTSCAN_DATABASE_URL": self.database_url,
            "BREASTSCAN_DATA_DIR": str(self.data_dir / "shared"),
            "BREASTSCAN_MODEL_PATH": str(self.model_path),
            "BREASTSCAN_JWT_SECRET": self.jwt_secret,
            "BREASTSCAN_METRICS_TOKEN": self.metrics_token,
            "BREASTSCAN_ORT_THREADS": "1",
            "BREASTSCAN_LOG_LEVEL": "info",
            # Each process (group) aggregates its own workers' metrics.
            "PROMETHEUS_MULTIPROC_DIR": str(self.data_dir / "metrics" / role),
            "NICEGUI_STORAGE_PATH": str(self.data_dir / "nicegui"),
            **self.extra_env,
        }

    def migrate(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [sys.executable, "-m", "entrypoints.cli", "migrate"],
            cwd=self.data_dir,
            env=self.env("migrate"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        (self.log_dir / "migrate.log").write_text(result.stdout + result.stderr)
        if result.returncode != 0:
            raise RuntimeError(f"breastscan migrate failed:\n{result.stdout}{result.stderr}")

    def _role(self, name: str, port: int, api_only: bool, workers: int) -> Role:
        args = ["serve", "--host", "127.0.0.1", "--port", str(port)]
        if api_only:
            args[1:1] = ["--api-only"]
            args += ["--workers", str(workers)]
        return Role(name, port, args, self.env(name), self.log_dir / f"{name}.log")

    def start_role(self, role: Role) -> None:
        metrics_dir = Path(role.env["PROMETHEUS_MULTIPROC_DIR"])
        if metrics_dir.exists():  # a fresh directory per start, as the image's entrypoint does
            for stale in metrics_dir.iterdir():
                stale.unlink()
        metrics_dir.mkdir(parents=True, exist_ok=True)
        role.start(cwd=self.data_dir)
        self.roles[role.name] = role

    def start(self, timeout: float = 90) -> Self:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "shared").mkdir(exist_ok=True)
        self.migrate()
        for index, port in enumerate(self.api_ports):
            name = f"api-{chr(ord('a') + index)}"
            self.start_role(self._role(name, port, api_only=True, workers=self.api_workers))
        if self.with_ui:
            port = self.ui_port or free_port()
            self.start_role(self._role("ui", port, api_only=False, workers=1))
        self.wait_ready(timeout=timeout)
        return self

    def restart(self, name: str, timeout: float = 60) -> Role:
        old = self.roles[name]
        old.stop()
        role = Role(old.name, old.port, old.args, old.env, old.log_path)
        self.start_role(role)
        self.wait_ready([name], timeout=timeout)
        return role

    def wait_ready(self, names: list[str] | None = None, timeout: float = 90) -> None:
        pending = {n: self.roles[n] for n in (names or list(self.roles))}
        deadline = time.monotonic() + timeout
        while pending:
            for name, role in list(pending.items()):
                if not role.alive:
                    raise RuntimeError(f"{name} exited during start-up:\n{role.log_tail()}")
                if role.ready():
                    del pending[name]
            if pending and time.monotonic() > deadline:
                tails = "\n".join(f"--- {n}\n{r.log_tail()}" for n, r in pending.items())
                raise TimeoutError(f"not ready after {timeout:.0f}s: {sorted(pending)}\n{tails}")
            if pending:
                time.sleep(0.25)

    def kill(self, name: str) -> None:
        """SIGKILL the role's whole process group: no graceful shutdown, no flushing."""
        role = self.roles[name]
        role.signal(signal.SIGKILL)
        if role.process is not None:
            role.process.wait(10)

    def stop(self) -> None:
        for role in self.roles.values():
            role.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def create_database_if_missing(database_url: str) -> None:
    """CREATE DATABASE for a PostgreSQL URL whose database does not exist yet."""
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if not url.drivername.startswith("postgresql"):
        return
    name = url.database
    admin = url.set(drivername="postgresql", database="postgres")

    async def create() -> None:
        connection = await asyncpg.connect(admin.render_as_string(hide_password=False))
        try:
            if not await connection.fetchval("SELECT 1 FROM pg_database WHERE datname=$1", name):
                await connection.execute(f'CREATE DATABASE "{name}"')
                print(f"Created database {name}", flush=True)
        finally:
            await connection.close()

    asyncio.run(create())


def warm_up(stack: Stack, images: int) -> None:
    """Register a throwaway account and store `images` predictions through every API role."""
    import io
    import json
    import uuid

    from PIL import Image

    email, password = f"warmup-{uuid.uuid4().hex[:8]}@example.org", secrets.token_urlsafe(16)

    def call(url: str, body: bytes, content_type: str, token: str | None = None) -> dict:
        request = urllib.request.Request(url, data=body, method="POST")
        request.add_header("Content-Type", content_type)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=60) as response:
            return dict(json.loads(response.read() or b"{}"))

    first = next(iter(stack.roles.values())).url
    credentials = json.dumps({"email": email, "password": password}).encode()
    call(f"{first}/api/auth/register", credentials, "application/json")
    token = call(f"{first}/api/auth/login", credentials, "application/json")["access_token"]
    for role in stack.roles.values():
        for n in range(images):
            buffer = io.BytesIO()
            Image.effect_noise((512, 512), 40 + n % 50).save(buffer, format="PNG")
            boundary = uuid.uuid4().hex
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                    f'filename="warmup-{n}.png"\r\nContent-Type: image/png\r\n\r\n'
                ).encode()
                + buffer.getvalue()
                + f"\r\n--{boundary}--\r\n".encode()
            )
            call(
                f"{role.url}/api/predictions",
                body,
                f"multipart/form-data; boundary={boundary}",
                token,
            )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url",
        default=os.environ.get("BREASTSCAN_DATABASE_URL"),
        help="SQLAlchemy URL of a PostgreSQL database every role shares "
        "(default: $BREASTSCAN_DATABASE_URL)",
    )
    parser.add_argument("--data-dir", type=Path, help="shared image store + logs (default: temp)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="the .onnx model")
    parser.add_argument("--api-ports", default="8101,8102", help="comma-separated API ports")
    parser.add_argument("--ui-port", type=int, default=8100)
    parser.add_argument("--no-ui", action="store_true", help="API replicas only")
    parser.add_argument("--api-workers", type=int, default=1, help="workers per API replica")
    parser.add_argument(
        "--create-database",
        action="store_true",
        help="create the PostgreSQL database when it does not exist",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=0,
        metavar="N",
        help="store N predictions through every role before reporting memory",
    )
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("--database-url (or BREASTSCAN_DATABASE_URL) is required")
    if not args.model.is_file():
        parser.error(f"model not found: {args.model} (train it or pass --model)")
    if args.create_database:
        create_database_if_missing(args.database_url)
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="breastscan-stack-"))
    stack = Stack(
        database_url=args.database_url,
        data_dir=data_dir,
        model_path=args.model,
        api_ports=tuple(int(p) for p in args.api_ports.split(",") if p.strip()),
        ui_port=args.ui_port,
        with_ui=not args.no_ui,
        api_workers=args.api_workers,
    )
    print(f"Starting the stack in {data_dir} (logs in {stack.log_dir}) ...", flush=True)
    # Ctrl-C, `kill` and a make/CI timeout all stop every role (a background job started by
    # a non-interactive shell even inherits SIGINT as ignored).
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        with stack:
            if args.warmup:
                print(f"Warming up: {args.warmup} stored predictions per role ...", flush=True)
                warm_up(stack, args.warmup)
            for name, role in stack.roles.items():
                sizes = rss_mib(role.process.pid) if role.process else []
                memory = " + ".join(str(size) for size in sizes) or "?"
                print(
                    f"  {name:6s} {role.url}/api   pid {role.process.pid if role.process else '-'}"
                    f"   RSS {memory} MiB",
                    flush=True,
                )
            print(
                f"  metrics: curl -H 'Authorization: Bearer {stack.metrics_token}' "
                f"{stack.roles['api-a'].url}/api/metrics",
                flush=True,
            )
            print("Ready. Ctrl-C stops every process.", flush=True)
            while all(role.alive for role in stack.roles.values()):
                time.sleep(1)
            dead = [name for name, role in stack.roles.items() if not role.alive]
            print(f"stopped: {dead} exited", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

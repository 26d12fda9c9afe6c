"""Breastscan as a real server process in tests: a free port, the CLI, a clean stop."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def breastscan_cli() -> list[str]:
    """The installed console script, else the module."""
    script = Path(sys.executable).with_name("breastscan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "entrypoints.cli"]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def wait_until_up(
    url: str, process: subprocess.Popen[bytes], log: Path, within_s: float = 60
) -> None:
    """Until GET `url` answers 200; fail with the server's log if it exits or takes too long."""
    deadline = time.monotonic() + within_s
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"the server did not answer {url}"
        time.sleep(0.2)

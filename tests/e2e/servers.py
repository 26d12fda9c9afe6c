"""Breastscan as a real server process in tests: a free port, the CLI, a clean stop."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path


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

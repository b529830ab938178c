"""Starting and watching a benchmark server in a subprocess on loopback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m uvicorn --factory TARGET` with the given environment; stop() ends it."""

    def __init__(self, target: str, env: dict[str, str], workers: int = 1) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            target,
            "--app-dir",
            str(ROOT),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--log-level",
            "warning",
            "--no-server-header",
        ]
        if workers > 1:
            command += ["--workers", str(workers)]
        self.process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def rss_kib(self, field: str = "VmRSS") -> int:
        """Resident memory (or with field="VmHWM" its kernel-kept peak) of the server, in KiB."""
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith(f"{field}:")
            )
        return total

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


class PeakRss:
    """Samples a server's RSS every few milliseconds in a thread; keeps the peak."""

    def __init__(self, server: Server, every: float = 0.02) -> None:
        self.server = server
        self.every = every
        self.baseline = server.rss_kib()
        self.peak = self.baseline
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.rss_kib())
            time.sleep(self.every)

    def stop(self) -> int:
        """Peak growth over the baseline, in KiB (the kernel's high-water mark counts too)."""
        self._stop.set()
        self._thread.join()
        return max(self.peak, self.server.rss_kib("VmHWM")) - self.baseline

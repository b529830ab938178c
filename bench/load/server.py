"""Starting and watching a benchmark server in a subprocess on loopback."""

from __future__ import annotations

import os
import shutil
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
    """A server subprocess on a loopback port of its own; stop() ends it."""

    def __init__(self, command: list[str], env: dict[str, str], port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(command, env={**os.environ, **env}, cwd=ROOT)
        self._wait()

    @classmethod
    def uvicorn(cls, target: str, env: dict[str, str], workers: int = 1) -> Server:
        """`python -m uvicorn --factory TARGET` (for the yardstick app and the fallback)."""
        port = free_port()
        command = [
            *(sys.executable, "-m", "uvicorn", "--factory", target, "--app-dir", str(ROOT)),
            *("--host", "127.0.0.1", "--port", str(port)),
            *("--no-access-log", "--log-level", "warning", "--no-server-header"),
        ]
        if workers > 1:
            command += ["--workers", str(workers)]
        return cls(command, env, port)

    @classmethod
    def portal(cls, env: dict[str, str], workers: int = 1, team: int = 3) -> Server:
        """`portal serve` on a migrated database with `team` investigators added by the CLI."""
        portal = shutil.which("portal")
        if portal is None:
            env = {**env, "BENCH_TEAM": str(team)}
            return cls.uvicorn("bench.load.serve:app", env, workers)
        full_env = {**os.environ, **env}
        subprocess.run([portal, "migrate"], env=full_env, check=True, capture_output=True)
        for n in range(team):
            subprocess.run(
                [
                    *(portal, "user", "add", "--email", f"investigator{n}@bench.example"),
                    *("--role", "investigator", "--name", f"Investigator {n}"),
                ],
                input=f"bench password {n} xyzzy!\n",
                text=True,
                env=full_env,
                check=True,
                capture_output=True,
            )
        port = free_port()
        command = [portal, "serve", "--host", "127.0.0.1", "--port", str(port)]
        return cls([*command, "--workers", str(workers)], env, port)

    @classmethod
    def portal_more(cls, env: dict[str, str]) -> Server:
        """One more `portal serve` process on the database `portal()` already prepared."""
        portal = shutil.which("portal")
        if portal is None:
            return cls.uvicorn("bench.load.serve:app", env)
        port = free_port()
        return cls([portal, "serve", "--host", "127.0.0.1", "--port", str(port)], env, port)

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

    def pids(self) -> list[int]:
        """The server process and its workers."""
        return [self.process.pid, *_children(self.process.pid)]

    def cpu_seconds(self) -> float:
        """User and system CPU the server's processes have used so far (Linux /proc)."""
        ticks = 0
        for pid in self.pids():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += int(fields[11]) + int(fields[12])
        return ticks / os.sysconf("SC_CLK_TCK")

    def rss_kib(self, field: str = "VmRSS") -> int:
        """Resident memory (or with field="VmHWM" its kernel-kept peak) of the server, in KiB."""
        total = 0
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            total += next(
                int(line.split()[1]) for line in status.splitlines() if line.startswith(f"{field}:")
            )
        return total

    def peaks_mib(self) -> list[float]:
        """Each server process's peak resident memory (the kernel's VmHWM), in MiB."""
        peaks = []
        for pid in self.pids():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kib = next(int(line.split()[1]) for line in status.splitlines() if "VmHWM:" in line)
            peaks.append(kib / 1024)
        return peaks

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

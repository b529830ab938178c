"""Running `portal` as an operator does: a real subprocess with an environment of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def operator_env(**values: str) -> dict[str, str]:
    """This process's environment without any PORTAL_ variable, plus the ones given."""
    return {**{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")}, **values}


def run_portal(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`python -m portal.cli ARGS`; never raises on a non-zero exit (tests read returncode)."""
    return subprocess.run(
        [sys.executable, "-m", "portal.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=timeout,
        check=False,
    )

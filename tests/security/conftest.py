"""tests/security: the attacks of issue 11 as permanent tests, and the scorecard they print.

Markers follow tests/conftest.py: a test using a database fixture is `db` (it runs on SQLite
and on PostgreSQL); the schema fuzzer is also `slow`, so it runs once, in the SQLite pass.
"""

from __future__ import annotations

from typing import Any

import pytest
from support import scorecard


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    """Print the scorecard's figures (requests tried, 5xx, kills, acknowledged, lost)."""
    figures = scorecard.lines()
    if figures:
        terminalreporter.section("security scorecard")
        for line in figures:
            terminalreporter.write_line(line)

"""Operator commands beside `serve`: `portal migrate --check`, the jobs-only `portal jobs`,
and the secret read from PORTAL_SECRET_KEY_FILE."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from support.cli import operator_env, run_portal

from cases.db import make_engine, session_factory, unit_of_work
from cases.notify.models import OutboxMessage
from portal.settings import Settings, SettingsError

SECRET = "operations-secret-" + "s" * 32


def environment(tmp_path: Path, url: str, **more: str) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    return operator_env(
        PORTAL_DATA_DIR=str(data), PORTAL_DATABASE_URL=url, PORTAL_SECRET_KEY=SECRET, **more
    )


def test_migrate_check_changes_nothing_and_says_whether_an_upgrade_is_due(
    fresh_database: Callable[..., str], tmp_path: Path
) -> None:
    """On an empty database --check exits 1 and applies nothing; after `migrate`, 0."""
    env = environment(tmp_path, fresh_database(migrate=False))

    before = run_portal("migrate", "--check", env=env, cwd=tmp_path)
    still = run_portal("migrate", "--check", env=env, cwd=tmp_path)
    applied = run_portal("migrate", env=env, cwd=tmp_path)
    after = run_portal("migrate", "--check", env=env, cwd=tmp_path)

    assert (before.returncode, still.returncode) == (1, 1)
    assert "pending" in before.stdout
    assert applied.returncode == 0, applied.stderr
    assert after.returncode == 0
    assert "up to date" in after.stdout


def test_jobs_only_process_delivers_mail_and_stops_on_sigterm(
    fresh_database: Callable[..., str], tmp_path: Path, smtp_server: object
) -> None:
    """`portal jobs` delivers a due mail over SMTP with no web server, and ends cleanly on
    SIGTERM (what systemd sends)."""
    url = fresh_database()
    engine = make_engine(url)
    with unit_of_work(session_factory(engine, SECRET.encode())) as db:
        db.add(
            OutboxMessage(
                to_address="ina@example.com",
                subject="A case is waiting",
                body="Sign in to see it.",
                kind="case_waiting",
                next_attempt_at=datetime(2026, 1, 1),
            )
        )
    engine.dispose()
    env = environment(
        tmp_path,
        url,
        PORTAL_SMTP_URL=smtp_server.url,  # type: ignore[attr-defined]
        PORTAL_JOB_INTERVAL_SECONDS="1",
    )
    process = subprocess.Popen(
        [sys.executable, "-m", "portal.cli", "jobs"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        mails = smtp_server.wait_for(1, timeout=60)  # type: ignore[attr-defined]
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)

    assert mails[0]["To"] == "ina@example.com"
    assert process.returncode == 0, err
    assert "running background jobs" in out


def test_secret_key_file_is_read_and_not_combined_with_the_variable(tmp_path: Path) -> None:
    """PORTAL_SECRET_KEY_FILE gives the secret; naming both sources, or an unreadable file,
    is refused before anything starts."""
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET + "\n")
    base = {"PORTAL_DATA_DIR": str(tmp_path / "data")}

    settings = Settings.from_environ({**base, "PORTAL_SECRET_KEY_FILE": str(secret_file)})

    assert settings.secret_key.reveal() == SECRET.encode()
    with pytest.raises(SettingsError, match="not both"):
        Settings.from_environ(
            {**base, "PORTAL_SECRET_KEY_FILE": str(secret_file), "PORTAL_SECRET_KEY": SECRET}
        )
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings.from_environ({**base, "PORTAL_SECRET_KEY_FILE": str(tmp_path / "missing")})

"""`portal doctor`: a deployment set up as docs/deploy.md says passes; each mistake is named
with its fix and makes the exit status non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from support.staff_world import SECRET as WORLD_SECRET
from support.staff_world import build_world

from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.org.models import ChannelMember
from cases.org.recovery import RecoveryService
from portal.doctor import Finding, postgres_records, report, run_checks
from portal.settings import Secret, Settings

# The world signs its keys with this secret; the deployment must use the same one.
SECRET = WORLD_SECRET.decode()


@pytest.fixture
def deployment(
    fresh_database: Callable[..., str], tmp_path: Path
) -> tuple[Settings, dict[str, str]]:
    """A healthy deployment: https, secret from the environment, private data directory, mail
    over TLS, a pinned recovery key, an enrolled investigator; its settings and environment."""
    url = fresh_database()
    engine = make_engine(url)
    with unit_of_work(session_factory(engine, SECRET.encode())) as db:
        build_world(db, FixedClock()).staff("ina@example.com")
        _pair, key = RecoveryService(db, SECRET.encode()).create()
        fingerprint = key.fingerprint
    engine.dispose()
    data = tmp_path / "data"
    data.mkdir(mode=0o700)
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATA_DIR": str(data),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET,
        "PORTAL_BASE_URL": "https://speakup.example.com",
        "PORTAL_SMTP_URL": "smtps://portal:pw@mail.example.com:465",
        "PORTAL_RECOVERY_KEY_FINGERPRINT": fingerprint,
    }
    return Settings.from_environ(env), env


def problems(findings: list[Finding]) -> dict[str, str]:
    return {f.check: f.problem for f in findings if not f.ok}


def test_a_deployment_as_documented_passes_every_check(
    deployment: tuple[Settings, dict[str, str]], tmp_path: Path
) -> None:
    """Run as a real subprocess: every line 'ok', 'all good', exit 0."""
    _settings, env = deployment
    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", "doctor"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "portal doctor: all good" in done.stdout
    assert "PROBLEM" not in done.stdout
    for check in (
        "public address",
        "server secret",
        "data directory",
        "mail",
        "export font",
        "migrations",
    ):
        assert f"ok       {check}:" in done.stdout
    if env["PORTAL_DATABASE_URL"].startswith("postgresql"):
        # Read from the running server with SHOW: its defaults keep no times.
        assert "ok       database records:" in done.stdout


def test_each_configuration_mistake_is_named_with_its_fix(
    deployment: tuple[Settings, dict[str, str]],
) -> None:
    """Plain HTTP, a secret beside the database, loose permissions, mail in the clear, an
    unpinned recovery key: each is its own problem with a fix, and the status is 1."""
    settings, env = deployment
    data = settings.data_dir
    (data / "portal.db").write_bytes(b"")
    (data / "portal.db").chmod(0o644)
    bad = replace(
        settings,
        base_url="http://speakup.example.com",
        database_url=f"sqlite:///{data / 'portal.db'}",
        smtp_url=Secret(b"smtp://mail.example.com:25"),
        export_font=data / "no-such-font.ttc",
    )
    env_without_secret = {k: v for k, v in env.items() if k != "PORTAL_SECRET_KEY"}

    findings = run_checks(bad, env_without_secret)
    found = problems(findings)
    lines, status = report(findings)

    assert status == 1
    assert "not https://" in found["public address"]
    assert "next to the database" in found["server secret"]
    assert "portal.db" in found["data directory"]
    assert "in the clear" in found["mail"]
    assert "no-such-font.ttc, which is no file" in found["export font"]
    assert sum(line.strip().startswith("fix:") for line in lines) == len(found)


def test_database_findings_recovery_key_investigators_migrations(
    deployment: tuple[Settings, dict[str, str]], fresh_database: Callable[..., str], app_db: Any
) -> None:
    """An unpinned recovery key, a channel with no enrolled investigator, and a database
    behind its migrations are each reported."""
    settings, _env = deployment
    engine = make_engine(settings.database_url)
    with unit_of_work(session_factory(engine, SECRET.encode())) as db:
        world = build_world(db, FixedClock())
        outsider = world.staff("out@example.com", enrol=False)
        db.add(ChannelMember(channel_id=world.channel.id, staff_id=outsider.account.id))
    engine.dispose()
    unpinned = replace(settings, recovery_key_fingerprint="")
    behind = replace(settings, database_url=fresh_database(migrate=False))

    found = problems(run_checks(unpinned, {"PORTAL_SECRET_KEY": SECRET}))
    stale = problems(run_checks(behind, {"PORTAL_SECRET_KEY": SECRET}))

    assert "not pinned" in found["recovery key"]
    assert "General" in found["investigators"]
    assert stale["migrations"] == "the database is behind this version"


def test_postgresql_settings_that_would_date_each_request_are_named() -> None:
    """Commit timestamps, statement logging and slow-statement logging each keep the time of
    every reporter's request outside the portal's rows: each is a problem with its fix."""
    risky = {
        "track_commit_timestamp": "on",
        "log_statement": "mod",
        "log_min_duration_statement": "250ms",
        "log_min_duration_sample": "-1",
    }
    safe = {**risky, "track_commit_timestamp": "off", "log_statement": "ddl"}
    safe["log_min_duration_statement"] = "-1"

    found = [f for f in postgres_records(risky) if not f.ok]
    fine = list(postgres_records(safe))

    assert [f.problem.split(" is ")[0] for f in found] == [
        "track_commit_timestamp",
        "log_statement",
        "log_min_duration_statement",
    ]
    assert all("postgresql.conf" in f.fix for f in found)
    assert [f.ok for f in fine] == [True]

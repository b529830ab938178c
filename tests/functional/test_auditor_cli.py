"""`portal audit verify` as a real subprocess: intact, then edited, deleted and reordered."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import delete, update
from support.db import TEST_SECRET

import crypto
from cases.audit.models import AuditEntry
from cases.audit.service import Actor, AuditLog
from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.staff.models import StaffAccount
from cases.staff.service import StaffService

SECRET = "audit-cli-secret-" + "x" * 32

Run = Callable[[], subprocess.CompletedProcess[str]]


@pytest.fixture
def trail(fresh_database: Callable[..., str], tmp_path: Path) -> tuple[str, Run]:
    """A migrated database of its own holding ten chained entries, and `verify()` on it."""
    url = fresh_database()
    engine = make_engine(url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        log = AuditLog(db, FixedClock(), SECRET.encode())
        for n in range(10):
            log.record(Actor("staff", f"s{n}", ("investigator",)), "case.read", case_id=f"c{n}")
    engine.dispose()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET,
    }

    def verify() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal.cli", "audit", "verify"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    return url, verify


def change(url: str, statement: object) -> None:
    engine = make_engine(url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        db.execute(statement)  # type: ignore[call-overload]
    engine.dispose()


def test_an_intact_trail_verifies(trail: tuple[str, Run]) -> None:
    """Ten untouched entries: exit 0 and the count."""
    _url, verify = trail

    done = verify()

    assert done.returncode == 0, done.stdout + done.stderr
    assert "intact (10 entries)" in done.stdout


def test_an_edited_entry_is_named(trail: tuple[str, Run]) -> None:
    """Editing entry 4's case id: non-zero exit naming entry 4 as edited."""
    url, verify = trail
    change(url, update(AuditEntry).where(AuditEntry.seq == 4).values(case_id="other"))

    done = verify()

    assert done.returncode != 0
    assert "BROKEN at entry 4" in done.stdout
    assert "edited" in done.stdout


def test_a_deleted_entry_is_named(trail: tuple[str, Run]) -> None:
    """Deleting entry 6: non-zero exit naming entry 7, the first that no longer fits."""
    url, verify = trail
    change(url, delete(AuditEntry).where(AuditEntry.seq == 6))

    done = verify()

    assert done.returncode != 0
    assert "BROKEN at entry 7" in done.stdout


def test_a_swapped_public_key_is_reported(trail: tuple[str, Run]) -> None:
    """A staff public key replaced in the database: verify exits non-zero and names the row."""
    url, verify = trail
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as db:
        staff = StaffService(
            db, FixedClock(), server_secret=SECRET.encode(), profile=crypto.PROFILES["test"]
        )
        made = staff.create("kim@example.com", "correct horse battery staple 7", ["investigator"])
        account_id = made.account.id
    engine.dispose()
    intact = verify()
    swapped = crypto.KeyPair.generate().public_bytes
    change(
        url, update(StaffAccount).where(StaffAccount.id == account_id).values(public_key=swapped)
    )

    done = verify()

    assert intact.returncode == 0, intact.stdout + intact.stderr
    assert done.returncode != 0
    assert f"KEY ROW REFUSED: staff public key {account_id}" in done.stdout


def test_doctor_reports_a_swapped_public_key(trail: tuple[str, Run], tmp_path: Path) -> None:
    """`portal doctor` finds every key row sound on a clean database, and exits non-zero
    naming a swapped key (the rest of its checklist is tests/functional/test_doctor.py)."""
    url, _verify = trail
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET,
    }
    engine = make_engine(url)
    with unit_of_work(session_factory(engine)) as db:
        staff = StaffService(
            db, FixedClock(), server_secret=SECRET.encode(), profile=crypto.PROFILES["test"]
        )
        made = staff.create("lee@example.com", "correct horse battery staple 7", ["investigator"])
        account_id = made.account.id
    engine.dispose()

    def doctor() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal.cli", "doctor"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    clean = doctor()
    swapped = crypto.KeyPair.generate().public_bytes
    change(
        url, update(StaffAccount).where(StaffAccount.id == account_id).values(public_key=swapped)
    )
    broken = doctor()

    assert "ok       key rows: every public key" in clean.stdout, clean.stdout + clean.stderr
    assert "KEY ROW REFUSED" not in clean.stdout
    assert broken.returncode != 0
    assert f"KEY ROW REFUSED: staff public key {account_id}" in broken.stdout

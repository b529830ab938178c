"""The `portal` command as CONTRACT.md describes it, run as a real subprocess."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text

import crypto
from cases.db import make_engine

PASSWORD = "a long and unusual passphrase"


@pytest.fixture
def cli_env(fresh_database: Callable[..., str], tmp_path: Path) -> dict[str, str]:
    """The child's environment: its own empty database (from the test-only URL) and data dir."""
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": fresh_database(migrate=False),
        "PORTAL_SECRET_KEY": "cli-test-secret-" + "x" * 32,
    }


@pytest.fixture
def run(cli_env: dict[str, str], tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """`run(*args, stdin="")`: the portal command in a child process."""
    env = cli_env

    def portal(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "portal.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    return portal


def test_user_add_prints_the_contracted_json(
    run: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """user add reads the password from stdin and prints id, email, roles and a TOTP secret."""
    done = run(
        "user",
        "add",
        "--email",
        "Ann@Corp.example",
        "--role",
        "investigator",
        "--role",
        "retaliation_officer",
        "--name",
        "Ann",
        "--employee-id",
        "E7",
        stdin=PASSWORD + "\n",
    )

    assert done.returncode == 0, done.stderr
    account = json.loads(done.stdout)
    assert account["email"] == "ann@corp.example"
    assert account["roles"] == ["investigator", "retaliation_officer"]
    assert len(account["id"]) == 32
    assert len(crypto.totp_code(_b32(account["totp_secret"]), 0)) == 6


def test_user_add_refuses_a_weak_password_and_a_duplicate(
    run: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """A short password and a second account with the same e-mail both fail with a message."""
    weak = run("user", "add", "--email", "a@corp.example", "--role", "admin", stdin="short\n")
    run("user", "add", "--email", "a@corp.example", "--role", "admin", stdin=PASSWORD + "\n")
    again = run(
        "user", "add", "--email", "a@corp.example", "--role", "admin", stdin=PASSWORD + "\n"
    )

    assert weak.returncode == 2
    assert "12 characters" in weak.stderr
    assert again.returncode == 2
    assert "already exists" in again.stderr


def test_demo_seeds_once_and_prints_logins(
    run: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """demo prints logins with TOTP secrets and a working receipt; a second run is refused."""
    first = run("demo")
    second = run("demo")

    assert first.returncode == 0, first.stderr
    for role in ("admin", "investigator", "custodian", "reward_approver", "finance", "auditor"):
        assert role in first.stdout
    assert first.stdout.count("TOTP ") >= 7
    receipt_line = next(line for line in first.stdout.splitlines() if "Demo receipt" in line)
    assert crypto.parse_receipt(receipt_line.rsplit(" ", 1)[1]).selector
    assert second.returncode == 2


def test_setup_writes_the_recovery_key_once(
    run: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """setup writes a mode-600 file that imports as a key pair; a second setup is refused."""
    first = run("setup", "--out", "rk.txt")
    second = run("setup", "--out", "rk2.txt")

    key_file = tmp_path / "rk.txt"
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    crypto.import_recovery_key(key_file.read_text())
    assert second.returncode == 2
    assert not (tmp_path / "rk2.txt").exists()


def test_setup_into_a_missing_directory_is_refused_in_words_and_makes_no_key(
    run: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """`setup --out offline-keys/rk.txt` before offline-keys/ exists (docs/deploy.md, step 4):
    exit 2 naming the directory, no traceback, and no recovery key made; then it works."""
    refused = run("setup", "--out", "offline-keys/rk.txt")
    (tmp_path / "offline-keys").mkdir(mode=0o700)
    made = run("setup", "--out", "offline-keys/rk.txt")

    assert refused.returncode == 2
    assert "offline-keys is not a directory" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert made.returncode == 0, made.stderr
    crypto.import_recovery_key((tmp_path / "offline-keys" / "rk.txt").read_text())


def test_directory_import_and_audit_verify(
    run: Callable[..., subprocess.CompletedProcess[str]], tmp_path: Path
) -> None:
    """A good directory imports, a cyclic one is refused, and the audit trail verifies."""
    good, cyclic = tmp_path / "good.csv", tmp_path / "cyclic.csv"
    good.write_text(
        "employee_id,name,email,department,manager_id\nE1,A,a@x.example,S,\nE2,B,b@x.example,S,E9\n"
    )
    cyclic.write_text("employee_id,name,email,department,manager_id\nE1,A,,S,E2\nE2,B,,S,E1\n")

    imported = run("directory", "import", str(good))
    refused = run("directory", "import", str(cyclic))
    verified = run("audit", "verify")

    assert imported.returncode == 0
    assert "2 created" in imported.stdout
    assert "E9" in imported.stdout
    assert refused.returncode == 2
    assert "cycle" in refused.stderr
    assert verified.returncode == 0
    assert "intact (1 entries)" in verified.stdout


def test_user_add_refuses_forbidden_role_combinations(
    run: Callable[..., subprocess.CompletedProcess[str]], cli_env: dict[str, str]
) -> None:
    """Investigator + custodian, auditor + anything, approver + finance: exit 2, the reason,
    and no account (issue 10, separation of duties: the CLI used to skip the check)."""
    pairs = [("investigator", "custodian"), ("auditor", "admin"), ("reward_approver", "finance")]

    done = [
        run("user", "add", "--email", f"{a}@corp.example", "--role", a, "--role", b, stdin=PASSWORD)
        for a, b in pairs
    ]

    engine = make_engine(cli_env["PORTAL_DATABASE_URL"])
    with engine.connect() as connection:
        accounts = connection.execute(text("SELECT count(*) FROM staff_accounts")).scalar()
    engine.dispose()
    assert [d.returncode for d in done] == [2, 2, 2]
    assert [d.stderr.strip() for d in done] == [
        "portal: Someone who reads cases cannot also be an identity custodian.",
        "portal: An auditor cannot hold any other role.",
        "portal: A reward approver cannot also be in finance.",
    ]
    assert accounts == 0


def test_user_add_makes_an_analyst_but_not_an_analyst_investigator(
    run: Callable[..., subprocess.CompletedProcess[str]],
) -> None:
    """--role analyst makes a statistics-only account; with investigator it is refused (exit 2)."""
    made = run("user", "add", "--email", "an@corp.example", "--role", "analyst", stdin=PASSWORD)
    both = ("--role", "analyst", "--role", "investigator")
    refused = run("user", "add", "--email", "ai@corp.example", *both, stdin=PASSWORD)

    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)["roles"] == ["analyst"]
    assert refused.returncode == 2
    assert refused.stderr.strip() == "portal: An analyst cannot also hold a role that sees cases."


def test_migrate_seeds_the_general_channel(
    run: Callable[..., subprocess.CompletedProcess[str]], cli_env: dict[str, str]
) -> None:
    """After migrate the General / 综合 channel exists with its eight categories, once."""
    first, again = run("migrate"), run("migrate")

    engine = make_engine(cli_env["PORTAL_DATABASE_URL"])
    with engine.connect() as connection:
        channels = connection.execute(text("SELECT name_en, name_zh FROM channels")).all()
        categories = connection.execute(text("SELECT count(*) FROM categories")).scalar()
    engine.dispose()
    assert first.returncode == 0
    assert again.returncode == 0
    assert [tuple(row) for row in channels] == [("General", "综合")]
    assert categories == 8


def _b32(secret: str) -> bytes:
    return base64.b32decode(secret + "=" * (-len(secret) % 8))


def test_directory_import_reads_the_optional_aliases_column(
    run: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
    cli_env: dict[str, str],
) -> None:
    """`portal directory import` takes an aliases column; each alias becomes a match key."""
    good = tmp_path / "aliases.csv"
    good.write_text(
        "employee_id,name,email,department,manager_id,aliases\nE1,张伟,,Sales,,Tom Zhang|小张\n"
    )

    imported = run("directory", "import", str(good))

    engine = make_engine(cli_env["PORTAL_DATABASE_URL"])
    with engine.connect() as connection:
        keys = set(
            connection.execute(
                text("SELECT key FROM directory_keys WHERE kind = 'alias'")
            ).scalars()
        )
    engine.dispose()
    assert imported.returncode == 0, imported.stderr
    assert {"tomzhang", "小张"} <= keys

"""Operator commands: setup, user add, recover, directory import, audit verify, doctor, demo."""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import date
from pathlib import Path
from typing import Any

import crypto
from cases.access.service import AccessService
from cases.audit.service import Actor, AuditLog
from cases.clock import SystemClock
from cases.db import session_factory, unit_of_work
from cases.errors import Invalid, NotFound
from cases.keytrust import untrusted_rows
from cases.org.demo import DEMO_PASSWORD, seed_demo_org
from cases.org.recovery import RecoveryService
from cases.org.routing import Routing
from cases.reports.demo import seed_demo_cases
from cases.reports.keys import KeyRing
from cases.staff.directory import DirectoryService, parse_csv
from cases.staff.service import StaffService
from portal.bootstrap import prepare_database
from portal.cli import serve
from portal.deps import intake_config, kdf_profile
from portal.doctor import report, run_checks
from portal.settings import Settings

RECOVERY_ADVICE = (
    "Hand this file to the head of compliance and lock it away offline (a safe, not a laptop).\n"
    "It is the only way to reach reports if every key holder loses their password.\n"
    "It is shown once: the portal keeps only its public half."
)


def register(commands: Any) -> None:
    setup = commands.add_parser("setup", help="create the recovery key pair")
    setup.add_argument(
        "--out", type=Path, help="file for the private half (default: ./recovery-key-DATE.txt)"
    )
    setup.set_defaults(handler=run_setup)

    user = commands.add_parser("user", help="staff accounts").add_subparsers(
        dest="sub", required=True
    )
    add = user.add_parser("add", help="add an account; the password is read from stdin")
    add.add_argument("--email", required=True)
    add.add_argument("--role", action="append", required=True, dest="roles")
    add.add_argument("--name", default="")
    add.add_argument("--employee-id", default=None)
    add.set_defaults(handler=run_user_add)

    recover = commands.add_parser("recover", help="fulfil a person's pending grants")
    recover.add_argument("--key", type=Path, required=True)
    recover.add_argument("--grant", required=True, metavar="EMAIL")
    recover.set_defaults(handler=run_recover)

    directory = commands.add_parser("directory", help="staff directory").add_subparsers(
        dest="sub", required=True
    )
    imp = directory.add_parser("import", help="import or update from CSV")
    imp.add_argument("file", type=Path)
    imp.set_defaults(handler=run_directory_import)

    audit = commands.add_parser("audit", help="audit trail").add_subparsers(
        dest="sub", required=True
    )
    verify = audit.add_parser("verify", help="check the hash chain")
    verify.set_defaults(handler=run_audit_verify)

    doctor = commands.add_parser(
        "doctor", help="check the deployment: TLS, secret, files, mail, keys, staff, audit"
    )
    doctor.set_defaults(handler=run_doctor)

    demo = commands.add_parser("demo", help="seed a demo organisation on an empty database")
    # The same --host/--port as `portal serve`, so the printed links are where it serves.
    serve.add_address_arguments(demo)
    demo.set_defaults(handler=run_demo)


def _context() -> tuple[Settings, Any]:
    settings = Settings.from_environ()
    return settings, session_factory(prepare_database(settings), settings.secret_key.reveal())


def run_setup(args: argparse.Namespace) -> int:
    settings, factory = _context()
    out: Path = args.out or Path(f"recovery-key-{date.today().isoformat()}.txt")
    if out.exists():
        raise Invalid(f"{out} exists; choose another file with --out")
    if not out.parent.is_dir():
        # Checked before the key is made: a key whose private half could not be written
        # would be one nobody holds.
        raise Invalid(
            f"{out.parent} is not a directory; create it (mode 0700) or choose another --out"
        )
    with unit_of_work(factory) as db:
        pair, row = RecoveryService(db, settings.secret_key.reveal()).create()
        AuditLog(db, SystemClock(), settings.secret_key.reveal()).record(
            Actor.cli(), "recovery_key.created", detail={"fingerprint": row.fingerprint}
        )
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(crypto.export_recovery_key(pair))
    print(f"Recovery key written to {out} (fingerprint {row.fingerprint}).")
    print(RECOVERY_ADVICE)
    return 0


def run_user_add(args: argparse.Namespace) -> int:
    settings, factory = _context()
    password = sys.stdin.readline().rstrip("\r\n")
    clock = SystemClock()
    with unit_of_work(factory) as db:
        service = StaffService(
            db, clock, server_secret=settings.secret_key.reveal(), profile=kdf_profile(settings)
        )
        new = service.create(
            args.email, password, args.roles, name=args.name, employee_id=args.employee_id
        )
        # With no team set, every investigator is the team: open cases are owed to them too.
        audit = AuditLog(db, clock, settings.secret_key.reveal())
        keys = KeyRing(db, audit, settings.secret_key.reveal())
        grants = Routing(db, keys).queue_for(new.account, "joined")
        audit.record(
            Actor.cli(),
            "staff.created",
            detail={"staff_id": new.account.id, "roles": args.roles, "grants": grants},
        )
        secret = crypto.totp_secret_b32(new.totp_secret) if new.totp_secret else None
        result = {
            "id": new.account.id,
            "email": new.account.email,
            "name": new.account.name,
            "roles": sorted(new.account.role_names),
            "totp_secret": secret,
        }
    print(json.dumps(result, ensure_ascii=False))
    return 0


def run_recover(args: argparse.Namespace) -> int:
    settings, factory = _context()
    pair = crypto.import_recovery_key(args.key.read_text())
    clock = SystemClock()
    with unit_of_work(factory) as db:
        service = StaffService(
            db, clock, server_secret=settings.secret_key.reveal(), profile=kdf_profile(settings)
        )
        account = service.by_email(args.grant)
        if account is None:
            raise NotFound(f"No account with e-mail {args.grant}")
        audit = AuditLog(db, clock, settings.secret_key.reveal())
        done = KeyRing(db, audit, settings.secret_key.reveal()).fulfil_with_recovery(pair, account)
        audit.record(
            Actor.cli(), "recovery.grants_fulfilled", detail={"staff_id": account.id, "count": done}
        )
    print(f"portal: fulfilled {done} pending grant(s) for {args.grant}")
    return 0


def run_directory_import(args: argparse.Namespace) -> int:
    settings, factory = _context()
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise Invalid(f"Cannot read {args.file} as UTF-8: {exc}") from exc
    rows = parse_csv(text)
    clock = SystemClock()
    with unit_of_work(factory) as db:
        report = DirectoryService(db, clock, settings.secret_key.reveal()).import_rows(rows)
        audit = AuditLog(db, clock, settings.secret_key.reveal())
        audit.record(
            Actor.cli(),
            "directory.imported",
            detail={"created": report.created, "updated": report.updated},
        )
        # New reporting lines can make someone a subject's manager: their keys go now. How
        # many went is not printed: whoever runs the import could put a colleague above a
        # suspect and read from the count whether a report names them (the admin page says
        # no count either; tests/functional/test_cli_oracles.py).
        AccessService(db, clock, audit).enforce_all()
    print(
        f"portal: directory imported: {report.created} created, {report.updated} updated, "
        f"{report.unchanged} unchanged; every case was checked against the new reporting lines"
    )
    for employee, manager in report.missing_managers:
        print(f"warning: {employee} names manager {manager}, who is not in the directory")
    return 0


def run_audit_verify(_args: argparse.Namespace) -> int:
    settings, factory = _context()
    secret = settings.secret_key.reveal()
    with unit_of_work(factory) as db:
        result = AuditLog(db, SystemClock(), secret).verify()
        untrusted = untrusted_rows(db, secret, settings.recovery_key_fingerprint)
    for row in untrusted:
        print(f"portal: KEY ROW REFUSED: {row.describe()}")
    if result.ok:
        print(f"portal: audit trail intact ({result.checked} entries)")
        return 1 if untrusted else 0
    print(f"portal: audit trail BROKEN at entry {result.first_bad_seq}: {result.problem}")
    print(f"portal: {result.checked} entries before it are intact")
    return 1


def run_doctor(_args: argparse.Namespace) -> int:
    """The deployment checklist (portal/doctor.py): each problem with its fix; 1 on any."""
    settings = Settings.from_environ()
    lines, status = report(run_checks(settings, os.environ))
    print("\n".join(lines))
    return status


def run_demo(args: argparse.Namespace) -> int:
    settings, factory = _context()
    base_url = serve.served_base_url(args.host, args.port)
    clock = SystemClock()
    with unit_of_work(factory) as db:
        logins = seed_demo_org(db, clock, settings.secret_key.reveal(), kdf_profile(settings))
        receipt = seed_demo_cases(db, clock, intake_config(settings))
    print("Demo organisation created. Every account's password is:", DEMO_PASSWORD)
    print("Add each TOTP secret to an authenticator app (or compute codes from it):")
    for login in logins:
        print(f"  {login.email:32} {','.join(login.roles):32} TOTP {login.totp_secret}")
    start = "portal serve" + serve.address_options(args.host, args.port)
    print(f"Start the portal with `{start}`; it serves on {base_url}")
    print(f"Staff login: {base_url}/staff/login")
    # A demo receipt is printed on purpose: it belongs to a made-up report.
    print(f"Demo receipt (enter it at {base_url}/status): {receipt}")
    return 0

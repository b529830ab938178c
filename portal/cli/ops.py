"""`portal backup FILE` and `portal restore FILE` (portal/backup.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from portal.backup import BackupError, backup, restore
from portal.settings import Settings


def register(commands: Any) -> None:
    made = commands.add_parser(
        "backup", help="write a consistent snapshot of the database (never the secret) to FILE"
    )
    made.add_argument("file", type=Path)
    made.set_defaults(handler=run_backup)
    back = commands.add_parser(
        "restore", help="restore FILE into an empty database, under the same server secret"
    )
    back.add_argument("file", type=Path)
    back.set_defaults(handler=run_restore)


def run_backup(args: argparse.Namespace) -> int:
    try:
        header = backup(Settings.from_environ(), args.file)
    except BackupError as exc:
        print(f"portal: backup failed: {exc}", file=sys.stderr)
        return 2
    print(f"portal: {header.backend} backup written to {args.file}")
    print("portal: it does not hold the server secret: keep that apart, you need it to restore")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    try:
        header = restore(Settings.from_environ(), args.file)
    except BackupError as exc:
        print(f"portal: restore failed: {exc}", file=sys.stderr)
        return 2
    print(f"portal: restored the {header.backend} backup made on {header.made_on}")
    print("portal: run `portal migrate` if this version is newer, then `portal doctor`")
    return 0

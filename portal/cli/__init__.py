"""The `portal` command: serve, migrate, setup, user add, recover, directory, audit, demo."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cases.errors import CaseError
from portal.cli import admin, ops, serve
from portal.settings import SettingsError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portal", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve.register(commands)
    admin.register(commands)
    ops.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except (CaseError, SettingsError) as exc:
        message = exc.message if isinstance(exc, CaseError) else str(exc)
        print(f"portal: {message}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())

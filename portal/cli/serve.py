"""`portal serve` and `portal migrate`."""

from __future__ import annotations

import argparse
import os
from typing import Any

import uvicorn

from portal.bootstrap import prepare_database, setup_link_if_needed
from portal.settings import Settings


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="apply migrations, then serve the portal")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.set_defaults(handler=run_serve)
    migrate = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate.set_defaults(handler=run_migrate)


def run_migrate(_args: argparse.Namespace) -> int:
    settings = Settings.from_environ()
    prepare_database(settings).dispose()
    print("portal: database is up to date")
    return 0


def run_serve(args: argparse.Namespace) -> int:
    # Without a configured public address, links (the setup link, e-mails) point at this
    # server; the variable is set before workers start so every process agrees.
    os.environ.setdefault("PORTAL_BASE_URL", f"http://{args.host}:{args.port}")
    # Whatever the server creates (database, WAL, secret key) is for its own user alone.
    os.umask(0o077)
    settings = Settings.from_environ()
    engine = prepare_database(settings)
    link = setup_link_if_needed(settings, engine)
    engine.dispose()
    if link:
        print("No administrator exists yet. Open this one-time link to create the first one")
        print("and the organisation's recovery key (valid for 24 hours):")
        print(f"  {link}", flush=True)
    print(f"portal: serving on http://{args.host}:{args.port}", flush=True)
    uvicorn.run(
        "portal.asgi:make_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # No access log: it would record reporters' addresses and request times.
        access_log=False,
        server_header=False,
        proxy_headers=False,
        log_level="warning",
    )
    return 0

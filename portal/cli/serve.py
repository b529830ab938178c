"""`portal serve` and `portal migrate`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from typing import Any

import uvicorn

from cases.db import make_engine, session_factory
from portal.backup import SECRET_MISMATCH, engine_secret_matches
from portal.bootstrap import prepare_database, setup_link_if_needed
from portal.jobs import job_loop
from portal.migrations import pending
from portal.settings import Settings
from portal.trial import WARNING

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000

logger = logging.getLogger("portal.serve")


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="apply migrations, then serve the portal")
    add_address_arguments(serve)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--insecure-http",
        action="store_true",
        help="TRIAL ONLY: serve on plain HTTP at a non-local address, with cookies that are "
        "not Secure and a banner on every page; never for real reports",
    )
    serve.set_defaults(handler=run_serve)
    migrate = commands.add_parser("migrate", help="apply pending migrations and exit")
    migrate.add_argument(
        "--check",
        action="store_true",
        help="apply nothing: exit 1 if migrations are pending (before an upgrade), else 0",
    )
    migrate.set_defaults(handler=run_migrate)
    jobs = commands.add_parser(
        "jobs", help="run only the background jobs (outbox, reminders, sweeps), no web server"
    )
    jobs.set_defaults(handler=run_jobs)


def run_migrate(args: argparse.Namespace) -> int:
    settings = Settings.from_environ()
    if args.check:
        engine = make_engine(settings.database_url)
        try:
            behind = pending(engine)
        finally:
            engine.dispose()
        print("portal: migrations are pending" if behind else "portal: database is up to date")
        return 1 if behind else 0
    prepare_database(settings).dispose()
    print("portal: database is up to date")
    return 0


def run_jobs(_args: argparse.Namespace) -> int:
    """The jobs-only process: the same leased loop `serve` runs, until SIGTERM or SIGINT."""
    settings = Settings.from_environ()
    engine = make_engine(settings.database_url)
    if pending(engine):
        engine.dispose()
        print("portal: migrations are pending; run `portal migrate` first", file=sys.stderr)
        return 2
    loop = job_loop(settings, session_factory(engine, settings.secret_key.reveal()), None)
    stopped = threading.Event()
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopped.set())
    loop.start()
    print(f"portal: running background jobs every {settings.job_interval_seconds} s", flush=True)
    stopped.wait()
    loop.stop()
    engine.dispose()
    return 0


def add_address_arguments(parser: argparse.ArgumentParser) -> None:
    """``--host`` and ``--port``, with the same defaults for ``serve`` and ``demo``."""
    parser.add_argument("--host", default=DEFAULT_HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)


def served_base_url(host: str, port: int) -> str:
    """The public address: PORTAL_BASE_URL, else the address ``portal serve`` listens on."""
    configured = os.environ.get("PORTAL_BASE_URL", "").rstrip("/")
    if configured:
        return configured
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def run_serve(args: argparse.Namespace) -> int:
    # Without a configured public address, links (the setup link, e-mails) point at this
    # server; the variable is set before workers start so every process agrees.
    os.environ["PORTAL_BASE_URL"] = served_base_url(args.host, args.port)
    if args.insecure_http:
        os.environ["PORTAL_INSECURE_HTTP"] = "1"
    # Whatever the server creates (database, WAL, secret key) is for its own user alone.
    os.umask(0o077)
    settings = Settings.from_environ()
    # Before anything is created or served: plain HTTP away from localhost breaks every form.
    settings.check_serving()
    if settings.insecure_http:
        logger.warning(WARNING, settings.base_url)
    engine = prepare_database(settings)
    if engine_secret_matches(settings, engine) is False:
        engine.dispose()
        print(f"portal: {SECRET_MISMATCH}", file=sys.stderr)
        return 2
    link = setup_link_if_needed(settings, engine)
    engine.dispose()
    if link:
        print("No administrator exists yet. Open this one-time link to create the first one")
        print("and the organisation's recovery key (valid for 24 hours):")
        print(f"  {link}", flush=True)
    print(f"portal: serving on http://{args.host}:{args.port}", flush=True)
    if settings.base_url != f"http://{args.host}:{args.port}":
        print(f"portal: public address (PORTAL_BASE_URL): {settings.base_url}", flush=True)
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


def address_options(host: str, port: int) -> str:
    """The ``--host``/``--port`` options that differ from the defaults, as typed."""
    options = "" if host == DEFAULT_HOST else f" --host {host}"
    return options + ("" if port == DEFAULT_PORT else f" --port {port}")

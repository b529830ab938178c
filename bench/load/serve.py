"""A tiny app factory for the benchmarks: migrate, seed the default channel and a team, serve.

Stands in for `portal serve` until that command exists: it reads the same environment
(Settings.from_environ) and builds the same app.
"""

from __future__ import annotations

import os
from dataclasses import replace

from starlette.applications import Starlette

from cases.clock import SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.staff.service import StaffService
from portal.app import create_app
from portal.deps import kdf_profile
from portal.migrations import upgrade
from portal.settings import Settings

TEAM = int(os.environ.get("BENCH_TEAM", "3"))


def app() -> Starlette:
    return _serve(Settings.from_environ())


def cheap_app() -> Starlette:
    """The same app with the cheap "test" key-derivation profile (bench/load/overhead.py):
    what a report costs the server besides its derivation. Reachable only from the benches:
    `portal serve` refuses the test profile (Settings.__post_init__)."""
    return _serve(replace(Settings.from_environ(), kdf_profile="test", testing=True))


def _serve(settings: Settings) -> Starlette:
    """Migrate, add the bench's team of investigators, and build the app."""
    engine = make_engine(settings.database_url)
    upgrade(engine)
    with unit_of_work(session_factory(engine, settings.secret_key.reveal())) as db:
        staff = StaffService(
            db,
            SystemClock(),
            server_secret=settings.secret_key.reveal(),
            profile=kdf_profile(settings),
        )
        for n in range(TEAM):
            if staff.by_email(f"investigator{n}@bench.example") is None:
                staff.create(
                    f"investigator{n}@bench.example", f"bench pass {n} xyzzy!", ["investigator"]
                )
    return create_app(settings, engine=engine)

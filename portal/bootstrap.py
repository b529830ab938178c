"""Bringing a database to a usable state: migrations, then the seeded defaults."""

from __future__ import annotations

from sqlalchemy.engine import Engine

from cases.clock import Clock, SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.staff.service import StaffService
from cases.staff.setup import SetupLinks
from portal import migrations
from portal.deps import kdf_profile
from portal.settings import Settings


def prepare_database(settings: Settings, engine: Engine | None = None) -> Engine:
    """Apply pending migrations (which also seed the General channel on a new install)."""
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or make_engine(settings.database_url)
    migrations.upgrade(engine, server_secret=settings.secret_key.reveal())
    return engine


def setup_link_if_needed(
    settings: Settings, engine: Engine, clock: Clock | None = None
) -> str | None:
    """With no admin yet, the one-time link whose page creates the first admin (the same
    link on every start until it expires)."""
    clock = clock or SystemClock()
    with unit_of_work(session_factory(engine)) as db:
        staff = StaffService(
            db, clock, server_secret=settings.secret_key.reveal(), profile=kdf_profile(settings)
        )
        token = SetupLinks(db, clock, staff).issue()
    return None if token is None else f"{settings.base_url}/setup/{token}"

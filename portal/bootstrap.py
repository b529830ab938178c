"""Bringing a database to a usable state: migrations, then the seeded defaults."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.engine import Engine

from cases.clock import Clock, SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.staff.models import SetupToken
from cases.staff.service import StaffService
from portal import migrations
from portal.deps import kdf_profile
from portal.settings import Settings

SETUP_TOKEN_HOURS = 24


def prepare_database(settings: Settings, engine: Engine | None = None) -> Engine:
    """Apply pending migrations (which also seed the General channel on a new install)."""
    if settings.database_url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = engine or make_engine(settings.database_url)
    migrations.upgrade(engine)
    return engine


def hash_setup_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def setup_link_if_needed(
    settings: Settings, engine: Engine, clock: Clock | None = None
) -> str | None:
    """With no admin yet, a fresh one-time link whose page creates the first admin."""
    clock = clock or SystemClock()
    with unit_of_work(session_factory(engine, settings.secret_key.reveal())) as db:
        staff = StaffService(
            db, clock, server_secret=settings.secret_key.reveal(), profile=kdf_profile(settings)
        )
        if staff.count_admins():
            return None
        token = secrets.token_urlsafe(32)
        db.add(
            SetupToken(
                token_hash=hash_setup_token(token),
                expires_at=clock.now() + timedelta(hours=SETUP_TOKEN_HOURS),
            )
        )
    return f"{settings.base_url}/setup/{token}"

"""Bringing a database to a usable state: migrations, then the seeded defaults."""

from __future__ import annotations

import logging

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from cases.clock import Clock, SystemClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.staff.roles import accounts_in_conflict
from cases.staff.service import StaffService
from cases.staff.setup import SetupLinks
from portal import migrations
from portal.deps import kdf_profile
from portal.settings import Settings, private_dir

logger = logging.getLogger("portal.roles")


def prepare_database(settings: Settings, engine: Engine | None = None) -> Engine:
    """Apply pending migrations (which also seed the General channel on a new install)."""
    if settings.database_url.startswith("sqlite"):
        private_dir(settings.data_dir)
    engine = engine or make_engine(settings.database_url)
    # Checked first without Alembic: a process that finds nothing to apply never loads it
    # (about 11 MiB it would keep while serving).
    if migrations.pending(engine):
        migrations.upgrade(engine, server_secret=settings.secret_key.reveal())
    return engine


def setup_link_if_needed(
    settings: Settings, engine: Engine, clock: Clock | None = None
) -> str | None:
    """With no admin yet, the one-time link whose page creates the first admin (the same
    link on every start until it expires)."""
    clock = clock or SystemClock()
    with unit_of_work(session_factory(engine, settings.secret_key.reveal())) as db:
        staff = StaffService(
            db, clock, server_secret=settings.secret_key.reveal(), profile=kdf_profile(settings)
        )
        token = SetupLinks(db, clock, staff).issue()
    return None if token is None else f"{settings.base_url}/setup/{token}"


def warn_role_conflicts(factory: sessionmaker[Session]) -> list[str]:
    """At start-up, name every active account holding a forbidden pair of roles (a warning,
    not a refusal to start: the admin pages show the same list until an admin fixes it)."""
    try:
        with unit_of_work(factory) as db:
            found = accounts_in_conflict(db)
    except SQLAlchemyError:
        # A database not migrated yet has no accounts to name; serving reports the real problem.
        logger.warning("could not check staff roles for forbidden combinations", exc_info=True)
        return []
    for account in found:
        logger.warning(
            "account %s holds roles that must not be held together (%s); "
            "remove a role on the admin staff page",
            account.email,
            ", ".join(account.codes),
        )
    return [account.email for account in found]

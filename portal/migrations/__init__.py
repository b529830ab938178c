"""Alembic migrations, configured in code so no alembic.ini has to be found at run time."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

HERE = Path(__file__).parent


def alembic_config(engine: Engine, server_secret: bytes | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    # Data steps that sign existing rows (0009_key_macs) need the server secret.
    config.attributes["server_secret"] = server_secret
    return config


def upgrade(engine: Engine, revision: str = "head", server_secret: bytes | None = None) -> None:
    """Apply pending migrations to the database behind this engine."""
    command.upgrade(alembic_config(engine, server_secret), revision)


def pending(engine: Engine) -> bool:
    """True when the database is behind the newest migration."""
    script = ScriptDirectory.from_config(alembic_config(engine))
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_heads()
    return set(current) != set(script.get_heads())

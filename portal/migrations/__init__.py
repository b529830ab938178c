"""Alembic migrations, configured in code so no alembic.ini has to be found at run time.

Alembic (with mako, about 11 MiB resident) is imported only to apply migrations; whether any
is pending is read from the migration files' own `revision` lines, so a serving process that
answers /readyz never loads it.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

if TYPE_CHECKING:
    from alembic.config import Config

HERE = Path(__file__).parent


def alembic_config(engine: Engine, server_secret: bytes | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["engine"] = engine
    # Data steps that sign existing rows (0009_key_macs) need the server secret.
    config.attributes["server_secret"] = server_secret
    return config


def upgrade(engine: Engine, revision: str = "head", server_secret: bytes | None = None) -> None:
    """Apply pending migrations to the database behind this engine."""
    from alembic import command

    command.upgrade(alembic_config(engine, server_secret), revision)


def head_revisions() -> set[str]:
    """The newest migrations: every revision no other migration names as its predecessor.

    Read from each file's module-level `revision` and `down_revision` assignments (a string,
    None or a tuple of strings), as Alembic reads them; tests/integration/test_migrations.py
    checks the answer against Alembic's own."""
    revisions: set[str] = set()
    predecessors: set[str] = set()
    for path in sorted((HERE / "versions").glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            target: ast.expr | None = None
            if isinstance(node, ast.AnnAssign):
                target = node.target
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target = node.targets[0]
            value = getattr(node, "value", None)
            if not isinstance(target, ast.Name) or value is None:
                continue
            if target.id == "revision":
                revisions.add(str(ast.literal_eval(value)))
            elif target.id == "down_revision":
                down = ast.literal_eval(value)
                predecessors.update([down] if isinstance(down, str) else down or ())
    return revisions - predecessors


def pending(engine: Engine) -> bool:
    """True when the database is behind the newest migration."""
    with engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return True
        current = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    return current != head_revisions()

"""The migrations build exactly the schema the models describe, and seed the General channel."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Engine

import cases.models  # noqa: F401  (registers every table)
from cases.db import Base


def test_migrated_schema_matches_the_models(engine: Engine) -> None:
    """Autogenerate finds nothing to add, drop or alter: no model change lacks a migration."""
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)

    assert differences == []


def test_migrations_seed_one_general_channel(engine: Engine) -> None:
    """A fresh install has General / 综合 with its eight categories and a reward policy."""
    with engine.connect() as connection:
        channels = connection.execute(text("SELECT slug, name_zh FROM channels")).all()
        categories = connection.execute(text("SELECT count(*) FROM categories")).scalar()
        policies = connection.execute(text("SELECT count(*) FROM reward_policies")).scalar()

    assert [tuple(row) for row in channels] == [("general", "综合")]
    assert categories == 8
    assert policies == 1

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


def test_the_light_head_reading_agrees_with_alembic(engine: Engine) -> None:
    """portal.migrations reads the newest revision without importing Alembic (a serving
    process never loads it): its answer is Alembic's, and a database at that head is current."""
    from alembic.script import ScriptDirectory

    from portal.migrations import alembic_config, head_revisions, pending

    alembic_heads = set(ScriptDirectory.from_config(alembic_config(engine)).get_heads())

    assert head_revisions() == alembic_heads
    assert len(alembic_heads) == 1
    assert not pending(engine)


def test_a_database_one_step_behind_is_pending(engine: Engine) -> None:
    """With alembic_version naming an older revision, pending() says so (then it is put back)."""
    from portal.migrations import head_revisions, pending

    (head,) = head_revisions()
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0014_questionnaires'"))
    try:
        assert pending(engine)
    finally:
        with engine.begin() as connection:
            connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head}
            )
    assert not pending(engine)

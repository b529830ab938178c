"""Alembic environment: runs against the engine handed over in config.attributes."""

from alembic import context

import cases.models  # noqa: F401  (registers every table on the metadata)
from cases.db import Base

engine = context.config.attributes["engine"]

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()

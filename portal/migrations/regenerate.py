"""Development helper: rebuild the initial migration from the models while nothing is deployed.

Run `python -m portal.migrations.regenerate`. Once a release ships, add new revisions
with Alembic's autogenerate instead and never rewrite a shipped one.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from alembic import command

from cases.db import make_engine
from portal.migrations import HERE, alembic_config


def main() -> None:
    for old in (HERE / "versions").glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        config = alembic_config(engine)
        command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")


if __name__ == "__main__":
    main()

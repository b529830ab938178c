"""Development helper: rebuild the initial schema migration while nothing is deployed.

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
    # Only the generated schema revision is rebuilt; hand-written data revisions stay.
    for old in (HERE / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
        config = alembic_config(engine)
        command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")


if __name__ == "__main__":
    main()

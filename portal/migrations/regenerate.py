"""Development helper: rebuild the initial schema migration while nothing is deployed.

Run `python -m portal.migrations.regenerate`. Only the generated revision 0001 is rebuilt;
the hand-written data revisions after it are set aside meanwhile and put back unchanged.
Once a release ships, add new revisions with Alembic's autogenerate instead and never
rewrite a shipped one.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from alembic import command

from cases.db import make_engine
from portal.migrations import HERE, alembic_config

VERSIONS = HERE / "versions"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        aside = Path(tmp) / "aside"
        aside.mkdir()
        for path in VERSIONS.glob("*.py"):
            if path.name.startswith("0001_"):
                path.unlink()
            else:
                shutil.move(path, aside / path.name)
        try:
            engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.db'}")
            config = alembic_config(engine)
            command.revision(config, message="initial schema", autogenerate=True, rev_id="0001")
        finally:
            for path in aside.glob("*.py"):
                shutil.move(path, VERSIONS / path.name)
    # The generated file should pass the same lint and format checks as the rest of the code.
    generated = [str(path) for path in VERSIONS.glob("0001_*.py")]
    subprocess.run(["ruff", "check", "--fix", "--quiet", *generated], check=False)  # noqa: S603, S607 - our own formatter on our own file
    subprocess.run(["ruff", "format", "--quiet", *generated], check=False)  # noqa: S603, S607 - our own formatter on our own file


if __name__ == "__main__":
    main()

"""What the operator's `portal` commands print must not tell whom a report names."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select
from support.db import TEST_SECRET
from support.staff_world import SECRET, build_world

from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from cases.reports.intake import SubjectInput
from cases.reports.models import KeyWrap
from cases.staff.directory import DirectoryService, Row

HEADER = "employee_id,name,email,department,manager_id\n"


def keys_held(engine: Engine, staff_id: str) -> int:
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        stmt = select(func.count()).select_from(KeyWrap).where(KeyWrap.staff_id == staff_id)
        return int(db.scalar(stmt) or 0)


def test_directory_import_on_the_command_line_does_not_count_the_access_it_removed(
    fresh_database: Callable[..., str], tmp_path: Path
) -> None:
    """An admin with a shell who puts an investigator above a suspect by `portal directory
    import` learns from its output neither that keys went nor how many (the admin page says
    nothing either: test_admin_directory_oracle.py)."""
    url = fresh_database()
    engine = make_engine(url)
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, FixedClock())
        DirectoryService(db, world.clock, SECRET).import_rows(
            [Row("E3", "Zhang Wei", "zhang.wei@corp.example", "Sales", "")]
        )
        head = world.staff("head@corp.example", "investigator")
        world.file(subjects=[SubjectInput(name="X", employee_id="E3")])
        head_id = head.account.id
    held_before = keys_held(engine, head_id)
    probe = tmp_path / "probe.csv"
    probe.write_text(
        HEADER + "H1,Head,head@corp.example,Legal,\nE3,Zhang Wei,zhang.wei@corp.example,Sales,H1\n"
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PORTAL_")},
        "PORTAL_DATA_DIR": str(tmp_path / "data"),
        "PORTAL_DATABASE_URL": url,
        "PORTAL_SECRET_KEY": SECRET.decode(),
    }

    done = subprocess.run(
        [sys.executable, "-m", "portal.cli", "directory", "import", str(probe)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )

    held_after = keys_held(engine, head_id)
    engine.dispose()
    assert done.returncode == 0, done.stderr
    assert (held_before, held_after) == (1, 0)  # the import took the case from the new manager
    assert "1 created, 1 updated" in done.stdout
    assert "removed" not in done.stdout
    assert "time(s)" not in done.stdout
    assert "every case was checked against the new reporting lines" in done.stdout

"""An admin must not learn whom a report names from what the directory import page says."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker
from support.staff_http import app_world, log_in
from support.staff_world import SECRET

from cases.reports.intake import SubjectInput
from cases.staff.directory import DirectoryService, Row

HEADER = "employee_id,name,email,department,manager_id\n"


def test_a_directory_upload_does_not_tell_the_admin_whether_someone_is_accused(
    client: Any, app: Any, app_db: sessionmaker[Session]
) -> None:
    """An admin who puts an investigator above a suspect learns nothing from the import page."""
    with app_world(app, app_db) as world:
        DirectoryService(world.db, world.clock, SECRET).import_rows(
            [Row("E3", "Zhang Wei", "zhang.wei@corp.example", "Sales", "")]
        )
        world.staff("head@corp.example", "investigator")
        boss = world.staff("boss@corp.example", "admin")
        world.file(subjects=[SubjectInput(name="X", employee_id="E3")])
        clock = world.clock
    token = log_in(client, boss, clock)
    probe = HEADER + (
        "H1,Head,head@corp.example,Legal,\nE3,Zhang Wei,zhang.wei@corp.example,Sales,H1\n"
    )

    answer = client.post(
        "/admin/directory",
        data={"csrf": token},
        files={"file": ("dir.csv", probe.encode(), "text/csv")},
    )

    assert answer.status_code == 200
    assert "Access removed under the new reporting lines" not in answer.text
    assert "Every case was checked against the new reporting lines" in answer.text

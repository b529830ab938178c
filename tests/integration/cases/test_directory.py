"""Directory import: updates in place; bad files, duplicates and cycles change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.clock import FixedClock
from cases.errors import Invalid
from cases.staff.directory import DirectoryService, find_cycle, parse_csv
from cases.staff.models import DirectoryEntry

SECRET = b"s" * 32
GOOD = """employee_id,name,email,department,manager_id
E1,王总,ceo@corp.example,Management,
E2,李娜,Li.Na@corp.example,Sales,E1
E3,张伟,zhang@corp.example,Sales,E2
"""


def _count(db: Session) -> int:
    return int(db.scalar(select(func.count()).select_from(DirectoryEntry)) or 0)


def test_import_creates_then_updates(db_session: Session) -> None:
    """A second import updates changed rows and leaves the rest alone."""
    service = DirectoryService(db_session, FixedClock(), SECRET)
    first = service.import_rows(parse_csv(GOOD))

    second = service.import_rows(parse_csv(GOOD.replace("Sales,E2", "Audit,E1")))

    assert (first.created, second.created, second.updated, second.unchanged) == (3, 0, 1, 2)
    entry = db_session.scalars(
        select(DirectoryEntry).where(DirectoryEntry.employee_id == "E2")
    ).one()
    assert entry.email == "li.na@corp.example"
    assert not hasattr(entry, "id_hash")


def test_missing_manager_is_reported_not_fatal(db_session: Session) -> None:
    """A manager outside the file is listed as a warning; the rows still import."""
    text = GOOD + "E4,Rep,rep@corp.example,Sales,E77\n"

    report = DirectoryService(db_session, FixedClock(), SECRET).import_rows(parse_csv(text))

    assert report.missing_managers == [("E4", "E77")]
    assert _count(db_session) == 4


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("id,name\nE1,A\n", "bad_header"),
        (GOOD + "E9,,x@corp.example,S,\n", "bad_row"),
        (GOOD + "E9,Name,x,S\n", "bad_row"),
    ],
)
def test_malformed_files_are_refused(text: str, code: str) -> None:
    """Wrong header, empty name or short row: refused with a line number."""
    with pytest.raises(Invalid) as refused:
        parse_csv(text)

    assert refused.value.code == code


@pytest.mark.parametrize(
    ("extra", "code"),
    [("E2,Again,again@corp.example,Sales,E1\n", "duplicate"), ("E1x,X,,S,E1x\n", "cycle")],
)
def test_duplicates_and_cycles_change_nothing(db_session: Session, extra: str, code: str) -> None:
    """The whole file is refused: not one row of it is written."""
    with pytest.raises(Invalid) as refused:
        DirectoryService(db_session, FixedClock(), SECRET).import_rows(parse_csv(GOOD + extra))

    assert refused.value.code == code
    assert _count(db_session) == 0


def test_find_cycle_names_the_loop() -> None:
    """A three-person loop is reported in order; a tree has none."""
    assert find_cycle({"A": "B", "B": "C", "C": "A", "D": "A"}) in (
        ["A", "B", "C", "A"],
        ["B", "C", "A", "B"],
        ["C", "A", "B", "C"],
    )
    assert find_cycle({"A": "", "B": "A", "C": "B"}) is None

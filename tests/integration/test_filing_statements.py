"""Filing stays a short transaction: its SQL statements are counted, not timed.

Every report runs this path, and bench/load measures how fast it goes (docs/deploy.md,
"Headroom"). A change that puts the ORM's per-object flush back, or a query per person, shows
up here as more statements, on each database, without a timing in a test.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session
from support.staff_world import build_world

from cases.clock import FixedClock
from cases.reports.intake import IdentityInput, SubjectInput
from cases.reports.keys import CASE, IDENTITY, reporter_holder, staff_holder
from cases.reports.models import Case, KeyWrap

# The statements one anonymous report naming one person costs today (reads and writes, the
# transaction's BEGIN and COMMIT aside). Raise it only with a reason in the commit message.
# 21 since the matcher also reads the portal accounts, so a person named by an account's name
# or e-mail is kept away even when the directory does not know them. 22 since filing scans the
# report's text for the names of the people who could read it (cases/access/mentions.py): the
# process keeps that scan set, and reads the one-row people_version token to know it is still
# the database's (a change in another process moves it); the scan itself is in memory. 19
# since the channel with its categories, the team, the category's routing rules and the
# questionnaire are kept per process as plain data (cases/org/snapshot.py) while the one-row
# config_version token, read instead, is unchanged: four reads became one. 18 since the new
# receipt's selector and the new case's reference are checked free in one statement. 16 since
# the recovery key and the team's key approvals are kept under the same token (migration
# 0029_config_version_keys).
STATEMENTS = 16


def _count(db: Session) -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(" ".join(statement.split()))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    return seen, lambda: event.remove(engine, "before_cursor_execute", record)


def test_an_anonymous_report_is_a_fixed_handful_of_statements(db_session: Session) -> None:
    """Three investigators: no statement per person, and the case's wraps in one insert."""
    world = build_world(db_session, FixedClock())
    team = [world.staff(f"inv{n}@corp.example", "investigator") for n in range(3)]
    world.file()  # the first report warms whatever a process loads once
    db_session.flush()
    seen, stop = _count(db_session)
    try:
        filed = world.file(subjects=[SubjectInput(name="Wang Wei", employee_id="E9")], listed=False)
    finally:
        stop()

    inserts = [s for s in seen if s.startswith("INSERT INTO key_wraps")]
    assert len(inserts) == 1
    assert len(seen) <= STATEMENTS, "\n".join(seen)
    holders = set(
        db_session.scalars(select(KeyWrap.holder).where(KeyWrap.case_id == filed.case.id))
    )
    assert holders == {staff_holder(p.account.id) for p in team} | {
        reporter_holder(filed.case.receipt_id)
    }


def test_a_confidential_report_wraps_both_keys_in_one_insert(db_session: Session) -> None:
    """The identity key reaches custodians and the reporter in the same single insert."""
    world = build_world(db_session, FixedClock())
    investigator = world.staff("inv@corp.example", "investigator")
    custodian = world.staff("custodian@corp.example", "custodian")
    seen, stop = _count(db_session)
    try:
        filed = world.file(identity=IdentityInput("Li Lei", "li.lei@mail.example"), listed=False)
    finally:
        stop()

    assert len([s for s in seen if s.startswith("INSERT INTO key_wraps")]) == 1
    wraps = db_session.execute(
        select(KeyWrap.key_kind, KeyWrap.holder).where(KeyWrap.case_id == filed.case.id)
    ).all()
    reporter = reporter_holder(filed.case.receipt_id)
    assert set(wraps) == {
        (CASE, staff_holder(investigator.account.id)),
        (CASE, reporter),
        (IDENTITY, staff_holder(custodian.account.id)),
        (IDENTITY, reporter),
    }
    case = db_session.get(Case, filed.case.id)
    assert case is not None
    assert case.identity is not None

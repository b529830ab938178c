"""Related reports: other cases that name the same directory person (repeat offenders).

Computed from the keyed subject hashes alone (case_subjects.directory_hash), so nothing is
decrypted, and only among the cases the viewer may already see (visible_condition): a
related case hidden from the viewer is neither listed nor counted nor flagged. A link made
through an unconfirmed candidate (a name, alias or pinyin match on either side) is only
"possibly related"; an exact or confirmed match on both sides is "related".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from cases.access.policy import visible_condition
from cases.reports.models import Case, CaseSubject
from cases.staff.models import StaffAccount

# A repeat offender named in more cases than this is shown with the most recent ones only.
MAX_RELATED = 50
CHUNK = 500


@dataclass(frozen=True)
class RelatedCase:
    id: str
    reference: str
    status: str
    submitted_on: date
    certain: bool  # False: "possibly related" (a match still to be confirmed)


def related_cases(db: Session, staff: StaffAccount, case_id: str) -> list[RelatedCase]:
    """The other cases this person may see that name someone this case names, newest first."""
    pairs = _twins(db, [case_id])
    certain: dict[str, bool] = {}
    for _mine, theirs, sure in pairs:
        certain[theirs] = certain.get(theirs, False) or sure
    found = [
        RelatedCase(row.id, row.reference, row.status, row.submitted_on, certain[row.id])
        for row in _visible(db, staff, list(certain))
    ]
    ordered = sorted(found, key=lambda r: (r.submitted_on, r.reference), reverse=True)
    return ordered[:MAX_RELATED]


def related_ids(db: Session, staff: StaffAccount, case_ids: Sequence[str]) -> set[str]:
    """Which of these cases (a list page) share a named person with another case this
    person may see: the list's "related" flag, under the same rule as related_cases."""
    if not case_ids:
        return set()
    pairs = _twins(db, list(case_ids))
    visible = {row.id for row in _visible(db, staff, sorted({theirs for _, theirs, _ in pairs}))}
    return {mine for mine, theirs, _ in pairs if theirs in visible}


def _twins(db: Session, case_ids: list[str]) -> list[tuple[str, str, bool]]:
    """(case, other case, both rows settled) for every directory person they share.

    Asked by hash alone first, then filtered by the policy in _visible: with the policy in
    the same statement SQLite starts from the cases table and checks every case.
    """
    mine, theirs = aliased(CaseSubject), aliased(CaseSubject)
    stmt = (
        select(mine.case_id, theirs.case_id, mine.needs_confirmation, theirs.needs_confirmation)
        .join(theirs, theirs.directory_hash == mine.directory_hash)
        .where(
            mine.case_id.in_(case_ids),
            mine.directory_hash.is_not(None),
            theirs.case_id != mine.case_id,
        )
    )
    return [
        (here, there, not (unsure_here or unsure_there))
        for here, there, unsure_here, unsure_there in db.execute(stmt)
    ]


def _visible(db: Session, staff: StaffAccount, case_ids: list[str]) -> list[Any]:
    """Those of these cases the person may see (visible_condition), in chunks."""
    rows: list[Any] = []
    condition = visible_condition(staff, db)
    for start in range(0, len(case_ids), CHUNK):
        chunk = case_ids[start : start + CHUNK]
        stmt = select(Case.id, Case.reference, Case.status, Case.submitted_on).where(
            Case.id.in_(chunk), condition
        )
        rows += db.execute(stmt).all()
    return rows


__all__ = ["MAX_RELATED", "RelatedCase", "related_cases", "related_ids"]

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

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, aliased

from cases.access.policy import visible_condition
from cases.reports.models import Case, CaseSubject
from cases.staff.models import StaffAccount

# A repeat offender named in more cases than this is shown with the most recent ones only.
MAX_RELATED = 50


@dataclass(frozen=True)
class RelatedCase:
    id: str
    reference: str
    status: str
    submitted_on: date
    certain: bool  # False: "possibly related" (a match still to be confirmed)


def related_cases(db: Session, staff: StaffAccount, case_id: str) -> list[RelatedCase]:
    """The other cases this person may see that name someone this case names, newest first."""
    mine, theirs = aliased(CaseSubject), aliased(CaseSubject)
    stmt = (
        select(
            Case.id,
            Case.reference,
            Case.status,
            Case.submitted_on,
            mine.needs_confirmation,
            theirs.needs_confirmation,
        )
        .join(theirs, theirs.case_id == Case.id)
        .join(mine, and_(mine.directory_hash == theirs.directory_hash, mine.case_id == case_id))
        .where(
            Case.id != case_id,
            mine.directory_hash.is_not(None),
            visible_condition(staff, db),
        )
    )
    found: dict[str, RelatedCase] = {}
    for row_id, reference, status, submitted_on, unsure_here, unsure_there in db.execute(stmt):
        certain = not (unsure_here or unsure_there)
        known = found.get(row_id)
        if known is None or (certain and not known.certain):
            found[row_id] = RelatedCase(row_id, reference, status, submitted_on, certain)
    ordered = sorted(found.values(), key=lambda r: (r.submitted_on, r.reference), reverse=True)
    return ordered[:MAX_RELATED]


def related_ids(db: Session, staff: StaffAccount, case_ids: Sequence[str]) -> set[str]:
    """Which of these cases (a list page) share a named person with another case this
    person may see: the list's "related" flag, under the same rule as related_cases."""
    if not case_ids:
        return set()
    mine, theirs = aliased(CaseSubject), aliased(CaseSubject)
    stmt = (
        select(mine.case_id)
        .join(
            theirs,
            and_(theirs.directory_hash == mine.directory_hash, theirs.case_id != mine.case_id),
        )
        .join(Case, Case.id == theirs.case_id)
        .where(
            mine.case_id.in_(list(case_ids)),
            mine.directory_hash.is_not(None),
            visible_condition(staff, db),
        )
        .distinct()
    )
    return set(db.scalars(stmt))


__all__ = ["MAX_RELATED", "RelatedCase", "related_cases", "related_ids"]

"""Ending a legal hold takes two people: one proposes, another approves (docs/retention.md).

One admin colluding with the accused could release the hold on the case about him, and the
next jobs round deleted it for good. Now the hold stays until a second person approves the
release, and that person must be independent of the first:

- not the proposer;
- not related to the proposer by the making of accounts, either way and at any depth: an
  account someone made or reset (its enrolment link, `enrolment_tokens.created_by`), gave a
  role or reactivated (`key_approvals.requested_by`), or approved for keys
  (`key_approvals.decided_by`, the "vouchers" of cases/access/policy.py) could be that
  person's puppet: an admin who makes a second admin account holds its enrolment link;
- not someone the case keeps away: an investigator must be able to open the case (the access
  policy, so named, above someone named, excluded, recused or vouched for by such a person
  is 404); an admin, who reads no case, is kept away by the same rule minus the role and
  the key (`kept_away`), and neither proposes nor approves a case that names them;
- someone who holds the case's key (`holds_case_key`: a wrap of it for their account, not
  merely a pending grant). "Not related" alone let one admin make two puppet accounts, each
  through its own link: they share a maker but neither made the other, so one proposed and
  the other approved. A key is only ever wrapped for an account after a key holder approved
  that account (docs/access.md, key-holder approval), so a puppet approver now needs a
  second, key-holding insider. Admins still propose and refuse by reference; an admin
  approves only if that same account holds the key. With no key holder left, the hold
  stays: that only keeps data.

A proposal nobody approves expires after `RELEASE_DAYS` days and then does nothing.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from cases.access.policy import conflict_hashes, vouchers
from cases.reports.models import Case, CaseExclusion, CaseSubject, KeyWrap
from cases.retention.models import PENDING, HoldRelease
from cases.staff.models import EnrolmentToken, KeyApproval, StaffAccount

RELEASE_DAYS = 7
CASE_KEY = "case"
RELEASE_LIFETIME = timedelta(days=RELEASE_DAYS)


def expires_at(proposal: HoldRelease) -> datetime:
    return proposal.proposed_at + RELEASE_LIFETIME


def expired(proposal: HoldRelease, now: datetime) -> bool:
    return proposal.status == PENDING and expires_at(proposal) <= now


def makers(db: Session, account_id: str) -> set[str]:
    """Everyone who made, reset, gave a role to, reactivated or approved this account, and
    whoever did the same for them, up the chain (the account itself left out)."""
    seen: set[str] = set()
    frontier = {account_id}
    while frontier:
        asked = select(KeyApproval.requested_by).where(KeyApproval.staff_id.in_(frontier))
        vouched = select(KeyApproval.decided_by).where(
            KeyApproval.staff_id.in_(frontier), KeyApproval.status == "approved"
        )
        linked = select(EnrolmentToken.created_by).where(EnrolmentToken.staff_id.in_(frontier))
        found = {
            person
            for stmt in (asked, vouched, linked)
            for person in db.scalars(stmt)
            if person is not None
        }
        frontier = found - seen - {account_id}
        seen |= frontier
    return seen


def related(db: Session, one: str, other: str) -> bool:
    """Whether either account could be the other's puppet (made or vouched for by it)."""
    return one in makers(db, other) or other in makers(db, one)


def holds_case_key(db: Session, account_id: str, case: Case) -> bool:
    """Whether the case's key is wrapped for this account: an approval by a key holder came
    first (a pending grant, which an admin's change can queue, is not enough)."""
    stmt = select(KeyWrap.id).where(
        KeyWrap.case_id == case.id,
        KeyWrap.staff_id == account_id,
        KeyWrap.key_kind == CASE_KEY,
    )
    return db.scalars(stmt.limit(1)).first() is not None


def kept_away(db: Session, account: StaffAccount, case: Case) -> bool:
    """The access policy's rule for a person, without its role and key conditions: the case
    names them or someone below them, the reporter excluded them, they recused themselves,
    or someone who vouched for their account is kept away. Used for admins, who read no case
    and are therefore outside `may_see`, when they act on its hold by reference."""
    people = [account.id, *sorted(vouchers(db, [account.id]).get(account.id, ()))]
    excluded = db.scalar(
        select(exists().where(CaseExclusion.case_id == case.id, CaseExclusion.staff_id.in_(people)))
    )
    if excluded:
        return True
    hashes = conflict_hashes(db, account)
    if not hashes:
        return False
    named = select(CaseSubject.id).where(
        CaseSubject.case_id == case.id, CaseSubject.directory_hash.in_(sorted(hashes))
    )
    return db.scalars(named.limit(1)).first() is not None

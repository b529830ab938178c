"""Which keys an account may hold: one rule per key kind, and the removal of the rest.

Who may hold each key kind, always within the access policy (cases/access/policy.py):

- case: investigators and retaliation officers;
- identity: custodians, and an investigator or retaliation officer whose disclosure
  request a custodian approved;
- payout: finance;
- reward: reward approvers, and the investigator or retaliation officer who proposed it.

Roles change, people leave, recuse and come back: after every such change `prune` removes
at once each wrapped key (and each pending grant) the account no longer qualifies for, so
a copy of the database plus the person's own password opens nothing they lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.access.models import DisclosureRequest
from cases.access.policy import eligible, may_see
from cases.org.models import Category, Channel
from cases.org.service import OrgService
from cases.reports.keys import CASE, IDENTITY, KeyRing
from cases.reports.models import Case, KeyWrap, PendingGrant
from cases.rewards.models import Reward
from cases.rewards.service import PAYOUT_KEY, REWARD_KEY
from cases.staff.models import Role, StaffAccount

CASE_ROLES = frozenset({str(Role.INVESTIGATOR), str(Role.RETALIATION_OFFICER)})
KEY_ROLES: dict[str, frozenset[str]] = {
    CASE: CASE_ROLES,
    IDENTITY: frozenset({str(Role.CUSTODIAN)}),
    PAYOUT_KEY: frozenset({str(Role.FINANCE)}),
    REWARD_KEY: frozenset({str(Role.REWARD_APPROVER)}),
}


@dataclass
class Pruned:
    """What prune took away: wraps and grants per key kind, and cases left with no staff key."""

    removed: dict[str, int] = field(default_factory=dict)
    orphaned: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.removed.values())


def may_hold(db: Session, staff: StaffAccount, case: Case, kind: str) -> bool:
    """The eligibility rule for one key kind of one case (the table of this module)."""
    if not may_see(db, staff, case):
        return False
    roles = staff.role_names
    if roles & KEY_ROLES.get(kind, frozenset()):
        return True
    if kind == IDENTITY and roles & CASE_ROLES:
        return _approved_requester(db, staff, case)
    if kind == REWARD_KEY and roles & CASE_ROLES:
        return _proposer(db, staff, case)
    return False


def prune(db: Session, staff: StaffAccount, keys: KeyRing) -> Pruned:
    """Remove every wrap and pending grant this account may no longer hold; re-route orphans.

    A case whose last staff holder of the case key goes is queued for the people routing
    would send it to (the reporter's next visit or the recovery key fulfils those).
    """
    pruned = Pruned()
    held = db.execute(
        select(KeyWrap.case_id, KeyWrap.key_kind).where(KeyWrap.staff_id == staff.id)
    ).all()
    waiting = db.execute(
        select(PendingGrant.case_id, PendingGrant.key_kind).where(PendingGrant.staff_id == staff.id)
    ).all()
    for case_id, kind in sorted({(row[0], row[1]) for row in [*held, *waiting]}):
        case = db.get(Case, case_id)
        if case is not None and may_hold(db, staff, case, kind):
            continue
        _drop(db, case_id, kind, staff.id)
        pruned.removed[kind] = pruned.removed.get(kind, 0) + 1
        if kind == CASE and case is not None and not keys.staff_holders(case_id, CASE):
            pruned.orphaned.append(case_id)
            _reroute(db, case, keys)
    db.flush()
    return pruned


def drop_all_keys(db: Session, staff: StaffAccount, keys: KeyRing) -> int:
    """Every wrap and grant of the account (its key pair is gone); orphans re-routed."""
    rows = db.execute(
        select(KeyWrap.case_id, KeyWrap.key_kind).where(KeyWrap.staff_id == staff.id)
    ).all()
    grants = db.execute(
        select(PendingGrant.case_id, PendingGrant.key_kind).where(PendingGrant.staff_id == staff.id)
    ).all()
    pairs = sorted({(row[0], row[1]) for row in [*rows, *grants]})
    for case_id, kind in pairs:
        _drop(db, case_id, kind, staff.id)
        case = db.get(Case, case_id)
        if kind == CASE and case is not None and not keys.staff_holders(case_id, CASE):
            _reroute(db, case, keys)
    db.flush()
    return len(rows)


def _drop(db: Session, case_id: str, kind: str, staff_id: str) -> None:
    db.execute(
        delete(KeyWrap).where(
            KeyWrap.case_id == case_id, KeyWrap.key_kind == kind, KeyWrap.staff_id == staff_id
        )
    )
    db.execute(
        delete(PendingGrant).where(
            PendingGrant.case_id == case_id,
            PendingGrant.key_kind == kind,
            PendingGrant.staff_id == staff_id,
        )
    )


def _reroute(db: Session, case: Case, keys: KeyRing) -> None:
    channel = db.get(Channel, case.channel_id)
    category = db.get(Category, case.category_id)
    if channel is None or category is None:
        return
    for person in eligible(db, OrgService(db).recipients(channel, category), case):
        keys.request_grant(case.id, CASE, person.id, "policy_change")


def _approved_requester(db: Session, staff: StaffAccount, case: Case) -> bool:
    stmt = select(DisclosureRequest.id).where(
        DisclosureRequest.case_id == case.id,
        DisclosureRequest.requester_id == staff.id,
        DisclosureRequest.status == "approved",
    )
    return db.scalars(stmt).first() is not None


def _proposer(db: Session, staff: StaffAccount, case: Case) -> bool:
    stmt = select(Reward.id).where(Reward.case_id == case.id, Reward.proposed_by == staff.id)
    return db.scalars(stmt).first() is not None

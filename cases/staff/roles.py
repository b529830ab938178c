"""Who may do what, defined once: the role sets every rule names and the forbidden combinations.

Separation of duties is checked per person (DESIGN.md, "Roles"): an account may hold several
roles, but never two whose union defeats a rule another role exists to enforce. Each row of
FORBIDDEN names the threat it closes; docs/access.md shows the same table.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.errors import Forbidden, Invalid
from cases.principals import StaffPrincipal
from cases.staff.models import Role, StaffAccount, StaffRole

# Read and work on case content (the case key): the only roles the content endpoints serve.
CASE_READERS = frozenset({Role.INVESTIGATOR, Role.RETALIATION_OFFICER})
# Read a confidential reporter's identity: custodians, and case readers a custodian approved.
IDENTITY_READERS = CASE_READERS | {Role.CUSTODIAN}
# Every role that receives some key of a case (case, identity, reward, payout), and so every
# role the anti-retaliation policy (cases/access/policy.py) must keep away from a case.
POLICY_ROLES = IDENTITY_READERS | {Role.REWARD_APPROVER, Role.FINANCE}
# The reward ledger: amounts and states, never content or payees.
LEDGER_ROLES = frozenset({Role.REWARD_APPROVER, Role.FINANCE, Role.AUDITOR})
# The statistics (cases/stats/): counts of clear metadata, never a case. Each of these roles
# holds no case key and sees no case list, so a count cannot be set against a list they see.
STATISTICS_ROLES = frozenset({Role.ANALYST, Role.ADMIN, Role.AUDITOR})
ALL_ROLES = frozenset(Role)


@dataclass(frozen=True)
class RoleConflict:
    """One forbidden combination: holding a role of `first` and a role of `second`."""

    code: str
    first: frozenset[Role]
    second: frozenset[Role]
    message: str
    threat: str

    def applies(self, roles: Collection[str]) -> bool:
        held = {str(r) for r in roles}
        return any(a in held and b in held and a != b for a in self.first for b in self.second)


FORBIDDEN: tuple[RoleConflict, ...] = (
    RoleConflict(
        "reader_custodian",
        CASE_READERS,
        frozenset({Role.CUSTODIAN}),
        "Someone who reads cases cannot also be an identity custodian.",
        "They would read the reporter's identity beside the report with no disclosure request.",
    ),
    RoleConflict(
        "reader_finance",
        CASE_READERS,
        frozenset({Role.FINANCE}),
        "Someone who reads cases cannot also be in finance.",
        "The payee's name and bank card would meet the report they were paid for.",
    ),
    RoleConflict(
        "reader_admin",
        CASE_READERS,
        frozenset({Role.ADMIN}),
        "Someone who reads cases cannot also be an admin.",
        "An admin who reads cases routes any case to themselves and makes puppet accounts.",
    ),
    RoleConflict(
        "auditor_other",
        frozenset({Role.AUDITOR}),
        ALL_ROLES - {Role.AUDITOR},
        "An auditor cannot hold any other role.",
        "The auditor reviews everyone's actions; holding another role, they review their own.",
    ),
    RoleConflict(
        "approver_finance",
        frozenset({Role.REWARD_APPROVER}),
        frozenset({Role.FINANCE}),
        "A reward approver cannot also be in finance.",
        "One person would approve a reward and pay it, to a payee they choose.",
    ),
    RoleConflict(
        "admin_keyholder",
        frozenset({Role.ADMIN}),
        frozenset({Role.CUSTODIAN, Role.REWARD_APPROVER, Role.FINANCE}),
        "An admin cannot also hold a role that receives a case's keys.",
        "Admins configure and never read: not identities, rewards or payout details either.",
    ),
    RoleConflict(
        "analyst_keyholder",
        frozenset({Role.ANALYST}),
        POLICY_ROLES,
        "An analyst cannot also hold a role that sees cases.",
        "Counts of every case set against the cases they may see would show how many are "
        "hidden from them: the ones that name them or the people they manage.",
    ),
)


def conflicts(roles: Iterable[str]) -> list[RoleConflict]:
    """The rows of FORBIDDEN this set of roles breaks (empty when it may be held)."""
    held = set(roles)
    return [row for row in FORBIDDEN if row.applies(held)]


def check_roles(roles: Iterable[str]) -> None:
    """Refuse a combination of roles that FORBIDDEN names, with the first rule it breaks."""
    broken = conflicts(roles)
    if broken:
        raise Invalid(broken[0].message, fields={"roles": broken[0].code})


@dataclass(frozen=True)
class AccountConflict:
    email: str
    codes: tuple[str, ...]


def accounts_in_conflict(db: Session) -> list[AccountConflict]:
    """Active accounts made before the table (or written to the database by hand) that break it.

    They are reported, not switched off: the server starts and the admin pages name them on
    every page until an admin removes a role (docs/access.md, "Separation of duties").
    """
    several = select(StaffRole.staff_id).group_by(StaffRole.staff_id).having(func.count() > 1)
    stmt = (
        select(StaffAccount)
        .where(StaffAccount.active.is_(True), StaffAccount.id.in_(several))
        .order_by(StaffAccount.email)
    )
    found = []
    for account in db.scalars(stmt):
        broken = conflicts(account.role_names)
        if broken:
            found.append(AccountConflict(account.email, tuple(row.code for row in broken)))
    return found


def require_roles(principal: StaffPrincipal, roles: Collection[str]) -> None:
    """The role rule at the top of a service method: 403 unless one of `roles` is held."""
    if not principal.account.role_names & {str(r) for r in roles}:
        raise Forbidden("Your roles do not allow this.")

"""Where each staff member lands after login: one table, read top to bottom.

An account holding several roles lands on the page of the first of its roles in this order
(docs/web.md, "Staff conventions"). The order puts the roles with one narrow task first, so an
account never lands on a page it cannot use.
"""

from __future__ import annotations

from collections.abc import Collection

from cases.staff.models import Role

CASE_LIST = "/staff/cases"

START_PAGES: tuple[tuple[Role, str], ...] = (
    (Role.ADMIN, "/admin"),
    (Role.AUDITOR, "/staff/audit"),
    (Role.ANALYST, "/staff/statistics"),
    (Role.FINANCE, "/staff/rewards/payouts"),
    (Role.CUSTODIAN, "/staff/disclosures"),
    (Role.REWARD_APPROVER, "/staff/rewards"),
    (Role.INVESTIGATOR, CASE_LIST),
    (Role.RETALIATION_OFFICER, CASE_LIST),
)


def start_page(roles: Collection[str]) -> str:
    """The start page of the first role in START_PAGES the account holds (else the case list)."""
    held = {str(r) for r in roles}
    return next((path for role, path in START_PAGES if str(role) in held), CASE_LIST)

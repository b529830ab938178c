"""Who may use each anti-retaliation action on a case, and what its input must be.

Precedence of refusals, the same on every case endpoint: a role that may never use an action
is refused (403) whatever the case id, so the answer tells nothing about any case; only then
is the case looked up, and one the caller may not see is 404 (`case_for`).
"""

from __future__ import annotations

from collections.abc import Mapping

from cases.casework.service import CaseworkService
from cases.errors import Invalid
from cases.principals import StaffPrincipal
from cases.reports.intake import NAME_MAX, SubjectInput
from cases.reports.models import Case
from cases.staff.models import Role
from cases.staff.roles import CASE_READERS, IDENTITY_READERS, POLICY_ROLES, require_roles

CUSTODIANS = frozenset({Role.CUSTODIAN})

# Each action of the anti-retaliation pages and API, and the roles that may ever use it.
ACTION_ROLES: Mapping[str, frozenset[str]] = {
    "access_page": CASE_READERS,
    "subjects": CASE_READERS,
    "add_subject": CASE_READERS,
    "confirm_subject": CASE_READERS,
    "reject_subject": CASE_READERS,
    "request_disclosure": CASE_READERS,
    "disclosures": IDENTITY_READERS,
    "identity": IDENTITY_READERS,
    "protection": CASE_READERS,
    "assess": CASE_READERS,
    "add_measure": CASE_READERS,
    "complete_measure": CASE_READERS,
    "items": CASE_READERS,
    "mask": CASE_READERS,
    "unmask": CASE_READERS,
    "agree_mask": CASE_READERS,
    "redact": CASE_READERS,
    "recuse": POLICY_ROLES,
    "custodian_queue": CUSTODIANS,
    "decide_disclosure": CUSTODIANS,
}
DECISIONS = {"approve": True, "refuse": False}


def require_action(principal: StaffPrincipal, action: str) -> None:
    """403 unless the principal holds a role that may use this action at all."""
    require_roles(principal, ACTION_ROLES[action])


def case_for(work: CaseworkService, principal: StaffPrincipal, case_id: str, action: str) -> Case:
    """The case an action works on: the role first (403), then the policy (404)."""
    require_action(principal, action)
    return work.visible_case(principal, case_id)


def approves(decision: str) -> bool:
    """A custodian's decision as typed: "approve" or "refuse", nothing else."""
    if decision not in DECISIONS:
        raise Invalid("Choose approve or refuse.", fields={"decision": "invalid"})
    return DECISIONS[decision]


def named_subject(name: str, employee_id: str, email: str) -> SubjectInput:
    """A further person named on a case: a name is needed, of at most NAME_MAX characters."""
    name = name.strip()
    if not name or len(name) > NAME_MAX:
        raise Invalid("Give the person's name.", fields={"subject_name": "required"})
    return SubjectInput(name=name, employee_id=employee_id, email=email)

"""What the forbidden role combinations of cases/staff/roles.py say, marked for the catalogues.

The domain raises these in English; the web and the API translate them by catalogue lookup.
tests/unit/portal/test_role_messages.py keeps this table equal to the domain's.
"""

from __future__ import annotations

from portal.i18n import N_

ROLE_CONFLICT_MESSAGES = {
    "reader_custodian": N_("Someone who reads cases cannot also be an identity custodian."),
    "reader_finance": N_("Someone who reads cases cannot also be in finance."),
    "reader_admin": N_("Someone who reads cases cannot also be an admin."),
    "auditor_other": N_("An auditor cannot hold any other role."),
    "approver_finance": N_("A reward approver cannot also be in finance."),
    "admin_keyholder": N_("An admin cannot also hold a role that receives a case's keys."),
    "analyst_keyholder": N_("An analyst cannot also hold a role that sees cases."),
}

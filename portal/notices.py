"""Success notices after a staff form: the redirect carries a code, never content.

A staff action that succeeds answers 303 to a page with ``?done=<code>``; the staff navigation
(templates/staff/_nav.html) shows the translated message of a known code and nothing for any
other value, so a link cannot make the portal display words of the link author's choosing.
The code is chosen from the route the form posted to (one table below); a form route not in
the table gets the general "saved" notice.
"""

from __future__ import annotations

from starlette.requests import Request

from portal.i18n import N_

NOTICES: dict[str, str] = {
    "saved": N_("Your changes were saved."),
    "sent": N_("Your message was sent to the reporter."),
    "noted": N_("Your note was saved."),
    "status": N_("The status was changed."),
    "assigned": N_("The colleague was assigned to the case."),
    "unassigned": N_("The colleague was taken off the case."),
    "evidence": N_("The evidence was added to the case."),
    "decided": N_("Your decision was recorded."),
    "requested": N_("Your request was sent to the identity custodians."),
    "recused": N_("You stepped back from the case."),
    "proposed": N_("The reward was proposed; a reward approver decides next."),
    "paid": N_("The payment was recorded."),
    "policy": N_("The policy was saved."),
    "roles": N_("The roles were changed."),
    "account": N_("The account was changed."),
    "created": N_("The account was created. Send the enrolment link to its owner."),
    "release": N_(
        "The end of the hold was proposed. It ends only when a second person approves it."
    ),
    "hold_ended": N_("The hold was ended: retention applies to the case again."),
    "hold_kept": N_("The proposal was withdrawn: the hold stays."),
    "agreed": N_("You agreed as the second reader: the ending stands."),
}

NOTICE_FOR_ROUTE: dict[str, str] = {
    "/staff/cases/{case_id}/messages": "sent",
    "/staff/cases/{case_id}/notes": "noted",
    "/staff/cases/{case_id}/transition": "status",
    "/staff/cases/{case_id}/assign": "assigned",
    "/staff/cases/{case_id}/unassign": "unassigned",
    "/staff/cases/{case_id}/evidence": "evidence",
    "/staff/cases/{case_id}/disclosures": "requested",
    "/staff/cases/{case_id}/recuse": "recused",
    "/staff/cases/{case_id}/reward": "proposed",
    "/staff/rewards/{reward_id}/decision": "decided",
    "/staff/rewards/{reward_id}/payment": "paid",
    "/staff/disclosures/{request_id}": "decided",
    "/admin/rewards": "policy",
    "/admin/staff": "created",
    "/admin/staff/{staff_id}/roles": "roles",
    "/admin/staff/{staff_id}/state": "account",
    "/admin/staff/{staff_id}/employee": "account",
    "/admin/holds/release": "release",
    "/admin/holds/release/approve": "hold_ended",
    "/admin/holds/release/refuse": "hold_kept",
    "/staff/cases/{case_id}/hold/release": "release",
    "/staff/cases/{case_id}/hold/release/approve": "hold_ended",
    "/staff/cases/{case_id}/hold/release/refuse": "hold_kept",
    "/staff/cases/{case_id}/second-reading": "agreed",
}


def with_notice(request: Request, target: str) -> str:
    """The redirect target of a successful form, with the code of its success notice."""
    route = request.scope.get("route")
    template = getattr(route, "path", "")
    code = NOTICE_FOR_ROUTE.get(template, "saved")
    path, hash_mark, fragment = target.partition("#")
    return f"{path}{'&' if '?' in path else '?'}done={code}{hash_mark}{fragment}"


def notice_for(request: Request) -> str | None:
    """The (untranslated) message of the page's ``done`` code, or None for none or unknown."""
    if "query_string" not in request.scope:  # a request built by hand, as in unit tests
        return None
    return NOTICES.get(request.query_params.get("done", ""))

"""Reporter forms refused before their body is read: a redirect to a page that says why.

Chromium keeps the body of every form whose answer is a page in its session files
(``Default/Sessions/*``), to offer the page again after a restart. The portal already answers
every reporter form it reads with a redirect (cases/reports/handover.py). A form it refuses
before reading it (an expired form, a body over a size limit, a body that stopped arriving,
one it cannot parse, evidence over the case's quota; and a fault of the portal's own) would
otherwise be answered by an error page, and the report, the receipt or the payout details
typed into it would stay on the reporter's computer.

So such a refusal is a 303 to ``GET /refused/<why>``, a page in plain words whose own status
is the refusal's (403, 413, 408, 400, 415, 409, 429 or 500): a tool that follows redirects
and watches statuses still sees the refusal; the browser's history holds only that GET. The
typed words are not shown again (they were never read). Only HTML form posts to the reporter
pages named in ``REPORTER_FORMS`` are answered so; the JSON API, a client that asks only for
JSON, and staff pages keep their plain error status.

The server need not read the rest of a refused body first: uvicorn (httptools and h11 alike)
reads on and drops it once the answer is sent, and keeps the connection, so the browser
finishes sending and then reads the redirect (tests/browser/test_browser_profile.py sends
6 MiB of evidence refused by its declared length).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from starlette.requests import HTTPConnection

from portal.i18n import N_

# Each reporter form (its POST path) -> the page a refused reporter goes back to fill in.
REPORTER_FORMS: dict[str, str] = {
    "/report": "report",
    "/report/language": "report",
    "/report/receipt.txt": "status",
    "/report/check": "status",
    "/status": "status",
    "/status/reply": "status",
    "/status/evidence": "status",
    "/status/logout": "status",
    "/status/retaliation": "retaliation",
    "/status/reward/accept": "reward",
    "/status/reward/decline": "reward",
    "/status/reward/undo": "reward",
}
# The pages a refusal page links back to, by the name carried in its link.
BACK_PAGES: dict[str, str] = {
    "report": "/report",
    "status": "/status",
    "retaliation": "/status/retaliation",
    "reward": "/status/reward",
}
REFUSED_PATH = "/refused"


@dataclass(frozen=True)
class Refusal:
    """One kind of refusal: its status, title and words (translated when shown)."""

    status: int
    title: str
    message: str


_UNREADABLE_TITLE = N_("This form could not be read")
_UNREADABLE = N_(
    "This form arrived in a shape the portal could not read, so nothing was sent or kept. "
    "Please fill it in again."
)
REFUSALS: dict[str, Refusal] = {
    "expired": Refusal(
        403,
        N_("This form had expired"),
        N_(
            "This form had expired, so nothing was sent. This happens when the browser was "
            "closed, or the page was open for a long time. Please fill it in again."
        ),
    ),
    "too-large": Refusal(
        413,
        N_("What you sent was too large"),
        N_(
            "What you sent was larger than this form accepts, so nothing was sent or kept. "
            "Please fill it in again with shorter text, or fewer or smaller files."
        ),
    ),
    "file-too-large": Refusal(
        413,
        N_("A file was too large"),
        N_(
            "A file was larger than allowed, so nothing was sent or kept. Please choose "
            "smaller files, or fewer, and send them again."
        ),
    ),
    "too-many-files": Refusal(
        413,
        N_("Too many files"),
        N_(
            "There were more files than allowed at once, so nothing was sent or kept. "
            "Please send fewer files at a time."
        ),
    ),
    "stalled": Refusal(
        408,
        N_("What you sent stopped arriving"),
        N_(
            "What you sent stopped arriving before it was complete, so nothing was sent or "
            "kept. Please check your connection and fill the form in again."
        ),
    ),
    "unreadable": Refusal(400, _UNREADABLE_TITLE, _UNREADABLE),
    "unsupported": Refusal(415, _UNREADABLE_TITLE, _UNREADABLE),
    # A fault of the portal's own while it answered the form: said as the 500 page says it.
    "failed": Refusal(
        500,
        N_("Something went wrong"),
        N_("Something went wrong on our side. Please try again later."),
    ),
    # The report form's hidden field (left empty by people) was filled: a script sent it.
    "rejected": Refusal(
        400,
        N_("This form could not be accepted"),
        N_("This form could not be accepted. If you are a person, leave the last field empty."),
    ),
    # Evidence refused because the case's total or today's files are used up: checked before
    # the upload streams (and again before linking it; what was stored is then deleted).
    "evidence-full": Refusal(
        409,
        N_("No more files can be added"),
        N_(
            "This report already holds as much evidence as it can take. Describe the rest "
            "in a message instead."
        ),
    ),
    "evidence-busy": Refusal(
        409,
        N_("No more files can be added"),
        N_(
            "The portal is receiving an unusual number of reports right now and cannot keep "
            "more files. Your report is safe; please add the files later."
        ),
    ),
    "empty-file": Refusal(
        422,
        N_("A file was empty"),
        N_("A file you chose is empty."),
    ),
    "evidence-today": Refusal(
        429,
        N_("No more files today"),
        N_("You have added as many files as can be added today. Please add the rest tomorrow."),
    ),
}
# The error codes of a refusal that happens before (or instead of) reading the body.
REFUSAL_BY_CODE: dict[str, str] = {
    "csrf": "expired",
    "too_large": "too-large",
    "file_too_large": "file-too-large",
    "too_many_files": "too-many-files",
    "timeout": "stalled",
    "bad_request": "unreadable",
    "unsupported_form": "unsupported",
    "unsupported_media_type": "unsupported",
    "internal": "failed",
    # Refused once read, but for a reason that hands nothing back: a page would keep the body.
    "rejected": "rejected",
    "bad_language": "unreadable",
    "bad_receipt": "unreadable",
}
# The evidence form's own refusals by the case's quotas (its body never holds typed words,
# but the browser would keep the chosen files' names and folders).
EVIDENCE_PATH = "/status/evidence"
EVIDENCE_REFUSALS: dict[str, str] = {
    "evidence_quota": "evidence-full",
    "flood_quota": "evidence-busy",
    "throttled": "evidence-today",
    "empty_file": "empty-file",
}


def refused_form_target(conn: HTTPConnection, code: str, wants_json: bool) -> str | None:
    """Where a reporter's HTML form refused with this error code is sent instead of an error
    page; None when the refusal is answered as it always was."""
    if wants_json or conn.scope.get("method") != "POST":
        return None
    back = REPORTER_FORMS.get(conn.url.path)
    why = REFUSAL_BY_CODE.get(code)
    if why is None and conn.url.path == EVIDENCE_PATH:
        why = EVIDENCE_REFUSALS.get(code)
    if back is None or why is None:
        return None
    return f"{REFUSED_PATH}/{why}?{urlencode({'back': back})}"

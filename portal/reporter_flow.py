"""The reporter's request path, shared by the pages and the JSON API.

Domain work (Argon2, database, encryption) runs in worker threads so one slow request never
stalls the event loop: writes queue behind the app's writer limiter, Argon2 runs behind its
per-core slots (both in `portal.deps.Deps`, made in `create_app`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio
from starlette.requests import Request

import crypto
from cases.db import unit_of_work
from cases.errors import CaseError, Invalid
from cases.principals import ReporterPrincipal
from cases.reports.attachments import (
    AttachmentWriter,
    UploadTarget,
    delete_files,
    evidence_name,
    next_evidence_number,
)
from cases.reports.intake import Draft, PreparedReceipt, SubjectInput
from cases.reports.reporter import Attempt, Login
from portal.auth import require_reporter
from portal.deps import clock_of, deps_of, kdf_profile, receipt_kdf, reporter_service, settings_of
from portal.i18n import N_
from portal.uploads import FileOpener, ParsedUpload

T = TypeVar("T")
# The multipart field (before the files) by which a reporter keeps their own file names.
KEEP_NAMES = "keep_names"


async def write(request: Request, work: Callable[..., T], *args: Any) -> T:
    """Run a writing unit of work in a worker thread, behind the writer queue."""
    limiter = deps_of(request).writer
    return await anyio.to_thread.run_sync(partial(work, request, *args), limiter=limiter)


async def prepared_draft(request: Request) -> Draft:
    """A draft whose receipt's Argon2 run happens now, outside the writer queue."""
    profile = kdf_profile(settings_of(request))
    new = partial(PreparedReceipt.new, profile)
    receipt = await anyio.to_thread.run_sync(new, limiter=deps_of(request).kdf_slots)
    return Draft.new(receipt)


def upload_target(request: Request, case_id: str, case_key: bytes) -> UploadTarget:
    settings = settings_of(request)
    return UploadTarget(
        case_id=case_id,
        case_key=case_key,
        author="reporter",
        grace_seconds=settings.limits.unlinked_upload_grace_seconds,
        chunk_size=settings.limits.chunk_size,
        zone=settings.timezone,
        clean_max_bytes=settings.limits.clean_max_bytes,
    )


def file_opener(request: Request, target: UploadTarget, field: str) -> FileOpener:
    """Each file part in the named field becomes an encrypting attachment writer.

    Files are renamed "evidence-1.pdf" and so on (numbered across the case) unless a
    ``keep_names`` field saying ``yes`` came before them (the form puts its checkbox above
    the file chooser).
    """

    def open_file(name: str, filename: str, form: ParsedUpload) -> AttachmentWriter:
        if name != field:
            message = N_("Files were sent in a field this form does not have.")
            raise Invalid(message, fields={field: "invalid"})
        factory = request.app.state.db
        with unit_of_work(factory) as db:
            number = next_evidence_number(db, target.case_id)
        keep = form.get(KEEP_NAMES, "no")
        if keep not in ("yes", "no"):
            message = N_("Please check the highlighted fields.")
            raise Invalid(message, fields={KEEP_NAMES: "invalid"})
        shown = evidence_name(filename, number, keep=keep == "yes")
        return AttachmentWriter(factory, clock_of(request), target, shown)

    return open_file


async def check_receipt(request: Request, text: str, *, open_session: bool) -> Login:
    """Cheap checks, then Argon2 outside any lock (one per core), then compare and count.

    The derivation runs for known and unknown selectors alike, on the app's one ReceiptKdf.
    """
    attempt = await write(request, _attempt, text)
    run = partial(receipt_kdf(request).derive, attempt)
    derived = await anyio.to_thread.run_sync(run, limiter=deps_of(request).kdf_slots)
    return await write(request, _conclude, attempt, derived, open_session)


def _attempt(request: Request, text: str) -> Attempt:
    with unit_of_work(request.app.state.db) as db:
        return reporter_service(request, db).attempt(text)


def _conclude(
    request: Request, attempt: Attempt, derived: crypto.DerivedKeys | None, open_session: bool
) -> Login:
    with unit_of_work(request.app.state.db) as db:
        return reporter_service(request, db).conclude(attempt, derived, open_session=open_session)


def reporter_case(request: Request) -> tuple[ReporterPrincipal, str, bytes]:
    """The reporter's case and key, refused before any byte streams when the evidence quota
    of the case or today's file allowance is used up."""
    with unit_of_work(request.app.state.db) as db:
        principal = require_reporter(request, db)
        service = reporter_service(request, db)
        case, key = service.case_and_key(principal)
        service.check_evidence_room(principal, [])
        return principal, case.id, key


def link_evidence(request: Request, principal: ReporterPrincipal, ids: list[str]) -> None:
    try:
        with unit_of_work(request.app.state.db) as db:
            require_reporter(request, db)
            reporter_service(request, db).add_evidence(principal, ids)
    except CaseError:
        # Over the quota with these files: they go now rather than at the next sweep.
        delete_files(request.app.state.db, ids)
        raise


def subjects_from_json(raw: Any, errors: dict[str, str]) -> list[SubjectInput]:
    """The people a report or complaint names, shape-checked."""
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        errors["subjects"] = "invalid"
        return []
    subjects = []
    for item in raw:
        values = {k: item.get(k) or "" for k in ("name", "employee_id", "email")}
        if not all(isinstance(v, str) for v in values.values()):
            errors["subjects"] = "invalid"
            return []
        subjects.append(SubjectInput(**values))
    return subjects

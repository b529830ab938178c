"""A case file for lawyers, the police or a court: what goes in it, checked and audited.

Only a case reader who may open the case exports it, and the file holds what they may read
and nothing more: the same decrypted view as the case page, with every mask applied (their
own too: the file leaves the portal) and redacted text gone; the people named as the view
shows them; the evidence list with each file's size and SHA-256; the case's audit excerpt.
The reporter's identity is in it only when this person holds it (an identity custodian
approved their disclosure request), and it is marked as disclosed.

The export is audited (`case.exported`, with its format) before the file is drawn, and the
reporter's access summary shows the day it happened (cases/access/reporting.py). Drawing the
PDF and packing the ZIP happen in portal, in memory; nothing here touches a disk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.access.disclosure import DisclosureService
from cases.access.models import DisclosureRequest
from cases.audit.models import AuditEntry
from cases.casework.service import CaseView, CaseworkService, require_reader
from cases.clock import Clock, local_day
from cases.errors import Invalid, NotFound
from cases.principals import StaffPrincipal
from cases.reports.attachments import FileTicket
from cases.reports.models import Case
from cases.staff.models import StaffAccount

EXPORTED = "case.exported"
FORMATS = ("pdf", "zip")


@dataclass(frozen=True)
class AuditLine:
    """One audit entry of the case: staff entries to the second, others by day only."""

    seq: int
    at: datetime | date
    actor: str
    action: str


@dataclass(frozen=True)
class DisclosedIdentity:
    """The reporter's name and contact, disclosed to the exporting person on a given day."""

    name: str
    contact: str
    disclosed_on: date | None


@dataclass
class CaseFile:
    """Everything a case file holds, decrypted for one request and never stored."""

    view: CaseView
    exported_by: str
    exported_at: datetime
    zone: ZoneInfo
    identity: DisclosedIdentity | None
    audit: list[AuditLine] = field(default_factory=list)
    # Opened file keys, for a ZIP that carries the evidence itself (empty for a PDF alone).
    tickets: list[FileTicket] = field(default_factory=list)


class CaseExport:
    def __init__(self, db: Session, clock: Clock, work: CaseworkService) -> None:
        self.db = db
        self.clock = clock
        self.work = work

    def case_file(self, principal: StaffPrincipal, case_id: str, fmt: str) -> CaseFile:
        """Check, audit and gather a case file (NotFound for a case this person may not open)."""
        require_reader(principal)
        if fmt not in FORMATS:
            raise Invalid("Choose PDF or ZIP.", fields={"format": "not_allowed"})
        view = self.work.view(principal, case_id, own_masks=True)
        if view.awaiting_access:
            raise NotFound(
                "You do not hold this case's key yet; a colleague's next login will grant it.",
                code="awaiting_access",
            )
        case = view.case
        tickets = []
        if fmt == "zip":
            key = self.work.require_key(principal, case)
            tickets = [self.work.reader.ticket(case.id, f.id, key) for f in view.files]
        self.work.audit.record(
            principal.actor,
            EXPORTED,
            case_id=case.id,
            detail={"format": fmt, "files": len(tickets)},
        )
        self.db.flush()
        zone = self.work.config.zone
        return CaseFile(
            view=view,
            exported_by=principal.account.name or principal.account.email,
            exported_at=self.clock.now(),
            zone=zone,
            identity=self._identity(principal, case),
            audit=self._audit(case.id, zone),
            tickets=tickets,
        )

    def _identity(self, principal: StaffPrincipal, case: Case) -> DisclosedIdentity | None:
        """The identity only if a custodian approved this person's own disclosure request."""
        approved = self.db.scalars(
            select(DisclosureRequest)
            .where(
                DisclosureRequest.case_id == case.id,
                DisclosureRequest.requester_id == principal.id,
                DisclosureRequest.status == "approved",
            )
            .order_by(DisclosureRequest.decided_at.desc())
        ).first()
        if approved is None:
            return None
        disclosures = DisclosureService(self.db, self.clock, self.work.audit, self.work.config.zone)
        value = disclosures.identity(principal, case)
        if value is None:
            return None
        decided = approved.decided_at
        day = local_day(decided, self.work.config.zone) if decided else None
        return DisclosedIdentity(value.name, value.contact, day)

    def _audit(self, case_id: str, zone: ZoneInfo) -> list[AuditLine]:
        stmt = select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.seq)
        entries = list(self.db.scalars(stmt))
        ids = {e.actor_id for e in entries if e.actor_kind == "staff" and e.actor_id}
        names = {
            row.id: row.name or row.email
            for row in self.db.scalars(select(StaffAccount).where(StaffAccount.id.in_(ids)))
        }
        return [
            AuditLine(
                seq=entry.seq,
                # Only staff entries carry their time: a reporter's is dated by day.
                at=entry.at if entry.actor_kind == "staff" else local_day(entry.at, zone),
                actor=names.get(entry.actor_id or "", "") or entry.actor_kind,
                action=entry.action,
            )
            for entry in entries
        ]

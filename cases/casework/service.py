"""One case as staff work on it: decrypted view, messages, notes, evidence, assignment.

Every entry point checks the access policy first (a case the person may not see is
NotFound, never Forbidden) and records what was read or changed in the audit trail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from cases.access.matching import Matcher
from cases.access.models import ItemMask
from cases.access.policy import eligible, may_open, may_see
from cases.access.redaction import (
    MaskEvent,
    MaskRecord,
    RedactionService,
    Span,
    apply_masks,
    mask_timeline,
    standing_masks,
)
from cases.access.related import RelatedCase, related_cases
from cases.audit.models import AuditEntry
from cases.audit.service import AuditLog
from cases.clock import Clock, local_day
from cases.db import new_id
from cases.errors import Invalid, NotFound
from cases.org.models import Category, Channel
from cases.principals import StaffPrincipal
from cases.questionnaires.service import Answers, QuestionnaireService
from cases.reports.attachments import AttachmentReader, FileTicket, StoredFile, link
from cases.reports.conversation import add_in_order, shown_to_staff
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import (
    Case,
    CaseAssignee,
    CaseEvent,
    CaseItem,
    CaseSubject,
    ReceiptReuse,
)
from cases.reports.sealing import (
    EVENT_REASON,
    MESSAGE,
    NOTE,
    REPORT,
    SUBJECT,
    open_json,
    open_text,
    seal_text,
)
from cases.staff.models import StaffAccount, StaffRole
from cases.staff.roles import CASE_READERS, POLICY_ROLES, require_roles
from cases.workflow.listing import CaseFilters, CaseList, CasePage
from cases.workflow.search import CaseSearch, SearchResult
from cases.workflow.second_reader import SecondReading, Unconfirmed
from cases.workflow.service import WorkflowConfig, WorkflowService

BODY_MAX = 20_000

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CaseworkConfig:
    zone: ZoneInfo
    server_secret: bytes


@dataclass(frozen=True)
class Entry:
    """A message or note as shown: reporter items carry a date, staff items a time."""

    id: str
    author: str
    staff_name: str
    body: str
    at: date | datetime


@dataclass(frozen=True)
class HistoryEntry:
    from_status: str | None
    to_status: str
    outcome: str | None
    staff_name: str
    at: datetime
    reason: str


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    email: str


@dataclass(frozen=True)
class ReuseSeen:
    """A replaced receipt's later uses as case readers see them: only those of days that are
    over, counted from the audit trail, where a reporter's entries enter dated by their day
    only once that day is over (cases/audit/service.py). The live count on `ReceiptReuse`
    moved at the minute of each use: read on the case, it told whoever watched (the recorder
    who logged in first, say) when the reporter sat down to log in."""

    replaced_on: date
    later_uses: int
    last_used_on: date | None


@dataclass
class CaseView:
    case: Case
    channel: Channel | None
    category: Category | None
    awaiting_access: bool
    report: dict[str, Any] = field(default_factory=dict)
    subjects: list[dict[str, Any]] = field(default_factory=list)
    messages: list[Entry] = field(default_factory=list)
    notes: list[Entry] = field(default_factory=list)
    files: list[StoredFile] = field(default_factory=list)
    history: list[HistoryEntry] = field(default_factory=list)
    assignees: list[Person] = field(default_factory=list)
    # The extra questions' answers, in the wording of the version filed (None: none asked).
    answers: Answers | None = None
    related: list[RelatedCase] = field(default_factory=list)
    # Every mask set on the reporter's words, for every case reader: who, when, why, and
    # who lifted it (cases/access/redaction.py); and the same as steps of the case's history.
    masks: list[MaskRecord] = field(default_factory=list)
    mask_events: list[MaskEvent] = field(default_factory=list)
    # The receipt staff handed over, used again after the reporter's first login replaced it
    # (cases/reports/reporter.py, `_reused`): None unless it was on a day that is over.
    receipt_reuse: ReuseSeen | None = None
    # One reader's unfounded ending waiting for a second (cases/workflow/second_reader.py).
    second_reading: Unconfirmed | None = None


class CaseworkService:
    def __init__(self, db: Session, clock: Clock, config: CaseworkConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.audit = AuditLog(db, clock, config.server_secret)
        self.keys = KeyRing(db, self.audit, config.server_secret)
        self.reader = AttachmentReader(db)

    # --- reading -------------------------------------------------------------------------

    def visible_case(self, principal: StaffPrincipal, case_id: str) -> Case:
        """The case, or NotFound when it does not exist or the policy hides it from this person."""
        require_roles(principal, POLICY_ROLES)
        case = self.db.get(Case, case_id) if len(case_id) <= 64 else None
        if case is None or not may_open(self.db, principal.account, case):
            raise NotFound("There is no such case.", code="case_not_found")
        return case

    def case_key(self, principal: StaffPrincipal, case: Case, view: str = "") -> bytes | None:
        """The case key; with a `view`, opened to decrypt content and so recorded as a read."""
        require_reader(principal)
        if view:
            return self.keys.open_to_read(case.id, CASE, principal, view)
        return self.keys.open_for_staff(case.id, CASE, principal)

    def require_key(self, principal: StaffPrincipal, case: Case, view: str = "") -> bytes:
        key = self.case_key(principal, case, view)
        if key is None:
            raise NotFound(
                "You do not hold this case's key yet; a colleague's next login will grant it.",
                code="awaiting_access",
            )
        return key

    def page(
        self, principal: StaffPrincipal, filters: CaseFilters, offset: int = 0, limit: int = 50
    ) -> CasePage:
        """The case list (clear metadata): for every role the access policy covers."""
        require_roles(principal, POLICY_ROLES)
        today = local_day(self.clock.now(), self.config.zone)
        return CaseList(self.db).page(principal.account, today, filters, offset=offset, limit=limit)

    def summaries(self, principal: StaffPrincipal, page: CasePage) -> dict[str, str]:
        """The summary of each listed case whose key the viewer holds, opened in this request
        with their key; each opening is a `case.read` (view "summary") like any other read.
        Custodians, approvers and finance see the list's clear columns only."""
        require_roles(principal, POLICY_ROLES)
        if not principal.account.role_names & CASE_READERS:
            return {}
        return self._summaries(principal, [r.id for r in page.rows if not r.awaiting_access])

    def _summaries(self, principal: StaffPrincipal, case_ids: list[str]) -> dict[str, str]:
        if not case_ids:
            return {}
        keys = self.keys.open_all_for_staff(case_ids, CASE, principal)
        stmt = select(Case.id, Case.content).where(Case.id.in_(list(keys)))
        found: dict[str, str] = {}
        for case_id, content in self.db.execute(stmt):
            if not content:
                continue
            self.keys.record_read(case_id, principal, "summary")
            try:
                report = open_json(keys[case_id], case_id, REPORT, case_id, content)
            except (crypto.CryptoError, ValueError):
                # Altered or damaged in the database: that case shows no summary, the rest do.
                _log.warning("the report of case %s does not open; no summary shown", case_id)
                continue
            if isinstance(report, dict):
                found[case_id] = str(report.get("summary") or "")
        return found

    def search(
        self,
        principal: StaffPrincipal,
        filters: CaseFilters,
        query: str,
        offset: int = 0,
        limit: int = 50,
    ) -> tuple[SearchResult, dict[str, str]]:
        """Words in the cases this person may open, decrypted in this request (cases/workflow/
        search.py), and the summaries of the page shown. One `case.search` entry records how
        many cases were read to match (never the words); each summary shown is a `case.read`.
        """
        require_reader(principal)
        today = local_day(self.clock.now(), self.config.zone)
        result = CaseSearch(self.db).search(
            principal, today, filters, query, offset=offset, limit=limit
        )
        self.audit.record(
            principal.actor,
            "case.search",
            detail={"searched": result.searched, "matched": result.total, "cut": result.cut},
        )
        shown = [hit.row.id for hit in result.page if not hit.row.awaiting_access]
        return result, self._summaries(principal, shown)

    def view(self, principal: StaffPrincipal, case_id: str, *, own_masks: bool = False) -> CaseView:
        """Everything about a case this person may read, decrypted for this request only.

        A mask hides text from everyone but its author; with `own_masks` the viewer's own
        masks apply too (a case file leaving the portal shows no masked text at all)."""
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        view = CaseView(
            case=case,
            channel=self.db.get(Channel, case.channel_id),
            category=self.db.get(Category, case.category_id),
            awaiting_access=True,
            assignees=self.assignees(case.id),
            related=related_cases(self.db, principal.account, case.id),
            second_reading=SecondReading(self.db, self.audit).state(principal.account, case),
        )
        key = self.case_key(principal, case, "case")
        if key is None:
            return view
        view.awaiting_access = False
        view.report = open_json(key, case.id, REPORT, case.id, case.content)
        view.answers = QuestionnaireService(self.db).answered(view.report, case.category_id)
        view.subjects = self._subjects(key, case.id)
        viewer = None if own_masks else principal.id
        view.messages = self._entries(key, case.id, "message", viewer)
        view.notes = self._entries(key, case.id, "note", viewer)
        view.files = self.reader.files(case.id, key)
        view.history = self._history(key, case.id)
        view.masks = RedactionService(self.db, self.clock, self.audit).records(principal, case, key)
        view.mask_events = mask_timeline(view.masks)
        view.receipt_reuse = self._reuse_seen(case.id)
        return view

    def _reuse_seen(self, case_id: str) -> ReuseSeen | None:
        """The replaced receipt's uses of days that are over (ReuseSeen), or None."""
        reuse = self.db.scalars(
            select(ReceiptReuse).where(ReceiptReuse.case_id == case_id, ReceiptReuse.later_uses > 0)
        ).first()
        if reuse is None:
            return None
        used = select(func.count(AuditEntry.seq), func.max(AuditEntry.at)).where(
            AuditEntry.case_id == case_id, AuditEntry.action == "receipt.replaced_used"
        )
        count, last = self.db.execute(used).one()
        if not count:
            return None
        return ReuseSeen(reuse.replaced_on, int(count), last.date() if last else None)

    def _subjects(self, key: bytes, case_id: str) -> list[dict[str, Any]]:
        rows = list(self.db.scalars(select(CaseSubject).where(CaseSubject.case_id == case_id)))
        waiting = {row.group_id or row.id for row in rows if row.needs_confirmation}
        seen: dict[str, dict[str, Any]] = {}
        for row in rows:
            if not row.sealed:
                continue  # a candidate a directory change found; its group's first row shows
            typed: dict[str, Any] = open_json(key, case_id, SUBJECT, row.id, row.sealed)
            # A name matched to several directory entries is one subject shown once.
            # The same person typed twice (spacing, letter case, an empty extra field) too.
            shown = seen.setdefault(_subject_key(typed), typed)
            shown["needs_confirmation"] = shown.get("needs_confirmation", False) or (
                (row.group_id or row.id) in waiting
            )
        return list(seen.values())

    def _entries(self, key: bytes, case_id: str, kind: str, viewer_id: str | None) -> list[Entry]:
        """Messages or notes, with every mask but the viewer's own applied (all: no viewer)."""
        stmt = (
            select(CaseItem)
            .where(CaseItem.case_id == case_id, CaseItem.kind == kind, shown_to_staff())
            .order_by(CaseItem.seq, CaseItem.created_on)
        )
        purpose = MESSAGE if kind == "message" else NOTE
        names, hidden = self._names(), self._hidden_spans(case_id, viewer_id)
        return [
            Entry(
                id=item.id,
                author=item.author,
                staff_name=names.get(item.staff_id or "", ""),
                body=apply_masks(
                    open_text(key, case_id, purpose, item.id, item.body), hidden.get(item.id, [])
                ),
                at=item.created_at
                if item.author == "staff" and item.created_at
                else item.created_on,
            )
            for item in self.db.scalars(stmt)
        ]

    def _hidden_spans(self, case_id: str, viewer_id: str | None) -> dict[str, list[Span]]:
        """Others' masks by item: a mask hides text from everyone but its author (one on a
        reporter's message only while its author holds the case key: `standing_masks`)."""
        stmt = standing_masks(case_id)
        if viewer_id is not None:
            stmt = stmt.where(ItemMask.author_id != viewer_id)
        rows = self.db.scalars(stmt)
        spans: dict[str, list[Span]] = {}
        for row in rows:
            spans.setdefault(row.item_id, []).append(Span(row.start, row.end))
        return spans

    def _history(self, key: bytes, case_id: str) -> list[HistoryEntry]:
        stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.at)
        names = self._names()
        return [
            HistoryEntry(
                from_status=event.from_status,
                to_status=event.to_status,
                outcome=event.outcome,
                staff_name=names.get(event.staff_id or "", ""),
                at=event.at,
                reason=open_text(key, case_id, EVENT_REASON, event.id, event.reason)
                if event.reason
                else "",
            )
            for event in self.db.scalars(stmt)
        ]

    def _names(self) -> dict[str, str]:
        rows = self.db.execute(select(StaffAccount.id, StaffAccount.name, StaffAccount.email))
        return {row.id: row.name or row.email for row in rows}

    # --- writing -------------------------------------------------------------------------

    def add_message(self, principal: StaffPrincipal, case_id: str, body: str) -> CaseItem:
        """A reply the reporter will read on their status page."""
        return self._add_item(principal, case_id, "message", body)

    def add_note(self, principal: StaffPrincipal, case_id: str, body: str) -> CaseItem:
        """An internal note: sealed like a message, but never shown to the reporter."""
        return self._add_item(principal, case_id, "note", body)

    def _add_item(self, principal: StaffPrincipal, case_id: str, kind: str, body: str) -> CaseItem:
        require_reader(principal)
        text = body.strip()
        if not text:
            raise Invalid("Write something first.", fields={"body": "required"})
        if len(text) > BODY_MAX:
            raise Invalid("That is too long.", fields={"body": "too_long"})
        case = self.visible_case(principal, case_id)
        key = self.require_key(principal, case)
        item_id, now = new_id(), self.clock.now()
        item = CaseItem(
            id=item_id,
            case_id=case.id,
            kind=kind,
            author="staff",
            staff_id=principal.id,
            created_on=local_day(now, self.config.zone),
            created_at=now,
            body=seal_text(key, case.id, MESSAGE if kind == "message" else NOTE, item_id, text),
        )
        add_in_order(self.db, item)
        self.audit.record(
            principal.actor, f"case.{kind}", case_id=case.id, detail={"item": item_id}
        )
        self.db.flush()
        return item

    def transition(
        self,
        principal: StaffPrincipal,
        case_id: str,
        target: str,
        reason: str,
        outcome: str | None = None,
    ) -> CaseEvent:
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        key = self.require_key(principal, case)
        config = WorkflowConfig(self.config.zone, self.config.server_secret)
        return WorkflowService(self.db, self.clock, config).transition(
            principal, case, key, target, reason, outcome or None
        )

    def agree_second_reading(
        self, principal: StaffPrincipal, case_id: str, ending: str | None = None
    ) -> Case:
        """A second case reader agrees with one reader's unfounded ending of the case
        (cases/workflow/second_reader.py): 403 for that reader, anyone related to them or
        anyone without the case key; 409 when nothing waits."""
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        # Locked: an agreement and a reopen of one case happen one after the other.
        self.db.refresh(case, with_for_update=True)
        today = local_day(self.clock.now(), self.config.zone)
        return SecondReading(self.db, self.audit).agree(principal, case, today, ending)

    def evidence_key(self, principal: StaffPrincipal, case_id: str) -> bytes:
        """The case key for encrypting a staff upload as it streams in."""
        require_reader(principal)
        return self.require_key(principal, self.visible_case(principal, case_id))

    def link_evidence(self, principal: StaffPrincipal, case_id: str, ids: list[str]) -> int:
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        linked = link(self.db, case.id, ids)
        for file_id in ids:
            self.audit.record(
                principal.actor, "attachment.add", case_id=case.id, detail={"id": file_id}
            )
        return linked

    def download(self, principal: StaffPrincipal, case_id: str, attachment_id: str) -> FileTicket:
        """Check, audit and open the file key; the caller streams the chunks."""
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        key = self.require_key(principal, case)
        ticket = self.reader.ticket(case.id, attachment_id, key)
        self.audit.record(
            principal.actor, "attachment.download", case_id=case.id, detail={"id": ticket.info.id}
        )
        return ticket

    # --- assignment ----------------------------------------------------------------------

    def assignees(self, case_id: str) -> list[Person]:
        stmt = (
            select(StaffAccount)
            .join(CaseAssignee, CaseAssignee.staff_id == StaffAccount.id)
            .where(CaseAssignee.case_id == case_id)
            .order_by(StaffAccount.email)
        )
        return [_person(s) for s in self.db.scalars(stmt)]

    def colleagues(self, principal: StaffPrincipal) -> list[Person]:
        """The people who work cases (the list's assignee filter and column, bulk assignment)."""
        require_roles(principal, POLICY_ROLES)
        return [_person(s) for s in self._worker_staff()]

    def candidates(self, principal: StaffPrincipal, case_id: str) -> list[Person]:
        """Who this case may be assigned to: active content staff the policy lets see it."""
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        return [_person(s) for s in eligible(self.db, self._worker_staff(), case)]

    def assign(self, principal: StaffPrincipal, case_id: str, staff_id: str) -> None:
        """Add an assignee the policy allows, giving them the case key (or a pending grant)."""
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        target = self.db.get(StaffAccount, staff_id) if len(staff_id) <= 64 else None
        # What the reporter wrote may name someone who could not read cases when it was
        # written: read it again with today's scan set before asking the policy.
        key = self.case_key(principal, case)
        if key is not None and Matcher(self.db, self.config.server_secret).rescan(case, key):
            self.db.flush()
        # Only people who work cases are assigned: a custodian, approver or finance member
        # assigned here would receive the case key their role is kept from.
        if (
            target is None
            or not target.role_names & CASE_READERS
            or not may_see(self.db, target, case)
        ):
            raise Invalid(
                "That person may not work on this case.", fields={"staff_id": "not_allowed"}
            )
        if self.db.get(CaseAssignee, (case.id, target.id)) is None:
            self.db.add(
                CaseAssignee(case_id=case.id, staff_id=target.id, assigned_at=self.clock.now())
            )
        self._share_key(principal, case, target)
        self.audit.record(
            principal.actor, "case.assign", case_id=case.id, detail={"staff": target.id}
        )
        self.db.flush()

    def unassign(self, principal: StaffPrincipal, case_id: str, staff_id: str) -> None:
        require_reader(principal)
        case = self.visible_case(principal, case_id)
        row = self.db.get(CaseAssignee, (case.id, staff_id))
        if row is not None:
            self.db.delete(row)
            self.audit.record(
                principal.actor, "case.unassign", case_id=case.id, detail={"staff": staff_id}
            )
            self.db.flush()

    def _share_key(self, principal: StaffPrincipal, case: Case, target: StaffAccount) -> None:
        if self.keys.holds(case.id, CASE, target.id):
            return
        key = self.case_key(principal, case)
        if key is None:
            self.keys.request_grant(case.id, CASE, target.id, "assigned")
        else:
            self.keys.wrap_for_staff(case.id, CASE, key, target)

    def _worker_staff(self) -> list[StaffAccount]:
        stmt = (
            select(StaffAccount)
            .join(StaffRole)
            .where(
                StaffRole.role.in_([str(r) for r in CASE_READERS]), StaffAccount.active.is_(True)
            )
            .order_by(StaffAccount.email)
            .distinct()
        )
        return list(self.db.scalars(stmt))


def require_reader(principal: StaffPrincipal) -> None:
    """Case content (reading it, writing to it) is for case readers only: a custodian, approver
    or finance member holds other keys of a case, never its content (issue 17, section 2)."""
    require_roles(principal, CASE_READERS)


def _person(staff: StaffAccount) -> Person:
    return Person(staff.id, staff.name or staff.email, staff.email)


def _subject_key(typed: dict[str, Any]) -> str:
    """One key per person named: filled fields only, trimmed, spaces collapsed, any case."""
    filled = {
        name: " ".join(str(value).split()).casefold()
        for name, value in typed.items()
        if value not in (None, "") and name != "needs_confirmation"
    }
    return repr(sorted(filled.items()))

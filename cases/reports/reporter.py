"""The reporter's side: filing, logging in with a receipt, reading the case, replying.

Receipt checks are ordered so that cheap refusals come first: the check character (no
database), then the overall throttle, then the selector lookup (an unknown selector costs
no Argon2), then the per-selector throttle, and only then one Argon2id run. A failure is
returned as a value rather than raised, so the caller can commit the throttle counters
before answering 401 (an exception would roll them back with the request's transaction).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from cases.clock import Clock, local_day
from cases.db import new_id
from cases.errors import CaseError, Conflict, Invalid, NotFound, Throttled, Unauthorized
from cases.principals import ReporterPrincipal
from cases.reports.attachments import AttachmentReader, StoredFile, link, sweep_unlinked
from cases.reports.intake import DETAILS_MAX, Draft, Filed, IntakeConfig, IntakeService, Submission
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import Case, CaseItem, Receipt
from cases.reports.sealing import MESSAGE, REPORT, open_json, open_text, seal_text
from cases.sessions.service import SessionPolicy, SessionService, Throttle, ThrottleRule

GLOBAL_KEY = "receipt:*"
ONCE_WINDOW_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ReporterConfig:
    intake: IntakeConfig
    session: SessionPolicy
    per_selector: ThrottleRule
    overall: ThrottleRule

    @property
    def zone(self) -> ZoneInfo:
        return self.intake.zone


@dataclass(frozen=True)
class Login:
    """The outcome of a receipt check: a session token, or the error to answer with."""

    token: str | None = None
    error: CaseError | None = None

    def token_or_raise(self) -> str:
        if self.error is not None or self.token is None:
            raise self.error or Unauthorized(code="wrong_receipt")
        return self.token


@dataclass(frozen=True)
class Message:
    author: str
    body: str
    on: date
    at: datetime | None

    def as_json(self) -> dict[str, Any]:
        when = f"{self.at.isoformat()}Z" if self.at is not None else self.on.isoformat()
        return {"author": self.author, "body": self.body, "at": when}


@dataclass(frozen=True)
class LinkedCase:
    category_id: str
    status: str
    submitted_on: date

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category_id,
            "status": self.status,
            "submitted_on": self.submitted_on.isoformat(),
        }


@dataclass(frozen=True)
class ReporterView:
    """Everything the reporter may see of their case, decrypted for this request only."""

    case: Case
    summary: str
    details: str
    messages: list[Message]
    attachments: list[StoredFile]
    linked: list[LinkedCase] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        case = self.case
        return {
            "status": case.status,
            "outcome": case.outcome,
            "category": case.category_id,
            "submitted_on": case.submitted_on.isoformat(),
            "acknowledge_by": case.acknowledge_by.isoformat(),
            "feedback_by": case.feedback_by.isoformat(),
            "summary": self.summary,
            "details": self.details,
            "messages": [m.as_json() for m in self.messages],
            "attachments": [a.as_json() for a in self.attachments],
            "reward": None,
            "identity_disclosure": None,
            "linked": [c.as_json() for c in self.linked],
        }


class ReporterService:
    def __init__(self, db: Session, clock: Clock, config: ReporterConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.throttle = Throttle(db, clock)
        self.keys = KeyRing(db)
        # How many Argon2id runs this service made: tests prove unknown selectors cost none.
        self.derivations = 0

    # --- filing ---------------------------------------------------------------------------

    def file(self, sub: Submission, draft: Draft | None = None, once: str | None = None) -> Filed:
        """File a report; a form token seen before is a replay and changes nothing."""
        sweep_unlinked(self.db, self.clock)
        if once is not None:
            self.consume_once(once)
        return IntakeService(self.db, self.clock, self.config.intake).submit(sub, draft)

    def consume_once(self, token: str) -> None:
        """Remember a one-time form token for a day; a second use is a Conflict."""
        key = "once:" + hashlib.sha256(token.encode()).hexdigest()[:40]
        rule = ThrottleRule(1, ONCE_WINDOW_SECONDS)
        try:
            self.throttle.check(key, rule)
        except Throttled:
            raise Conflict(
                "This form was already sent. Your report was filed once.", code="replayed"
            ) from None
        self.throttle.fail(key, rule)

    # --- receipts -------------------------------------------------------------------------

    def login(self, text: str) -> Login:
        """Check a typed receipt and open a reporter session; fulfils pending key grants."""
        found = self.verify(text)
        if found.error is not None:
            return Login(error=found.error)
        assert found.receipt is not None
        assert found.key is not None
        principal = ReporterPrincipal(found.receipt, found.key)
        self.keys.fulfil_as_reporter(principal, [c.id for c in self.cases(found.receipt)])
        token = SessionService(self.db, self.clock).open(
            "reporter", found.key, self.config.session, receipt_id=found.receipt.id
        )
        return Login(token=token)

    def verify(self, text: str) -> Verified:
        """The receipt row and reporter key for a typed receipt, or why not; opens nothing."""
        try:
            receipt = crypto.parse_receipt(text)
        except crypto.ReceiptFormatError:
            return Verified(error=typo())
        try:
            self.throttle.check(GLOBAL_KEY, self.config.overall)
            row = self.db.scalars(
                select(Receipt).where(Receipt.selector == receipt.selector)
            ).first()
            if row is None:
                return Verified(error=wrong_receipt())
            self.throttle.check(f"receipt:{row.selector}", self.config.per_selector)
        except Throttled as exc:
            return Verified(error=exc)
        return self._derive(receipt, row)

    def _derive(self, receipt: crypto.Receipt, row: Receipt) -> Verified:
        profile = crypto.profile_named(row.kdf_profile, allow_test=True)
        derived = crypto.derive_keys(receipt.verifier_bytes, row.salt, profile)
        self.derivations += 1
        if not hmac.compare_digest(derived.verifier, row.verifier):
            self.throttle.fail(f"receipt:{row.selector}", self.config.per_selector)
            self.throttle.fail(GLOBAL_KEY, self.config.overall)
            return Verified(error=wrong_receipt())
        return Verified(receipt=row, key=derived.key)

    def logout(self, token: str) -> None:
        SessionService(self.db, self.clock).close(token)

    # --- the case -------------------------------------------------------------------------

    def cases(self, receipt: Receipt) -> list[Case]:
        """The receipt's cases, the original report first."""
        stmt = (
            select(Case)
            .where(Case.receipt_id == receipt.id)
            .order_by(Case.linked_from_id.is_not(None), Case.submitted_on, Case.id)
        )
        return list(self.db.scalars(stmt))

    def case_and_key(self, principal: ReporterPrincipal) -> tuple[Case, bytes]:
        cases = self.cases(principal.receipt)
        if not cases:
            raise NotFound
        key = self.keys.open_for_reporter(cases[0].id, CASE, principal)
        if key is None:
            raise NotFound
        return cases[0], key

    def view(self, principal: ReporterPrincipal) -> ReporterView:
        case, key = self.case_and_key(principal)
        content = open_json(key, case.id, REPORT, case.id, case.content)
        linked = [
            LinkedCase(c.category_id, c.status, c.submitted_on)
            for c in self.cases(principal.receipt)[1:]
        ]
        return ReporterView(
            case=case,
            summary=str(content.get("summary", "")),
            details=str(content.get("details", "")),
            messages=self._messages(case, key),
            attachments=AttachmentReader(self.db).files(case.id, key, author="reporter"),
            linked=linked,
        )

    def _messages(self, case: Case, key: bytes) -> list[Message]:
        stmt = (
            select(CaseItem)
            .where(CaseItem.case_id == case.id, CaseItem.kind == "message")
            .order_by(CaseItem.seq, CaseItem.created_on)
        )
        return [
            Message(
                item.author,
                open_text(key, case.id, MESSAGE, item.id, item.body),
                item.created_on,
                item.created_at if item.author != "reporter" else None,
            )
            for item in self.db.scalars(stmt)
            if not item.redacted
        ]

    def reply(self, principal: ReporterPrincipal, body: str) -> None:
        """A reporter message carries the day only, never a time."""
        if not body.strip():
            raise Invalid("Please write a message.", fields={"body": "required"})
        if len(body) > DETAILS_MAX:
            raise Invalid("The message is too long.", fields={"body": "too_long"})
        case, key = self.case_and_key(principal)
        item_id = new_id()
        self.db.add(
            CaseItem(
                id=item_id,
                case_id=case.id,
                kind="message",
                author="reporter",
                created_on=local_day(self.clock.now(), self.config.zone),
                created_at=None,
                seq=next_seq(self.db, case.id),
                body=seal_text(key, case.id, MESSAGE, item_id, body.strip()),
            )
        )
        self.db.flush()

    def add_evidence(self, principal: ReporterPrincipal, ids: list[str]) -> int:
        """Link files the reporter uploaded in this session to their case."""
        case, _key = self.case_and_key(principal)
        sweep_unlinked(self.db, self.clock)
        return link(self.db, case.id, ids)


@dataclass(frozen=True)
class Verified:
    receipt: Receipt | None = None
    key: bytes | None = None
    error: CaseError | None = None


def typo() -> Invalid:
    return Invalid(
        "This code has a typing mistake. Check each group of four characters and try again.",
        fields={"receipt": "receipt_typo"},
        code="receipt_typo",
    )


def wrong_receipt() -> Unauthorized:
    return Unauthorized(
        "We could not find a report with this code. Check it and try again.",
        code="wrong_receipt",
    )


def next_seq(db: Session, case_id: str) -> int:
    """The next position in a case's conversation: orders items made on the same day."""
    stmt = select(func.max(CaseItem.seq)).where(CaseItem.case_id == case_id)
    return int(db.scalar(stmt) or 0) + 1

"""The reporter's side: filing, logging in with a receipt, reading the case, replying.

Receipt checks: the check character first (a typo costs no database and no Argon2), then
the per-selector throttle, then exactly one Argon2id run, whether the selector exists or
not: an unknown selector derives over a stand-in salt, so its answer takes as long as a
wrong verifier's and is counted the same way. There is no overall wrong-receipt limit: other
people's guesses never refuse a correct receipt (DESIGN.md, "Availability"). A failure is
returned as a value rather than raised, so the caller can commit the throttle counters
before answering 401 (an exception would roll them back with the request's transaction).
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

import crypto
from cases.access.matching import Matcher
from cases.access.mentions import file_names_of
from cases.access.reporting import DisclosureNotice, disclosure_notice
from cases.audit.service import AuditLog
from cases.clock import Clock, ceil_hour, local_day
from cases.db import new_id
from cases.errors import CaseError, Conflict, Invalid, NotFound, Throttled, Unauthorized
from cases.notify.service import Outbox
from cases.principals import ReporterPrincipal
from cases.questionnaires.service import Answers, QuestionnaireService
from cases.reports.arrivals import listed_hour
from cases.reports.attachments import AttachmentReader, StoredFile, link
from cases.reports.conversation import hold
from cases.reports.flood import FloodGauge
from cases.reports.intake import (
    DETAILS_MAX,
    Draft,
    Filed,
    IntakeConfig,
    IntakeService,
    Submission,
    quick_tag,
)
from cases.reports.keys import CASE, REPORTER, KeyRing, reporter_holder, wrap_context
from cases.reports.models import Attachment, Case, CaseItem, KeyWrap, Receipt, ReceiptReuse
from cases.reports.sealing import MESSAGE, REPORT, open_json, open_text, seal_text
from cases.retention.service import DeletedUnderRetention, receipt_deleted
from cases.rewards.service import RewardConfig, RewardNotice, reporter_reward
from cases.sessions.models import UserSession
from cases.sessions.service import SessionPolicy, SessionService, Throttle, ThrottleRule

ONCE_WINDOW_SECONDS = 24 * 3600
STAND_IN_SALT_BYTES = 16  # as crypto.new_salt()
FLOOD_FULL = (
    "The portal is receiving an unusual number of reports right now and cannot keep more "
    "files. Your report is safe; please add the files later."
)


@dataclass(frozen=True)
class EvidenceQuota:
    """What a reporter may add after filing: bytes per case in all, files per receipt a day."""

    max_case_bytes: int = 4096 * 1024 * 1024
    files_per_day: int = 20


@dataclass(frozen=True)
class ReporterConfig:
    intake: IntakeConfig
    session: SessionPolicy
    per_selector: ThrottleRule
    evidence: EvidenceQuota = EvidenceQuota()

    @property
    def zone(self) -> ZoneInfo:
        return self.intake.zone


@dataclass(frozen=True)
class Login:
    """The outcome of a receipt check: a session token, or the error to answer with."""

    token: str | None = None
    error: CaseError | None = None
    verified: bool = False
    # A staff-issued receipt was replaced at this login: the new one, shown once.
    new_receipt: str | None = None

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
    # A reporter's message staff cannot see yet: held until the next full hour.
    held: bool = False


@dataclass(frozen=True)
class LinkedCase:
    category_id: str
    status: str
    submitted_on: date


@dataclass(frozen=True)
class ReporterView:
    """Everything the reporter may see of their case, decrypted for this request only."""

    case: Case
    summary: str
    details: str
    messages: list[Message]
    attachments: list[StoredFile]
    linked: list[LinkedCase] = field(default_factory=list)
    reward: RewardNotice | None = None
    identity_disclosure: DisclosureNotice | None = None
    # The reporter's answers to the extra questions, worded as when they filed.
    answers: Answers | None = None


class ReceiptKdf:
    """The one place a typed receipt's Argon2id runs, in production and in tests alike.

    One instance lives for the app; `derivations` counts its runs, so a test can prove over
    HTTP that an unknown selector costs exactly what a wrong verifier costs.
    """

    def __init__(self, *, allow_test: bool = False) -> None:
        self.allow_test = allow_test
        self.derivations = 0
        self._lock = threading.Lock()

    def derive(self, attempt: Attempt) -> crypto.DerivedKeys | None:
        """Touches no database, so callers may run it outside any transaction or lock."""
        if attempt.receipt is None or attempt.error is not None:
            return None
        profile = crypto.profile_named(attempt.profile, allow_test=self.allow_test)
        derived = crypto.derive_keys(attempt.receipt.verifier_bytes, attempt.salt, profile)
        with self._lock:
            self.derivations += 1
        return derived


def once_key(token: str) -> str:
    """The throttle key under which a one-time form token is remembered (a hash of it)."""
    return "once:" + hashlib.sha256(token.encode()).hexdigest()[:40]


class ReporterService:
    def __init__(
        self, db: Session, clock: Clock, config: ReporterConfig, kdf: ReceiptKdf | None = None
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.throttle = Throttle(db, clock)
        intake = config.intake
        # Everything this service records happens during a reporter's request: by the day only.
        self.audit = AuditLog(db, clock, intake.server_secret, reporter_request=True)
        self.keys = KeyRing(db, self.audit, intake.server_secret, intake.recovery_fingerprint)
        self.kdf = kdf or ReceiptKdf(allow_test=intake.profile.name == "test")

    # --- filing ---------------------------------------------------------------------------

    def file(self, sub: Submission, draft: Draft | None = None, once: str | None = None) -> Filed:
        """File a report; a form token seen before is a replay and changes nothing.

        Stale unlinked uploads are not swept here but by the jobs round (portal/jobs.py),
        once a minute, off the path every report takes."""
        if once is not None:
            self.consume_once(once)
        # The receipt row carries its quick tag from its insert (IntakeService.new_receipt).
        return IntakeService(self.db, self.clock, self.config.intake).submit(sub, draft)

    def _tag(self, receipt_id: str, receipt: crypto.Receipt) -> None:
        tag = quick_tag(self.config.intake.server_secret, receipt)
        self.db.execute(update(Receipt).where(Receipt.id == receipt_id).values(quick_tag=tag))

    def once_used(self, token: str) -> bool:
        """Whether a report was already filed with this one-time form token (reads only)."""
        return bool(token) and self.throttle.count(once_key(token)) > 0

    def consume_once(self, token: str) -> None:
        """Remember a one-time form token for a day; a second use is a Conflict."""
        key = once_key(token)
        # Counting first (the row is locked until commit) makes two simultaneous replays
        # queue: the second sees the first's count, so a report is filed once.
        if self.throttle.fail(key, ThrottleRule(1, ONCE_WINDOW_SECONDS, hourly=True)) > 1:
            raise Conflict(
                "This form was already sent. Your report was filed once.", code="replayed"
            )

    # --- receipts -------------------------------------------------------------------------

    def login(self, text: str) -> Login:
        """Check a typed receipt and open a reporter session, all in this one transaction."""
        attempt = self.attempt(text)
        return self.conclude(attempt, self.derive(attempt), open_session=True)

    def verify(self, text: str) -> Login:
        """Check a typed receipt without opening a session (the check step after filing)."""
        attempt = self.attempt(text)
        return self.conclude(attempt, self.derive(attempt), open_session=False)

    def attempt(self, text: str) -> Attempt:
        """The cheap refusals, in order; reads only, so a caller may derive outside the lock.

        A known and an unknown selector leave here alike: both are throttled per selector
        and both go on to one derivation (the unknown one over a stand-in salt).
        """
        try:
            receipt = crypto.parse_receipt(text)
        except crypto.ReceiptFormatError:
            return Attempt(error=typo())
        row = self.db.scalars(select(Receipt).where(Receipt.selector == receipt.selector)).first()
        throttled = self._throttled(receipt, row)
        if throttled is not None:
            return Attempt(error=throttled)
        if row is None:
            salt = stand_in_salt(self.config.intake.server_secret, receipt.selector)
            return Attempt(receipt, None, salt=salt, profile=self.config.intake.profile.name)
        return Attempt(receipt, row, salt=row.salt, profile=row.kdf_profile)

    def derive(self, attempt: Attempt) -> crypto.DerivedKeys | None:
        return self.kdf.derive(attempt)

    def _throttled(self, receipt: crypto.Receipt, row: Receipt | None) -> Throttled | None:
        """The selector's throttle, except for the holder of the correct receipt.

        Selectors are stored in clear, so anyone who read the database could keep a receipt
        throttled with wrong guesses (DESIGN.md, "Availability"). A throttled guess is
        refused without an Argon2 run unless its keyed tag matches the row's: one HMAC,
        run for every throttled guess, known selector or not, so timing tells nothing."""
        try:
            self.throttle.check(selector_key(receipt.selector), self.config.per_selector)
        except Throttled as exc:
            stored = row.quick_tag if row is not None else None
            typed = quick_tag(self.config.intake.server_secret, receipt)
            if hmac.compare_digest(typed, stored or bytes(len(typed))) and stored is not None:
                return None
            return exc
        return None

    def conclude(
        self, attempt: Attempt, derived: crypto.DerivedKeys | None, *, open_session: bool
    ) -> Login:
        """Compare and count, in a writing transaction; the throttles are checked again here
        so that guesses sent in parallel cannot slip past the limit between check and count."""
        if attempt.error is not None or derived is None or attempt.receipt is None:
            return Login(error=attempt.error or wrong_receipt())
        key = selector_key(attempt.receipt.selector)
        row = self.db.get(Receipt, attempt.row.id) if attempt.row is not None else None
        throttled = self._throttled(attempt.receipt, row)
        if throttled is not None:
            return Login(error=throttled)
        expected = row.verifier if row is not None else bytes(len(derived.verifier))
        if not hmac.compare_digest(derived.verifier, expected) or row is None:
            self.throttle.fail(key, self.config.per_selector)
            return Login(error=wrong_receipt())
        if row.quick_tag is None:
            self._tag(row.id, attempt.receipt)
        if not open_session and row.staff_issued:
            # The check step (no session) on a staff-handed receipt answers alike before and
            # after its first login: else whoever read it out, checking it every minute, would
            # learn the minute the reporter first logged in (the flip to "replaced"). It tells
            # the typer only that this is the code that was read out, which the recorder knows.
            return Login(verified=True)
        if row.replaced_on is not None:
            # A staff-handed receipt used after its first login: never let in (the recorder
            # saw it), counted on its cases for their team, and answered in words only the
            # holder of this very receipt reads. A wrong code was answered above, alike.
            self.throttle.fail(key, self.config.per_selector)
            self._reused(row)
            return Login(error=receipt_replaced())
        if receipt_deleted(self.db, row.id):
            # Only a correct receipt learns this: a wrong one was answered above, alike for
            # every selector, deleted or not (docs/retention.md, "The receipt").
            return Login(error=DeletedUnderRetention())
        if not open_session:
            return Login(verified=True)
        principal, fresh = ReporterPrincipal(row, derived.key), None
        if row.staff_issued:
            principal, fresh = self._reissue(principal)
        return Login(token=self._open(principal), verified=True, new_receipt=fresh)

    def _reissue(self, old: ReporterPrincipal) -> tuple[ReporterPrincipal, str]:
        """Replace a receipt staff handed over: every key it holds is sealed again for a new
        receipt only the reporter sees, the cases move to it, and the old one is deleted."""
        intake = IntakeService(self.db, self.clock, self.config.intake)
        receipt, receipt_id, key = intake.new_receipt()
        old_holder = reporter_holder(old.receipt.id)
        for wrap in list(self.db.scalars(select(KeyWrap).where(KeyWrap.holder == old_holder))):
            context = wrap_context(wrap.case_id, wrap.key_kind, old_holder)
            opened = crypto.unseal(old.key, wrap.wrapped, context)
            self.keys.wrap_for_reporter(wrap.case_id, wrap.key_kind, opened, receipt_id, key)
            self.db.delete(wrap)
        cases = self.cases(old.receipt)
        self.db.execute(
            update(Case).where(Case.receipt_id == old.receipt.id).values(receipt_id=receipt_id)
        )
        self.db.execute(delete(UserSession).where(UserSession.receipt_id == old.receipt.id))
        # The old row stays, holding no key and no case, so that its later use is told apart
        # from a wrong code (conclude): the recorder may try it, or may have used it first.
        today = self._today()
        old.receipt.replaced_on = today
        self.db.add_all(
            ReceiptReuse(receipt_id=old.receipt.id, case_id=case.id, replaced_on=today)
            for case in cases
        )
        self.db.flush()
        self.db.expire_all()
        for case in cases:
            self.audit.record(REPORTER, "receipt.reissued", case_id=case.id)
        fresh = self.db.get(Receipt, receipt_id)
        assert fresh is not None
        return ReporterPrincipal(fresh, key), receipt.formatted()

    def _today(self) -> date:
        return local_day(self.clock.now(), self.config.zone)

    def _reused(self, receipt: Receipt) -> None:
        """Count a use of a replaced receipt on each of its cases, audited for each."""
        reuses = list(
            self.db.scalars(select(ReceiptReuse).where(ReceiptReuse.receipt_id == receipt.id))
        )
        for reuse in reuses:
            reuse.later_uses += 1
            reuse.last_used_on = self._today()
            self.audit.record(REPORTER, "receipt.replaced_used", case_id=reuse.case_id)
        self.db.flush()

    def _open(self, principal: ReporterPrincipal) -> str:
        """Fulfil pending key grants for the receipt's cases, then open the session."""
        cases = [c.id for c in self.cases(principal.receipt)]
        self.keys.fulfil_as_reporter(principal, cases)
        return SessionService(self.db, self.clock).open(
            "reporter", principal.key, self.config.session, receipt_id=principal.receipt.id
        )

    def logout(self, token: str) -> None:
        SessionService(self.db, self.clock).close_token(token, "reporter")

    # --- the case -------------------------------------------------------------------------

    def cases(self, receipt: Receipt) -> list[Case]:
        """The receipt's cases not deleted under retention, the original report first."""
        stmt = (
            select(Case)
            .where(Case.receipt_id == receipt.id, Case.retention_deleted_on.is_(None))
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
            attachments=AttachmentReader(self.db, held=True).files(case.id, key, author="reporter"),
            linked=linked,
            reward=reporter_reward(self.db, self.clock, self._reward_config(), principal, case.id),
            identity_disclosure=disclosure_notice(self.db, case, self.config.zone),
            answers=QuestionnaireService(self.db).answered(content, case.category_id),
        )

    def _reward_config(self) -> RewardConfig:
        intake = self.config.intake
        return RewardConfig(
            self.config.zone, intake.server_secret, recovery_fingerprint=intake.recovery_fingerprint
        )

    def _messages(self, case: Case, key: bytes) -> list[Message]:
        stmt = (
            select(CaseItem)
            .where(CaseItem.case_id == case.id, CaseItem.kind == "message")
            .order_by(CaseItem.seq, CaseItem.created_on)
        )
        # The reporter's own held items come last, in the order written.
        items = sorted(self.db.scalars(stmt), key=lambda item: (item.seq < 0, abs(item.seq)))
        return [
            Message(
                item.author,
                open_text(key, case.id, MESSAGE, item.id, item.body),
                item.created_on,
                item.created_at if item.author != "reporter" else None,
                held=item.seq < 0,
            )
            # A staff message stays even when a colleague redacted part of it: the reporter
            # reads the rest, with the redaction mark, so nobody takes a reply (or the news
            # of the outcome) out of the reporter's sight by redacting a word of it.
            for item in items
        ]

    def reply(self, principal: ReporterPrincipal, body: str) -> None:
        """A reporter message carries the day only, never a time."""
        if not body.strip():
            raise Invalid("Please write a message.", fields={"body": "required"})
        if len(body) > DETAILS_MAX:
            raise Invalid("The message is too long.", fields={"body": "too_long"})
        case, key = self.case_and_key(principal)
        item_id = new_id()
        now = self.clock.now()
        item = CaseItem(
            id=item_id,
            case_id=case.id,
            kind="message",
            author="reporter",
            created_on=local_day(now, self.config.zone),
            body=seal_text(key, case.id, MESSAGE, item_id, body.strip()),
        )
        # Out of the shared order until the next full hour (cases/reports/conversation.py).
        hold(self.db, item, ceil_hour(now))
        self.db.flush()
        # Whoever it names loses the case at that hour, before staff see it (cases/access/held.py).
        Matcher(self.db, self.config.intake.server_secret).hold_mentions(
            case, key, body, item_id=item_id
        )
        Outbox(self.db, self.clock, self.config.intake.notify).reporter_message(case)

    def _flood_gauge(self) -> FloodGauge:
        intake = self.config.intake
        return FloodGauge(self.db, self.clock, intake.flood, intake.server_secret)

    def check_evidence_room(self, principal: ReporterPrincipal, new_ids: list[str]) -> None:
        """Refuse more evidence once the case's total or today's files are used up: checked
        before an upload streams (no new files) and again, counting them, before linking."""
        case, _key = self.case_and_key(principal)
        quota = self.config.evidence
        linked = (Attachment.case_id == case.id) & Attachment.linked.is_(True)
        used = int(self.db.scalar(select(func.sum(Attachment.stored_bytes)).where(linked)) or 0)
        new = select(func.sum(Attachment.stored_bytes)).where(
            Attachment.case_id == case.id, Attachment.id.in_(new_ids)
        )
        adding = int(self.db.scalar(new) or 0) if new_ids else 0
        today = local_day(self.clock.now(), self.config.zone)
        files = select(func.count()).where(
            linked, Attachment.author == "reporter", Attachment.created_on == today
        )
        files_today = int(self.db.scalar(files) or 0)
        if used + adding > quota.max_case_bytes or (not new_ids and used >= quota.max_case_bytes):
            raise Conflict(
                "This report already holds as much evidence as it can take. Describe the "
                "rest in a message instead.",
                code="evidence_quota",
            )
        if files_today + max(len(new_ids), 1) > quota.files_per_day:
            raise Throttled(
                "You have added as many files as can be added today. Please add the rest tomorrow.",
                retry_after=3600,
            )

    def add_evidence(self, principal: ReporterPrincipal, ids: list[str]) -> int:
        """Link files the reporter uploaded in this session to their case, within the quota."""
        case, key = self.case_and_key(principal)
        if ids and not self._flood_gauge().evidence_room(case, ids):
            raise Conflict(FLOOD_FULL, code="flood_quota")
        self.check_evidence_room(principal, ids)
        # Staff see them from the next full hour, when the mail below goes (arrivals.py).
        linked = link(self.db, case.id, ids, held_until=listed_hour(self.clock.now()))
        if linked:
            # A kept name ("张伟报销单.pdf") names people as a message does: they lose the
            # case at the file's hour, before staff see the file (cases/access/held.py).
            matcher = Matcher(self.db, self.config.intake.server_secret)
            for attachment_id, name in file_names_of(self.db, case, key, ids):
                matcher.hold_mentions(case, key, name, attachment_id=attachment_id)
            Outbox(self.db, self.clock, self.config.intake.notify).reporter_message(case)
        return linked


@dataclass(frozen=True)
class Attempt:
    """A typed receipt that passed the cheap checks (with its row, if its selector exists,
    and the salt and profile to derive with), or the error to give."""

    receipt: crypto.Receipt | None = None
    row: Receipt | None = None
    error: CaseError | None = None
    salt: bytes = b""
    profile: str = ""


def selector_key(selector: str) -> str:
    return f"receipt:{selector}"


def stand_in_salt(server_secret: bytes, selector: str) -> bytes:
    """The salt an unknown selector derives over: fixed per selector, so a repeated guess
    costs the same as the first, and unguessable without the server secret."""
    digest = hmac.new(server_secret, f"receipt-stand-in|{selector}".encode(), hashlib.sha256)
    return digest.digest()[:STAND_IN_SALT_BYTES]


def typo() -> Invalid:
    return Invalid(
        "This code has a typing mistake. Check each group of four characters and try again.",
        fields={"receipt": "receipt_typo"},
        code="receipt_typo",
    )


def receipt_replaced() -> Unauthorized:
    return Unauthorized(
        "This code was replaced by a new one the first time it was used, as every code given "
        "over the phone, in a meeting or by letter is. Log in with the new code. If you never "
        "used this code before, someone else did, perhaps the person who took your report: "
        "the team handling your report has been told. You can file a new report to say so.",
        code="receipt_replaced",
    )


def wrong_receipt() -> Unauthorized:
    return Unauthorized(
        "We could not find a report with this code. Check it and try again.",
        code="wrong_receipt",
    )

"""Filing a report: validate, seal, wrap the keys for everyone allowed, issue the receipt.

Everything happens in the caller's one transaction; the receipt is returned only as a value
for the caller to show after the commit, and is never stored or logged in clear.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, insert, select
from sqlalchemy.orm import Session

import crypto
from cases.access.matching import Matcher
from cases.access.policy import eligible
from cases.audit.service import AuditLog
from cases.clock import Clock, local_day
from cases.db import insert_row, new_id, table_of
from cases.deadlines import acknowledge_by, feedback_by
from cases.errors import Invalid
from cases.notify.service import NotifyConfig, Outbox
from cases.org.models import Channel
from cases.org.service import OrgService
from cases.org.snapshot import CategoryData, ChannelData, FilingConfig
from cases.principals import ReporterPrincipal
from cases.questionnaires.service import CONTENT_KEY, QuestionnaireService
from cases.reports.arrivals import listed_hour
from cases.reports.attachments import link
from cases.reports.flood import FloodConfig, FloodGauge
from cases.reports.keys import CASE, IDENTITY, KeyRing
from cases.reports.models import Case, CaseExclusion, Receipt
from cases.reports.sealing import IDENTITY as IDENTITY_PURPOSE
from cases.reports.sealing import REPORT, seal_json
from cases.staff.models import StaffAccount

SUMMARY_MAX = 200
DETAILS_MAX = 20_000
NAME_MAX = 200
LOSS_MAX = 100
MAX_SUBJECTS = 20
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


@dataclass(frozen=True)
class SubjectInput:
    name: str
    employee_id: str = ""
    email: str = ""


@dataclass(frozen=True)
class IdentityInput:
    name: str
    contact: str


@dataclass(frozen=True)
class Submission:
    channel_id: str
    category_id: str
    summary: str
    details: str
    subjects: list[SubjectInput] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    identity: IdentityInput | None = None
    loss_estimate: str = ""
    intake: str = "web"
    attachment_ids: list[str] = field(default_factory=list)
    linked_from_id: str | None = None
    # Answers to the channel's extra questions by question id (cases/questionnaires/).
    answers: Mapping[str, Any] = field(default_factory=dict)

    @property
    def answers_required(self) -> bool:
        """A reporter filing on the web or the API answers required questions; a report staff
        record and a linked complaint (forms without the questions) may leave them open."""
        return self.intake in {"web", "api"} and self.linked_from_id is None


@dataclass(frozen=True)
class Draft:
    """A case id and key chosen before the form is parsed, so uploads can encrypt as they stream."""

    case_id: str
    case_key: bytes
    # Made before the transaction, so the write lock never waits on Argon2 (see PreparedReceipt).
    receipt: PreparedReceipt | None = None

    @classmethod
    def new(cls, receipt: PreparedReceipt | None = None) -> Draft:
        return cls(new_id(), crypto.random_key(), receipt)


@dataclass(frozen=True)
class PreparedReceipt:
    """A fresh receipt with its salt and Argon2id output, computed outside any transaction."""

    receipt: crypto.Receipt
    salt: bytes
    derived: crypto.DerivedKeys
    profile: crypto.Argon2Profile

    @classmethod
    def new(cls, profile: crypto.Argon2Profile) -> PreparedReceipt:
        receipt, salt = crypto.new_receipt(), crypto.new_salt()
        return cls(
            receipt, salt, crypto.derive_keys(receipt.verifier_bytes, salt, profile), profile
        )


@dataclass(frozen=True)
class Filed:
    case: Case
    receipt: crypto.Receipt
    reporter_key: bytes
    # Files sent with a flood-marked report beyond the flood evidence quota: not kept.
    files_dropped: bool = False


@dataclass(frozen=True)
class IntakeConfig:
    zone: ZoneInfo
    profile: crypto.Argon2Profile
    server_secret: bytes
    # Where staff log in: the only thing a "there is news" mail says besides the news.
    base_url: str = ""
    flood: FloodConfig = field(default_factory=FloodConfig)
    # PORTAL_RECOVERY_KEY_FINGERPRINT: a recovery key with another fingerprint is refused.
    recovery_fingerprint: str = ""

    @property
    def notify(self) -> NotifyConfig:
        return NotifyConfig(self.base_url, self.zone)


# Built once (each keeps its cache key): every report filed runs these.
_INSERT_RECEIPT = insert(table_of(Receipt))
_INSERT_EXCLUSION = insert(table_of(CaseExclusion))
# Core columns (not the ORM's attributes): a plain select runs at half the cost.
_RECEIPTS = table_of(Receipt).c
_CASES = table_of(Case).c
_SELECTOR_TAKEN = select(_RECEIPTS.id).where(_RECEIPTS.selector == bindparam("selector"))
_REFERENCE_TAKEN = select(_CASES.id).where(_CASES.reference == bindparam("ref"))
# A new report's receipt selector and case reference checked in one statement.
_BOTH_TAKEN = select(
    exists().where(_RECEIPTS.selector == bindparam("selector")),
    exists().where(_CASES.reference == bindparam("ref")),
)


class IntakeService:
    def __init__(self, db: Session, clock: Clock, config: IntakeConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.audit = AuditLog(db, clock, config.server_secret)
        self.keys = KeyRing(db, self.audit, config.server_secret, config.recovery_fingerprint)
        self.org = OrgService(db)
        self._config: FilingConfig | None = None
        self._kept = True
        self._checked: tuple[Submission, Any] | None = None
        # A case reference checked free together with the receipt's selector (submit).
        self._free_reference: str | None = None

    @property
    def filing_config(self) -> FilingConfig:
        """The configuration kept per process, as of the last `validate` (each checks the
        database's config_version token again: one statement; cases/org/snapshot.py)."""
        if self._config is None:
            self._config = self.keys.kept = FilingConfig(self.db)
        return self._config

    def validate(self, sub: Submission) -> tuple[ChannelData, CategoryData]:
        """Check every field; Invalid carries a message key per field for the form."""
        errors: dict[str, str] = {}
        config = self._config = self.keys.kept = FilingConfig(self.db)
        # A retaliation complaint on a filed case is taken even where an admin has switched
        # its channel or category off since: switching off closes them to new reports only.
        linked = sub.linked_from_id is not None
        channel = config.channel(sub.channel_id, inactive_too=linked)
        category = channel.category(sub.category_id, inactive_too=linked) if channel else None
        if channel is None:
            errors["channel"] = "unknown_channel"
        elif category is None:
            errors["category"] = "unknown_category"
        _text(errors, "summary", sub.summary, SUMMARY_MAX, required=True)
        _text(errors, "details", sub.details, DETAILS_MAX, required=True)
        _text(errors, "loss_estimate", sub.loss_estimate, LOSS_MAX, required=False)
        if len(sub.subjects) > MAX_SUBJECTS:
            errors["subjects"] = "too_many"
        for subject in sub.subjects:
            if not subject.name.strip() or len(subject.name) > NAME_MAX:
                errors["subjects"] = "name_required"
            # The "employee number or e-mail" field takes an e-mail too.
            if len(subject.employee_id) > 254 or len(subject.email) > 254:
                errors["subjects"] = "too_long"
        if sub.identity is not None:
            _text(errors, "identity_name", sub.identity.name, NAME_MAX, required=True)
            _text(errors, "identity_contact", sub.identity.contact, NAME_MAX, required=True)
        if channel is not None and category is not None and sub.exclude:
            allowed = {
                person.id
                for each in channel.categories
                for person in config.recipients(channel, each)
            }
            if not set(sub.exclude) <= allowed:
                errors["exclude"] = "unknown_recipient"
        if channel is not None and category is not None:
            try:
                self._answers(sub, channel, category)
            except Invalid as refused:
                errors.update(refused.fields)
        if errors or channel is None or category is None:
            raise Invalid("Please check the highlighted fields.", fields=errors)
        return channel, category

    def recipients(self, channel: Channel) -> list[StaffAccount]:
        """The staff a reporter may exclude: everyone who could receive this channel's reports."""
        people: dict[str, StaffAccount] = {}
        for category in channel.categories:
            for person in self.org.recipients(channel, category):
                people[person.id] = person
        return sorted(people.values(), key=lambda s: s.name or s.email)

    def _answers(self, sub: Submission, channel: ChannelData, category: CategoryData) -> Any:
        """The answers to seal with the report (checked once: validate, then filing, ask)."""
        if self._checked is not None and self._checked[0] is sub:
            return self._checked[1]
        sealed = QuestionnaireService(self.db).sealed_part(
            channel.id,
            category.id,
            sub.answers,
            required=sub.answers_required,
            current=self.filing_config.questionnaire(channel.id),
        )
        self._checked = (sub, sealed)
        return sealed

    @property
    def flood(self) -> FloodGauge:
        return FloodGauge(self.db, self.clock, self.config.flood, self.config.server_secret)

    def submit(self, sub: Submission, draft: Draft | None = None) -> Filed:
        """File a new report under a new receipt."""
        channel, category = self.validate(sub)
        draft = draft or Draft.new()
        receipt, receipt_id, reporter_key = self.new_receipt(draft.receipt, with_reference=True)
        case = self._file(sub, draft, channel, category, receipt_id, reporter_key)
        dropped = bool(sub.attachment_ids) and not self._kept
        return Filed(case, receipt, reporter_key, files_dropped=dropped)

    def submit_linked(
        self, sub: Submission, reporter: ReporterPrincipal, draft: Draft | None = None
    ) -> Case:
        """File a further case (a retaliation complaint) under the reporter's existing receipt.

        It is a separate case with its own key, readable in the same reporter session.
        """
        inherit = None
        if sub.linked_from_id is not None:
            origin = self.db.get(Case, sub.linked_from_id)
            origin_key = self.keys.open_for_reporter(sub.linked_from_id, CASE, reporter)
            if origin is None or origin.receipt_id != reporter.receipt.id or origin_key is None:
                raise Invalid("Unknown case.", fields={"linked_from": "unknown_case"})
            inherit = (origin, origin_key)
        channel, category = self.validate(sub)
        draft = draft or Draft.new()
        return self._file(sub, draft, channel, category, reporter.receipt.id, reporter.key, inherit)

    def _file(
        self,
        sub: Submission,
        draft: Draft,
        channel: ChannelData,
        category: CategoryData,
        receipt_id: str,
        reporter_key: bytes,
        inherit: tuple[Case, bytes] | None = None,
    ) -> Case:
        identity = self._sealed_identity(draft.case_id, sub.identity)
        case = self._case(sub, draft, channel, category, receipt_id, identity)
        self.record_subjects(case, draft.case_key, sub.subjects, attachment_ids=sub.attachment_ids)
        exclusions = {(staff_id, "reporter") for staff_id in sub.exclude}
        if inherit is not None:
            # A complaint about retaliation never reaches anyone its origin kept away.
            origin, origin_key = inherit
            Matcher(self.db, self.config.server_secret).copy_subjects(
                origin, origin_key, case, draft.case_key
            )
            inherited = select(CaseExclusion).where(CaseExclusion.case_id == origin.id)
            exclusions |= {(row.staff_id, row.reason) for row in self.db.scalars(inherited)}
        if exclusions:
            rows = [{"case_id": case.id, "staff_id": s, "reason": r} for s, r in sorted(exclusions)]
            self.db.execute(_INSERT_EXCLUSION, rows)
        with self.keys.new_case(case.id):
            team = self._distribute(
                case, channel, category, draft.case_key, receipt_id, reporter_key
            )
            if identity is not None:
                self._wrap_identity(case, identity[1], receipt_id, reporter_key)
        self._link_attachments(case, sub.attachment_ids)
        Outbox(self.db, self.clock, self.config.notify).case_filed(case, team)
        return case

    def new_receipt(
        self, prepared: PreparedReceipt | None = None, *, with_reference: bool = False
    ) -> tuple[crypto.Receipt, str, bytes]:
        """Store a new receipt's verifier: the receipt (shown once), its row id, the key.

        `with_reference`: also choose the new case's reference, checked free in the same
        statement as the receipt's selector (one read instead of two)."""
        reference = _new_reference() if with_reference else None
        while True:
            ready = prepared or PreparedReceipt.new(self.config.profile)
            selector = ready.receipt.selector
            if reference is None:
                selector_taken, reference_taken = self._selector_taken(selector), False
            else:
                params = {"selector": selector, "ref": reference}
                selector_taken, reference_taken = self.db.execute(_BOTH_TAKEN, params).one()
            prepared = None if selector_taken else ready
            if reference_taken:
                reference = _new_reference()
            if prepared is not None and not reference_taken:
                break
        self._free_reference = reference
        receipt_id = new_id()
        self.db.execute(
            _INSERT_RECEIPT,
            {
                "id": receipt_id,
                "selector": prepared.receipt.selector,
                "salt": prepared.salt,
                "verifier": prepared.derived.verifier,
                "kdf_profile": prepared.profile.name,
                "created_on": self.today(),
                "quick_tag": quick_tag(self.config.server_secret, prepared.receipt),
            },
        )
        return prepared.receipt, receipt_id, prepared.derived.key

    def _selector_taken(self, selector: str) -> bool:
        return self.db.execute(_SELECTOR_TAKEN, {"selector": selector}).first() is not None

    def today(self) -> date:
        return local_day(self.clock.now(), self.config.zone)

    def _case(
        self,
        sub: Submission,
        draft: Draft,
        channel: ChannelData,
        category: CategoryData,
        receipt_id: str,
        identity: tuple[bytes, bytes] | None,
    ) -> Case:
        """Insert the case row (one statement) and return it as this session's object."""
        today = self.today()
        content: dict[str, Any] = {
            "summary": sub.summary.strip(),
            "details": sub.details.strip(),
            "loss_estimate": sub.loss_estimate.strip(),
        }
        answers = self._answers(sub, channel, category)
        if answers is not None:
            content[CONTENT_KEY] = answers
        ack = acknowledge_by(today, channel.acknowledge_days)
        values: dict[str, Any] = {
            "id": draft.case_id,
            "reference": self._reference(),
            "channel_id": channel.id,
            "category_id": category.id,
            "kind": "retaliation" if category.retaliation else "report",
            "priority": "high" if category.retaliation else "normal",
            "intake": sub.intake,
            "confidential": sub.identity is not None,
            "submitted_on": today,
            "acknowledge_by": ack,
            "feedback_by": feedback_by(
                today,
                None,
                acknowledge_days=channel.acknowledge_days,
                months=channel.feedback_months,
            ),
            "due_on": ack,
            "receipt_id": receipt_id,
            "linked_from_id": sub.linked_from_id,
            "record_state": "pending" if sub.intake in {"phone", "meeting", "letter"} else None,
            "content": seal_json(draft.case_key, draft.case_id, REPORT, draft.case_id, content),
            "identity": identity[0] if identity is not None else None,
            # Never refused for volume: at worst marked, listed apart and dismissed in bulk.
            "flood_hour": self.flood.arrival(channel.id),
            "held_until": listed_hour(self.clock.now()),  # staff see it from then (arrivals.py)
        }
        return insert_row(self.db, Case, values)

    def _reference(self) -> str:
        if self._free_reference is not None:
            ref, self._free_reference = self._free_reference, None
            return ref
        while True:
            ref = _new_reference()
            if self.db.execute(_REFERENCE_TAKEN, {"ref": ref}).first() is None:
                return ref

    def record_subjects(
        self,
        case: Case,
        case_key: bytes,
        subjects: list[SubjectInput],
        *,
        scan_text: bool = True,
        attachment_ids: Sequence[str] = (),
    ) -> int:
        """Seal each named person and store the keyed hash of every directory candidate
        (cases/access/matching.py); at filing (`scan_text`), also everyone who could read the
        case whom the report's text or the names of the files filed with it
        (`attachment_ids`) name (cases/access/mentions.py). Returns how many candidates wait
        for confirmation."""
        matcher = Matcher(self.db, self.config.server_secret)
        unsure = sum(
            matcher.record(case, case_key, s.name, s.employee_id, s.email) for s in subjects
        )
        if scan_text:
            unsure += matcher.record_mentions(case, case_key, attachment_ids)
        return unsure

    def _distribute(
        self,
        case: Case,
        channel: ChannelData,
        category: CategoryData,
        case_key: bytes,
        receipt_id: str,
        reporter_key: bytes,
    ) -> list[StaffAccount]:
        """Wrap the case key for everyone the policy allows, the reporter and recovery: the
        staff who received it (the case's team)."""
        config = self.filing_config
        people = eligible(self.db, config.recipients(channel, category), case)
        if not people and category.retaliation:
            # Every retaliation officer is accused or excluded: the channel's investigators.
            people = eligible(self.db, config.investigators(channel), case)
        team = self.keys.wrap_for_team(case.id, CASE, case_key, people)
        self.keys.wrap_for_reporter(case.id, CASE, case_key, receipt_id, reporter_key)
        self.keys.wrap_for_recovery(case.id, CASE, case_key)
        if not people:
            # Held for the recovery key (and the reporter's key) until someone eligible
            # exists; admins hear only that a case is waiting, never which.
            Outbox(self.db, self.clock, self.config.notify).case_waiting(case)
        return team

    def _sealed_identity(
        self, case_id: str, identity: IdentityInput | None
    ) -> tuple[bytes, bytes] | None:
        """The reporter's identity sealed under a key of its own: (sealed, identity key)."""
        if identity is None:
            return None
        identity_key = crypto.random_key()
        plain = {"name": identity.name.strip(), "contact": identity.contact.strip()}
        return seal_json(identity_key, case_id, IDENTITY_PURPOSE, case_id, plain), identity_key

    def _wrap_identity(
        self, case: Case, identity_key: bytes, receipt_id: str, reporter_key: bytes
    ) -> None:
        """Only custodians (and recovery) receive the identity key; investigators never do."""
        allowed = eligible(self.db, self.filing_config.custodians(), case)
        self.keys.wrap_for_team(case.id, IDENTITY, identity_key, allowed)
        self.keys.wrap_for_recovery(case.id, IDENTITY, identity_key)
        # The reporter keeps the identity key too, so grants to custodians who join later
        # can be fulfilled by the reporter's next visit.
        self.keys.wrap_for_reporter(case.id, IDENTITY, identity_key, receipt_id, reporter_key)

    def _link_attachments(self, case: Case, attachment_ids: list[str]) -> None:
        kept = self.flood.evidence_room(case, attachment_ids)
        self._kept = bool(kept)
        if not kept:
            return
        link(self.db, case.id, kept)


def quick_tag(server_secret: bytes, receipt: crypto.Receipt) -> bytes:
    """A keyed tag of the receipt's verifier: checked in microseconds, so a throttled wrong
    guess costs no Argon2 run; without the server secret it cannot be tested or reversed."""
    message = b"receipt-quick|" + receipt.verifier_bytes
    return hmac.new(server_secret, message, hashlib.sha256).digest()


def _new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


def _text(errors: dict[str, str], name: str, value: str, limit: int, *, required: bool) -> None:
    if required and not value.strip():
        errors[name] = "required"
    elif len(value) > limit:
        errors[name] = "too_long"

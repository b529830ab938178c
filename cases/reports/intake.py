"""Filing a report: validate, seal, wrap the keys for everyone allowed, issue the receipt.

Everything happens in the caller's one transaction; the receipt is returned only as a value
for the caller to show after the commit, and is never stored or logged in clear.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

import crypto
from cases.access.policy import eligible
from cases.clock import Clock, local_day
from cases.db import new_id
from cases.deadlines import acknowledge_by, feedback_by
from cases.errors import Invalid
from cases.notify.service import NotifyConfig, Outbox
from cases.org.models import Category, Channel
from cases.org.service import OrgService
from cases.principals import ReporterPrincipal
from cases.reports.keys import CASE, IDENTITY, KeyRing
from cases.reports.models import Attachment, Case, CaseExclusion, CaseSubject, Receipt
from cases.reports.sealing import IDENTITY as IDENTITY_PURPOSE
from cases.reports.sealing import REPORT, SUBJECT, seal_json
from cases.sessions.service import Throttle, ThrottleRule
from cases.staff.directory import directory_hash
from cases.staff.models import DirectoryEntry, Role, StaffAccount, StaffRole

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


@dataclass(frozen=True)
class IntakeConfig:
    zone: ZoneInfo
    profile: crypto.Argon2Profile
    server_secret: bytes
    reports_per_channel_per_hour: int = 200
    # Where staff log in: the only thing a "there is news" mail says besides the news.
    base_url: str = ""

    @property
    def notify(self) -> NotifyConfig:
        return NotifyConfig(self.base_url, self.zone)


class IntakeService:
    def __init__(self, db: Session, clock: Clock, config: IntakeConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.keys = KeyRing(db)
        self.org = OrgService(db)

    def validate(self, sub: Submission) -> tuple[Channel, Category]:
        """Check every field; Invalid carries a message key per field for the form."""
        errors: dict[str, str] = {}
        channel = self.org.channel(sub.channel_id)
        category = self.org.category(channel, sub.category_id) if channel else None
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
            if len(subject.employee_id) > 64 or len(subject.email) > 254:
                errors["subjects"] = "too_long"
        if sub.identity is not None:
            _text(errors, "identity_name", sub.identity.name, NAME_MAX, required=True)
            _text(errors, "identity_contact", sub.identity.contact, NAME_MAX, required=True)
        if channel is not None and category is not None and sub.exclude:
            allowed = {s.id for s in self.recipients(channel)}
            if not set(sub.exclude) <= allowed:
                errors["exclude"] = "unknown_recipient"
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

    def check_flood(self, channel_id: str) -> None:
        rule = ThrottleRule(self.config.reports_per_channel_per_hour, 3600)
        throttle = Throttle(self.db, self.clock)
        throttle.check(f"intake:{channel_id}", rule)
        throttle.fail(f"intake:{channel_id}", rule)

    def submit(self, sub: Submission, draft: Draft | None = None) -> Filed:
        """File a new report under a new receipt."""
        channel, category = self.validate(sub)
        self.check_flood(channel.id)
        draft = draft or Draft.new()
        receipt, receipt_row, reporter_key = self._new_receipt(draft.receipt)
        case = self._file(sub, draft, channel, category, receipt_row, reporter_key)
        return Filed(case, receipt, reporter_key)

    def submit_linked(
        self, sub: Submission, reporter: ReporterPrincipal, draft: Draft | None = None
    ) -> Case:
        """File a further case (a retaliation complaint) under the reporter's existing receipt.

        It is a separate case with its own key, readable in the same reporter session.
        """
        if sub.linked_from_id is not None:
            origin = self.db.get(Case, sub.linked_from_id)
            if origin is None or origin.receipt_id != reporter.receipt.id:
                raise Invalid("Unknown case.", fields={"linked_from": "unknown_case"})
        channel, category = self.validate(sub)
        self.check_flood(channel.id)
        draft = draft or Draft.new()
        return self._file(sub, draft, channel, category, reporter.receipt, reporter.key)

    def _file(
        self,
        sub: Submission,
        draft: Draft,
        channel: Channel,
        category: Category,
        receipt_row: Receipt,
        reporter_key: bytes,
    ) -> Case:
        case = self._case(sub, draft, channel, category, receipt_row)
        self.db.add(case)
        self.db.flush()
        self.record_subjects(case, draft.case_key, sub.subjects)
        for staff_id in dict.fromkeys(sub.exclude):
            self.db.add(CaseExclusion(case_id=case.id, staff_id=staff_id, reason="reporter"))
        self.db.flush()
        self._distribute(case, channel, category, draft.case_key, receipt_row.id, reporter_key)
        if sub.identity is not None:
            self._seal_identity(case, sub.identity, receipt_row.id, reporter_key)
        self._link_attachments(case.id, sub.attachment_ids)
        Outbox(self.db, self.clock, self.config.notify).case_filed(case)
        return case

    def _new_receipt(
        self, prepared: PreparedReceipt | None = None
    ) -> tuple[crypto.Receipt, Receipt, bytes]:
        while prepared is None or self._selector_taken(prepared.receipt.selector):
            prepared = PreparedReceipt.new(self.config.profile)
        receipt, salt, derived = prepared.receipt, prepared.salt, prepared.derived
        row = Receipt(
            selector=receipt.selector,
            salt=salt,
            verifier=derived.verifier,
            kdf_profile=prepared.profile.name,
            created_on=self.today(),
        )
        self.db.add(row)
        self.db.flush()
        return receipt, row, derived.key

    def _selector_taken(self, selector: str) -> bool:
        stmt = select(Receipt.id).where(Receipt.selector == selector)
        return self.db.scalars(stmt).first() is not None

    def today(self) -> date:
        return local_day(self.clock.now(), self.config.zone)

    def _case(
        self, sub: Submission, draft: Draft, channel: Channel, category: Category, receipt: Receipt
    ) -> Case:
        today = self.today()
        content = {
            "summary": sub.summary.strip(),
            "details": sub.details.strip(),
            "loss_estimate": sub.loss_estimate.strip(),
        }
        ack = acknowledge_by(today, channel.acknowledge_days)
        return Case(
            id=draft.case_id,
            reference=self._reference(),
            channel_id=channel.id,
            category_id=category.id,
            kind="retaliation" if category.retaliation else "report",
            priority="high" if category.retaliation else "normal",
            intake=sub.intake,
            confidential=sub.identity is not None,
            submitted_on=today,
            acknowledge_by=ack,
            feedback_by=feedback_by(
                today,
                None,
                acknowledge_days=channel.acknowledge_days,
                months=channel.feedback_months,
            ),
            due_on=ack,
            receipt_id=receipt.id,
            linked_from_id=sub.linked_from_id,
            record_state="pending" if sub.intake in {"phone", "meeting", "letter"} else None,
            content=seal_json(draft.case_key, draft.case_id, REPORT, draft.case_id, content),
        )

    def _reference(self) -> str:
        while True:
            ref = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
            if self.db.scalars(select(Case.id).where(Case.reference == ref)).first() is None:
                return ref

    def record_subjects(self, case: Case, case_key: bytes, subjects: list[SubjectInput]) -> None:
        """Seal each named person and store the keyed hash of every directory match."""
        for subject in subjects:
            typed = {
                "name": subject.name.strip(),
                "employee_id": subject.employee_id.strip(),
                "email": subject.email.strip(),
            }
            matches, matched_by = self._match(subject)
            candidates: list[DirectoryEntry | None] = [*matches] or [None]
            for entry in candidates:
                item_id = new_id()
                self.db.add(
                    CaseSubject(
                        id=item_id,
                        case_id=case.id,
                        directory_hash=(
                            directory_hash(self.config.server_secret, entry.employee_id)
                            if entry
                            else None
                        ),
                        matched_by=matched_by if entry else "none",
                        # A name alone may point at the wrong person: every candidate stays
                        # excluded until an investigator confirms which one is meant.
                        needs_confirmation=matched_by == "name",
                        sealed=seal_json(case_key, case.id, SUBJECT, item_id, typed),
                    )
                )

    def _match(self, subject: SubjectInput) -> tuple[list[DirectoryEntry], str]:
        if subject.employee_id.strip():
            stmt = select(DirectoryEntry).where(
                DirectoryEntry.employee_id == subject.employee_id.strip()
            )
            found = list(self.db.scalars(stmt))
            if found:
                return found, "employee_id"
        if subject.email.strip():
            stmt = select(DirectoryEntry).where(
                DirectoryEntry.email == subject.email.strip().lower()
            )
            found = list(self.db.scalars(stmt))
            if found:
                return found, "email"
        name = subject.name.strip()
        stmt = select(DirectoryEntry).where(DirectoryEntry.name == name)
        return list(self.db.scalars(stmt)), "name"

    def _distribute(
        self,
        case: Case,
        channel: Channel,
        category: Category,
        case_key: bytes,
        receipt_id: str,
        reporter_key: bytes,
    ) -> None:
        for person in eligible(self.db, self.org.recipients(channel, category), case):
            self.keys.wrap_for_staff(case.id, CASE, case_key, person)
        self.keys.wrap_for_reporter(case.id, CASE, case_key, receipt_id, reporter_key)
        self.keys.wrap_for_recovery(case.id, CASE, case_key)

    def _seal_identity(
        self, case: Case, identity: IdentityInput, receipt_id: str, reporter_key: bytes
    ) -> None:
        """Only custodians (and recovery) receive the identity key; investigators never do."""
        identity_key = crypto.random_key()
        plain = {"name": identity.name.strip(), "contact": identity.contact.strip()}
        case.identity = seal_json(identity_key, case.id, IDENTITY_PURPOSE, case.id, plain)
        custodians = list(
            self.db.scalars(
                select(StaffAccount)
                .join(StaffRole)
                .where(StaffRole.role == Role.CUSTODIAN, StaffAccount.active.is_(True))
            )
        )
        for person in eligible(self.db, custodians, case):
            self.keys.wrap_for_staff(case.id, IDENTITY, identity_key, person)
        self.keys.wrap_for_recovery(case.id, IDENTITY, identity_key)
        # The reporter keeps the identity key too, so grants to custodians who join later
        # can be fulfilled by the reporter's next visit.
        self.keys.wrap_for_reporter(case.id, IDENTITY, identity_key, receipt_id, reporter_key)

    def _link_attachments(self, case_id: str, attachment_ids: list[str]) -> None:
        if not attachment_ids:
            return
        self.db.execute(
            update(Attachment)
            .where(
                Attachment.id.in_(attachment_ids),
                Attachment.case_id == case_id,
                Attachment.complete.is_(True),
            )
            .values(linked=True, sweep_after=self.clock.now() + timedelta(days=36500))
        )


def _text(errors: dict[str, str], name: str, value: str, limit: int, *, required: bool) -> None:
    if required and not value.strip():
        errors[name] = "required"
    elif len(value) > limit:
        errors[name] = "too_long"

"""Cases, receipts, wrapped keys and the sealed items and files that belong to a case.

What is stored in clear is what the server must act on without a key (DESIGN.md,
"Clear or sealed"): channel, category, status, outcome, the submission day, deadlines,
assignees, exclusions and keyed hashes of subjects. Everything a person wrote is sealed.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import false as sa_false

from cases.db import Base, new_id, utc_hour, utcnow


class Status(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    INVESTIGATING = "investigating"
    CONCLUDED = "concluded"
    CLOSED = "closed"


class Outcome(StrEnum):
    SUBSTANTIATED = "substantiated"
    PARTIALLY_SUBSTANTIATED = "partially_substantiated"
    UNSUBSTANTIATED = "unsubstantiated"
    NOT_ACTIONABLE = "not_actionable"


class Receipt(Base):
    """A reporter's credential: the selector in clear, an Argon2id verifier of the secret half."""

    __tablename__ = "receipts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    selector: Mapped[str] = mapped_column(String(16), unique=True)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    verifier: Mapped[bytes] = mapped_column(LargeBinary(32))
    kdf_profile: Mapped[str] = mapped_column(String(20))
    created_on: Mapped[date] = mapped_column(Date)
    # Handed over by staff (a recorded report): the recorder saw it, so the reporter's first
    # login replaces it with one only the reporter has seen.
    staff_issued: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    # HMAC of the verifier under the server secret (useless without it): lets a correct
    # receipt through a selector someone else's wrong guesses throttled, while those guesses
    # still cost no Argon2 run (cases/reports/intake.py::quick_tag). Set at filing, at a
    # reissue, or at the first correct entry of an older receipt.
    quick_tag: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # The day a staff-handed receipt was replaced at its first login (None: never replaced).
    # Kept, not deleted, so that its later use is told apart from a wrong code: whoever uses
    # it after the first login is not let in, and the case's team is told (ReceiptReuse).
    replaced_on: Mapped[date | None] = mapped_column(Date)


class ReceiptReuse(Base):
    """A case whose staff-handed receipt was replaced at its first login, and how often that
    receipt was used again since. The recorder saw the receipt: a use after the first login
    is either the reporter who lost the new one or someone who had the old one, and a first
    login made by the recorder would lock the reporter out. Either way the case's readers
    must know (the case page and API say so). Days only: no time of a reporter's visit."""

    __tablename__ = "receipt_reuses"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    receipt_id: Mapped[str] = mapped_column(
        ForeignKey("receipts.id", ondelete="CASCADE"), index=True
    )
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    replaced_on: Mapped[date] = mapped_column(Date)
    later_uses: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    last_used_on: Mapped[date | None] = mapped_column(Date)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_ack", "status", "acknowledge_by"),
        Index("ix_cases_status_feedback", "status", "feedback_by"),
        Index("ix_cases_channel_status", "channel_id", "status"),
        Index("ix_cases_category_status", "category_id", "status"),
        Index("ix_cases_due", "due_on", "id"),
        # A status filter sorted by the next deadline: the list's most common filtered page.
        Index("ix_cases_status_due", "status", "due_on", "id"),
        # The retention job's scan: closed cases by the day they were closed.
        Index("ix_cases_status_closed", "status", "closed_on"),
        # The statistics' scans read these instead of the table (migration 0013_statistics).
        Index(
            "ix_cases_stats_days",
            "submitted_on",
            "acknowledged_on",
            "acknowledge_by",
            "concluded_on",
            "feedback_by",
            "status",
            "channel_id",
            "category_id",
        ),
        Index(
            "ix_cases_stats_groups", "channel_id", "category_id", "outcome", "kind", "submitted_on"
        ),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id"))
    category_id: Mapped[str] = mapped_column(ForeignKey("categories.id"))
    kind: Mapped[str] = mapped_column(String(16), default="report")  # report | retaliation
    intake: Mapped[str] = mapped_column(String(16), default="web")  # web api phone meeting letter
    priority: Mapped[str] = mapped_column(String(8), default="normal")
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW)
    outcome: Mapped[str | None] = mapped_column(String(32))
    confidential: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_on: Mapped[date] = mapped_column(Date, index=True)
    acknowledge_by: Mapped[date] = mapped_column(Date)
    feedback_by: Mapped[date] = mapped_column(Date)
    # The next date that matters for this case's status: what the list sorts on.
    due_on: Mapped[date | None] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    concluded_on: Mapped[date | None] = mapped_column(Date)
    # The (local) day the case was last closed; None while it is open or after a reopen.
    # Retention counts its months from here (cases/retention).
    closed_on: Mapped[date | None] = mapped_column(Date)
    # The channel's retention period (months) when the case was last closed. A case is kept
    # for the longer of this and the channel's period now: an admin who shortens the period
    # later cannot delete what was closed under the longer one (cases/retention).
    retention_months: Mapped[int | None] = mapped_column(Integer)
    # Set when the retention job shredded the case: this row is then a tombstone of clear
    # metadata only (docs/retention.md); nothing sealed and no key of it remains.
    retention_deleted_on: Mapped[date | None] = mapped_column(Date, index=True)
    # A legal hold: while set, the case is never deleted. The reason is clear text written by
    # staff (shown on the case page and to admins), so the form asks for no names.
    hold_reason: Mapped[str | None] = mapped_column(String(500))
    hold_by: Mapped[str | None] = mapped_column(String(32))
    hold_at: Mapped[datetime | None] = mapped_column(DateTime)
    receipt_id: Mapped[str] = mapped_column(ForeignKey("receipts.id"), index=True)
    linked_from_id: Mapped[str | None] = mapped_column(ForeignKey("cases.id"), index=True)
    # The hour (UTC) a report arrived in when its channel was flooded (cases/reports/flood.py):
    # such reports are listed apart for triage. None for reports that came at a normal rate.
    flood_hour: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # The full hour (UTC) from which staff see this new case; None once the jobs round (or a
    # mail's delivery) has listed it. Until then it is absent from every staff list, count and
    # URL (cases/reports/arrivals.py), so polling the list does not tell the filing's minute.
    held_until: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    # One case reader alone ended this case as unfounded (concluded "unsubstantiated" or "not
    # actionable") or dismissed it unread from a flood: `unconfirmed_by` is that reader's id
    # until a second, unrelated case reader agrees (cases/workflow/second_reader.py). Until
    # then the case is flagged to its readers and retention does not count (its `closed_on`
    # waits for the agreement). Staff rows: the time is kept to the second.
    unconfirmed_by: Mapped[str | None] = mapped_column(String(32), index=True)
    unconfirmed_kind: Mapped[str | None] = mapped_column(String(16))  # concluded | flood
    unconfirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Staff-recorded reports: "pending" until the reporter confirms or corrects the record.
    record_state: Mapped[str | None] = mapped_column(String(16))
    # Sealed JSON {summary, details, loss_estimate, ...} under the case key (purpose "report").
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # Sealed JSON {name, contact} under the identity key (purpose "identity"); confidential only.
    identity: Mapped[bytes | None] = mapped_column(LargeBinary)


class KeyWrap(Base):
    """A case key or identity key wrapped for one holder: staff, the reporter, or recovery."""

    __tablename__ = "key_wraps"
    __table_args__ = (UniqueConstraint("case_id", "key_kind", "holder"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    key_kind: Mapped[str] = mapped_column(String(16))  # case | identity
    holder: Mapped[str] = mapped_column(
        String(80)
    )  # staff:<id> | reporter:<receipt id> | recovery:<id>
    staff_id: Mapped[str | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    wrapped: Mapped[bytes] = mapped_column(LargeBinary)
    # To the hour only: a reporter's filing or visit writes wraps, and must not be timed.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_hour)


class PendingGrant(Base):
    """A key that must reach someone who has none yet; the next key holder fulfils it."""

    __tablename__ = "pending_grants"
    __table_args__ = (UniqueConstraint("case_id", "key_kind", "staff_id"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    key_kind: Mapped[str] = mapped_column(String(16))
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(String(32))
    # To the hour only, like key wraps: a filing may create grants.
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utc_hour)
    # HMAC over (case, key kind, staff): a grant row the application did not write is refused.
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Handed on at a reporter's visit: the key already wrapped for this person, stored as their
    # key wrap by the jobs round at `ready_at` (the next full hour), so the minute the case
    # opens for them is not the minute the reporter logged in (KeyRing.release_handed).
    wrapped: Mapped[bytes | None] = mapped_column(LargeBinary)
    ready_at: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class CaseSubject(Base):
    """A person the report names. Only the keyed hash of their directory id is clear."""

    __tablename__ = "case_subjects"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    directory_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # How the match was made: employee_id | email | id+name (id and name agree) | name |
    # alias | pinyin | within (a name inside what was typed) | confirmed | rejected | none.
    # Anything but an exact id needs confirming.
    matched_by: Mapped[str] = mapped_column(String(16), default="none")
    needs_confirmation: Mapped[bool] = mapped_column(Boolean, default=False)
    # {name, employee_id, email} as typed; empty on candidates found later by a directory
    # change (the server holds no case key then): their group's first row carries it.
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # The rows of one typed person share a group (None on rows filed before groups existed).
    group_id: Mapped[str | None] = mapped_column(String(32), index=True)
    # A candidate an investigator rejected: kept so a directory change does not add it again.
    rejected_hash: Mapped[str | None] = mapped_column(String(64))


class CaseExclusion(Base):
    __tablename__ = "case_exclusions"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reason: Mapped[str] = mapped_column(String(16), primary_key=True)  # reporter | recused


class CaseAssignee(Base):
    __tablename__ = "case_assignees"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CaseItem(Base):
    """A message (reporter ↔ staff) or an internal note, sealed under the case key."""

    __tablename__ = "case_items"
    __table_args__ = (
        Index("ix_case_items_case_kind", "case_id", "kind"),
        # Two replies at once must not share a place in the conversation (see conversation.py).
        # A unique index rather than a constraint: SQLite adds an index in place, while a
        # constraint would rebuild the table, and dropping the old one cascades to its masks.
        Index("uq_case_items_case_seq", "case_id", "seq", unique=True),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # message | note
    author: Mapped[str] = mapped_column(String(16))  # reporter | staff
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_accounts.id"))
    created_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime | None] = mapped_column(DateTime)  # staff items only
    seq: Mapped[int] = mapped_column(Integer, default=0)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    redacted: Mapped[bool] = mapped_column(Boolean, default=False)


class HeldMention(Base):
    """The people a reporter's later message names, or the kept name of a file they add
    later (cases/access/matching.py, hold_mentions), held with that message or file until its
    hour: then they become candidates of the case and whoever they exclude loses it, in the
    transaction that shows the message or file to staff (cases/access/held.py). JSON
    {subjects: [case_subjects rows, sealed in base64], keys: [case_subject_keys rows]}; what
    it holds in clear is what those tables hold in clear. Exactly one of `item_id` and
    `attachment_id` is set."""

    __tablename__ = "held_mentions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str | None] = mapped_column(
        ForeignKey("case_items.id", ondelete="CASCADE"), index=True
    )
    attachment_id: Mapped[str | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    rows: Mapped[str] = mapped_column(Text)


class CaseEvent(Base):
    """Status history: who moved the case where and why (the reason is sealed)."""

    __tablename__ = "case_events"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(32))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff_accounts.id"))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[bytes | None] = mapped_column(LargeBinary)


class Attachment(Base):
    """An encrypted file; its chunks are rows written as the upload streams in."""

    __tablename__ = "attachments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The case the file belongs to; known at upload time because its key derives from it.
    case_id: Mapped[str] = mapped_column(String(32), index=True)
    # False until the report (or message) that carries it commits; unlinked files are swept.
    linked: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    complete: Mapped[bool] = mapped_column(Boolean, default=False)
    author: Mapped[str] = mapped_column(String(16))  # reporter | staff
    staff_id: Mapped[str | None] = mapped_column(String(32))
    header: Mapped[bytes] = mapped_column(LargeBinary)
    file_key: Mapped[bytes] = mapped_column(LargeBinary)  # sealed under the case key
    meta: Mapped[bytes | None] = mapped_column(LargeBinary)  # sealed {name, type, size, sha256}
    stored_bytes: Mapped[int] = mapped_column(Integer, default=0)
    created_on: Mapped[date] = mapped_column(Date)
    sweep_after: Mapped[datetime] = mapped_column(DateTime, index=True)
    # Evidence a reporter added after filing: the full hour (UTC) from which staff see it;
    # None once listed (cases/reports/arrivals.py). Files attached at filing follow the case.
    held_until: Mapped[datetime | None] = mapped_column(DateTime, index=True)


class AttachmentChunk(Base):
    __tablename__ = "attachment_chunks"

    attachment_id: Mapped[str] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), primary_key=True
    )
    idx: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)

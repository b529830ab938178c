"""Identity disclosure requests: an investigator asks, a custodian decides."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from cases.db import Base, new_id, utcnow


class DisclosureRequest(Base):
    """The reasons are sealed under a key of their own, wrapped for the requester and the
    custodians (who do not hold the case key), kept as JSON {staff id: wrapped key}."""

    __tablename__ = "disclosure_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    requester_id: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending approved refused
    reason: Mapped[bytes] = mapped_column(LargeBinary)
    reason_wraps: Mapped[str] = mapped_column(Text, default="{}")
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_by: Mapped[str | None] = mapped_column(ForeignKey("staff_accounts.id"))
    decision_reason: Mapped[bytes | None] = mapped_column(LargeBinary)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class RiskAssessment(Base):
    """ISO 37002 8.3.2: how likely retaliation is, from whom, and what is done about it.
    Who and what are sealed under the case key; the likelihood stays clear for triage lists."""

    __tablename__ = "risk_assessments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    likelihood: Mapped[str] = mapped_column(String(8))  # low medium high
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # {who, measures}
    assessed_by: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    assessed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ProtectiveMeasure(Base):
    """A step taken to protect the reporter, with a follow-up date that outlives the case."""

    __tablename__ = "protective_measures"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # {description}
    follow_up_on: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open done
    created_by: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)


class ItemMask(Base):
    """A span of a message or note hidden from everyone but its author; removable by them.

    Only the character offsets are stored (clear, no content); the text stays sealed. A mask
    on a reporter's words is listed to every case reader with who set it, when and why (the
    reason sealed under the case key), and any of them can lift it: the row stays, with who
    lifted it and when. A mask over words a colleague had unmasked hides nothing until a
    second reader agrees (cases/access/redaction.py)."""

    __tablename__ = "item_masks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("case_items.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(ForeignKey("staff_accounts.id"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    reason: Mapped[bytes | None] = mapped_column(LargeBinary)
    lifted_by: Mapped[str | None] = mapped_column(ForeignKey("staff_accounts.id"))
    lifted_at: Mapped[datetime | None] = mapped_column(DateTime)
    needs_agreement: Mapped[bool] = mapped_column(Boolean, default=False)
    agreed_by: Mapped[str | None] = mapped_column(ForeignKey("staff_accounts.id"))
    agreed_at: Mapped[datetime | None] = mapped_column(DateTime)


class DirectoryKey(Base):
    """One match key of a directory entry (its id, e-mail, name, aliases, their pinyin).

    In clear, like the directory's names themselves: it says nothing about any case. The
    case side keeps only keyed hashes of what was typed (CaseSubjectKey).
    """

    __tablename__ = "directory_keys"

    entry_id: Mapped[str] = mapped_column(
        ForeignKey("directory_entries.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(300), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # employee_id | email | name | alias | pinyin


class CaseSubjectKey(Base):
    """A keyed hash (under the server secret) of one key of what was typed about a subject,
    so that a person added to the directory later is matched to reports already filed."""

    __tablename__ = "case_subject_keys"

    case_id: Mapped[str] = mapped_column(
        ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    )
    group_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))  # employee_id | email | name | within | text


class PeopleVersion(Base):
    """One row: a token that database triggers replace with a random one whenever the people
    who could read a case change (an account's name, e-mail or employee id, a role, a
    directory entry's id, name, e-mail, aliases or manager), in the changing transaction.

    A process keeps what it derived from those people (cases/access/mentions.py) while the
    token it read is unchanged. Random, not a counter: after a rollback or a restore, a
    counter comes back to a value an older derivation was made under; a random token never.
    """

    __tablename__ = "people_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(32))

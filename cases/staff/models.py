"""Staff accounts, their roles and the company directory they are linked to."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cases.db import Base, new_id, utcnow


class Role(StrEnum):
    ADMIN = "admin"
    INVESTIGATOR = "investigator"
    CUSTODIAN = "custodian"
    REWARD_APPROVER = "reward_approver"
    FINANCE = "finance"
    AUDITOR = "auditor"
    RETALIATION_OFFICER = "retaliation_officer"
    # Reads the statistics (counts of clear metadata) and nothing else: no case, no key.
    ANALYST = "analyst"


class DirectoryEntry(Base):
    """One row of the imported staff directory; the management chain follows manager_id.

    No keyed hash of employee_id is stored here: case subjects hold only that hash, and a
    copy of the database without the server secret must not join the two (docs/access.md).
    """

    __tablename__ = "directory_entries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    employee_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    department: Mapped[str] = mapped_column(String(200), default="")
    manager_employee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    # Other names ("|"-separated: English name, nickname, former name), matched like the name.
    aliases: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DirectoryLink(Base):
    """Every directory entry a portal account has ever been linked to (by e-mail, or by the
    employee id it carries), written by database triggers on `directory_entries` and
    `staff_accounts` (migration 0025_directory_history), never removed by the portal.

    The policy reads a person's own entries from here, not from today's link alone: an
    import that gives the accused sales director a new employee id, or moves their e-mail to
    a fresh entry, must not make them someone the reports about them do not name
    (docs/access.md, "A directory change does not lift an exclusion")."""

    __tablename__ = "directory_links"

    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    employee_id: Mapped[str] = mapped_column(String(64), primary_key=True)


class DirectoryEdge(Base):
    """Every manager a directory entry has ever had (employee id → manager's employee id),
    written by triggers on `directory_entries`, never removed by the portal: moving a named
    rep under another manager does not hand their former manager the case."""

    __tablename__ = "directory_edges"

    employee_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    manager_employee_id: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)


class DirectoryClaim(Base):
    """A directory change an admin made that would keep someone away from cases: a new link
    of an account to an entry that was already known, or a new management edge below an
    account (cases/org/claims.py). It counts for exclusion at once, beside the history
    (cases/access/chains.py), but enters `directory_links` / `directory_edges` only when a key
    holder who is neither the admin nor anyone it concerns confirms it; a refused claim is
    deleted and the policy re-run (docs/access.md, "An admin's directory change is a claim")."""

    __tablename__ = "directory_claims"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # link (staff_id is now employee_id) | edge (employee_id reports to manager_employee_id)
    kind: Mapped[str] = mapped_column(String(8))
    staff_id: Mapped[str | None] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    employee_id: Mapped[str] = mapped_column(String(64), index=True)
    manager_employee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    made_by: Mapped[str] = mapped_column(String(32))
    made_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # pending | confirmed (a refused claim is deleted: it is forgotten, the audit trail keeps it)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # HMAC over the columns above but the times (cases/keytrust.py): a status set behind the
    # portal's back is not a decision.
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    employee_id: Mapped[str | None] = mapped_column(String(64), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    kdf_salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    kdf_profile: Mapped[str] = mapped_column(String(20))
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # HMAC over (id, "staff", public_key) under a server-secret key: see cases/keytrust.py.
    public_key_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # X25519 private key sealed under the password-derived key; the server never holds it bare.
    wrapped_private_key: Mapped[bytes] = mapped_column(LargeBinary)
    # TOTP seed sealed under a server-secret-derived key (the server must check codes unattended).
    totp_secret_sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set on accounts whose password an admin chose (before web enrolment existed): the
    # person must choose their own before anything else.
    password_must_change: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )

    roles: Mapped[list[StaffRole]] = relationship(
        back_populates="account", cascade="all, delete-orphan", lazy="selectin"
    )

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_names


class StaffRole(Base):
    __tablename__ = "staff_roles"

    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)

    account: Mapped[StaffAccount] = relationship(back_populates="roles")


class SetupToken(Base):
    """The one-time link that lets the first admin be created; only its hash is stored."""

    __tablename__ = "setup_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")


class EnrolmentToken(Base):
    """A one-time link that lets a person set their own password and TOTP; only its hash is kept.

    Made when an admin creates an account on the web or resets someone's login, so no admin
    ever chooses (or learns) a working password.
    """

    __tablename__ = "enrolment_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    created_by: Mapped[str | None] = mapped_column(String(32))
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used: Mapped[bool] = mapped_column(Boolean, default=False)


class KeyApproval(Base):
    """An admin's change to an account, waiting for a key holder: no new key reaches the
    account while one of its rows is pending or refused.

    Kept to plain columns (who, why, by whom, decided how) so a MAC over them can be added.
    """

    __tablename__ = "key_approvals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    staff_id: Mapped[str] = mapped_column(
        ForeignKey("staff_accounts.id", ondelete="CASCADE"), index=True
    )
    # new_account | role_added | team_joined | reactivated | login_reset
    reason: Mapped[str] = mapped_column(String(32))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    requested_by: Mapped[str | None] = mapped_column(String(32))
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # pending | approved | refused | superseded
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # HMAC over the columns above but the times (cases/keytrust.py): a row the portal did not
    # write, or whose status was changed behind its back, withholds and is reported.
    mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))

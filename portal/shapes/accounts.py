"""Staff accounts made by admins, enrolment by link, and key holders' approvals."""

from __future__ import annotations

from pydantic import Field, RootModel, StrictBool

from cases.org.approvals import ApprovalView
from cases.org.claims import ClaimView
from cases.staff.models import DirectoryEntry, StaffAccount
from portal.shapes import Answer, Shape, iso
from portal.shapes.common import Text


class AccountIn(Shape):
    """A new staff account: it has no password until its person follows the enrolment link."""

    email: str
    roles: list[str]
    name: Text = ""
    employee_id: Text = ""


class AccountChangeIn(Shape):
    """Roles to hold from now on, and whether the account is switched on; either may be left out."""

    roles: list[str] | None = None
    active: StrictBool | None = None


class AccountOut(Answer):
    """A staff account: its e-mail, roles and whether it is switched on."""

    id: str
    email: str
    roles: list[str]
    active: bool

    @classmethod
    def fields_of(cls, account: StaffAccount) -> dict[str, object]:
        return {
            "id": account.id,
            "email": account.email,
            "roles": sorted(account.role_names),
            "active": account.active,
        }

    @classmethod
    def of(cls, account: StaffAccount) -> AccountOut:
        return cls.model_validate(cls.fields_of(account))


class AccountMade(AccountOut):
    """A new account and its one-time enrolment link (shown once)."""

    enrolment_url: str


class EnrolmentIn(Shape):
    """The token of an enrolment link and the password its person chose."""

    token: Text = ""
    password: Text = ""


class Enrolled(Answer):
    """The TOTP secret to add to an authenticator, and the key code to compare with approvers."""

    totp_secret: str
    key_code: str | None


class ApprovalAccount(AccountOut):
    """The account an approval is about."""

    name: str | None


class ApprovalOut(Answer):
    """An account waiting for a key holder to approve its keys."""

    id: str
    account: ApprovalAccount
    reason: str
    channel: str | None
    requested_by: str | None
    requested_at: str | None
    key_code: str | None

    @classmethod
    def of(cls, view: ApprovalView) -> ApprovalOut:
        row = view.approval
        account = ApprovalAccount.model_validate(
            {**AccountOut.fields_of(view.account), "name": view.account.name}
        )
        return cls(
            id=row.id,
            account=account,
            reason=row.reason,
            channel=row.channel_id,
            requested_by=view.requested_by.email if view.requested_by else None,
            requested_at=iso(row.requested_at),
            key_code=view.key_code,
        )


class Approvals(RootModel[list[ApprovalOut]]):
    """Accounts waiting for this key holder's approval."""


class ApprovalDecided(Answer):
    """An approval's decision; ``keys`` counts the keys granted on approval."""

    id: str
    status: str
    keys: int | None = None


class ClaimEntry(Answer):
    """A directory entry a claim names (its name and e-mail when the directory still has it)."""

    employee_id: str
    name: str | None
    email: str | None
    department: str | None

    @classmethod
    def of(cls, employee_id: str, entry: DirectoryEntry | None) -> ClaimEntry:
        return cls(
            employee_id=employee_id,
            name=entry.name if entry else None,
            email=entry.email if entry else None,
            department=entry.department if entry else None,
        )


class ClaimOut(Answer):
    """An admin's directory change waiting for a key holder: ``link`` says the account is the
    entry, ``edge`` that the entry reports to the manager; ``concerns`` are the accounts it
    keeps away from cases about the entry (by e-mail)."""

    id: str
    kind: str
    account: str | None
    entry: ClaimEntry
    manager: ClaimEntry | None
    made_by: str | None
    made_at: str | None
    concerns: list[str]
    may_confirm: bool = Field(
        default=True,
        description="false: you may refuse this change but not confirm it (your account and "
        "the admin's who made it are related: one made, changed or approved the other's)",
    )

    @classmethod
    def of(cls, view: ClaimView) -> ClaimOut:
        row = view.claim
        manager = row.manager_employee_id
        return cls(
            id=row.id,
            kind=row.kind,
            account=view.account.email if view.account else None,
            entry=ClaimEntry.of(row.employee_id, view.entry),
            manager=ClaimEntry.of(manager, view.manager) if manager else None,
            made_by=view.made_by.email if view.made_by else None,
            made_at=iso(row.made_at),
            concerns=[p.email for p in view.concerns],
            may_confirm=view.may_confirm,
        )


class Claims(RootModel[list[ClaimOut]]):
    """Directory claims waiting for this key holder's decision."""


class ClaimDecided(Answer):
    """A claim's decision; ``queued`` counts the keys owed again after a refusal."""

    id: str
    status: str
    queued: int | None = None

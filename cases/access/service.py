"""Keeping keys in step with the policy: recusal, new subjects, directory changes.

The policy (cases/access/policy.py) is evaluated live on every request, so a change takes
effect at once for listing and reading. This module also removes the wrapped keys of
anyone the policy now excludes, so the exclusion holds cryptographically too.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cases.access.matching import Matcher
from cases.access.names import staff_hash
from cases.access.policy import eligible, may_see
from cases.audit.service import Actor, AuditLog
from cases.clock import Clock
from cases.db import server_secret_of
from cases.errors import Conflict, Forbidden, Invalid
from cases.org.models import Category, Channel
from cases.org.service import OrgService
from cases.principals import StaffPrincipal
from cases.reports.intake import IntakeConfig, IntakeService, SubjectInput
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import Case, CaseExclusion, CaseSubject, KeyWrap, PendingGrant
from cases.reports.sealing import SUBJECT, open_json
from cases.staff.directory import entries_by_hash
from cases.staff.models import DirectoryEntry, StaffAccount
from cases.staff.roles import CASE_READERS, POLICY_ROLES, require_roles


@dataclass(frozen=True)
class Revocation:
    staff_id: str
    reason: str


@dataclass(frozen=True)
class SubjectRow:
    """One stored subject row: as typed, and the directory entry it was matched to, if any."""

    id: str
    name: str
    employee_id: str
    needs_confirmation: bool
    matched_by: str
    entry_name: str
    entry_department: str


class AccessService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.keys = KeyRing(db, audit, audit.server_secret)

    def recuse(self, principal: StaffPrincipal, case: Case) -> None:
        """Step away from a case (conflict of interest); refused for its last key holder."""
        require_roles(principal, POLICY_ROLES)
        holders = self.keys.staff_holders(case.id, CASE)
        if holders == [principal.id]:
            raise Conflict(
                "You are the only person who can open this case. Ask a colleague to be "
                "given access first.",
                code="last_key_holder",
            )
        self.db.add(CaseExclusion(case_id=case.id, staff_id=principal.id, reason="recused"))
        self._drop_keys(case.id, principal.id)
        self.audit.record(principal.actor, "case.recused", case_id=case.id)

    def add_subject(
        self,
        principal: StaffPrincipal,
        case: Case,
        case_key: bytes,
        subject: SubjectInput,
        config: IntakeConfig,
    ) -> list[Revocation]:
        """An investigator names a further person; whoever that excludes loses access now."""
        require_roles(principal, CASE_READERS)
        if not may_see(self.db, principal.account, case):
            raise Forbidden("You cannot change this case.")
        employee_id = subject.employee_id.strip()
        matcher = Matcher(self.db, config.server_secret)
        if employee_id and "@" not in employee_id and not matcher.is_known_id(employee_id):
            raise Invalid(
                "Nobody in the staff directory has that employee ID. Check it, or leave it empty.",
                fields={"employee_id": "unknown_employee"},
            )
        # The report's text was scanned at filing; a person named now is only what was typed.
        IntakeService(self.db, self.clock, config).record_subjects(
            case, case_key, [subject], scan_text=False
        )
        self.db.flush()
        self.audit.record(principal.actor, "case.subject_added", case_id=case.id)
        return self.enforce(case)

    def subjects(self, case: Case, case_key: bytes) -> list[SubjectRow]:
        """Every subject row, so an investigator can see the candidates of an ambiguous name."""
        rows = list(
            self.db.scalars(
                select(CaseSubject).where(CaseSubject.case_id == case.id).order_by(CaseSubject.id)
            )
        )
        # Candidates a directory change found carry no sealed copy: their group's first does.
        typed: dict[str, dict[str, str]] = {}
        for row in rows:
            if row.sealed:
                typed.setdefault(row.group_id or row.id, self._typed(case, case_key, row))
        hashes = {row.directory_hash for row in rows if row.directory_hash is not None}
        secret = server_secret_of(self.db)
        entries = entries_by_hash(self.db, secret, hashes)
        accounts = self._accounts_by_hash(secret, hashes - set(entries))
        return [
            self._subject_row(row, typed.get(row.group_id or row.id, {}), entries, accounts)
            for row in rows
        ]

    def _accounts_by_hash(self, secret: bytes, hashes: set[str]) -> dict[str, StaffAccount]:
        """The portal accounts behind subject hashes the directory does not explain."""
        if not hashes:
            return {}
        found = {}
        for account in self.db.scalars(select(StaffAccount)):
            hashed = staff_hash(secret, account.id)
            if hashed in hashes:
                found[hashed] = account
        return found

    def confirm_subject(
        self, principal: StaffPrincipal, case: Case, case_key: bytes, subject_id: str
    ) -> list[Revocation]:
        """Settle an ambiguous name: keep the chosen candidate, reject the others.

        Only someone who may see the case (so not a candidate, nor above one) decides. The
        rejected candidates stop being excluded; they are not given the key by this (an
        investigator assigns them if they should work on the case).
        """
        require_roles(principal, CASE_READERS)
        chosen = self._candidate(principal, case, subject_id)
        typed = self._typed(case, case_key, chosen) if chosen.sealed else None
        for row in self._unconfirmed(case.id):
            same = row.group_id == chosen.group_id if chosen.group_id else None
            if same is None:
                same = bool(row.sealed) and self._typed(case, case_key, row) == typed
            if row.id != chosen.id and same:
                _reject(row)
        chosen.needs_confirmation = False
        chosen.matched_by = "confirmed"
        self.db.flush()
        self.audit.record(
            principal.actor,
            "case.subject_confirmed",
            case_id=case.id,
            detail={"subject": chosen.id},
        )
        return self.enforce(case)

    def reject_subject(
        self, principal: StaffPrincipal, case: Case, subject_id: str
    ) -> list[Revocation]:
        """Not this person: the candidate stops being excluded (and gains no key by it)."""
        require_roles(principal, CASE_READERS)
        chosen = self._candidate(principal, case, subject_id)
        _reject(chosen)
        self.db.flush()
        self.audit.record(
            principal.actor, "case.subject_rejected", case_id=case.id, detail={"subject": chosen.id}
        )
        return self.enforce(case)

    def _candidate(self, principal: StaffPrincipal, case: Case, subject_id: str) -> CaseSubject:
        """A candidate row of this case; the caller's role was checked, so here only that a
        candidate (or someone above one) never settles their own match."""
        if not may_see(self.db, principal.account, case):
            raise Forbidden("You cannot decide who this case names.")
        chosen = self.db.get(CaseSubject, subject_id) if len(subject_id) <= 64 else None
        if chosen is None or chosen.case_id != case.id or not chosen.needs_confirmation:
            raise Invalid(
                "Choose one of the people listed for a name that needs confirming.",
                fields={"subject": "unknown_candidate"},
            )
        return chosen

    def _unconfirmed(self, case_id: str) -> list[CaseSubject]:
        stmt = select(CaseSubject).where(
            CaseSubject.case_id == case_id, CaseSubject.needs_confirmation.is_(True)
        )
        return list(self.db.scalars(stmt))

    def _typed(self, case: Case, case_key: bytes, row: CaseSubject) -> dict[str, str]:
        value = open_json(case_key, case.id, SUBJECT, row.id, row.sealed)
        return {k: str(v) for k, v in value.items()}

    def _subject_row(
        self,
        row: CaseSubject,
        typed: dict[str, str],
        entries: dict[str, DirectoryEntry],
        accounts: dict[str, StaffAccount],
    ) -> SubjectRow:
        entry = entries.get(row.directory_hash) if row.directory_hash is not None else None
        account = accounts.get(row.directory_hash) if row.directory_hash is not None else None
        if entry is None and account is not None:
            # A portal account the directory does not know: shown by its name and e-mail.
            return SubjectRow(
                id=row.id,
                name=typed.get("name", ""),
                employee_id=typed.get("employee_id", ""),
                needs_confirmation=row.needs_confirmation,
                matched_by=row.matched_by,
                entry_name=account.name or account.email,
                entry_department=account.email,
            )
        return SubjectRow(
            id=row.id,
            name=typed.get("name", ""),
            employee_id=entry.employee_id if entry else typed.get("employee_id", ""),
            needs_confirmation=row.needs_confirmation,
            matched_by=row.matched_by,
            entry_name=entry.name if entry else "",
            entry_department=entry.department if entry else "",
        )

    def enforce(self, case: Case, *, itemised: bool = True) -> list[Revocation]:
        """Remove keys and pending grants of everyone the policy now excludes from this case.

        Unlike a voluntary removal this may take the last staff key: an excluded person must
        not keep it. The case then waits for the reporter's next visit, or the recovery
        key, to fulfil pending grants for the people who remain eligible.
        """
        revoked: list[Revocation] = []
        for staff in self._people_with_access(case.id):
            decision = may_see(self.db, staff, case)
            if not decision:
                self._drop_keys(case.id, staff.id)
                revoked.append(Revocation(staff.id, decision.reason))
        if revoked and itemised:
            # Auditors read this trail: naming who lost access, or why, would name the
            # accused (a subject or their manager). The count is all it says.
            self.audit.record(
                Actor.system(), "access.revoked", case_id=case.id, detail={"count": len(revoked)}
            )
        if revoked and not self.keys.staff_holders(case.id, CASE):
            self._queue_grants(case)
        return revoked

    def enforce_all(self) -> int:
        """Re-run the policy for every case someone holds a key to (after a directory import
        or an account linked to an employee id).

        The keys it removes are not itemised in the trail: beside the change that caused it
        (`admin.staff_linked` names the account, an import its rows), an entry per case would
        tell an auditor which case names that person or someone below them. The change's own
        entry is the record."""
        case_ids = set(
            self.db.scalars(select(KeyWrap.case_id).where(KeyWrap.staff_id.is_not(None)))
        )
        case_ids |= set(self.db.scalars(select(PendingGrant.case_id)))
        total = 0
        for case_id in sorted(case_ids):
            case = self.db.get(Case, case_id)
            if case is not None:
                total += len(self.enforce(case, itemised=False))
        return total

    def _people_with_access(self, case_id: str) -> list[StaffAccount]:
        wraps = select(KeyWrap.staff_id).where(KeyWrap.case_id == case_id)
        grants = select(PendingGrant.staff_id).where(PendingGrant.case_id == case_id)
        ids = {i for i in self.db.scalars(wraps) if i} | set(self.db.scalars(grants))
        people = (self.db.get(StaffAccount, staff_id) for staff_id in sorted(ids))
        return [person for person in people if person is not None]

    def _drop_keys(self, case_id: str, staff_id: str) -> None:
        self.db.execute(
            delete(KeyWrap).where(KeyWrap.case_id == case_id, KeyWrap.staff_id == staff_id)
        )
        self.db.execute(
            delete(PendingGrant).where(
                PendingGrant.case_id == case_id, PendingGrant.staff_id == staff_id
            )
        )

    def _queue_grants(self, case: Case) -> None:
        channel = self.db.get(Channel, case.channel_id)
        category = self.db.get(Category, case.category_id)
        if channel is None or category is None:
            return
        recipients = OrgService(self.db).recipients(channel, category)
        for person in eligible(self.db, recipients, case):
            self.keys.request_grant(case.id, CASE, person.id, "policy_change")


def _reject(row: CaseSubject) -> None:
    """Kept (with its hash aside) so a later directory change does not propose it again."""
    row.rejected_hash = row.directory_hash
    row.directory_hash = None
    row.needs_confirmation = False
    row.matched_by = "rejected"

"""An admin's directory change that would keep someone away from cases is a claim
(docs/access.md, "An admin's directory change is a claim").

The directory's history only ever adds (migration 0025), so that no directory change lifts an
exclusion; the same permanence let an admin take a case from its whole team for good, by
linking each investigator to the accused's employee id for one request, or by uploading a
directory in which the accused reported to each of them. So what an admin's change adds to
the history and would keep an account away from cases leaves the history at once and becomes
a claim: a new link of an account to an entry the directory already knew (its e-mail or its
employee id was changed to point at it), or a new management edge below an account. A claim
counts for exclusion at once (cases/access/chains.py reads it beside the history), so the
accused's new manager still loses the case that instant. It enters the history only when a
key holder who is neither the admin who made it nor anyone it concerns confirms it; a refused
claim is deleted and routing re-run, so the team regains its cases at the next grant. A claim
today's directory still shows cannot be refused (the directory must be corrected first): one
key holder must not be able to hand the accused's true new manager the case.

Which changes are claims depends on the directory and the accounts alone, never on a case: the
admin cannot learn from a claim whether someone is accused. The command line (`portal
directory import`, `portal user add`) is the operator's trusted path and makes no claim.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from cases.access.chains import EDGE, LINK, all_links, chain_tree, entries_below
from cases.access.eligibility import CASE_ROLES
from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.db import new_id
from cases.errors import Conflict, Forbidden, NotFound
from cases.keytrust import claim_standing, seal_claim
from cases.notify.service import NotifyConfig, Outbox
from cases.org.approvals import require_key_holder
from cases.org.routing import Routing
from cases.principals import StaffPrincipal
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import KeyWrap
from cases.retention.release import related
from cases.staff.models import (
    DirectoryClaim,
    DirectoryEdge,
    DirectoryEntry,
    DirectoryLink,
    StaffAccount,
    StaffRole,
)

STILL_SHOWN = (
    "The directory still says this. Refuse it once the directory is corrected, or confirm it."
)
NOT_YOURS = (
    "Only a key holder whom this change does not concern may decide, never the admin who made it."
)
RELATED_TO_MAKER = (
    "You may refuse this change but not confirm it: one of you made, changed or approved the "
    "other's account, so a key holder independent of the admin who made it must confirm."
)
_LINKS = select(DirectoryLink.staff_id, DirectoryLink.employee_id)
_EDGES = select(DirectoryEdge.employee_id, DirectoryEdge.manager_employee_id)
_TREE = chain_tree()
_CHAINS = select(_TREE.c.staff_id, _TREE.c.employee_id)
_BELOW = entries_below()
_SUBTREE = select(_BELOW.c.employee_id)
_OWN = all_links()
_OWNERS = select(_OWN.c.staff_id).where(_OWN.c.employee_id.in_(_SUBTREE)).distinct()
_OWN_OF = select(_OWN.c.staff_id).where(_OWN.c.employee_id.in_(bindparam("ids", expanding=True)))


@dataclass(frozen=True)
class HistoryMark:
    """The directory's history before an admin's change, and every employee id it knew."""

    links: frozenset[tuple[str, str]]
    edges: frozenset[tuple[str, str]]
    known: frozenset[str]


@dataclass(frozen=True)
class ClaimView:
    claim: DirectoryClaim
    account: StaffAccount | None
    entry: DirectoryEntry | None
    manager: DirectoryEntry | None
    made_by: StaffAccount | None
    # The accounts it keeps away from what the entry's reports name (at or above the entry).
    concerns: list[StaffAccount]
    # Whether the viewer may confirm it too (not only refuse): not related to its maker.
    may_confirm: bool = True


def mark(db: Session) -> HistoryMark:
    """Taken before an admin's change, so that `ClaimService.record` sees what it added."""
    db.flush()
    links = frozenset((s, e) for s, e in db.execute(_LINKS))
    edges = frozenset((e, m) for e, m in db.execute(_EDGES))
    claimed = db.execute(select(DirectoryClaim.employee_id, DirectoryClaim.manager_employee_id))
    known = set(db.scalars(select(DirectoryEntry.employee_id)))
    known.update(e for _, e in links)
    known.update(i for edge in edges for i in edge)
    known.update(i for row in claimed for i in row if i)
    return HistoryMark(links, edges, frozenset(known))


class ClaimService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog, notify: NotifyConfig) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit
        self.notify = notify
        self.keys = KeyRing(db, audit, audit.server_secret)

    # --- made by an admin's change ----------------------------------------------------------

    def record(self, me: StaffPrincipal, before: HistoryMark) -> list[DirectoryClaim]:
        """Turn what the admin's change added to the history, and would keep an account away,
        into claims; tell who may decide them.

        A link to an entry the directory never knew (a new hire's row with the account's
        e-mail) is proven by the e-mail and stays; so does an edge with no account at or above
        its manager, which keeps nobody away. Everything else that is new is claimed."""
        self.db.flush()
        links = {(s, e) for s, e in self.db.execute(_LINKS) if e in before.known}
        edges = {(e, m) for e, m in self.db.execute(_EDGES)} - before.edges
        links -= before.links
        if edges:
            reach = {e for _, e in self._chains(self._account_ids())}
            edges = {(e, m) for e, m in edges if m in reach}
        made = [self._claim(me, LINK, e, staff_id=s) for s, e in sorted(links)]
        made += [self._claim(me, EDGE, e, manager=m) for e, m in sorted(edges)]
        fresh = [c for c in made if c is not None]
        if fresh:
            self._tell_deciders(fresh)
            self.audit.record(
                me.actor,
                "directory.claimed",
                detail={"claims": [c.id for c in fresh], "links": len(links), "edges": len(edges)},
            )
        return fresh

    def _claim(
        self,
        me: StaffPrincipal,
        kind: str,
        employee_id: str,
        *,
        staff_id: str | None = None,
        manager: str | None = None,
    ) -> DirectoryClaim | None:
        """Move one added row out of the history into a claim (one claim per row: a second
        change that adds it again while it waits makes none)."""
        if kind == LINK:
            self.db.execute(
                delete(DirectoryLink).where(
                    DirectoryLink.staff_id == staff_id, DirectoryLink.employee_id == employee_id
                )
            )
        else:
            self.db.execute(
                delete(DirectoryEdge).where(
                    DirectoryEdge.employee_id == employee_id,
                    DirectoryEdge.manager_employee_id == manager,
                )
            )
        waiting = select(DirectoryClaim.id).where(
            DirectoryClaim.kind == kind,
            DirectoryClaim.employee_id == employee_id,
            DirectoryClaim.staff_id.is_(None)
            if staff_id is None
            else DirectoryClaim.staff_id == staff_id,
            DirectoryClaim.manager_employee_id.is_(None)
            if manager is None
            else DirectoryClaim.manager_employee_id == manager,
        )
        if self.db.scalars(waiting).first() is not None:
            return None
        row = DirectoryClaim(
            id=new_id(),
            kind=kind,
            staff_id=staff_id,
            employee_id=employee_id,
            manager_employee_id=manager,
            made_by=me.id,
            made_at=self.clock.now(),
            status="pending",
        )
        seal_claim(self.audit.server_secret, row)
        self.db.add(row)
        self.db.flush()
        return row

    def _tell_deciders(self, claims: list[DirectoryClaim]) -> None:
        outbox = Outbox(self.db, self.clock, self.notify)
        people = {p.id: p for c in claims for p in self.deciders(c)}
        for person in people.values():
            outbox.notify(person, "approval", f"claim:{claims[0].id}:{person.id}")

    # --- decided by a key holder ------------------------------------------------------------

    def deciders(self, claim: DirectoryClaim) -> list[StaffAccount]:
        """Active case-key holders whose keys are not withheld, less the admin who made the
        claim and everyone it concerns: the account linked, whoever sits at or above the entry
        (the claim keeps them away), and whoever sits at or below it (the people the claim
        keeps those away from)."""
        barred = {claim.made_by, *(p.id for p in self._concerned(claim))}
        barred |= set(self.db.scalars(_OWNERS, {"tops": [claim.employee_id]}))
        barred |= set(self.db.scalars(_OWN_OF, {"ids": [claim.employee_id]}))
        holders = select(KeyWrap.staff_id).where(
            KeyWrap.key_kind == CASE, KeyWrap.staff_id.is_not(None)
        )
        stmt = (
            select(StaffAccount)
            .join(StaffRole, StaffRole.staff_id == StaffAccount.id)
            .where(
                StaffAccount.active.is_(True),
                StaffRole.role.in_(sorted(CASE_ROLES)),
                StaffAccount.id.in_(holders),
            )
            .distinct()
            .order_by(StaffAccount.id)
        )
        return [
            p for p in self.db.scalars(stmt) if p.id not in barred and not self.keys.withheld(p.id)
        ]

    def pending(self, principal: StaffPrincipal) -> list[ClaimView]:
        """The claims this key holder may decide, oldest first."""
        require_key_holder(principal)
        stmt = select(DirectoryClaim).order_by(DirectoryClaim.made_at, DirectoryClaim.id)
        return [
            self._view(row, principal.id)
            for row in self.db.scalars(stmt)
            if claim_standing(self.audit.server_secret, row) == "pending"
            and any(p.id == principal.id for p in self.deciders(row))
        ]

    def may_confirm(self, claim: DirectoryClaim, account_id: str) -> bool:
        """Whether this decider may confirm: not related to the admin who made the claim.

        Related, either way and at any depth (cases/retention/release.py): an account the admin
        made (they hold its enrolment link, so may have enrolled it themselves), reset, gave a
        role or approved could be their puppet, even once an honest key holder approved it for
        keys in good faith; a confirmation by it would keep the team away for good. Refusing
        stays open to it: a refusal only gives cases back, and the admin who made every account
        on the web must not leave the team's cases taken because nobody may refuse."""
        return claim.made_by is None or not related(self.db, account_id, claim.made_by)

    def confirm(self, principal: StaffPrincipal, claim_id: str) -> None:
        """Confirm: the link or edge enters the directory's history for good."""
        row = self._decidable(principal, claim_id)
        if not self.may_confirm(row, principal.id):
            raise Forbidden(RELATED_TO_MAKER, code="related_to_maker")
        if row.kind == LINK and row.staff_id is not None:
            if self.db.get(DirectoryLink, (row.staff_id, row.employee_id)) is None:
                self.db.add(DirectoryLink(staff_id=row.staff_id, employee_id=row.employee_id))
        elif row.manager_employee_id is not None:
            key = (row.employee_id, row.manager_employee_id)
            if self.db.get(DirectoryEdge, key) is None:
                self.db.add(
                    DirectoryEdge(
                        employee_id=row.employee_id, manager_employee_id=row.manager_employee_id
                    )
                )
        row.status = "confirmed"
        row.decided_by = principal.id
        row.decided_at = self.clock.now()
        seal_claim(self.audit.server_secret, row)
        self.db.flush()
        self.audit.record(
            principal.actor,
            "directory.claim_confirmed",
            detail={"claim": row.id, "kind": row.kind, "made_by": row.made_by},
        )

    def refuse(self, principal: StaffPrincipal, claim_id: str) -> int:
        """Refuse: the claim is forgotten and routing re-run for everyone who reads cases, so
        whoever it kept away is owed their cases' keys again (pending grants, fulfilled by a
        key holder's next session or the reporter's next visit). Returns the grants queued."""
        row = self._decidable(principal, claim_id)
        if self._still_shown(row):
            # Else one key holder could hand the accused's true new manager the case.
            raise Conflict(STILL_SHOWN, code="claim_still_shown")
        detail = {"claim": row.id, "kind": row.kind, "made_by": row.made_by}
        self.db.delete(row)
        self.db.flush()
        routing = Routing(self.db, self.keys)
        queued = sum(routing.queue_for(p, "claim_refused") for p in self._case_readers())
        self.keys.fulfil_as_staff(principal)
        self.audit.record(
            principal.actor, "directory.claim_refused", detail={**detail, "queued": queued}
        )
        return queued

    def _decidable(self, principal: StaffPrincipal, claim_id: str) -> DirectoryClaim:
        require_key_holder(principal)
        row = (
            self.db.get(DirectoryClaim, claim_id, with_for_update=True)
            if len(claim_id) <= 64
            else None
        )
        standing = claim_standing(self.audit.server_secret, row) if row is not None else None
        if row is None or standing is None:
            # A row the portal did not write is nobody's to decide (it keeps excluding).
            raise NotFound("There is no such claim.", code="claim_not_found")
        if not any(p.id == principal.id for p in self.deciders(row)):
            raise Forbidden(NOT_YOURS, code="not_a_decider")
        if standing != "pending":
            raise Conflict("This claim was already decided.", code="already_decided")
        # A confirmation set behind the portal's back is no decision: the claim is pending.
        row.status, row.decided_by, row.decided_at = "pending", None, None
        return row

    # --- reading ----------------------------------------------------------------------------

    def _still_shown(self, claim: DirectoryClaim) -> bool:
        """Today's directory still links the account to the entry, or the entry to the
        manager: the claim is then what the directory says, not only what the admin did."""
        entry = self._entry(claim.employee_id)
        if claim.kind == EDGE:
            return entry is not None and entry.manager_employee_id == claim.manager_employee_id
        account = self.db.get(StaffAccount, claim.staff_id) if claim.staff_id else None
        if account is None:
            return False
        return account.employee_id == claim.employee_id or (
            entry is not None and entry.email is not None and entry.email == account.email
        )

    def _entry(self, employee_id: str | None) -> DirectoryEntry | None:
        if employee_id is None:
            return None
        stmt = select(DirectoryEntry).where(DirectoryEntry.employee_id == employee_id)
        return self.db.scalars(stmt).first()

    def _concerned(self, claim: DirectoryClaim) -> list[StaffAccount]:
        """The accounts whose chain holds the claim's entry: it keeps them away."""
        ids = self._account_ids()
        holding = {s for s, e in self._chains(ids) if e == claim.employee_id}
        if claim.staff_id is not None:
            holding.add(claim.staff_id)
        people = (self.db.get(StaffAccount, i) for i in sorted(holding))
        return [p for p in people if p is not None]

    def _account_ids(self) -> list[str]:
        return list(self.db.scalars(select(StaffAccount.id)))

    def _chains(self, ids: list[str]) -> list[tuple[str, str]]:
        if not ids:
            return []
        return [(s, e) for s, e in self.db.execute(_CHAINS, {"ids": ids})]

    def _case_readers(self) -> list[StaffAccount]:
        stmt = (
            select(StaffAccount)
            .join(StaffRole, StaffRole.staff_id == StaffAccount.id)
            .where(StaffAccount.active.is_(True), StaffRole.role.in_(sorted(CASE_ROLES)))
            .distinct()
            .order_by(StaffAccount.id)
        )
        return list(self.db.scalars(stmt))

    def _view(self, row: DirectoryClaim, viewer: str) -> ClaimView:
        return ClaimView(
            claim=row,
            account=self.db.get(StaffAccount, row.staff_id) if row.staff_id else None,
            entry=self._entry(row.employee_id),
            manager=self._entry(row.manager_employee_id),
            made_by=self.db.get(StaffAccount, row.made_by),
            concerns=self._concerned(row),
            may_confirm=self.may_confirm(row, viewer),
        )


__all__ = ["ClaimService", "ClaimView", "HistoryMark", "mark"]

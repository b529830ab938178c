"""Routing as staff change: someone who becomes a recipient gets the open cases they should.

A new investigator (with no team set, every investigator is the team), a new team member,
a role added or an account switched back on: each is owed the keys of the open cases the
routing sends them and the access policy allows. Those arrive as pending grants, which a
key holder's next session (or the reporter's next visit) fulfils.
"""

from __future__ import annotations

from sqlalchemy import and_, exists, select
from sqlalchemy.orm import Session

from cases.access.policy import allowed_condition
from cases.org.models import Channel
from cases.org.service import OrgService
from cases.reports.keys import CASE, KeyRing
from cases.reports.models import Case, KeyWrap, PendingGrant, Status
from cases.staff.models import StaffAccount

# Concluded cases still have work (feedback, rewards); closed ones are not handed out anew.
OPEN = (Status.NEW, Status.ACKNOWLEDGED, Status.INVESTIGATING, Status.CONCLUDED)


class Routing:
    def __init__(self, db: Session, keys: KeyRing) -> None:
        self.db = db
        self.org = OrgService(db)
        self.keys = keys

    def recipient_categories(self, person: StaffAccount) -> list[str]:
        """The categories (of every channel) whose new reports this person would receive."""
        found = []
        for channel in self.db.scalars(select(Channel)):
            for category in channel.categories:
                if any(p.id == person.id for p in self.org.recipients(channel, category)):
                    found.append(category.id)
        return found

    def queue_for(self, person: StaffAccount, reason: str) -> int:
        """Pending grants for every open case routed to this person that they may see.

        None while their keys are withheld (an admin's change awaiting a key holder).
        """
        if self.keys.withheld(person.id):
            return 0
        categories = self.recipient_categories(person)
        if not categories:
            return 0
        has_key = exists().where(
            KeyWrap.case_id == Case.id, KeyWrap.staff_id == person.id, KeyWrap.key_kind == CASE
        )
        waiting = exists().where(
            PendingGrant.case_id == Case.id,
            PendingGrant.staff_id == person.id,
            PendingGrant.key_kind == CASE,
        )
        stmt = select(Case.id).where(
            and_(
                Case.status.in_([str(s) for s in OPEN]),
                Case.category_id.in_(categories),
                allowed_condition(person),
                ~has_key,
                ~waiting,
            )
        )
        case_ids = list(self.db.scalars(stmt))
        for case_id in case_ids:
            self.keys.request_grant(case_id, CASE, person.id, reason)
        return len(case_ids)

"""Saved views: a person's named case-list filters, theirs alone, holding no content.

What is stored is the canonical query string of CaseFilters (status, channel, category,
assignee, deadline, flood, received dates, sort): values an admin could read in any URL of
the list already. A search word is not a filter and cannot be saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cases.clock import Clock
from cases.errors import Conflict, Invalid, NotFound
from cases.principals import StaffPrincipal
from cases.staff.roles import POLICY_ROLES, require_roles
from cases.workflow.listing import CaseFilters
from cases.workflow.models import SavedView

NAME_MAX = 80
MAX_VIEWS = 50


@dataclass(frozen=True)
class View:
    id: str
    name: str
    filters: CaseFilters

    @property
    def query(self) -> str:
        return urlencode(self.filters.to_params())


class SavedViews:
    def __init__(self, db: Session, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    def list(self, principal: StaffPrincipal) -> list[View]:
        require_roles(principal, POLICY_ROLES)
        stmt = select(SavedView).where(SavedView.staff_id == principal.id).order_by(SavedView.name)
        return [_view(row) for row in self.db.scalars(stmt)]

    def save(self, principal: StaffPrincipal, name: str, filters: CaseFilters) -> View:
        """Store these filters under a name (replacing this person's view of that name)."""
        require_roles(principal, POLICY_ROLES)
        label = " ".join(name.split())
        if not label:
            raise Invalid("Give the view a name.", fields={"name": "required"})
        if len(label) > NAME_MAX:
            raise Invalid("That name is too long.", fields={"name": "too_long"})
        query = urlencode(filters.to_params())
        stmt = select(SavedView).where(SavedView.staff_id == principal.id, SavedView.name == label)
        row = self.db.scalars(stmt).first()
        if row is None:
            if self._count(principal) >= MAX_VIEWS:
                raise Conflict("You have saved as many views as allowed.", code="too_many_views")
            row = SavedView(staff_id=principal.id, name=label, created_at=self.clock.now())
            self.db.add(row)
        row.filters = query
        self.db.flush()
        return _view(row)

    def delete(self, principal: StaffPrincipal, view_id: str) -> None:
        """Remove one of this person's views; anyone else's is not found."""
        require_roles(principal, POLICY_ROLES)
        row = self.db.get(SavedView, view_id) if len(view_id) <= 64 else None
        if row is None or row.staff_id != principal.id:
            raise NotFound("There is no such view.", code="view_not_found")
        self.db.delete(row)
        self.db.flush()

    def _count(self, principal: StaffPrincipal) -> int:
        stmt = select(func.count()).where(SavedView.staff_id == principal.id)
        return int(self.db.scalar(stmt) or 0)


def _view(row: SavedView) -> View:
    return View(row.id, row.name, CaseFilters.from_params(dict(parse_qsl(row.filters))))


__all__ = ["MAX_VIEWS", "SavedViews", "View"]

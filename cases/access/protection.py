"""Protecting reporters from retaliation: risk assessments and follow-up of measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.access.models import ProtectiveMeasure, RiskAssessment
from cases.access.policy import may_see
from cases.audit.service import AuditLog
from cases.clock import Clock
from cases.db import new_id
from cases.errors import Conflict, Invalid, NotFound
from cases.principals import StaffPrincipal
from cases.reports.models import Case
from cases.reports.sealing import open_json, seal_json
from cases.staff.roles import CASE_READERS, require_roles

LIKELIHOODS = ("low", "medium", "high")
TEXT_MAX = 4000
RISK = "risk-assessment"
MEASURE = "protective-measure"


@dataclass(frozen=True)
class AssessmentView:
    likelihood: str
    who: str
    measures: str
    assessed_by: str
    assessed_at: str


@dataclass(frozen=True)
class MeasureView:
    id: str
    description: str
    follow_up_on: date
    status: str


class ProtectionService:
    def __init__(self, db: Session, clock: Clock, audit: AuditLog) -> None:
        self.db = db
        self.clock = clock
        self.audit = audit

    def assess(
        self,
        principal: StaffPrincipal,
        case: Case,
        case_key: bytes,
        *,
        likelihood: str,
        who: str,
        measures: str,
    ) -> RiskAssessment:
        """Record (or update, as a new row) the retaliation-risk assessment at triage."""
        self._check(principal, case)
        errors = {}
        if likelihood not in LIKELIHOODS:
            errors["likelihood"] = "invalid"
        for name, text in (("who", who), ("measures", measures)):
            if len(text) > TEXT_MAX:
                errors[name] = "too_long"
        if errors:
            raise Invalid(fields=errors)
        row = RiskAssessment(
            id=new_id(),
            case_id=case.id,
            likelihood=likelihood,
            assessed_by=principal.id,
            assessed_at=self.clock.now(),
        )
        row.sealed = seal_json(
            case_key, case.id, RISK, row.id, {"who": who.strip(), "measures": measures.strip()}
        )
        self.db.add(row)
        self.db.flush()
        self.audit.record(
            principal.actor, "risk.assessed", case_id=case.id, detail={"likelihood": likelihood}
        )
        return row

    def latest(self, case: Case, case_key: bytes) -> AssessmentView | None:
        row = self.db.scalars(
            select(RiskAssessment)
            .where(RiskAssessment.case_id == case.id)
            .order_by(RiskAssessment.assessed_at.desc())
        ).first()
        if row is None:
            return None
        value = open_json(case_key, case.id, RISK, row.id, row.sealed)
        return AssessmentView(
            row.likelihood,
            str(value["who"]),
            str(value["measures"]),
            row.assessed_by,
            row.assessed_at.isoformat(timespec="minutes"),
        )

    def add_measure(
        self,
        principal: StaffPrincipal,
        case: Case,
        case_key: bytes,
        *,
        description: str,
        follow_up_on: date,
    ) -> ProtectiveMeasure:
        """A protective measure whose follow-up date keeps reminding after the case closes."""
        self._check(principal, case)
        description = description.strip()
        if not description or len(description) > TEXT_MAX:
            raise Invalid(fields={"description": "required" if not description else "too_long"})
        # A day of slack: the UTC date may trail the organisation's local date.
        if follow_up_on < self.clock.now().date() - timedelta(days=1):
            raise Invalid(fields={"follow_up_on": "in_past"})
        row = ProtectiveMeasure(
            id=new_id(),
            case_id=case.id,
            follow_up_on=follow_up_on,
            created_by=principal.id,
            created_at=self.clock.now(),
        )
        row.sealed = seal_json(case_key, case.id, MEASURE, row.id, {"description": description})
        self.db.add(row)
        self.db.flush()
        self.audit.record(principal.actor, "measure.added", case_id=case.id)
        return row

    def complete_measure(self, principal: StaffPrincipal, case: Case, measure_id: str) -> None:
        self._check(principal, case)
        row = self.db.get(ProtectiveMeasure, measure_id)
        if row is None or row.case_id != case.id:
            raise NotFound
        if row.status == "done":
            raise Conflict("This measure is already marked done.")
        row.status = "done"
        row.closed_at = self.clock.now()
        self.audit.record(principal.actor, "measure.completed", case_id=case.id)

    def measures(self, case: Case, case_key: bytes) -> list[MeasureView]:
        rows = self.db.scalars(
            select(ProtectiveMeasure)
            .where(ProtectiveMeasure.case_id == case.id)
            .order_by(ProtectiveMeasure.follow_up_on)
        )
        return [
            MeasureView(
                row.id,
                str(open_json(case_key, case.id, MEASURE, row.id, row.sealed)["description"]),
                row.follow_up_on,
                row.status,
            )
            for row in rows
        ]

    def due(self, today: date) -> list[ProtectiveMeasure]:
        """Open measures whose follow-up day has come, whatever the case's status."""
        stmt = select(ProtectiveMeasure).where(
            ProtectiveMeasure.status == "open", ProtectiveMeasure.follow_up_on <= today
        )
        return list(self.db.scalars(stmt))

    def _check(self, principal: StaffPrincipal, case: Case) -> None:
        require_roles(principal, CASE_READERS)
        if not may_see(self.db, principal.account, case):
            raise NotFound

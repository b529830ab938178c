"""Moving a case through its statuses: rules checked, history sealed, deadlines kept, audited."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.audit.service import AuditLog
from cases.clock import Clock, local_day
from cases.db import new_id
from cases.deadlines import feedback_by
from cases.org.models import Channel
from cases.principals import StaffPrincipal
from cases.reports.models import Case, CaseEvent, Status
from cases.reports.sealing import EVENT_REASON, seal_text
from cases.rewards.models import Reward, RewardStatus
from cases.staff.roles import CASE_READERS, require_roles
from cases.workflow.rules import check_transition, due_on
from cases.workflow.second_reader import CONCLUDED, await_second_reader, reopened, unfounded

# Rewards a reopen puts on hold: every one not yet refused, declined, expired or paid.
HELD = (RewardStatus.PROPOSED, RewardStatus.APPROVED, RewardStatus.ACCEPTED)


@dataclass(frozen=True)
class WorkflowConfig:
    zone: ZoneInfo
    server_secret: bytes


class WorkflowService:
    def __init__(self, db: Session, clock: Clock, config: WorkflowConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config

    def transition(
        self,
        principal: StaffPrincipal,
        case: Case,
        case_key: bytes,
        target: str,
        reason: str,
        outcome: str | None = None,
    ) -> CaseEvent:
        """Apply one allowed move; the caller has already opened the case key (so may see it)."""
        require_roles(principal, CASE_READERS)
        check_transition(case.status, target, outcome, reason)
        previous = case.status
        self._apply(case, target, outcome)
        event_id = new_id()
        event = CaseEvent(
            id=event_id,
            case_id=case.id,
            from_status=previous,
            to_status=target,
            outcome=case.outcome if target == Status.CONCLUDED else None,
            staff_id=principal.id,
            at=self.clock.now(),
            reason=seal_text(case_key, case.id, EVENT_REASON, event_id, reason.strip()),
        )
        self.db.add(event)
        audit = AuditLog(self.db, self.clock, self.config.server_secret)
        audit.record(
            principal.actor,
            "case.transition",
            case_id=case.id,
            detail={"from": previous, "to": target, "outcome": event.outcome},
        )
        if target == Status.INVESTIGATING:
            self._hold_rewards(principal, case, audit)
            reopened(audit, principal, case)
        if target == Status.CONCLUDED and unfounded(case.outcome):
            # Accepted, as the contract says, but one reader alone does not end it: it waits
            # for a second, unrelated one (cases/workflow/second_reader.py).
            await_second_reader(audit, principal, case, CONCLUDED, event.at)
        self.db.flush()
        return event

    def _hold_rewards(self, principal: StaffPrincipal, case: Case, audit: AuditLog) -> None:
        """A reopened case's open rewards wait (RewardService refuses every step while the case
        lacks a qualifying outcome); each hold is on the record for approvers and auditors."""
        stmt = select(Reward.id).where(Reward.case_id == case.id, Reward.status.in_(HELD))
        for reward_id in self.db.scalars(stmt):
            audit.record(
                principal.actor, "reward.on_hold", case_id=case.id, detail={"reward": reward_id}
            )

    def _apply(self, case: Case, target: str, outcome: str | None) -> None:
        today = local_day(self.clock.now(), self.config.zone)
        if target == Status.ACKNOWLEDGED:
            channel = self.db.get(Channel, case.channel_id)
            case.acknowledged_on = today
            case.feedback_by = feedback_by(
                case.submitted_on,
                today,
                acknowledge_days=channel.acknowledge_days if channel else 7,
                months=channel.feedback_months if channel else 3,
            )
        if target == Status.CONCLUDED:
            case.outcome = outcome
            case.concluded_on = today
        if target == Status.INVESTIGATING and case.concluded_on is not None:
            # A reopened case is no longer concluded; its outcome is decided again.
            case.outcome = None
            case.concluded_on = None
        # Retention counts from the last closing; a reopened case is no longer on its way out.
        # A case one reader alone ended as unfounded is not on its way out either: its months
        # count from the day a second reader agrees (cases/workflow/second_reader.py).
        closing = target == Status.CLOSED and case.unconfirmed_by is None
        case.closed_on = today if closing else None
        # The period in force when it closed stays the least it is kept (cases/retention),
        # and so does a longer one it was given when an admin cut the channel's period
        # (AdminService.update_channel): a reopened case keeps what it was promised.
        channel = self.db.get(Channel, case.channel_id) if target == Status.CLOSED else None
        if channel is not None:
            case.retention_months = max(case.retention_months or 0, channel.retention_months)
        case.status = target
        case.due_on = due_on(case)

"""The reward ledger for approvers, finance and auditors: rows, monthly totals, safe CSV.

The ledger holds only clear facts (amounts, statuses, dates); never payout details or
what anyone wrote. A case reference is shown only to someone the policy lets see the case.
Finance sees each payment without its case: no case id or reference, no recovered loss,
no dates of the case's reward decisions; only the payment id, status, amount and its own
payment (who is paid stays behind the payout key, on the desk).

A reward of a case the access policy keeps a reader away from (it names them, someone below
them, or excluded them) is not in their ledger at all: no row, no case id, not in the totals.
Otherwise the accused director who approves rewards would find a row without a reference,
which is exactly the case about him, with its recovered loss and its dates. Auditors hold
no policy role and read every reward, as they read every audit entry. A reward of a case
deleted under retention is for auditors only: its subjects went with it, so the policy could
no longer keep it from the people it named.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.access.policy import allowed_condition, may_see
from cases.clock import local_day
from cases.principals import StaffPrincipal
from cases.reports.models import Case
from cases.rewards.models import Reward, RewardPayment, RewardStatus
from cases.spreadsheet import csv_text
from cases.staff.models import Role
from cases.staff.roles import LEDGER_ROLES, POLICY_ROLES, require_roles

STATUSES = tuple(RewardStatus)
COLUMNS = (
    "reward",
    "case",
    "status",
    "currency",
    "recovered_loss_minor",
    "suggested_minor",
    "amount_minor",
    "proposed_on",
    "offered_on",
    "expires_on",
    "answered_on",
    "paid_on",
    "payment_reference",
)


FINANCE_COLUMNS = ("payment", "status", "currency", "amount_minor", "paid_on", "payment_reference")


@dataclass(frozen=True)
class LedgerRow:
    reward: Reward
    case_reference: str
    proposed_on: date
    payment: RewardPayment | None

    def cells(self, zone: ZoneInfo) -> list[str | int]:
        r, paid = self.reward, self.payment
        return [
            r.id,
            self.case_reference,
            r.status,
            r.currency,
            r.recovered_loss_minor,
            r.suggested_minor,
            r.amount_minor,
            self.proposed_on.isoformat(),
            _day(r.offered_on),
            _day(r.expires_on),
            _day(r.answered_on),
            local_day(paid.paid_at, zone).isoformat() if paid else "",
            paid.reference if paid else "",
        ]

    def finance_cells(self, zone: ZoneInfo) -> list[str | int]:
        """The row as finance sees it (FINANCE_COLUMNS): nothing that leads to the case."""
        r, paid = self.reward, self.payment
        return [
            r.id,
            r.status,
            r.currency,
            r.amount_minor,
            local_day(paid.paid_at, zone).isoformat() if paid else "",
            paid.reference if paid else "",
        ]


@dataclass
class MonthTotal:
    """Per month of proposal and currency: count and sum of amounts by status."""

    month: str
    currency: str
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    sums: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class Ledger:
    rows: list[LedgerRow]
    totals: list[MonthTotal]
    # Finance's view: rows carry no case link (case_reference is always empty then).
    for_finance: bool = False


def require_ledger_reader(principal: StaffPrincipal) -> None:
    require_roles(principal, LEDGER_ROLES)


def build_ledger(
    db: Session, principal: StaffPrincipal, zone: ZoneInfo, status: str | None = None
) -> Ledger:
    require_ledger_reader(principal)
    stmt = select(Reward, RewardPayment).outerjoin(
        RewardPayment, RewardPayment.reward_id == Reward.id
    )
    if status in STATUSES:
        stmt = stmt.where(Reward.status == status)
    if principal.account.role_names & POLICY_ROLES:
        # The policy's own SQL form: the same rule as the case list and every case URL. A case
        # deleted under retention has lost the subjects the rule reads, so it would show to
        # the people it named, reference and all: it is shown to no policy role (auditors only).
        stmt = stmt.join(Case, Case.id == Reward.case_id).where(
            allowed_condition(principal.account, db), Case.retention_deleted_on.is_(None)
        )
    finance = is_finance_view(principal)
    rows = [
        LedgerRow(
            reward,
            "" if finance else _reference(db, principal, reward),
            local_day(reward.proposed_at, zone),
            paid,
        )
        for reward, paid in db.execute(stmt.order_by(Reward.proposed_at.desc(), Reward.id))
    ]
    if finance:
        # Nothing of finance's view may follow the proposal: not the order of the rows, nor
        # the month its totals are counted in. Finance sees its own payments' days, so the
        # rows go newest payment first (then by payment id) and the totals by payment month;
        # a reward not paid yet is not in the totals.
        rows.sort(key=_finance_order)
        return Ledger(rows, payment_totals(rows, zone), finance)
    return Ledger(rows, month_totals(rows), finance)


def is_finance_view(principal: StaffPrincipal) -> bool:
    """Finance pays without learning which case: it gets the view without any case link."""
    return principal.has_role(Role.FINANCE)


def _reference(db: Session, principal: StaffPrincipal, reward: Reward) -> str:
    case = db.get(Case, reward.case_id)
    if case is None or not may_see(db, principal.account, case):
        return ""
    return case.reference


def month_totals(rows: Iterable[LedgerRow]) -> list[MonthTotal]:
    totals: dict[tuple[str, str], MonthTotal] = {}
    for row in rows:
        month = row.proposed_on.strftime("%Y-%m")
        total = totals.setdefault(
            (month, row.reward.currency), MonthTotal(month, row.reward.currency)
        )
        total.counts[row.reward.status] += 1
        total.sums[row.reward.status] += row.reward.amount_minor
    return [totals[k] for k in sorted(totals, reverse=True)]


def ledger_csv(ledger: Ledger, zone: ZoneInfo) -> str:
    header = FINANCE_COLUMNS if ledger.for_finance else COLUMNS
    cells = (r.finance_cells(zone) if ledger.for_finance else r.cells(zone) for r in ledger.rows)
    return csv_text(header, cells)


def _finance_order(row: LedgerRow) -> tuple[bool, float, str]:
    paid = row.payment
    return (paid is None, -paid.paid_at.timestamp() if paid else 0.0, row.reward.id)


def payment_totals(rows: Iterable[LedgerRow], zone: ZoneInfo) -> list[MonthTotal]:
    """Finance's totals: per month of its own payments and currency, paid rewards only."""
    totals: dict[tuple[str, str], MonthTotal] = {}
    for row in rows:
        if row.payment is None:
            continue
        month = local_day(row.payment.paid_at, zone).strftime("%Y-%m")
        total = totals.setdefault(
            (month, row.payment.currency), MonthTotal(month, row.payment.currency)
        )
        total.counts[row.reward.status] += 1
        total.sums[row.reward.status] += row.payment.amount_minor
    return [totals[k] for k in sorted(totals, reverse=True)]


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""

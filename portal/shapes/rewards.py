"""The rewards JSON shapes: proposals, decisions, payments, the finance desk and the ledger.

Amounts travel in as strings in major units ("1234.56") or integers, never JSON floats;
answers give integer minor units.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, RootModel, StrictBool, WithJsonSchema
from pydantic_core import PydanticCustomError

from cases.rewards.ledger import FINANCE_COLUMNS, Ledger, LedgerRow, MonthTotal
from cases.rewards.models import Reward, RewardPayment
from cases.rewards.service import PayoutView, Proposal, RewardView
from portal.shapes import Answer, Shape
from portal.shapes.common import Text


def _amount_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        # A float is not exact, so it is not an amount: the field's code is "amount".
        raise PydanticCustomError("code:amount", 'Give amounts as a string such as "1234.56".')
    return str(value)


# An amount in major units: "1234.56" or 1234; absent or null is "" (the domain decides).
Amount = Annotated[
    str,
    BeforeValidator(_amount_text),
    WithJsonSchema(
        {"type": ["string", "integer", "null"], "description": 'major units, e.g. "1234.56"'},
        mode="validation",
    ),
]


class ProposalIn(Shape):
    """A proposed reward: the verified recovered loss, optionally another amount and why."""

    recovered_loss: Amount
    amount: Amount = ""
    explanation: Text = ""
    exclusions_checked: Any = Field(
        default=False,
        json_schema_extra={"type": "boolean"},
        description="true once the reporter is checked to be neither instigator nor obliged",
    )

    def value(self) -> Proposal:
        return Proposal(
            self.recovered_loss, self.amount, self.explanation, self.exclusions_checked is True
        )


class DecisionIn(Shape):
    """An approver's answer: approve, or refuse with a reason."""

    approve: StrictBool
    reason: Text = ""


class PaymentIn(Shape):
    """The payment reference of a reward that was paid."""

    reference: Text = ""


class RewardOut(Answer):
    """A reward as its case team sees it (never payout details)."""

    id: str
    case: str
    status: str
    currency: str
    recovered_loss_minor: int
    suggested_minor: int
    amount_minor: int
    approvals_needed: int
    offered_on: date | None
    expires_on: date | None
    answered_on: date | None

    @classmethod
    def fields_of(cls, reward: Reward) -> dict[str, Any]:
        return {
            "id": reward.id,
            "case": reward.case_id,
            "status": reward.status,
            "currency": reward.currency,
            "recovered_loss_minor": reward.recovered_loss_minor,
            "suggested_minor": reward.suggested_minor,
            "amount_minor": reward.amount_minor,
            "approvals_needed": reward.approvals_needed,
            "offered_on": reward.offered_on,
            "expires_on": reward.expires_on,
            "answered_on": reward.answered_on,
        }

    @classmethod
    def of(cls, reward: Reward) -> RewardOut:
        return cls(**cls.fields_of(reward))


class RewardViewOut(RewardOut):
    """A reward with who proposed and approved it; ``explanation`` for key holders only."""

    proposer: str
    approvals: list[str]
    explanation: str | None
    awaiting_access: bool
    on_hold: bool

    @classmethod
    def of_view(cls, view: RewardView) -> RewardViewOut:
        return cls(
            **cls.fields_of(view.reward),
            proposer=view.proposer,
            approvals=view.approvals,
            explanation=view.explanation,
            awaiting_access=view.awaiting_access,
            on_hold=view.on_hold,
        )


class RewardViews(RootModel[list[RewardViewOut]]):
    """The rewards of a case, or an approver's queue."""


class PaymentOut(Answer):
    """A recorded payment."""

    reward: str
    reference: str
    status: str

    @classmethod
    def of(cls, payment: RewardPayment) -> PaymentOut:
        return cls(reward=payment.reward_id, reference=payment.reference, status="paid")


class PayoutOut(Answer):
    """What finance sees: payee, amount and payment id; nothing of the case (docs/rewards.md)."""

    id: str
    payment_id: str
    amount_minor: int
    currency: str
    payout: dict[str, str] | None

    @classmethod
    def of(cls, view: PayoutView) -> PayoutOut:
        return cls(
            id=view.payment_id,
            payment_id=view.payment_id,
            amount_minor=view.amount_minor,
            currency=view.currency,
            payout=view.payout,
        )


class Payouts(RootModel[list[PayoutOut]]):
    """Accepted rewards to pay."""


class FinanceLedgerItem(Answer):
    """A ledger row as finance sees it: nothing that leads to the case."""

    payment: str
    status: str
    currency: str
    amount_minor: int
    paid_on: str
    payment_reference: str


class CaseLedgerItem(RewardOut):
    """A ledger row for the case team and auditors: the reward and its case reference."""

    case_reference: str | None


class TotalOut(Answer):
    """Per month of proposal and currency: count and sum of amounts by status."""

    month: str
    currency: str
    count: dict[str, int]
    sum_minor: dict[str, int]

    @classmethod
    def of(cls, total: MonthTotal) -> TotalOut:
        return cls(
            month=total.month,
            currency=total.currency,
            count=dict(total.counts),
            sum_minor=dict(total.sums),
        )


class LedgerOut(Answer):
    """Every reward with its status and amounts, and totals per month."""

    items: list[FinanceLedgerItem | CaseLedgerItem]
    totals: list[TotalOut]

    @classmethod
    def of(cls, ledger: Ledger, zone: ZoneInfo) -> LedgerOut:
        return cls(
            items=[_ledger_item(ledger, row, zone) for row in ledger.rows],
            totals=[TotalOut.of(t) for t in ledger.totals],
        )


def _ledger_item(
    ledger: Ledger, row: LedgerRow, zone: ZoneInfo
) -> FinanceLedgerItem | CaseLedgerItem:
    if ledger.for_finance:
        cells = dict(zip(FINANCE_COLUMNS, row.finance_cells(zone), strict=True))
        return FinanceLedgerItem.model_validate(cells)
    return CaseLedgerItem(
        **RewardOut.fields_of(row.reward), case_reference=row.case_reference or None
    )

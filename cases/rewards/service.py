"""The reward flow: propose, approve or refuse, offer, accept or decline, pay exactly once.

Separation of duties is checked per person: a proposer never approves their own proposal,
and above the policy's threshold two different approvers must agree. Each step checks
the access policy first, so a person the policy excludes from a case can neither act on
its reward nor receive its keys.

Keys. Each case with a reward has a reward key (key kind "reward") sealing what people
wrote about it: the proposal's explanation and refusal reasons. It is wrapped for the
proposer and the eligible reward approvers, and also sealed under the case key, so any
investigator who holds the case can propose again after a refusal. The payout key (key
kind "payout") seals the reporter's payout details and is wrapped only for the finance
members the policy allows and for the reporter, whose next visit fulfils the pending
grants of finance members who had no key yet. Investigators and approvers never get it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import crypto
from cases.access.policy import may_open, may_see
from cases.audit.service import Actor, AuditLog
from cases.clock import Clock, local_day
from cases.db import new_id
from cases.errors import N_, Conflict, Forbidden, Invalid, NotFound
from cases.principals import ReporterPrincipal, StaffPrincipal
from cases.reports.keys import CASE, KeyRing, wrap_context
from cases.reports.models import Case, KeyWrap, Outcome, Status
from cases.reports.sealing import PAYOUT, REWARD_NOTE, open_json, open_text, seal_json, seal_text
from cases.rewards.answers import answer_of, hold
from cases.rewards.answers import release as release_answers
from cases.rewards.models import Reward, RewardDecision, RewardPayment, RewardPolicy, RewardStatus
from cases.rewards.policy import (
    Terms,
    check_tiers,
    checked_minor,
    default_terms,
    parse_amount,
    tiers_from_json,
    tiers_to_json,
)
from cases.staff.models import Role, StaffAccount, StaffRole

REWARD_KEY = "reward"
PAYOUT_KEY = "payout"
ELIGIBLE_OUTCOMES = frozenset({Outcome.SUBSTANTIATED, Outcome.PARTIALLY_SUBSTANTIATED})
OPEN = frozenset(
    {RewardStatus.PROPOSED, RewardStatus.APPROVED, RewardStatus.ACCEPTED, RewardStatus.PAID}
)
TEXT_MAX = 5_000
PAYOUT_FIELD_MAX = 200
REFERENCE_MAX = 100
# Who collects the reward: the reporter, or a representative (a lawyer, say) on their behalf.
PAYEES = ("self", "representative")
REPORTER = Actor("reporter")


@dataclass(frozen=True)
class RewardConfig:
    zone: ZoneInfo
    server_secret: bytes
    offer_days: int = 90
    recovery_fingerprint: str = ""


@dataclass(frozen=True)
class Proposal:
    """What an investigator typed: amounts in major units as text, parsed with Decimal."""

    recovered_loss: str
    amount: str = ""
    explanation: str = ""
    exclusions_checked: bool = False


@dataclass(frozen=True)
class Payout:
    """Where the reporter wants the reward paid: their own account or a representative's.

    A representative (a lawyer, say) collects on the reporter's behalf, so finance sees
    only the representative's name and account, never the reporter's (docs/rewards.md).
    """

    name: str
    account: str
    contact: str
    payee: str = "self"

    def check(self) -> dict[str, str]:
        fields = {"name": self.name, "account": self.account, "contact": self.contact}
        missing = {k: "required" for k, v in fields.items() if not v.strip()}
        long = {k: "too_long" for k, v in fields.items() if len(v) > PAYOUT_FIELD_MAX}
        problems = {**missing, **long}
        if self.payee not in PAYEES:
            problems["payee"] = "payee"
        if problems:
            raise Invalid("Please fill in every payout field.", fields=problems)
        return {**{k: v.strip() for k, v in fields.items()}, "payee": self.payee}


@dataclass(frozen=True)
class RewardView:
    """A reward as staff see it; `explanation` only for holders of the reward key."""

    reward: Reward
    proposer: str
    approvals: list[str]
    explanation: str | None
    awaiting_access: bool
    # The case was reopened or lost its qualifying outcome: nothing moves until it is back.
    on_hold: bool = False


@dataclass(frozen=True)
class PayoutView:
    """An accepted reward at the finance desk: the payee, the amount and a payment id.

    Nothing of the case (reference, category, channel, dates, recovered loss): finance
    would otherwise link the person paid to a report. The payment id is the reward's id,
    which only the case team's and auditors' views resolve to a case. `payout` only for
    holders of the payout key.
    """

    payment_id: str
    amount_minor: int
    currency: str
    payout: dict[str, str] | None


class PolicyService:
    """Reads and saves each channel's reward policy; a channel without one uses the defaults."""

    def __init__(self, db: Session, clock: Clock, offer_days: int = 90) -> None:
        self.db = db
        self.clock = clock
        self.offer_days = offer_days

    def terms(self, channel_id: str) -> Terms:
        row = self._row(channel_id)
        if row is None:
            return default_terms(self.offer_days)
        return Terms(
            tiers=tiers_from_json(row.tiers),
            floor_minor=row.floor_minor,
            cap_minor=row.cap_minor,
            currency=row.currency,
            offer_days=row.offer_days,
            two_approver_threshold_minor=row.two_approver_threshold_minor,
            exclude_anonymous=row.exclude_anonymous,
        )

    def save(
        self, principal: StaffPrincipal, channel_id: str, terms: Terms, audit: AuditLog
    ) -> None:
        """Admins only; the numbers are checked for sense before anything is stored."""
        if not principal.has_role(Role.ADMIN):
            raise Forbidden("Only admins change the reward policy.")
        check_terms(terms)
        row = self._row(channel_id) or RewardPolicy(channel_id=channel_id)
        row.tiers = tiers_to_json(terms.tiers)
        row.floor_minor, row.cap_minor = terms.floor_minor, terms.cap_minor
        row.currency, row.offer_days = terms.currency, terms.offer_days
        row.two_approver_threshold_minor = terms.two_approver_threshold_minor
        row.exclude_anonymous, row.updated_at = terms.exclude_anonymous, self.clock.now()
        self.db.add(row)
        self.db.flush()
        audit.record(principal.actor, "reward.policy", detail={"channel": channel_id})

    def _row(self, channel_id: str) -> RewardPolicy | None:
        stmt = select(RewardPolicy).where(RewardPolicy.channel_id == channel_id)
        return self.db.scalars(stmt).first()


def check_terms(terms: Terms) -> None:
    check_tiers(terms.tiers)
    checked_minor(terms.floor_minor, "floor", allow_zero=True)
    checked_minor(terms.cap_minor, "cap")
    checked_minor(terms.two_approver_threshold_minor, "threshold", allow_zero=True)
    if terms.floor_minor > terms.cap_minor:
        raise Invalid("The floor cannot be above the cap.", fields={"floor": "above_cap"})
    if not (len(terms.currency) == 3 and terms.currency.isalpha() and terms.currency.isupper()):
        raise Invalid("Use a three-letter currency code such as CNY.", fields={"currency": "code"})
    if not 1 <= terms.offer_days <= 3650:
        raise Invalid("An offer stays open 1 to 3650 days.", fields={"offer_days": "range"})


class RewardService:
    def __init__(self, db: Session, clock: Clock, config: RewardConfig) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.audit = AuditLog(db, clock, config.server_secret)
        self.keys = KeyRing(db, self.audit, config.server_secret, config.recovery_fingerprint)
        self.policies = PolicyService(db, clock, config.offer_days)

    def today(self) -> date:
        return local_day(self.clock.now(), self.config.zone)

    # --- proposing -----------------------------------------------------------------------

    def propose(self, principal: StaffPrincipal, case_id: str, proposal: Proposal) -> Reward:
        """An investigator holding the case records the recovered loss and proposes an amount."""
        require_role(principal, Role.INVESTIGATOR)
        case = self._visible_case(principal, case_id)
        case_key = self.keys.open_for_staff(case.id, CASE, principal)
        if case_key is None:
            raise NotFound("There is no such case.", code="case_not_found")
        terms = self.policies.terms(case.channel_id)
        self._check_eligible(case, terms, proposal)
        loss, amount, explanation = self._checked_proposal(terms, proposal)
        suggested = terms.suggest(loss)
        reward = Reward(
            id=new_id(),
            case_id=case.id,
            channel_id=case.channel_id,
            status=RewardStatus.PROPOSED,
            currency=terms.currency,
            recovered_loss_minor=loss,
            suggested_minor=suggested,
            amount_minor=amount,
            approvals_needed=terms.approvals_for(amount),
            proposed_by=principal.id,
            proposed_at=self.clock.now(),
        )
        key = self._reward_key(principal, case, case_key)
        if explanation:
            reward.explanation = seal_text(key, case.id, REWARD_NOTE, reward.id, explanation)
        self.db.add(reward)
        self.db.flush()
        self._audit(principal.actor, "reward.propose", reward)
        return reward

    def _check_eligible(self, case: Case, terms: Terms, proposal: Proposal) -> None:
        if case.outcome not in ELIGIBLE_OUTCOMES:
            raise Conflict(
                "Rewards are only for cases concluded as substantiated or partially substantiated.",
                code="not_substantiated",
            )
        if terms.exclude_anonymous and not case.confidential:
            raise Conflict(
                "This channel's policy excludes anonymous reports from rewards.",
                code="anonymous_excluded",
            )
        if self._open_reward(case.id) is not None:
            raise Conflict("This case already has a reward under way.", code="reward_exists")

    def _checked_proposal(self, terms: Terms, proposal: Proposal) -> tuple[int, int, str]:
        """Loss, amount and explanation; every field's problem at once in one Invalid."""
        errors: dict[str, str] = {}
        messages: list[str] = []
        if not proposal.exclusions_checked:
            errors["exclusions"] = "required"
            messages.append(
                N_(
                    "Confirm that the reporter is neither the instigator nor someone whose duty "
                    "it was to report this."
                )
            )
        loss = amount = 0
        try:
            loss = parse_amount(proposal.recovered_loss, "recovered_loss", allow_zero=True)
        except Invalid as problem:
            errors.update(problem.fields)
            messages.append(problem.message)
        suggested = terms.suggest(loss) if "recovered_loss" not in errors else None
        try:
            amount = parse_amount(proposal.amount, "amount") if proposal.amount.strip() else -1
        except Invalid as problem:
            errors.update(problem.fields)
            messages.append(problem.message)
        explanation = proposal.explanation.strip()
        if len(explanation) > TEXT_MAX:
            errors["explanation"] = "too_long"
            messages.append(N_("That is too long."))
        elif (
            suggested is not None
            and "amount" not in errors
            and amount not in (-1, suggested)
            and not explanation
        ):
            errors["explanation"] = "explain_difference"
            messages.append(N_("The amount differs from the policy's suggestion; explain why."))
        if errors:
            raise Invalid(messages[0], fields=errors)
        assert suggested is not None
        return loss, (suggested if amount == -1 else amount), explanation

    def suggestion(self, principal: StaffPrincipal, case_id: str, recovered_loss: str) -> int:
        """The policy's suggested reward for a recovered loss, shown before proposing."""
        require_role(principal, Role.INVESTIGATOR)
        case = self._visible_case(principal, case_id)
        loss = parse_amount(recovered_loss, "recovered_loss", allow_zero=True)
        return self.policies.terms(case.channel_id).suggest(loss)

    def _reward_key(self, principal: StaffPrincipal, case: Case, case_key: bytes) -> bytes:
        """The case's reward key (made on first use), wrapped for the proposer and approvers."""
        holder = f"case:{case.id}"
        context = wrap_context(case.id, REWARD_KEY, holder)
        row = self._wrap_row(case.id, REWARD_KEY, holder)
        if row is None:
            key = crypto.random_key()
            row = KeyWrap(
                case_id=case.id,
                key_kind=REWARD_KEY,
                holder=holder,
                wrapped=crypto.seal(case_key, key, context),
            )
            self.db.add(row)
            self.keys.wrap_for_recovery(case.id, REWARD_KEY, key)
        key = crypto.unseal(case_key, row.wrapped, context)
        for person in [principal.account, *self._eligible(Role.REWARD_APPROVER, case)]:
            self.keys.wrap_for_staff(case.id, REWARD_KEY, key, person)
        return key

    # --- approving -----------------------------------------------------------------------

    def queue(self, principal: StaffPrincipal) -> list[RewardView]:
        """Proposals this approver may decide; asks for the key where they have none yet."""
        require_role(principal, Role.REWARD_APPROVER)
        stmt = select(Reward).where(Reward.status == RewardStatus.PROPOSED)
        views = []
        for reward in self.db.scalars(stmt.order_by(Reward.proposed_at)):
            case = self.db.get(Case, reward.case_id)
            if case is None or not may_see(self.db, principal.account, case):
                continue
            if not self.keys.holds(case.id, REWARD_KEY, principal.id):
                self.keys.request_grant(case.id, REWARD_KEY, principal.id, "reward_approver")
            views.append(self.view(principal, reward))
        return views

    def decide(
        self, principal: StaffPrincipal, reward_id: str, approve: bool, reason: str
    ) -> Reward:
        """Approve, or refuse with a reason; enough approvals turn the proposal into an offer."""
        require_role(principal, Role.REWARD_APPROVER)
        reward = self._visible_reward(principal, reward_id, lock=True)
        self._check_may_decide(principal, reward)
        self._check_case_holds(reward)
        reason = reason.strip()
        if not approve and not reason:
            raise Invalid("Say why you refuse.", fields={"reason": "required"})
        if len(reason) > TEXT_MAX:
            raise Invalid("That is too long.", fields={"reason": "too_long"})
        decision = RewardDecision(
            reward_id=reward.id, staff_id=principal.id, approve=approve, at=self.clock.now()
        )
        decision.id = new_id()
        if reason:
            key = self._staff_key(principal, reward, REWARD_KEY)
            decision.reason = seal_text(key, reward.case_id, REWARD_NOTE, decision.id, reason)
        self.db.add(decision)
        self.db.flush()
        self._advance(reward, approve)
        self._audit(principal.actor, "reward.approve" if approve else "reward.refuse", reward)
        return reward

    def _check_may_decide(self, principal: StaffPrincipal, reward: Reward) -> None:
        if reward.status != RewardStatus.PROPOSED:
            raise Conflict("This reward is no longer waiting for a decision.", code="not_proposed")
        if reward.proposed_by == principal.id:
            raise Forbidden(
                "You proposed this reward, so someone else must decide on it.",
                code="own_proposal",
            )
        if self.db.get(RewardDecision, (reward.id, principal.id)) is not None:
            raise Conflict(
                "You have already decided on this reward; another approver must.",
                code="already_decided",
            )

    def on_hold(self, reward: Reward) -> bool:
        """A reward whose case was reopened, or concluded again without a qualifying outcome,
        waits: nobody can approve, accept or pay it until the case qualifies again."""
        case = self.db.get(Case, reward.case_id)
        return (
            case is None
            or case.status not in (Status.CONCLUDED, Status.CLOSED)
            or case.outcome not in ELIGIBLE_OUTCOMES
        )

    def _check_case_holds(self, reward: Reward) -> None:
        if self.on_hold(reward):
            raise Conflict(
                "This reward is on hold: its case was reopened or no longer has a "
                "substantiated outcome.",
                code="reward_on_hold",
            )

    def _check_not_involved(self, principal: StaffPrincipal, reward: Reward) -> None:
        """The payer is never the proposer nor anyone who decided on the reward."""
        decided = self.db.get(RewardDecision, (reward.id, principal.id)) is not None
        if reward.proposed_by == principal.id or decided:
            raise Forbidden(
                "You proposed or decided on this reward, so someone else in finance must pay it.",
                code="own_reward",
            )

    def _advance(self, reward: Reward, approve: bool) -> None:
        if not approve:
            reward.status = RewardStatus.REFUSED
            return
        stmt = select(RewardDecision).where(
            RewardDecision.reward_id == reward.id, RewardDecision.approve.is_(True)
        )
        if len(list(self.db.scalars(stmt))) >= reward.approvals_needed:
            today = self.today()
            reward.status = RewardStatus.APPROVED
            reward.offered_on = today
            reward.expires_on = today + timedelta(
                days=self.policies.terms(reward.channel_id).offer_days
            )

    # --- what staff read -----------------------------------------------------------------

    def for_case(self, principal: StaffPrincipal, case_id: str) -> list[RewardView]:
        """The rewards of a case the person may see (newest first); no payout details."""
        case = self._visible_case(principal, case_id)
        self.expire_due()
        stmt = select(Reward).where(Reward.case_id == case.id).order_by(Reward.proposed_at.desc())
        return [self.view(principal, r) for r in self.db.scalars(stmt)]

    def may_propose(self, principal: StaffPrincipal, case: Case) -> bool:
        return (
            principal.has_role(Role.INVESTIGATOR)
            and case.outcome in ELIGIBLE_OUTCOMES
            and self._open_reward(case.id) is None
        )

    def terms_for(self, case: Case) -> Terms:
        return self.policies.terms(case.channel_id)

    def view(self, principal: StaffPrincipal, reward: Reward) -> RewardView:
        holds = self.keys.holds(reward.case_id, REWARD_KEY, principal.id)
        explanation = None
        if holds and reward.explanation is not None:
            key = self.keys.open_to_read(reward.case_id, REWARD_KEY, principal, "rewards")
            if key is not None:
                explanation = open_text(
                    key, reward.case_id, REWARD_NOTE, reward.id, reward.explanation
                )
        names = self._names()
        stmt = select(RewardDecision.staff_id).where(
            RewardDecision.reward_id == reward.id, RewardDecision.approve.is_(True)
        )
        return RewardView(
            reward=reward,
            proposer=names.get(reward.proposed_by, ""),
            approvals=[names.get(s, "") for s in self.db.scalars(stmt)],
            explanation=explanation,
            awaiting_access=not holds,
            on_hold=reward.status in OPEN - {RewardStatus.PAID} and self.on_hold(reward),
        )

    # --- the reporter --------------------------------------------------------------------

    def reporter_reward(self, case_id: str) -> Reward | None:
        """The latest reward the reporter may see: offered, answered, expired or paid."""
        self.expire_due()
        hidden = (RewardStatus.PROPOSED, RewardStatus.REFUSED)
        stmt = (
            select(Reward)
            .where(Reward.case_id == case_id, Reward.status.not_in(hidden))
            .order_by(Reward.proposed_at.desc())
        )
        return self.db.scalars(stmt).first()

    def accept(self, principal: ReporterPrincipal, case_id: str, payout: Payout) -> Reward:
        """Accept the offer with payout details, sealed for finance (and the reporter) only."""
        details = payout.check()
        reward = self._offer(case_id)
        self._check_case_holds(reward)
        case = self.db.get(Case, case_id)
        assert case is not None
        key = self._payout_key(principal, case)
        reward.payout = seal_json(key, case_id, PAYOUT, reward.id, details)
        # Staff (and finance's desk) see the acceptance from the next full hour (answers.py).
        hold(reward, RewardStatus.ACCEPTED, self.clock.now())
        self.db.flush()
        self._audit(REPORTER, "reward.accept", reward)
        return reward

    def decline(self, case_id: str) -> Reward:
        reward = self._offer(case_id)
        hold(reward, RewardStatus.DECLINED, self.clock.now())
        self.db.flush()
        self._audit(REPORTER, "reward.decline", reward)
        return reward

    def undo_decline(self, case_id: str) -> Reward:
        """Take back a "no, thank you" while the offer has not expired: it is offered again.

        Only the latest reward the reporter sees, only while no newer reward is open, and
        only until its last day; audited as a reporter action (dated by the day only).
        """
        reward = self.reporter_reward(case_id)
        if reward is None or answer_of(reward) != RewardStatus.DECLINED:
            raise Conflict("There is no declined offer to take back.", code="not_declined")
        if reward.expires_on is None or reward.expires_on < self.today():
            raise Conflict(
                "This offer has expired and can no longer be accepted.", code="offer_expired"
            )
        # A decline still held shows this very reward as open to staff: only another counts.
        other = self._open_reward(case_id)
        if other is not None and other.id != reward.id:
            raise Conflict("There is no declined offer to take back.", code="not_declined")
        locked = self._locked(reward.id)
        if answer_of(locked) != RewardStatus.DECLINED:
            # Another request changed it between the read above and the lock.
            raise Conflict("There is no declined offer to take back.", code="not_declined")
        hold(locked, RewardStatus.APPROVED, self.clock.now())
        self.db.flush()
        self._audit(REPORTER, "reward.decline_undo", locked)
        return locked

    def _offer(self, case_id: str) -> Reward:
        reward = self.reporter_reward(case_id)
        if reward is None or answer_of(reward) != RewardStatus.APPROVED:
            if reward is not None and answer_of(reward) == RewardStatus.EXPIRED:
                raise Conflict(
                    "This offer has expired and can no longer be accepted.", code="offer_expired"
                )
            raise Conflict("There is no open reward offer.", code="no_offer")
        locked = self._locked(reward.id)
        if answer_of(locked) != RewardStatus.APPROVED:
            # Accepted, declined or paid by another request between the read and the lock.
            raise Conflict("There is no open reward offer.", code="no_offer")
        return locked

    def _locked(self, reward_id: str) -> Reward:
        """The reward row locked and read afresh: without populate_existing the session
        would hand back the object it already holds, with the status read before the lock."""
        locked = self.db.get(Reward, reward_id, with_for_update=True, populate_existing=True)
        assert locked is not None
        return locked

    def _payout_key(self, principal: ReporterPrincipal, case: Case) -> bytes:
        """Reuse the case's payout key if the reporter holds one; else make it. Wrap for finance."""
        key = self.keys.open_for_reporter(case.id, PAYOUT_KEY, principal)
        if key is None:
            key = crypto.random_key()
            self.keys.wrap_for_reporter(
                case.id, PAYOUT_KEY, key, principal.receipt.id, principal.key
            )
        for person in self._eligible(Role.FINANCE, case):
            if not self.keys.holds(case.id, PAYOUT_KEY, person.id):
                self.keys.grant(case.id, PAYOUT_KEY, key, person, REPORTER, "finance")
        return key

    def fulfil_for_finance(self, principal: ReporterPrincipal, case_id: str) -> int:
        """On the reporter's visit: hand the payout key on to finance members still waiting.
        They hold it from the next full hour (`KeyRing.hand_on_at_visit`): given at once,
        the payout details would appear on their desk the minute the reporter logged in."""
        case = self.db.get(Case, case_id)
        key = self.keys.open_for_reporter(case_id, PAYOUT_KEY, principal)
        if case is None or key is None:
            return 0
        waiting = [
            person
            for person in self._eligible(Role.FINANCE, case)
            if not self.keys.holds(case_id, PAYOUT_KEY, person.id)
        ]
        return sum(
            self.keys.hand_on_at_visit(case_id, PAYOUT_KEY, key, person, "finance")
            for person in waiting
        )

    # --- finance -------------------------------------------------------------------------

    def desk(self, principal: StaffPrincipal) -> list[PayoutView]:
        """Accepted rewards to pay, with payout details opened for this finance member."""
        require_role(principal, Role.FINANCE)
        self.release_answers()
        stmt = select(Reward).where(Reward.status == RewardStatus.ACCEPTED)
        views = []
        for reward in self.db.scalars(stmt.order_by(Reward.answered_on)):
            case = self.db.get(Case, reward.case_id)
            if case is None or not may_see(self.db, principal.account, case):
                continue
            payout = self._payout(principal, reward)
            views.append(PayoutView(reward.id, reward.amount_minor, reward.currency, payout))
        return views

    def _payout(self, principal: StaffPrincipal, reward: Reward) -> dict[str, str] | None:
        key = self.keys.open_for_staff(reward.case_id, PAYOUT_KEY, principal)
        if key is None:
            self.keys.request_grant(reward.case_id, PAYOUT_KEY, principal.id, "finance")
            return None
        if reward.payout is None:
            return None
        self._audit(principal.actor, "reward.payout_read", reward)
        opened: dict[str, str] = open_json(key, reward.case_id, PAYOUT, reward.id, reward.payout)
        return opened

    def pay(self, principal: StaffPrincipal, reward_id: str, reference: str) -> RewardPayment:
        """Record the payment once: a conditional UPDATE plus a UNIQUE payment per reward."""
        require_role(principal, Role.FINANCE)
        reference = reference.strip()
        if not reference:
            raise Invalid("Enter the payment reference.", fields={"reference": "required"})
        if len(reference) > REFERENCE_MAX:
            raise Invalid("That is too long.", fields={"reference": "too_long"})
        # An acceptance is payable only once staff see it: its status is "accepted" from then.
        self.release_answers()
        reward = self._visible_reward(principal, reward_id, lock=True)
        self._check_not_involved(principal, reward)
        self._check_case_holds(reward)
        moved = self.db.execute(
            update(Reward)
            .where(Reward.id == reward.id, Reward.status == RewardStatus.ACCEPTED)
            .values(status=RewardStatus.PAID)
            .execution_options(synchronize_session=False)
        )
        if getattr(moved, "rowcount", 0) != 1:
            raise _not_payable(reward)
        payment = RewardPayment(
            reward_id=reward.id,
            amount_minor=reward.amount_minor,
            currency=reward.currency,
            reference=reference,
            paid_by=principal.id,
            paid_at=self.clock.now(),
        )
        self.db.add(payment)
        try:
            self.db.flush()
        except IntegrityError:
            raise Conflict("This reward has already been paid.", code="already_paid") from None
        self.db.refresh(reward)
        self._audit(principal.actor, "reward.pay", reward)
        return payment

    # --- housekeeping --------------------------------------------------------------------

    def release_answers(self) -> int:
        """Reporters' answers whose hour has come, shown to staff (answers.py); the jobs
        round does the same at the hour."""
        return release_answers(self.db, self.clock.now(), self.config.zone)

    def expire_due(self) -> int:
        """Offers past their last day become expired (run on every read that shows status).
        Answers whose hour has come are shown first; an offer whose answer is still held
        waits for its hour (the answer came before the offer's end)."""
        self.release_answers()
        moved = self.db.execute(
            update(Reward)
            .where(
                Reward.status == RewardStatus.APPROVED,
                Reward.expires_on < self.today(),
                Reward.answer_held_until.is_(None),
            )
            .values(status=RewardStatus.EXPIRED)
            .execution_options(synchronize_session=False)
        )
        count = int(getattr(moved, "rowcount", 0) or 0)
        if count:
            self.db.expire_all()
        return count

    # --- helpers -------------------------------------------------------------------------

    def _visible_case(self, principal: StaffPrincipal, case_id: str) -> Case:
        """A case of this person's team (may_open): others get the same 404 as in the list."""
        case = self.db.get(Case, case_id) if len(case_id) <= 64 else None
        if case is None or not may_open(self.db, principal.account, case):
            raise NotFound("There is no such case.", code="case_not_found")
        return case

    def _visible_reward(self, principal: StaffPrincipal, reward_id: str, *, lock: bool) -> Reward:
        reward = (
            self.db.get(Reward, reward_id, with_for_update=lock, populate_existing=lock)
            if len(reward_id) <= 64
            else None
        )
        case = self.db.get(Case, reward.case_id) if reward is not None else None
        if reward is None or case is None or not may_see(self.db, principal.account, case):
            raise NotFound("There is no such reward.", code="reward_not_found")
        return reward

    def _staff_key(self, principal: StaffPrincipal, reward: Reward, kind: str) -> bytes:
        key = self.keys.open_for_staff(reward.case_id, kind, principal)
        if key is None:
            self.keys.request_grant(reward.case_id, kind, principal.id, "reward_approver")
            raise Conflict(
                "You do not hold this reward's key yet; a colleague's next login will grant it.",
                code="awaiting_access",
            )
        return key

    def _open_reward(self, case_id: str) -> Reward | None:
        self.expire_due()
        stmt = select(Reward).where(Reward.case_id == case_id, Reward.status.in_(OPEN))
        return self.db.scalars(stmt).first()

    def _eligible(self, role: Role, case: Case) -> list[StaffAccount]:
        stmt = (
            select(StaffAccount)
            .join(StaffRole)
            .where(StaffRole.role == role, StaffAccount.active.is_(True))
            .order_by(StaffAccount.id)
        )
        return [person for person in self.db.scalars(stmt) if may_see(self.db, person, case)]

    def _wrap_row(self, case_id: str, kind: str, holder: str) -> KeyWrap | None:
        stmt = select(KeyWrap).where(
            KeyWrap.case_id == case_id, KeyWrap.key_kind == kind, KeyWrap.holder == holder
        )
        return self.db.scalars(stmt).first()

    def _names(self) -> dict[str, str]:
        rows = self.db.execute(select(StaffAccount.id, StaffAccount.name, StaffAccount.email))
        return {row.id: row.name or row.email for row in rows}

    def _audit(self, actor: Actor, action: str, reward: Reward) -> None:
        # A reporter's entry names their answer; it is held until the day is over anyway.
        status = answer_of(reward) if actor == REPORTER else reward.status
        detail = {"reward": reward.id, "status": status, "amount_minor": reward.amount_minor}
        self.audit.record(actor, action, case_id=reward.case_id, detail=detail)


def require_role(principal: StaffPrincipal, role: Role) -> None:
    if not principal.has_role(role):
        raise Forbidden("Your roles do not allow this.")


def _not_payable(reward: Reward) -> Conflict:
    if reward.status == RewardStatus.PAID:
        return Conflict("This reward has already been paid.", code="already_paid")
    return Conflict("Only an accepted reward can be paid.", code="not_accepted")


REPORTER_STATUS = {RewardStatus.APPROVED: "offered"}


@dataclass(frozen=True)
class RewardNotice:
    """What the reporter is told of their reward (CONTRACT.md "reward")."""

    status: str
    amount_minor: int
    currency: str
    expires_on: date | None
    # A declined offer can be taken back until its last day (this date, or None).
    undo_until: date | None


def reporter_reward(
    db: Session, clock: Clock, config: RewardConfig, principal: ReporterPrincipal, case_id: str
) -> RewardNotice | None:
    """The reporter's view of their reward (CONTRACT.md "reward"); fulfils finance's grants."""
    service = RewardService(db, clock, config)
    service.fulfil_for_finance(principal, case_id)
    reward = service.reporter_reward(case_id)
    if reward is None:
        return None
    answer = answer_of(reward)  # the reporter sees their own answer at once
    undoable = (
        answer == RewardStatus.DECLINED
        and reward.expires_on is not None
        and reward.expires_on >= service.today()
    )
    return RewardNotice(
        status=REPORTER_STATUS.get(RewardStatus(answer), answer),
        amount_minor=reward.amount_minor,
        currency=reward.currency,
        expires_on=reward.expires_on,
        undo_until=reward.expires_on if undoable else None,
    )

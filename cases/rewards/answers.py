"""A reporter's answer to a reward offer reaches staff at the next full hour, not at once.

The reporter accepts, declines or takes back a decline during a visit. Had the reward's status
(what the case page, the staff API, the approvals queue, the ledger, the payout desk and every
count read) changed in that request, an investigator or approver polling it would learn the
minute the reporter was at a keyboard and match it against door logs and calendars. So the
answer waits in `Reward.held_answer`, with the next full hour (UTC) in `answer_held_until`;
`status` and `answered_on`, all staff ever read, keep what they were. The reporter sees their
own answer at once (`answer_of`). At the hour, `release` (the jobs round's sweep, and staff
reads that come first: `RewardService.expire_due`, the payout desk, a payment) moves it over:
the status becomes the answer and `answered_on` the day of the answer's hour (none when a
decline is taken back). An acceptance cannot be paid before then, since only an `accepted`
status is payable; an answer taken back within its hour is never seen by staff at all. As with
the reporter's messages and files (cases/reports/arrivals.py, conversation.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from cases.clock import local_day
from cases.reports.arrivals import listed_hour
from cases.rewards.models import Reward, RewardStatus

_OPEN = (RewardStatus.PROPOSED, RewardStatus.APPROVED, RewardStatus.ACCEPTED, RewardStatus.PAID)


def answer_of(reward: Reward) -> str:
    """The status as the reporter sees it: their own answer at once, held or not."""
    return reward.held_answer or reward.status


def hold(reward: Reward, answer: RewardStatus, now: datetime) -> None:
    """Keep the reporter's `answer` from staff until the next full hour after `now`. An answer
    that brings the reward back to what staff already see (a decline taken back within its
    hour) clears the hold: staff never see anything change."""
    if answer == reward.status:
        reward.held_answer, reward.answer_held_until = None, None
        return
    reward.held_answer, reward.answer_held_until = answer, listed_hour(now)


def release(db: Session, now: datetime, zone: ZoneInfo) -> int:
    """Every held answer whose hour has come becomes the reward's status; returns how many."""
    # Most rounds and reads find nothing due: they ask first and write nothing.
    due = select(Reward.id).where(Reward.answer_held_until <= now).limit(1)
    if db.scalar(due) is None:
        return 0
    stmt = (
        select(Reward)
        .where(Reward.answer_held_until <= now)
        .order_by(Reward.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    released = 0
    for reward in db.scalars(stmt).all():
        held, until = reward.held_answer, reward.answer_held_until
        assert held is not None
        assert until is not None
        answer = RewardStatus(held)
        reward.held_answer, reward.answer_held_until = None, None
        if answer == RewardStatus.APPROVED and _another_open(db, reward):
            # A decline taken back while staff, who saw it declined, proposed a new reward:
            # the new one stands, the old offer stays declined (never two open rewards).
            continue
        reward.status = answer
        # The day of the answer's hour: the last instant before the hour it was held until.
        hour = until - timedelta(microseconds=1)
        reward.answered_on = None if answer == RewardStatus.APPROVED else local_day(hour, zone)
        released += 1
    db.flush()
    return released


def _another_open(db: Session, reward: Reward) -> bool:
    stmt = select(Reward.id).where(
        Reward.case_id == reward.case_id,
        Reward.id != reward.id,
        Reward.status.in_(_OPEN),
    )
    return db.scalar(stmt.limit(1)) is not None


__all__ = ["answer_of", "hold", "release"]

"""A reporter's answer to a reward offer waits for the next full hour before staff see it
(cases/rewards/answers.py): the edges, in the domain on a real database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, Person, build_world

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.principals import ReporterPrincipal
from cases.reports.models import Receipt
from cases.rewards.answers import release
from cases.rewards.models import Reward
from cases.rewards.service import Payout, Proposal, RewardConfig, RewardService, reporter_reward

PAYOUT = Payout("Li Ming", "6222 0000 1111 2222", "limingx@example.net")


@dataclass
class Scene:
    db: Session
    clock: FixedClock
    case_id: str
    reporter: ReporterPrincipal
    people: dict[str, Person]

    def service(self) -> RewardService:
        return RewardService(self.db, self.clock, RewardConfig(ZONE, SECRET))

    def at(self, moment: datetime) -> None:
        self.clock.current = moment

    def propose(self) -> Reward:
        ana = self.people["ana"].principal(self.db, self.clock)
        proposal = Proposal("300000", exclusions_checked=True)
        return self.service().propose(ana, self.case_id, proposal)

    def offer(self) -> Reward:
        dai = self.people["dai"].principal(self.db, self.clock)
        return self.service().decide(dai, self.propose().id, True, "")

    def staff_status(self) -> list[tuple[str, date | None]]:
        ana = self.people["ana"].principal(self.db, self.clock)
        views = self.service().for_case(ana, self.case_id)
        return [(v.reward.status, v.reward.answered_on) for v in views]

    def reporter_sees(self) -> str:
        config = RewardConfig(ZONE, SECRET)
        notice = reporter_reward(self.db, self.clock, config, self.reporter, self.case_id)
        assert notice is not None
        return notice.status


@pytest.fixture
def scene(db_session: Session) -> Scene:
    clock = FixedClock()
    world = build_world(db_session, clock)
    people = {
        "ana": world.staff("ana@example.com", "investigator"),
        "dai": world.staff("dai@example.com", "reward_approver"),
        "fin": world.staff("fin@example.com", "finance"),
    }
    filed = world.file()
    work = CaseworkService(db_session, clock, CaseworkConfig(ZONE, SECRET))
    ana = people["ana"].principal(db_session, clock)
    work.transition(ana, filed.case.id, "acknowledged", "Received")
    work.transition(ana, filed.case.id, "concluded", "Done", "substantiated")
    receipt = db_session.get(Receipt, filed.case.receipt_id)
    assert receipt is not None
    reporter = ReporterPrincipal(receipt, filed.reporter_key)
    return Scene(db_session, clock, filed.case.id, reporter, people)


def test_an_answer_is_stored_to_the_hour_and_shown_to_staff_from_it(scene: Scene) -> None:
    """Accepted at 10:17: the row keeps the answer and 11:00, no minute; staff read the offer
    until 11:00, the reporter "accepted" at once; from 11:00 staff read it, dated by the day."""
    scene.offer()
    scene.at(datetime(2026, 3, 2, 10, 17, 42))
    reward = scene.service().accept(scene.reporter, scene.case_id, PAYOUT)
    held = (reward.status, reward.held_answer, reward.answer_held_until, reward.answered_on)
    scene.at(datetime(2026, 3, 2, 10, 59))
    before = scene.staff_status()
    mine = scene.reporter_sees()
    scene.at(datetime(2026, 3, 2, 11, 0))
    after = scene.staff_status()

    assert held == ("approved", "accepted", datetime(2026, 3, 2, 11, 0), None)
    assert before == [("approved", None)]
    assert mine == "accepted"
    assert after == [("accepted", date(2026, 3, 2))]


def test_a_decline_taken_back_within_its_hour_is_never_seen_by_staff(scene: Scene) -> None:
    """Declined at 10:17 and taken back at 10:40: nothing is held, nothing changes for staff."""
    scene.offer()
    scene.at(datetime(2026, 3, 2, 10, 17))
    scene.service().decline(scene.case_id)
    declined = scene.reporter_sees()
    scene.at(datetime(2026, 3, 2, 10, 40))
    reward = scene.service().undo_decline(scene.case_id)
    released = release(scene.db, datetime(2026, 3, 2, 11, 0), ZONE)

    assert declined == "declined"
    assert (reward.held_answer, reward.answer_held_until) == (None, None)
    assert released == 0
    assert scene.staff_status() == [("approved", None)]


def test_an_answer_on_the_offers_last_day_is_not_expired_before_staff_see_it(
    scene: Scene,
) -> None:
    """Accepted at 23:30 (Shanghai) on the offer's last day: at midnight staff read it accepted,
    not expired, and finance can pay it."""
    reward = scene.offer()
    assert reward.expires_on is not None
    last = reward.expires_on
    scene.at(datetime(last.year, last.month, last.day, 15, 30))  # 23:30 in Shanghai
    scene.service().accept(scene.reporter, scene.case_id, PAYOUT)
    scene.at(datetime(last.year, last.month, last.day, 16, 5))  # 00:05 the next day
    seen = scene.staff_status()
    fin = scene.people["fin"].principal(scene.db, scene.clock)
    payment = scene.service().pay(fin, reward.id, "BANK-1")

    assert seen == [("accepted", last)]
    assert payment.amount_minor == reward.amount_minor


def test_a_late_undo_leaves_a_reward_proposed_meanwhile_standing(scene: Scene) -> None:
    """Declined (shown at 11:00), taken back at 11:10, and a new reward proposed at 11:20 by
    an investigator who still saw the decline: at 12:00 the old offer stays declined, so a
    case never has two open rewards."""
    scene.offer()
    scene.at(datetime(2026, 3, 2, 10, 17))
    scene.service().decline(scene.case_id)
    scene.at(datetime(2026, 3, 2, 11, 0))
    shown = scene.staff_status()
    scene.at(datetime(2026, 3, 2, 11, 10))
    scene.service().undo_decline(scene.case_id)
    scene.at(datetime(2026, 3, 2, 11, 20))
    scene.propose()
    scene.at(datetime(2026, 3, 2, 12, 0))
    later = scene.staff_status()

    assert shown == [("declined", date(2026, 3, 2))]
    assert sorted(status for status, _ in later) == ["declined", "proposed"]

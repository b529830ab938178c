"""An admin who shortens a channel's retention period cannot delete what was closed before:
a case keeps the longer of the period in force when it closed and the channel's period now
(cases/retention/service.py, docs/retention.md "The period")."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, World, build_world, key_ring

from cases.clock import FixedClock
from cases.deadlines import add_months
from cases.org.admin import AdminConfig, AdminService, ChannelForm
from cases.reports.keys import CASE
from cases.reports.models import Case
from cases.retention import RetentionConfig, RetentionService
from cases.workflow.service import WorkflowConfig, WorkflowService

# Noon in Shanghai: the local day and the UTC day agree.
NOW = datetime(2026, 3, 2, 4, 0)


class Scene:
    """An admin colluding with the accused, an investigator who works and closes cases."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.clock = FixedClock(NOW)
        self.world: World = build_world(db, self.clock)
        self.boss = self.world.staff("boss@corp.example", "admin")
        self.ana = self.world.staff("ana@corp.example", "investigator")

    def period(self, months: int) -> None:
        """The admin sets the channel's retention period on the channel page's service."""
        channel = self.world.channel
        form = ChannelForm(
            channel.name_en,
            channel.name_zh,
            channel.acknowledge_days,
            channel.feedback_months,
            retention_months=months,
        )
        me = self.boss.principal(self.db, self.clock)
        AdminService(self.db, self.clock, AdminConfig(SECRET, PROFILE)).update_channel(
            me, channel.id, form
        )
        self.db.flush()

    def closed_case(self) -> Case:
        """A report worked to its end and closed today, through the workflow."""
        case = self.world.file().case
        me = self.ana.principal(self.db, self.clock)
        key = key_ring(self.db).open_for_staff(case.id, CASE, me)
        assert key is not None
        flow = WorkflowService(self.db, self.clock, WorkflowConfig(ZONE, SECRET))
        for target, outcome in (
            ("acknowledged", None),
            ("investigating", None),
            ("concluded", "substantiated"),
            ("closed", None),
        ):
            flow.transition(me, case, key, target, "Worked.", outcome)
        self.db.flush()
        return case

    def retention(self) -> RetentionService:
        return RetentionService(self.db, self.clock, RetentionConfig(ZONE, SECRET))


@pytest.fixture
def scene(db_session: Session) -> Scene:
    return Scene(db_session)


def test_cutting_the_period_to_one_month_deletes_nothing_closed_before(scene: Scene) -> None:
    """Closed under 36 months; the admin cuts the period to 1 month; two months later the
    retention job deletes nothing, and the case still goes 36 months after closing."""
    case = scene.closed_case()
    scene.period(1)
    scene.clock.advance(days=62)

    deleted = scene.retention().run()

    assert deleted == 0
    assert case.retention_deleted_on is None
    schedule = scene.retention().schedule(case)
    assert schedule.months == 36
    assert schedule.deletes_on == add_months(date(2026, 3, 2), 36)


def test_a_case_closed_after_the_cut_gets_the_short_period(scene: Scene) -> None:
    """The shorter period applies from the change on: a case closed under it goes after one
    month, while the one closed before stays."""
    before = scene.closed_case()
    scene.period(1)
    after = scene.closed_case()
    scene.clock.advance(days=32)

    deleted = scene.retention().run()

    assert deleted == 1
    assert after.retention_deleted_on == date(2026, 4, 3)
    assert before.retention_deleted_on is None


def test_lengthening_the_period_keeps_closed_cases_longer(scene: Scene) -> None:
    """Closed under 12 months, then the period becomes 48: the case stays 48 months."""
    scene.period(12)
    case = scene.closed_case()
    scene.period(48)
    scene.clock.advance(days=400)

    deleted = scene.retention().run()

    assert deleted == 0
    assert scene.retention().schedule(case).deletes_on == add_months(date(2026, 3, 2), 48)

"""An admin colluding with the accused cuts the retention period while the case about him is
still open: once the team closes it, it is kept as long as the period in force before the cut,
which is what the reporter was told (cases/org/admin.py::update_channel, docs/retention.md
"The period")."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import sessionmaker
from support.staff_http import app_world, log_in
from support.staff_world import SECRET, ZONE, key_ring

from cases.db import unit_of_work
from cases.deadlines import add_months
from cases.org.models import Channel
from cases.reports.keys import CASE
from cases.reports.models import Case
from cases.retention import RetentionConfig, RetentionService
from cases.workflow.service import WorkflowConfig, WorkflowService


def test_cutting_the_period_while_the_case_is_open_does_not_shorten_its_keeping(
    client: Any, app: Any, app_db: sessionmaker[Any]
) -> None:
    """Filed under 36 months; the admin sets the channel to 1 month on the channel page; the
    investigator closes the case; two months later the retention job deletes nothing, and the
    case still goes 36 months after closing (on the code before, it was deleted)."""
    with app_world(app, app_db) as made:
        admin = made.staff("admin@corp.example", "admin")
        ana = made.staff("ana@corp.example", "investigator")
        case_id = made.file().case.id
        channel = made.channel
        clock = made.clock
        form = {
            "name_en": channel.name_en,
            "name_zh": channel.name_zh,
            "acknowledge_days": str(channel.acknowledge_days),
            "feedback_months": str(channel.feedback_months),
            "active": "1",
            "retention_months": "1",
        }
        channel_id = channel.id
    token = log_in(client, admin, clock)
    cut = client.post(
        f"/admin/channels/{channel_id}", data={"csrf": token, **form}, follow_redirects=False
    )
    assert cut.status_code == 303, cut.text
    with unit_of_work(app_db) as db:
        assert db.get(Channel, channel_id).retention_months == 1  # type: ignore[union-attr]
        me = ana.principal(db, clock)
        case = db.get(Case, case_id)
        assert case is not None
        key = key_ring(db).open_for_staff(case_id, CASE, me)
        assert key is not None
        flow = WorkflowService(db, clock, WorkflowConfig(ZONE, SECRET))
        for target, outcome in (
            ("acknowledged", None),
            ("investigating", None),
            ("concluded", "substantiated"),
            ("closed", None),
        ):
            flow.transition(me, case, key, target, "Worked.", outcome)
        closed_on = case.closed_on
    clock.advance(days=62)

    with unit_of_work(app_db) as db:
        retention = RetentionService(db, clock, RetentionConfig(ZONE, SECRET))
        deleted = retention.run()
        case = db.get(Case, case_id)
        assert case is not None
        schedule = retention.schedule(case)

    assert deleted == 0
    assert closed_on is not None
    assert schedule.months == 36
    assert schedule.deletes_on == add_months(closed_on, 36)

"""Red team: the recorder who logged in first with the receipt she read out learns, by
watching the case, the minute the reporter tried it (cases/reports/reporter.py `_reused`).

Ana takes a report down over the phone and logs in first with the receipt she read out (the
attack the reuse notice was built against). Every use of the replaced receipt was counted on
the case at once, and the case page and API showed the count and its day to every reader: Ana,
reading the case every few minutes, saw it go from nothing to 1 between two looks and so learnt
when the reporter sat down to log in (at 14:03 on Tuesday, at a desk she can place), which the
audit trail itself never tells (a reporter's entries wait, dated by their day only, until the
day is over). Now the count shows only uses of days that are over, as the audit trail does:
nothing on the day of the use, the whole count after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from support.arrivals import list_arrivals
from support.staff_http import bearer

from cases.clock import floor_day
from portal.jobs import JobConfig, JobRunner
from tests.functional.test_phone_receipt_reuse import _log_in, _record, world

pytestmark = pytest.mark.db
__all__ = ["world"]


def test_the_recorder_does_not_learn_the_hour_the_reporter_tried_the_old_receipt(
    client: Any, app: Any, world: dict[str, Any]
) -> None:
    clock = world["clock"]
    recorded, case_id = _record(client, world)
    assert _log_in(client, recorded).status_code == 200  # Ana, first
    client.cookies.clear()
    list_arrivals(world["db"], clock)
    clock.advance(days=1)
    clock.current = floor_day(clock.now()).replace(hour=13)
    ana = bearer(client, world["ana"], clock)
    before = client.get(f"/api/v1/cases/{case_id}", headers=ana).json()["receipt_reused"]

    clock.advance(minutes=63)
    refused = _log_in(client, recorded)  # the reporter, at 14:03
    client.cookies.clear()
    clock.advance(minutes=5)
    ana = bearer(client, world["ana"], clock)
    after = client.get(f"/api/v1/cases/{case_id}", headers=ana).json()["receipt_reused"]

    clock.current = floor_day(clock.now()).replace(hour=1) + timedelta(days=1)
    JobRunner(world["db"], clock, JobConfig.of(app.state.settings)).run_once()
    ana = bearer(client, world["ana"], clock)
    next_day = client.get(f"/api/v1/cases/{case_id}", headers=ana).json()["receipt_reused"]

    assert refused.json()["error"] == "receipt_replaced"
    assert after == before  # nothing tells the reporter's visit on its day
    assert next_day is not None
    assert next_day["later_uses"] == 1

"""Demo cases: filed through intake, readable by their receipt, with a staff reply."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import crypto
from cases.clock import FixedClock
from cases.principals import ReporterPrincipal
from cases.reports.demo import seed_demo_cases
from cases.reports.intake import IntakeConfig
from cases.reports.models import Case, Receipt
from cases.reports.reporter import ReporterConfig, ReporterService
from cases.sessions.service import SessionPolicy, ThrottleRule


def test_demo_seeds_cases_and_its_receipt_opens_the_first(
    db_session: Session, clock: FixedClock
) -> None:
    """The returned receipt is valid and shows the zh-CN 飞单 case with the team's reply."""
    config = IntakeConfig(ZoneInfo("Asia/Shanghai"), crypto.PROFILES["test"], b"s" * 32)

    receipt = seed_demo_cases(db_session, clock, config, ("zh_CN", "en"))

    parsed = crypto.parse_receipt(receipt)
    row = db_session.scalars(select(Receipt).where(Receipt.selector == parsed.selector)).one()
    key = crypto.derive_keys(parsed.verifier_bytes, row.salt, crypto.PROFILES["test"]).key
    reporter = ReporterService(
        db_session,
        clock,
        ReporterConfig(config, SessionPolicy(60, 60), ThrottleRule(5, 60)),
    )
    view = reporter.view(ReporterPrincipal(row, key))
    assert db_session.scalar(select(func.count()).select_from(Case)) == 3
    assert "飞单" in view.summary
    assert [m.author for m in view.messages] == ["staff"]

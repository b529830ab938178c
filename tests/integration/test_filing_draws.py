"""A new report's receipt selector (35 random bits: collisions happen at scale) and its case
reference are checked free together in one statement; whichever is taken is drawn again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session
from support.staff_world import PROFILE, SECRET, ZONE, build_world

import crypto
from cases.clock import FixedClock
from cases.reports import intake
from cases.reports.intake import (
    Draft,
    IntakeConfig,
    IntakeService,
    PreparedReceipt,
    SubjectInput,
    Submission,
)


def test_a_taken_selector_and_a_taken_reference_are_drawn_again(
    db_session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A receipt prepared with an existing selector is replaced by a fresh one, and the first
    reference drawn, already a case's, by the next: the report is filed under both."""
    world = build_world(db_session, FixedClock())
    world.staff("inv@corp.example", "investigator")
    first = world.file()
    clash = crypto.Receipt(first.receipt.selector, crypto.new_receipt().verifier)
    salt = crypto.new_salt()
    prepared = PreparedReceipt(
        clash, salt, crypto.derive_keys(clash.verifier_bytes, salt, PROFILE), PROFILE
    )
    draws: Iterator[str] = iter([first.case.reference, "23456789"])
    monkeypatch.setattr(intake, "_new_reference", lambda: next(draws))
    sub = Submission(
        channel_id=world.channel.id,
        category_id=world.category().id,
        summary="Orders moved to a rival",
        details="The Q3 orders of a key account went to a competitor.",
        subjects=[SubjectInput(name="Wang Wei")],
    )
    config = IntakeConfig(zone=ZONE, profile=PROFILE, server_secret=SECRET)
    filed = IntakeService(db_session, world.clock, config).submit(sub, Draft.new(prepared))
    db_session.flush()
    assert filed.receipt.selector != first.receipt.selector
    assert filed.case.reference == "23456789"

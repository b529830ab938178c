"""Fixtures for domain tests on a real database."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from support.staff_world import World, build_world

from cases.clock import FixedClock


@pytest.fixture
def world(db_session: Session, clock: FixedClock) -> World:
    """An organisation (the General channel) on `db_session` and the test clock; add staff
    with `world.staff(...)` and file cases with `world.file(...)`."""
    return build_world(db_session, clock)

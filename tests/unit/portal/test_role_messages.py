"""The web's catalogue-marked role messages say exactly what the domain's table raises."""

from __future__ import annotations

from cases.staff.roles import FORBIDDEN
from portal.role_messages import ROLE_CONFLICT_MESSAGES


def test_every_forbidden_pair_has_its_translated_message() -> None:
    """Each row's code maps to the row's own English message, and no stale code remains."""
    domain = {row.code: row.message for row in FORBIDDEN}

    assert domain == ROLE_CONFLICT_MESSAGES

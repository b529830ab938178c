"""Domain errors carry a kind, not an HTTP status; portal maps every kind through one table."""

from __future__ import annotations

import cases.casework.bulk
import cases.retention  # noqa: F401 (likewise)
import portal.csrf
import portal.routes.accounts
from cases.errors import CaseError, Kind
from portal.errors import STATUS_BY_KIND


def _all_error_classes() -> list[type[CaseError]]:
    seen: list[type[CaseError]] = []
    stack: list[type[CaseError]] = [CaseError]
    while stack:
        cls = stack.pop()
        seen.append(cls)
        stack.extend(cls.__subclasses__())
    return seen


def test_every_kind_has_exactly_one_status() -> None:
    """The table covers every Kind, so no error can fall through to a guessed status."""
    assert set(STATUS_BY_KIND) == set(Kind)


def test_no_error_class_carries_an_http_status() -> None:
    """Neither the domain's errors nor the portal's own define ``status``: only a kind."""
    portal_own = {portal.csrf.UnsupportedForm, portal.routes.accounts.NotJson}
    assert portal_own <= set(_all_error_classes())
    offenders = [cls.__name__ for cls in _all_error_classes() if hasattr(cls, "status")]
    assert offenders == []


def test_statuses_follow_the_contract() -> None:
    """Each class answers with the status CONTRACT.md gives it, through its kind."""
    expected = {
        "Invalid": 422,
        "Unauthorized": 401,
        "Forbidden": 403,
        "NotFound": 404,
        "Conflict": 409,
        "Throttled": 429,
        "BadRequest": 400,
        "TooLarge": 413,
        "UnsupportedMediaType": 415,
        "UnsupportedForm": 415,
        "NotJson": 415,
        "DeletedUnderRetention": 410,
        "BulkRefused": 409,
    }
    got = {cls.__name__: STATUS_BY_KIND[cls.kind] for cls in _all_error_classes()}
    assert {name: got[name] for name in expected} == expected

"""The anti-retaliation rules that used to sit in a route: roles per action, decisions, names."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from cases.access.rules import ACTION_ROLES, approves, named_subject, require_action
from cases.errors import Forbidden, Invalid
from cases.reports.intake import NAME_MAX
from cases.staff.models import Role


def principal(*roles: str) -> Any:
    return SimpleNamespace(account=SimpleNamespace(role_names=set(roles)))


def test_only_approve_and_refuse_are_decisions() -> None:
    """ "approve" approves, "refuse" refuses, anything else is a field error on the decision."""
    with pytest.raises(Invalid) as refused:
        approves("maybe")

    assert approves("approve") is True
    assert approves("refuse") is False
    assert refused.value.fields == {"decision": "invalid"}


def test_a_named_subject_needs_a_name_of_bounded_length() -> None:
    """A blank name or one longer than NAME_MAX is refused; a name is kept trimmed."""
    for name in ("   ", "x" * (NAME_MAX + 1)):
        with pytest.raises(Invalid) as refused:
            named_subject(name, "", "")
        assert refused.value.fields == {"subject_name": "required"}

    assert named_subject("  Wang Wei ", "E1", "").name == "Wang Wei"


def test_only_custodians_decide_and_only_readers_work_on_a_case() -> None:
    """A custodian may decide but not add a subject; an investigator the other way round."""
    custodian, investigator = principal(Role.CUSTODIAN), principal(Role.INVESTIGATOR)

    require_action(custodian, "decide_disclosure")
    require_action(investigator, "add_subject")

    with pytest.raises(Forbidden):
        require_action(custodian, "add_subject")
    with pytest.raises(Forbidden):
        require_action(investigator, "decide_disclosure")
    assert ACTION_ROLES["recuse"] >= ACTION_ROLES["add_subject"]

"""Identity disclosure: only a different custodian approves, and only the asker gets the key."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session
from support.staff_world import SECRET, ZONE, World, build_world

from cases.access.disclosure import DisclosureService
from cases.access.reporting import disclosure_notice
from cases.audit.service import AuditLog
from cases.clock import FixedClock
from cases.errors import Conflict, Forbidden, Invalid
from cases.reports.intake import IdentityInput


def _setup(db: Session) -> tuple[World, DisclosureService]:
    world = build_world(db, FixedClock())
    world.staff("asker@corp.example", "investigator")
    world.staff("colleague@corp.example", "investigator")
    world.staff("custodian@corp.example", "custodian")
    world.legacy_staff("both@corp.example", "investigator", "custodian")
    service = DisclosureService(db, world.clock, AuditLog(db, world.clock, SECRET), ZONE)
    return world, service


def _principal(world: World, email: str):  # type: ignore[no-untyped-def]
    return world.people[email].principal(world.db, world.clock)


def test_approval_reaches_only_the_asker(db_session: Session) -> None:
    """After approval the asker reads the name; a colleague on the same case still cannot."""
    world, service = _setup(db_session)
    filed = world.file(identity=IdentityInput("Li Ming", "li.ming@mail.example"))
    asker = _principal(world, "asker@corp.example")
    assert service.identity(asker, filed.case) is None

    request = service.request(asker, filed.case, "We must interview the witness in person.")
    service.decide(
        _principal(world, "custodian@corp.example"), request.id, approve=True, reason="Needed."
    )

    assert service.identity(asker, filed.case) == IdentityInput(
        name="Li Ming", contact="li.ming@mail.example"
    )
    assert service.identity(_principal(world, "colleague@corp.example"), filed.case) is None
    notice = disclosure_notice(db_session, filed.case, ZONE)
    assert notice is not None
    assert notice.status == "approved"


def test_custodian_reads_the_reason_and_refusal_grants_nothing(db_session: Session) -> None:
    """The custodian reads the sealed reason; a refusal leaves the identity sealed."""
    world, service = _setup(db_session)
    filed = world.file(identity=IdentityInput("Li Ming", "li.ming@mail.example"))
    asker = _principal(world, "asker@corp.example")
    custodian = _principal(world, "custodian@corp.example")
    request = service.request(asker, filed.case, "Curious.")

    views = service.requests(custodian, filed.case)
    service.decide(custodian, request.id, approve=False, reason="Not a good enough reason.")

    assert views[0].reason == "Curious."
    assert service.identity(asker, filed.case) is None
    decided = service.requests(asker, filed.case)[0]
    assert (decided.status, decided.decision_reason) == ("refused", "Not a good enough reason.")


def test_nobody_approves_their_own_request(db_session: Session) -> None:
    """A person with both roles cannot decide what they asked for."""
    world, service = _setup(db_session)
    filed = world.file(identity=IdentityInput("Li Ming", "li.ming@mail.example"))
    both = _principal(world, "both@corp.example")
    request = service.request(both, filed.case, "I need to call them.")

    with pytest.raises(Forbidden) as refused:
        service.decide(both, request.id, approve=True, reason="Self.")

    assert refused.value.code == "self_approval"
    assert service.requests(both, filed.case)[0].status == "pending"


def test_bad_requests_are_refused(db_session: Session) -> None:
    """No reason, an anonymous reporter, a second pending ask, or a decided request: refused."""
    world, service = _setup(db_session)
    confidential = world.file(identity=IdentityInput("Li Ming", "li.ming@mail.example"))
    anonymous = world.file()
    asker = _principal(world, "asker@corp.example")
    custodian = _principal(world, "custodian@corp.example")

    with pytest.raises(Invalid):
        service.request(asker, confidential.case, "   ")
    with pytest.raises(Conflict):
        service.request(asker, anonymous.case, "Who is it?")
    request = service.request(asker, confidential.case, "Interview.")
    with pytest.raises(Conflict):
        service.request(asker, confidential.case, "Again.")
    service.decide(custodian, request.id, approve=False, reason="No.")
    with pytest.raises(Conflict):
        service.decide(custodian, request.id, approve=True, reason="Changed my mind.")

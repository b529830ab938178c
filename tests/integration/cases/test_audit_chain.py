"""The audit trail is a keyed hash chain: any edit, deletion, insertion or reordering shows."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from cases.audit.models import AuditEntry
from cases.audit.service import Actor, AuditLog, chain_key, entry_digest
from cases.clock import FixedClock

SECRET = b"s" * 32
ENTRIES = 1000


@pytest.fixture
def trail(db_session: Session) -> AuditLog:
    log = AuditLog(db_session, FixedClock(), SECRET)
    actor = Actor("staff", "a" * 32, ("investigator",))
    for number in range(ENTRIES):
        log.clock.advance(seconds=1)  # type: ignore[attr-defined]
        log.record(actor, "case.read", case_id=f"case-{number % 7}", detail={"n": number})
    return log


def test_intact_trail_verifies(trail: AuditLog) -> None:
    """An untouched 1,000-entry trail verifies, every entry checked."""
    result = trail.verify()

    assert result.ok
    assert result.checked == ENTRIES


def test_edited_entry_is_named(trail: AuditLog, db_session: Session) -> None:
    """Changing one field of entry 500 breaks the chain exactly there."""
    db_session.execute(update(AuditEntry).where(AuditEntry.seq == 500).values(action="case.none"))

    result = trail.verify()

    assert (result.ok, result.first_bad_seq) == (False, 500)
    assert "edited" in result.problem


def test_deleted_entry_is_named(trail: AuditLog, db_session: Session) -> None:
    """Removing entry 500 is caught at the entry after the gap."""
    db_session.execute(delete(AuditEntry).where(AuditEntry.seq == 500))

    result = trail.verify()

    assert (result.ok, result.first_bad_seq) == (False, 501)


def test_inserted_entry_is_named(trail: AuditLog, db_session: Session) -> None:
    """A forged entry slipped in (renumbering those after it) is caught where it sits."""
    for seq in range(ENTRIES, 499, -1):
        db_session.execute(update(AuditEntry).where(AuditEntry.seq == seq).values(seq=seq + 1))
    previous = db_session.get(AuditEntry, 499)
    assert previous is not None
    forged = AuditEntry(
        seq=500,
        at=previous.at,
        actor_kind="staff",
        actor_id="b" * 32,
        actor_roles="investigator",
        action="case.read",
        case_id="case-x",
        detail="{}",
        prev_hash=previous.hash,
    )
    # The forger has the database but not the server secret: any other key is a guess.
    forged.hash = entry_digest(chain_key(b"guess" * 8), previous.hash, forged)
    db_session.add(forged)
    db_session.flush()

    result = trail.verify()

    assert (result.ok, result.first_bad_seq) == (False, 500)


def test_reordered_entries_are_named(trail: AuditLog, db_session: Session) -> None:
    """Swapping the positions of entries 300 and 301 is caught at 300."""
    db_session.execute(update(AuditEntry).where(AuditEntry.seq == 300).values(seq=-1))
    db_session.execute(update(AuditEntry).where(AuditEntry.seq == 301).values(seq=300))
    db_session.execute(update(AuditEntry).where(AuditEntry.seq == -1).values(seq=301))

    result = trail.verify()

    assert (result.ok, result.first_bad_seq) == (False, 300)


def test_entries_hold_no_content(trail: AuditLog, db_session: Session) -> None:
    """Entries carry ids and actions only; the chain starts from the genesis value."""
    first = db_session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).first()

    assert first is not None
    assert first.prev_hash == "0" * 64
    assert first.detail == '{"n": 0}'

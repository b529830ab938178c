"""A closed case with every kind of sealed row, and what its deletion must leave no trace of."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from cases.access.models import ItemMask
from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import Clock
from cases.reports.attachments import AttachmentWriter, UploadTarget, link
from cases.reports.intake import IdentityInput
from cases.reports.keys import CASE
from cases.reports.models import (
    Attachment,
    AttachmentChunk,
    Case,
    CaseItem,
    CaseSubject,
    KeyWrap,
    Status,
)
from cases.rewards.models import Reward, RewardPayment
from support.staff_world import SECRET, ZONE, World

CANARY = "CANARY-retention-7f3a 飞单举报"


@dataclass
class Sealed:
    """A closed case and the secret bytes of it that must all disappear."""

    case_id: str
    reference: str
    needles: dict[str, bytes] = field(default_factory=dict)


def closed_case(world: World, clock: Clock, closed_on: date, tag: str = "") -> Sealed:
    """A confidential report with a note, a message, a masked span, a file and a paid reward."""
    db = world.db
    ana = world.people.get("ana@corp.example") or world.staff("ana@corp.example")
    if "cus@corp.example" not in world.people:
        world.staff("cus@corp.example", "custodian")
    if "fin@corp.example" not in world.people:
        world.staff("fin@corp.example", "finance")
    filed = world.file(
        f"{CANARY} summary {tag}",
        identity=IdentityInput(name=f"{CANARY} name", contact="reporter@mail.example"),
    )
    case = filed.case
    me = ana.principal(db, clock)
    work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
    note = work.add_note(me, case.id, f"{CANARY} note")
    work.add_message(me, case.id, f"{CANARY} message")
    _add_file(db, clock, case.id, work.keys.open_for_staff(case.id, CASE, me), me.id)
    db.add(ItemMask(case_id=case.id, item_id=note.id, author_id=me.id, start=0, end=4))
    reward = Reward(
        case_id=case.id,
        channel_id=case.channel_id,
        status="paid",
        currency="CNY",
        recovered_loss_minor=100_000,
        suggested_minor=5_000,
        amount_minor=5_000,
        approvals_needed=1,
        proposed_by=me.id,
        proposed_at=clock.now(),
        # Stand-ins for sealed values: random bytes, as ciphertext looks.
        explanation=secrets.token_bytes(64),
        payout=secrets.token_bytes(64),
    )
    db.add(reward)
    db.flush()
    db.add(
        RewardPayment(
            reward_id=reward.id,
            amount_minor=5_000,
            currency="CNY",
            reference=f"BANK-{case.id[:8]}",
            paid_by=world.people["fin@corp.example"].account.id,
            paid_at=clock.now(),
        )
    )
    case.status, case.outcome, case.closed_on = Status.CLOSED, "substantiated", closed_on
    db.flush()
    return Sealed(case.id, case.reference, needles_of(db, case.id))


def _add_file(db: Session, clock: Clock, case_id: str, key: bytes | None, staff_id: str) -> None:
    """A file written by the one attachment writer, inside the seeding transaction (a
    session factory on the same connection joins it instead of committing its own)."""
    assert key is not None
    target = UploadTarget(
        case_id=case_id,
        case_key=key,
        author="staff",
        grace_seconds=3600,
        chunk_size=64 * 1024,
        zone=ZONE,
        staff_id=staff_id,
    )
    writer = AttachmentWriter(sessionmaker(bind=db.connection()), clock, target, "e.txt")
    writer.write(f"{CANARY} file ".encode() * 40)
    stored = writer.finish()
    link(db, case_id, [stored.id])


def needles_of(db: Session, case_id: str) -> dict[str, bytes]:
    """A 32-byte slice of every sealed value and key wrap of the case (all random-looking)."""
    found: dict[str, bytes] = {}
    case = db.get(Case, case_id)
    assert case is not None
    assert case.identity is not None
    found["report"], found["identity"] = case.content, case.identity
    for wrap in db.scalars(select(KeyWrap).where(KeyWrap.case_id == case_id)):
        found[f"wrap {wrap.holder} {wrap.key_kind}"] = wrap.wrapped
    for item in db.scalars(select(CaseItem).where(CaseItem.case_id == case_id)):
        found[f"item {item.kind}"] = item.body
    for subject in db.scalars(select(CaseSubject).where(CaseSubject.case_id == case_id)):
        found["subject"] = subject.sealed
    for file in db.scalars(select(Attachment).where(Attachment.case_id == case_id)):
        found["file key"] = file.file_key
        chunks = select(AttachmentChunk).where(AttachmentChunk.attachment_id == file.id)
        for chunk in db.scalars(chunks):
            found[f"chunk {chunk.idx}"] = chunk.data
    for reward in db.scalars(select(Reward).where(Reward.case_id == case_id)):
        assert reward.payout is not None
        found["payout"] = reward.payout
    return {name: value[16:48] for name, value in found.items()}


def rows_text(engine: Engine) -> bytes:
    """Every value of every table, read through SQL, as one byte string to search."""
    metadata = MetaData()
    metadata.reflect(engine)
    parts: list[bytes] = []
    with engine.connect() as connection:
        for table in metadata.sorted_tables:
            for row in connection.execute(select(table)):
                parts += [_as_bytes(value) for value in row]
    return b"\x00".join(parts)


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    if isinstance(value, datetime | date):
        return value.isoformat().encode()
    return str(value).encode()


def axe_as_served(browser: Any, page: Any, locale: str) -> None:
    """axe on the page as the JS-free browser got it (support/browser.py has the one way)."""
    from support.browser import assert_page_accessible

    assert_page_accessible(browser, page, locale)

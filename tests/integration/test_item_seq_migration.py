"""Migration 0011 renumbers items that already share a seq, then makes (case, seq) unique."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from support.db import TEST_SECRET
from support.staff_world import SECRET, ZONE, build_world

from cases.casework.service import CaseworkConfig, CaseworkService
from cases.clock import FixedClock
from cases.db import make_engine, session_factory, unit_of_work
from portal import migrations

ITEMS = sa.table("case_items", sa.column("id"), sa.column("seq"))


def set_seq(engine: sa.Engine, item_id: str, seq: int) -> None:
    with engine.begin() as connection:
        connection.execute(ITEMS.update().where(ITEMS.c.id == item_id).values(seq=seq))


def test_shared_seqs_are_renumbered_in_order_and_then_refused(
    fresh_database: Callable[..., str],
) -> None:
    """Items sharing a seq before 0011 get 1..n in their old order; a duplicate is then refused."""
    engine = make_engine(fresh_database())
    clock = FixedClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        case_id = world.file().case.id
        principal = ana.principal(db, clock)
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        ids = [work.add_message(principal, case_id, f"Reply {n}").id for n in range(4)]
    config = migrations.alembic_config(engine)
    before = ScriptDirectory.from_config(config).get_revision("0011_item_seq_unique").down_revision
    command.downgrade(config, str(before))
    # As two races left them: 1, 1, 2, 2 (ids break the tie, as the old order did).
    for item_id, seq in zip(ids, (1, 1, 2, 2), strict=True):
        set_seq(engine, item_id, seq)

    migrations.upgrade(engine)

    with engine.connect() as connection:
        rows = connection.execute(sa.select(ITEMS.c.id, ITEMS.c.seq).order_by(ITEMS.c.seq)).all()
    expected = sorted(ids[:2]) + sorted(ids[2:])
    assert [(r.id, r.seq) for r in rows] == list(zip(expected, (1, 2, 3, 4), strict=True))
    with pytest.raises(sa.exc.IntegrityError):
        set_seq(engine, expected[0], 2)
    engine.dispose()


def test_upgrading_keeps_every_mask_and_item(fresh_database: Callable[..., str]) -> None:
    """Down to before 0011 and up to the newest migration with masks on the items: nothing
    is lost (a table rebuild on SQLite would cascade and delete the masks)."""
    from cases.access.models import ItemMask

    engine = make_engine(fresh_database())
    clock = FixedClock()
    with unit_of_work(session_factory(engine, TEST_SECRET)) as db:
        world = build_world(db, clock)
        ana = world.staff("ana@example.com")
        case_id = world.file().case.id
        principal = ana.principal(db, clock)
        work = CaseworkService(db, clock, CaseworkConfig(ZONE, SECRET))
        note = work.add_note(principal, case_id, "Masked words here")
        db.add(ItemMask(case_id=case_id, item_id=note.id, author_id=ana.account.id, start=0, end=6))

    def counts() -> tuple[int, int]:
        with engine.connect() as connection:
            masks = connection.execute(sa.text("SELECT count(*) FROM item_masks")).scalar_one()
            items = connection.execute(sa.text("SELECT count(*) FROM case_items")).scalar_one()
        return masks, items

    before = counts()
    config = migrations.alembic_config(engine)
    command.downgrade(config, "0010_approval_macs")
    migrations.upgrade(engine)

    assert before == (1, 1)
    assert counts() == before
    engine.dispose()
